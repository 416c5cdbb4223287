"""Statement import throughput: a 1,000,000-row CSV and OFX file, end to end, on SQLite.

    python bench/bench_import.py                 # 1,000,000 rows, CSV and OFX
    python bench/bench_import.py --rows 200000   # a quicker run

For each format it writes the file to a temporary directory and, in a fresh child
process each time (so peak memory is that run's own):

- imports it end to end through the service Billfold's upload route calls
  (`services.statements.import_statement`: sniff, infer the layout, stream, assign
  ids, insert, commit) into a new SQLite database with Billfold's full schema;
- as the yardstick, inserts the same rows with `sqlite3.executemany` into a bare
  table of the transactions table's columns (no indexes), in one transaction.

It prints rows per second for both, their ratio, and the import's peak RSS beside
its peak for a file a tenth the size (flat memory: the two should be close).
Target: import >= 200,000 rows/s. Results are also written to
bench/results/import.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "import.json"
DESCRIPTIONS = [
    "COFFEE SHOP #{n}",
    "GROCERY MART {n}",
    "PAYROLL ACME CORP",
    "CITY WATER UTILITY",
    "ONLINE STORE ORDER {n}",
    "FUEL STATION {n}",
    "TRANSFER TO SAVINGS",
    "RESTAURANT {n}",
]


def _lines(rows: int) -> Any:
    """Deterministic transactions, oldest first, about 40 a day."""
    rng = random.Random(7)
    start = date(2015, 1, 1)
    for i in range(rows):
        day = start + timedelta(days=i // 40)
        cents = rng.randint(-250_000, 120_000)
        text = rng.choice(DESCRIPTIONS).format(n=rng.randint(1, 999))
        yield i, day, cents, text


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Date,Description,Amount\n")
        for _, day, cents, text in _lines(rows):
            sign = "-" if cents < 0 else ""
            amount = f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
            out.write(f"{day.month:02d}/{day.day:02d}/{day.year},{text},{amount}\n")


def write_ofx(path: Path, rows: int) -> None:
    with path.open("w", encoding="ascii") as out:
        out.write(
            "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
            "CHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX>\n"
            "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>"
            "<DTSERVER>20260101<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\n"
            "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>\n"
            "<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>121000248<ACCTID>000123456789"
            "<ACCTTYPE>CHECKING</BANKACCTFROM>\n<BANKTRANLIST><DTSTART>20150101<DTEND>20251231\n"
        )
        for i, day, cents, text in _lines(rows):
            sign = "-" if cents < 0 else ""
            amount = f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
            kind = "DEBIT" if cents < 0 else "CREDIT"
            out.write(
                f"<STMTTRN><TRNTYPE>{kind}<DTPOSTED>{day:%Y%m%d}<TRNAMT>{amount}"
                f"<FITID>{i}<NAME>{text}</STMTTRN>\n"
            )
        out.write(
            "</BANKTRANLIST><LEDGERBAL><BALAMT>100.00<DTASOF>20251231</LEDGERBAL>\n"
            "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
        )


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_import(path: Path, workdir: Path) -> dict[str, Any]:
    """Runs in a child process: one end-to-end import into a fresh database."""
    from billfold.container import Container
    from billfold.services.clients import create_client
    from billfold.services.statements import StatementUpload, import_statement
    from billfold.services.users import create_user
    from billfold.settings import Settings

    settings = Settings(
        data_dir=workdir,
        database_url=f"sqlite:///{workdir / 'billfold.db'}",
        secret_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        statement_max_bytes=1 << 34,
    )
    container = Container(settings)
    container.prepare()
    client = create_client(ctx=container.ctx, name="bench").client
    user = create_user(ctx=container.ctx, client_id=client.id)
    before = peak_rss_mb()
    with path.open("rb") as data:
        started = time.perf_counter()
        _, result = import_statement(
            ctx=container.ctx,
            client_id=client.id,
            upload=StatementUpload(data=data, filename=path.name),
            max_bytes=settings.statement_max_bytes,
            user_id=user.id,
        )
        seconds = time.perf_counter() - started
    container.store.close()
    return {
        "rows": result.added,
        "seconds": seconds,
        "rows_per_second": result.added / seconds,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": before,
    }


def child_raw(rows: int, workdir: Path) -> dict[str, Any]:
    """Runs in a child process: the same rows through sqlite3.executemany, nothing else."""
    columns = (
        "id, client_id, account_id, external_id, amount, currency, status, date, posted_date, "
        "description, merchant, category, memo, check_number, pending_external_id, "
        "pending_transaction_id, created_at, updated_at"
    )
    db = sqlite3.connect(workdir / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"CREATE TABLE transactions ({columns})")
    stamp = datetime.now(UTC).isoformat(sep=" ")
    params = [
        (
            f"00000000-0000-4000-8000-{i:012x}",
            "client",
            "account",
            f"ref:{i}",
            cents,
            "USD",
            "posted",
            day.isoformat(),
            None,
            text,
            None,
            None,
            None,
            None,
            None,
            None,
            stamp,
            stamp,
        )
        for i, day, cents, text in _lines(rows)
    ]
    marks = ", ".join("?" * 18)
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany(f"INSERT INTO transactions ({columns}) VALUES ({marks})", params)
    db.execute("COMMIT")
    seconds = time.perf_counter() - started
    db.close()
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds}


def run_child(*args: str) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        workdir = Path(rest[-1])
        if kind == "raw":
            print(json.dumps(child_raw(int(rest[0]), workdir)))
        else:
            print(json.dumps(child_import(Path(rest[0]), workdir)))
        return

    results: dict[str, Any] = {"rows": args.rows, "at": datetime.now(UTC).isoformat()}
    with tempfile.TemporaryDirectory(prefix="billfold-bench-import-") as tmp:
        root = Path(tmp)
        for fmt, writer in (("csv", write_csv), ("ofx", write_ofx)):
            # The yardstick runs right before each import: on a shared machine the rate
            # drifts, and a ratio of two runs minutes apart would mislead.
            raw_dir = root / f"raw-{fmt}"
            raw_dir.mkdir()
            raw = run_child("raw", str(args.rows), str(raw_dir))
            print(f"sqlite3.executemany, bare table: {raw['rows_per_second']:>10,.0f} rows/s")
            runs = {}
            for rows in (args.rows, args.rows // 10):
                path = root / f"statement-{rows}.{fmt}"
                writer(path, rows)
                workdir = root / f"{fmt}-{rows}"
                workdir.mkdir()
                runs[rows] = run_child("import", str(path), str(workdir))
                runs[rows]["file_mb"] = os.path.getsize(path) / 1e6
                path.unlink()
            full, tenth = runs[args.rows], runs[args.rows // 10]
            results[fmt] = {"full": full, "tenth": tenth, "sqlite3_executemany": raw}
            ratio = full["rows_per_second"] / raw["rows_per_second"]
            print(
                f"{fmt.upper()} import end to end:    {full['rows_per_second']:>10,.0f} rows/s "
                f"({full['rows']:,} rows, {full['file_mb']:.0f} MB in {full['seconds']:.2f} s; "
                f"{ratio:.2f} of executemany)"
            )
            print(
                f"  peak RSS: {full['peak_rss_mb']:.0f} MB for {args.rows:,} rows, "
                f"{tenth['peak_rss_mb']:.0f} MB for {args.rows // 10:,} rows"
            )
    print("target: import >= 200,000 rows/s, memory flat in file size")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
