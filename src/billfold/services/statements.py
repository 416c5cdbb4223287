"""Statement import: a file's lines become a connection's accounts and transactions.

Uploads feed a connection that has no login (its `source` attribute is
"statements"); any institution can be fed this way, or the generic "Statement
upload" one. An import runs in one write transaction: the whole file goes in or,
on any error, nothing does. Lines stream from the reader into batched driver
inserts, and the unique (account, external id) index turns a repeat of an
earlier, overlapping file into a no-op (see `statements.identity`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from sqlalchemy import func, select

from billfold.connectors.statements import STATEMENT_INSTITUTION
from billfold.domain.accounts import AccountData, AccountType
from billfold.domain.connections import Connection, ConnectionStatus
from billfold.domain.errors import Conflict, InvalidInput, NotFound
from billfold.domain.imports import STATEMENT_SOURCE, ImportedAccount, StatementImport
from billfold.domain.money import exponent
from billfold.services.connections import is_statement_connection
from billfold.services.context import ServiceContext
from billfold.services.events import EventType, record
from billfold.statements.identity import LineIdentities, UnsortedLines
from billfold.statements.reader import open_statement
from billfold.statements.records import (
    StatementAccount,
    StatementError,
    StatementErrorCode,
    StatementFormat,
    StatementLine,
    StatementReader,
)
from billfold.store.ids import new_id
from billfold.store.imports import StatementImportRepository
from billfold.store.line_inserts import LineInserter, LineRow
from billfold.store.store import Unit
from billfold.store.tables import TransactionRow

# The generic institution for statements of an institution Billfold cannot log in to.
STATEMENT_INSTITUTION_ID = STATEMENT_INSTITUTION.id
# Lines per insert statement. The database takes one batch while the next is read: a
# batch is large enough that handing it over between threads costs little, and small
# enough that the last one (inserted with nothing left to overlap) is short and two
# batches in memory are a few tens of MB.
BATCH = 20_000
# Amounts beyond a 64-bit integer (the column is BIGINT) are not money.
_MAX_MINOR = (1 << 63) - 1
PREVIEW_LINES = 20
_ACCOUNT_TYPES = {t.value for t in AccountType}


@dataclass(frozen=True, slots=True)
class StatementUpload:
    """An uploaded file (seekable: an import may read it twice) and the client's hints."""

    data: BinaryIO
    filename: str | None = None
    format: StatementFormat | None = None
    # CSV only: overrides of the inferred layout (see csv_layout.CsvMapping.to_dict()).
    mapping: Mapping[str, Any] | None = None
    encoding: str | None = None
    # For a file that names no account (CSV, QIF): the connection's account to fill.
    account_id: str | None = None
    account_name: str | None = None
    account_type: str | None = None


@dataclass(frozen=True, slots=True)
class StatementPreview:
    format: StatementFormat
    mapping: dict[str, Any] | None
    lines: tuple[StatementLine, ...]
    accounts: tuple[StatementAccount, ...]


def _open(upload: StatementUpload, max_bytes: int) -> StatementReader:
    upload.data.seek(0)
    return open_statement(
        upload.data,
        filename=upload.filename,
        format=upload.format,
        csv_mapping=upload.mapping,
        encoding=upload.encoding,
        max_bytes=max_bytes,
    )


def _mapping_of(reader: StatementReader) -> dict[str, Any] | None:
    mapping = getattr(reader, "mapping", None)
    return None if mapping is None else dict(mapping.to_dict())


def preview_statement(*, upload: StatementUpload, max_bytes: int) -> StatementPreview:
    """Read the first lines and the layout Billfold inferred, storing nothing."""
    reader = _open(upload, max_bytes)
    lines: list[StatementLine] = []
    for line in reader.lines():
        lines.append(line)
        if len(lines) >= PREVIEW_LINES:
            break
    return StatementPreview(
        format=reader.format,
        mapping=_mapping_of(reader),
        lines=tuple(lines),
        accounts=tuple(reader.accounts),
    )


