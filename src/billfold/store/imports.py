"""Statement imports: the record of each uploaded file, kept to show what it added.

The lines themselves go into the transactions table through `store.line_inserts`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from billfold.domain.imports import ImportedAccount, StatementImport
from billfold.store.tables import Base


class StatementImportRow(Base):
    __tablename__ = "statement_imports"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[str] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    format: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str | None] = mapped_column(String(255))
    encoding: Mapped[str | None] = mapped_column(String(32))
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    lines: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    accounts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime]


def _import(row: StatementImportRow) -> StatementImport:
    period = None
    if row.period_start is not None and row.period_end is not None:
        period = (row.period_start, row.period_end)
    return StatementImport(
        id=row.id,
        client_id=row.client_id,
        connection_id=row.connection_id,
        format=row.format,
        filename=row.filename,
        encoding=row.encoding,
        mapping=row.mapping,
        lines=row.lines,
        added=row.added,
        duplicates=row.duplicates,
        period=period,
        created_at=row.created_at,
        accounts=tuple(ImportedAccount(**a) for a in row.accounts),
    )


class StatementImportRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, record: StatementImport) -> None:
        self._s.add(
            StatementImportRow(
                id=record.id,
                client_id=record.client_id,
                connection_id=record.connection_id,
                format=record.format,
                filename=record.filename,
                encoding=record.encoding,
                mapping=record.mapping,
                lines=record.lines,
                added=record.added,
                duplicates=record.duplicates,
                period_start=record.period[0] if record.period else None,
                period_end=record.period[1] if record.period else None,
                accounts=[
                    {
                        "account_id": a.account_id,
                        "key": a.key,
                        "lines": a.lines,
                        "added": a.added,
                        "duplicates": a.duplicates,
                    }
                    for a in record.accounts
                ],
                created_at=record.created_at,
            )
        )

    def get(self, import_id: str, client_id: str) -> StatementImport | None:
        row = self._s.get(StatementImportRow, import_id)
        if row is None or row.client_id != client_id:
            return None
        return _import(row)

    def for_connection(self, connection_id: str) -> list[StatementImport]:
        rows = self._s.scalars(
            select(StatementImportRow)
            .where(StatementImportRow.connection_id == connection_id)
            .order_by(StatementImportRow.created_at, StatementImportRow.id)
        )
        return [_import(r) for r in rows]
