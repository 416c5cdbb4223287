"""An import of many batches keeps the guarantees of one: all lines or none, and a repeat
adds nothing.

Lines go into the database batch by batch (on SQLite from a second thread while the
next batch is read), each batch sending only the fields its lines have, so these
tests shrink the batch to a few lines: every line is stored once with the file's
values, a re-import adds nothing, and a bad line or a failing insert after several
batches leaves nothing behind, not even the connection.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from billfold.container import Container
from billfold.services import statements
from billfold.services.clients import create_client
from billfold.services.context import ServiceContext
from billfold.services.statements import StatementUpload, import_statement
from billfold.services.users import create_user
from billfold.statements.records import StatementError
from billfold.store import line_inserts
from billfold.store.tables import ConnectionRow, TransactionRow
from conftest import make_settings

CSV = "Date,Description,Amount\n" + "".join(
    f"01/{day:02d}/2024,Shop {day % 3},-{day}.25\n" for day in range(1, 29)
)
# Two genuinely identical purchases, split across batches of three.
TWINS = "Date,Description,Amount\n" + "01/02/2024,Bakery,-3.00\n" * 4 + "01/03/2024,Bus,-2.40\n"
OFX_HEAD = (
    "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>"
    "<CURDEF>USD<BANKACCTFROM><ACCTID>{account}</BANKACCTFROM><BANKTRANLIST>\n"
)
OFX_LINE = (
    "<STMTTRN><TRNTYPE>{kind}<DTPOSTED>202402{day:02d}<TRNAMT>{amount}<FITID>F{n}"
    "{name}{memo}{check}</STMTTRN>\n"
)
OFX_TAIL = "</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"


def _ofx(account: str, lines: int) -> str:
    body = "".join(
        OFX_LINE.format(
            kind="HOLD" if n % 4 == 0 else "DEBIT",
            day=1 + n % 28,
            amount=f"-{n}.10",
            n=n,
            name="" if n % 7 == 0 else f"<NAME>Payee {n}",
            memo=f"<MEMO>note {n}" if n % 5 == 0 or n % 7 == 0 else "",
            check=f"<CHECKNUM>{n}" if n % 6 == 0 else "",
        )
        for n in range(lines)
    )
    return OFX_HEAD.format(account=account) + body + OFX_TAIL


@pytest.fixture
def service(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ServiceContext, str, str]]:
    monkeypatch.setattr(statements, "BATCH", 3)
    container = Container(make_settings(tmp_path, database_url))
    container.prepare()
    try:
        client_id = create_client(ctx=container.ctx, name="Test").client.id
        user_id = create_user(ctx=container.ctx, client_id=client_id).id
        yield container.ctx, client_id, user_id
    finally:
        container.store.close()


def _import(
    service: tuple[ServiceContext, str, str],
    content: str,
    filename: str = "s.csv",
    connection_id: str | None = None,
) -> tuple[str, int, int]:
    ctx, client_id, user_id = service
    connection, result = import_statement(
        ctx=ctx,
        client_id=client_id,
        upload=StatementUpload(data=io.BytesIO(content.encode()), filename=filename),
        max_bytes=1 << 20,
        connection_id=connection_id,
        user_id=None if connection_id else user_id,
    )
    return connection.id, result.lines, result.added


def _stored(ctx: ServiceContext) -> list[TransactionRow]:
    with ctx.store.read() as unit:
        return list(unit.session.scalars(select(TransactionRow).order_by(TransactionRow.id)))


def _connections(ctx: ServiceContext) -> int:
    with ctx.store.read() as unit:
        return len(unit.session.scalars(select(ConnectionRow.id)).all())


def test_every_line_goes_in_once_and_a_repeat_adds_nothing(
    service: tuple[ServiceContext, str, str],
) -> None:
    ctx = service[0]
    connection_id, lines, added = _import(service, CSV)
    assert (lines, added) == (28, 28)
    rows = _stored(ctx)
    assert len({r.id for r in rows}) == 28
    # Ids count up in file order, so the first line has the smallest.
    assert [r.description for r in rows] == [f"Shop {day % 3}" for day in range(1, 29)]
    assert [r.amount for r in rows] == [-(day * 100 + 25) for day in range(1, 29)]
    assert {r.status for r in rows} == {"posted"}
    assert {(r.merchant, r.memo, r.check_number) for r in rows} == {(None, None, None)}
    assert _import(service, CSV, connection_id=connection_id)[1:] == (28, 0)
    assert len(_stored(ctx)) == 28


def test_twins_split_across_batches_are_both_kept(
    service: tuple[ServiceContext, str, str],
) -> None:
    connection_id, _, added = _import(service, TWINS)
    assert added == 5
    assert _import(service, TWINS, connection_id=connection_id)[2] == 0


def test_optional_fields_come_through_whatever_each_batch_holds(
    service: tuple[ServiceContext, str, str],
) -> None:
    ctx = service[0]
    _, lines, added = _import(service, _ofx("1234", 20), "s.ofx")
    assert (lines, added) == (20, 20)
    rows = sorted(_stored(ctx), key=lambda r: int(r.external_id.removeprefix("ref:F")))
    for n, row in enumerate(rows):
        assert row.external_id == f"ref:F{n}"
        assert row.amount == -(n * 100 + 10)
        assert row.status == ("pending" if n % 4 == 0 else "posted")
        memo = f"note {n}" if n % 5 == 0 or n % 7 == 0 else None
        if n % 7 == 0:  # no payee: the memo describes the line
            assert (row.description, row.merchant, row.memo) == (memo, None, memo)
        else:
            assert (row.description, row.merchant, row.memo) == (f"Payee {n}", f"Payee {n}", memo)
        assert row.check_number == (str(n) if n % 6 == 0 else None)
        assert row.date.day == 1 + n % 28


def test_a_bad_line_after_several_batches_leaves_nothing(
    service: tuple[ServiceContext, str, str],
) -> None:
    ctx = service[0]
    bad = CSV + "not a date,Oops,-1.00\n" + "02/01/2024,After,-1.00\n"
    with pytest.raises(StatementError):
        _import(service, bad)
    assert _stored(ctx) == []
    assert _connections(ctx) == 0


def test_a_failing_insert_after_several_batches_leaves_nothing(
    service: tuple[ServiceContext, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = service[0]
    calls = 0

    def failing(original: Callable[..., int | None]) -> Callable[..., int | None]:
        def insert(*args: object) -> int | None:
            nonlocal calls
            calls += 1
            if calls == 4:
                raise RuntimeError("the database went away")
            return original(*args)

        return insert

    # What runs a batch's statement: on SQLite, on the inserter's own thread.
    for name in ("_run", "_add_pg"):
        method = getattr(line_inserts.LineInserter, name)
        monkeypatch.setattr(line_inserts.LineInserter, name, failing(method))
    with pytest.raises(RuntimeError):
        _import(service, CSV)
    assert calls == 4
    assert _stored(ctx) == []
    assert _connections(ctx) == 0


def test_the_session_waits_for_the_batch_in_flight(
    service: tuple[ServiceContext, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second account's lines make the service look that account up mid-import, on
    # the connection the previous account's last batch may still be using.
    ctx = service[0]
    two_accounts = _ofx("1111", 7).replace(OFX_TAIL, "") + (
        "</BANKTRANLIST></STMTRS><STMTRS><CURDEF>EUR<BANKACCTFROM><ACCTID>2222"
        "</BANKACCTFROM><BANKTRANLIST>\n"
        + OFX_LINE.format(
            kind="DEBIT", day=3, amount="-1.10", n=99, name="<NAME>Other", memo="", check=""
        )
        + OFX_TAIL
    )
    _, lines, added = _import(service, two_accounts, "two.ofx")
    assert (lines, added) == (8, 8)
    assert len(_stored(ctx)) == 8