def _new_statement_connection(
    unit: Unit, *, client_id: str, user_id: str, institution_id: str | None, now: datetime
) -> Connection:
    """A connection fed by uploaded statements: no login, no job, no scheduled refresh."""
    if unit.users.get(client_id, user_id) is None:
        raise NotFound("No such user.", code="user_not_found")
    institution = unit.institutions.get(institution_id or STATEMENT_INSTITUTION_ID)
    if institution is None:
        raise NotFound("No such institution.", code="institution_not_found")
    return Connection(
        id=new_id(),
        client_id=client_id,
        user_id=user_id,
        institution_id=institution.id,
        status=ConnectionStatus.PENDING,
        error_code=None,
        created_at=now,
        updated_at=now,
        last_synced_at=None,
        refresh_every_hours=None,
    )


def import_statement(
    *,
    ctx: ServiceContext,
    client_id: str,
    upload: StatementUpload,
    max_bytes: int,
    connection_id: str | None = None,
    user_id: str | None = None,
    institution_id: str | None = None,
) -> tuple[Connection, StatementImport]:
    """Import every line of the file, or nothing if any line is bad.

    Into `connection_id`, a statement connection; or, without it, into a new statement
    connection for `user_id` at `institution_id` (default: the generic "Statement
    upload"), created in the same transaction so a bad file leaves no empty connection.
    """
    if upload.account_type is not None and upload.account_type not in _ACCOUNT_TYPES:
        raise InvalidInput(
            f"account_type must be one of {', '.join(sorted(_ACCOUNT_TYPES))}",
            code="invalid_account_type",
        )
    with ctx.store.read() as unit:
        if connection_id is None:
            if not user_id:
                raise InvalidInput(
                    "give connection_id, or user_id to start a new statement connection",
                    code="missing_user_id",
                )
            connection = _new_statement_connection(
                unit,
                client_id=client_id,
                user_id=user_id,
                institution_id=institution_id,
                now=ctx.clock(),
            )
            new = True
        else:
            found = unit.connections.get(connection_id, client_id)
            if found is None:
                raise NotFound("No such connection.", code="connection_not_found")
            if not is_statement_connection(unit, connection_id):
                raise Conflict(
                    "this connection reads its data with a login; upload statements to a "
                    "statement connection (POST /v1/statements without connection_id makes one)",
                    code="not_a_statement_connection",
                )
            connection, new = found, False
    try:
        result = _import(ctx, connection, new, upload, max_bytes, remember_all_days=False)
    except UnsortedLines:
        result = _import(ctx, connection, new, upload, max_bytes, remember_all_days=True)
    with ctx.store.read() as unit:
        stored = unit.connections.get(connection.id, client_id)
    assert stored is not None
    return stored, result


@dataclass(slots=True)
class _AccountTally:
    account_id: str
    key: str
    currency: str
    exponent: int
    latest_before: date | None
    lines: int = 0
    added: int = 0
    # Each day the file has for the account, with its form for the driver.
    days: dict[date, object] = field(default_factory=dict)

    @property
    def earliest(self) -> date | None:
        return min(self.days, default=None)

    @property
    def latest(self) -> date | None:
        return max(self.days, default=None)


@dataclass(slots=True)
class _Run:
    unit: Unit
    repo: StatementImportRepository
    connection: Connection
    upload: StatementUpload
    reader: StatementReader
    now: datetime
    accounts: dict[str, _AccountTally] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)


def _import(
    ctx: ServiceContext,
    connection: Connection,
    new: bool,
    upload: StatementUpload,
    max_bytes: int,
    *,
    remember_all_days: bool,
) -> StatementImport:
    reader = _open(upload, max_bytes)
    now = ctx.clock()
    with ctx.store.write() as unit:
        if new:
            unit.connections.add(connection, {}, {"source": STATEMENT_SOURCE})
            unit.flush()
            # After the insert: the column's default would replace a None given to it.
            unit.connections.set_refresh_every(connection.id, None)
        run = _Run(unit, StatementImportRepository(unit.session), connection, upload, reader, now)
        with LineInserter(unit.session, client_id=connection.client_id, at=now) as inserter:
            _insert_lines(run, LineIdentities(remember_all_days=remember_all_days), inserter)
            added = inserter.settle()
        for tally in run.accounts.values():
            tally.added = added.get(tally.account_id, 0)
        if not run.accounts:
            raise StatementError(
                StatementErrorCode.NO_TRANSACTIONS, "the file holds no transactions to import"
            )
        balances_changed = _apply_balances(run)
        result = StatementImport(
            id=new_id(),
            client_id=connection.client_id,
            connection_id=connection.id,
            format=reader.format.value,
            filename=(upload.filename or "")[:255] or None,
            encoding=getattr(reader, "encoding", None),
            mapping=_mapping_of(reader),
            lines=sum(t.lines for t in run.accounts.values()),
            added=sum(t.added for t in run.accounts.values()),
            duplicates=sum(t.lines - t.added for t in run.accounts.values()),
            period=reader.period or _span(list(run.accounts.values())),
            created_at=now,
            accounts=tuple(
                ImportedAccount(t.account_id, t.key, t.lines, t.added, t.lines - t.added)
                for t in run.accounts.values()
            ),
        )
        run.repo.add(result)
        unit.connections.set_status(connection.id, ConnectionStatus.ACTIVE, None, now, synced=True)
        _record_events(run, result, balances_changed)
    return result


