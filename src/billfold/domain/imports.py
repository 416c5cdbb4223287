"""Statement imports: what one uploaded file added to a connection.

A statement-fed connection has no login: its data arrives as files. Each upload
is recorded so the client can see what was read, what was new and what was a
repeat of an earlier, overlapping file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# A connection whose data comes from uploaded files carries this source attribute.
STATEMENT_SOURCE = "statements"


@dataclass(frozen=True, slots=True)
class ImportedAccount:
    account_id: str
    # The account as the file names it (OFX ACCTID, CAMT IBAN), or "" when it does not.
    key: str
    lines: int
    added: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class StatementImport:
    id: str
    client_id: str
    connection_id: str
    format: str
    filename: str | None
    encoding: str | None
    # The CSV layout that was used (inferred, or inferred with the client's overrides).
    mapping: dict[str, Any] | None
    lines: int
    added: int
    duplicates: int
    period: tuple[date, date] | None
    created_at: datetime
    accounts: tuple[ImportedAccount, ...] = field(default_factory=tuple)