def _insert_lines(run: _Run, identities: LineIdentities, inserter: LineInserter) -> None:
    # The loop runs once per line of files with millions: it does the least it can
    # (lengths are capped by the inserter, date ranges come from each day seen).
    sqlite = inserter.sqlite
    batch: list[LineRow] = []
    tally: _AccountTally | None = None
    tally_key: str | None = None
    days: dict[date, object] = {}
    external_id = identities.external_id
    append = batch.append
    scale = Decimal(100)
    for line_number, line in enumerate(run.reader.lines(), start=1):
        if line.account_key != tally_key or tally is None:
            _flush(inserter, tally, batch)
            # Finding or creating the account uses the session: the inserter must be idle.
            inserter.settle()
            tally_key = line.account_key
            tally = _tally_for(run, line)
            days, scale = tally.days, Decimal(10) ** tally.exponent
        amount = line.amount
        scaled = amount * scale
        minor = int(scaled)
        if minor != scaled or minor > _MAX_MINOR or minor < -_MAX_MINOR:
            raise _bad_amount(line_number, amount, scaled, tally.currency)
        when = line.date
        day = days.get(when)
        if day is None:
            day = days[when] = when.isoformat() if sqlite else when
        description, payee = line.description, line.payee
        append(
            (
                external_id(tally_key, when, minor, description, line.reference),
                minor,
                day,
                description or payee or "",
                line.pending,
                payee,
                line.memo,
                line.check_number,
            )
        )
        if len(batch) >= BATCH:
            _flush(inserter, tally, batch)
    _flush(inserter, tally, batch)


def _bad_amount(
    line_number: int, amount: Decimal, scaled: Decimal, currency: str
) -> StatementError:
    if scaled == scaled.to_integral_value():
        problem = "is too large an amount"
    else:
        problem = f"has more decimal places than {currency} allows"
    return StatementError(
        StatementErrorCode.BAD_ROW, f"transaction {line_number}: {amount} {problem}"
    )


def _flush(inserter: LineInserter, tally: _AccountTally | None, batch: list[LineRow]) -> None:
    if tally is None or not batch:
        return
    tally.lines += len(batch)
    inserter.add(account_id=tally.account_id, currency=tally.currency, rows=batch)
    batch.clear()


def _statement_account(reader: StatementReader, key: str) -> StatementAccount | None:
    return next((a for a in reader.accounts if a.key == key), None)


def _tally_for(run: _Run, line: StatementLine) -> _AccountTally:
    tally = run.accounts.get(line.account_key)
    if tally is not None:
        return tally
    unit = run.unit
    stated = _statement_account(run.reader, line.account_key)
    rows = unit.accounts.for_connection(run.connection.id)
    row = None
    if run.upload.account_id and not line.account_key:
        row = next((r for r in rows.values() if r.id == run.upload.account_id), None)
        if row is None:
            raise NotFound("No such account on this connection.", code="account_not_found")
    else:
        row = rows.get(_external_id(line.account_key))
    if row is None:
        currency = (line.currency or (stated.currency if stated else None) or "USD").upper()
        data = _account_data(run, line.account_key, stated, currency)
        account_id, _ = unit.accounts.upsert(
            existing=None,
            new_id=new_id(),
            client_id=run.connection.client_id,
            user_id=run.connection.user_id,
            connection_id=run.connection.id,
            data=data,
            at=run.now,
        )
        unit.flush()
        run.created.add(account_id)
    else:
        account_id, currency = row.id, row.currency
    latest_before = unit.session.scalar(
        select(func.max(TransactionRow.date)).where(TransactionRow.account_id == account_id)
    )
    tally = _AccountTally(account_id, line.account_key, currency, exponent(currency), latest_before)
    run.accounts[line.account_key] = tally
    return tally


def _external_id(key: str) -> str:
    return f"statement:{key}" if key else "statement"


def _account_data(
    run: _Run, key: str, stated: StatementAccount | None, currency: str
) -> AccountData:
    # What the file states wins; the client's type is for files that state none.
    kind = (stated.type if stated else None) or run.upload.account_type or "checking"
    number = (stated.number if stated else None) or key
    name = run.upload.account_name or (stated.name if stated else None)
    if not name:
        label = AccountType(kind).value.replace("_", " ").capitalize()
        name = f"{label} {number[-4:]}" if number else label
    return AccountData(
        external_id=_external_id(key),
        name=name[:200],
        type=AccountType(kind),
        mask=number[-4:] if number else "",
        currency=currency,
        full_number=number or None,
    )


def _apply_balances(run: _Run) -> list[str]:
    """Take the file's balances when it is at least as recent as what was stored."""
    changed: list[str] = []
    rows = {r.id: r for r in run.unit.accounts.for_connection(run.connection.id).values()}
    for tally in run.accounts.values():
        stated = _statement_account(run.reader, tally.key)
        if stated is None or stated.ledger_balance is None:
            continue
        if tally.latest_before is not None and (
            tally.latest is None or tally.latest < tally.latest_before
        ):
            continue
        row = rows[tally.account_id]
        current = _owed(stated.ledger_balance, row.type)
        available = stated.available_balance
        updates = {
            "current_balance": _minor(current, tally.exponent),
            "available_balance": None if available is None else _minor(available, tally.exponent),
        }
        if any(getattr(row, k) != v for k, v in updates.items()):
            for key, value in updates.items():
                setattr(row, key, value)
            row.balance_updated_at = run.now
            row.updated_at = run.now
            changed.append(row.id)
    return changed


def _owed(balance: Decimal, account_type: str) -> Decimal:
    # Files state a card's balance as negative while owed; Billfold's is positive.
    return -balance if account_type == AccountType.CREDIT_CARD.value else balance


def _minor(amount: Decimal, places: int) -> int:
    return int(amount.scaleb(places).to_integral_value())


def _span(tallies: list[_AccountTally]) -> tuple[date, date] | None:
    earliest = [t.earliest for t in tallies if t.earliest is not None]
    latest = [t.latest for t in tallies if t.latest is not None]
    return (min(earliest), max(latest)) if earliest and latest else None


def _record_events(run: _Run, result: StatementImport, balances_changed: list[str]) -> None:
    base = {"connection_id": run.connection.id, "user_id": run.connection.user_id}
    if result.added:
        record(
            run.unit,
            client_id=run.connection.client_id,
            type_=EventType.TRANSACTIONS_UPDATED,
            at=run.now,
            data={
                **base,
                "import_id": result.id,
                "added": result.added,
                "changed": 0,
                "removed": 0,
            },
        )
    for account_id in balances_changed:
        record(
            run.unit,
            client_id=run.connection.client_id,
            type_=EventType.ACCOUNT_BALANCE_CHANGED,
            at=run.now,
            data={**base, "account_id": account_id},
        )


def get_import(*, ctx: ServiceContext, client_id: str, import_id: str) -> StatementImport:
    with ctx.store.read() as unit:
        found = StatementImportRepository(unit.session).get(import_id, client_id)
    if found is None:
        raise NotFound("No such statement import.", code="import_not_found")
    return found


def list_imports(
    *, ctx: ServiceContext, client_id: str, connection_id: str
) -> list[StatementImport]:
    with ctx.store.read() as unit:
        if unit.connections.get(connection_id, client_id) is None:
            raise NotFound("No such connection.", code="connection_not_found")
        return StatementImportRepository(unit.session).for_connection(connection_id)
