"""`/v1/statements`: upload a statement file (CSV, OFX/QFX, QIF, CAMT.053), preview its layout.

The routes are plain `def`s: an import of a large file takes seconds and runs in
the thread pool, not on the event loop.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, Field

from billfold.api.native.auth import Ctx, CurrentClient, container
from billfold.api.native.schemas import ConnectionOut, money
from billfold.container import Container
from billfold.domain.errors import InvalidInput
from billfold.domain.imports import StatementImport
from billfold.services import statements
from billfold.statements.records import (
    StatementError,
    StatementErrorCode,
    StatementFormat,
    StatementLine,
)

router = APIRouter(tags=["statements"])

Wiring = Annotated[Container, Depends(container)]
_FORMATS = ", ".join(f.value for f in StatementFormat)


class ImportedAccountOut(BaseModel):
    account_id: str
    key: str = Field(description="The account as the file names it; empty when it does not")
    lines: int
    added: int
    duplicates: int


class ImportOut(BaseModel):
    id: str
    connection_id: str
    format: str
    filename: str | None
    mapping: dict[str, Any] | None = Field(description="The CSV layout used (inferred or given)")
    lines: int = Field(description="Transactions the file holds")
    added: int = Field(description="New transactions stored")
    duplicates: int = Field(description="Transactions an earlier import had already stored")
    period_start: date | None
    period_end: date | None
    accounts: list[ImportedAccountOut]
    created_at: datetime

    @classmethod
    def of(cls, i: StatementImport) -> ImportOut:
        return cls(
            id=i.id,
            connection_id=i.connection_id,
            format=i.format,
            filename=i.filename,
            mapping=i.mapping,
            lines=i.lines,
            added=i.added,
            duplicates=i.duplicates,
            period_start=i.period[0] if i.period else None,
            period_end=i.period[1] if i.period else None,
            accounts=[
                ImportedAccountOut(
                    account_id=a.account_id,
                    key=a.key,
                    lines=a.lines,
                    added=a.added,
                    duplicates=a.duplicates,
                )
                for a in i.accounts
            ],
            created_at=i.created_at,
        )


class ImportResult(BaseModel):
    connection: ConnectionOut
    statement_import: ImportOut = Field(alias="import")


class ImportList(BaseModel):
    data: list[ImportOut]


class PreviewLineOut(BaseModel):
    date: date
    amount: str
    description: str
    payee: str | None
    memo: str | None
    reference: str | None
    balance: str | None
    account_key: str
    pending: bool

    @classmethod
    def of(cls, line: StatementLine) -> PreviewLineOut:
        currency = line.currency or "USD"
        return cls(
            date=line.date,
            amount=str(line.amount),
            description=line.description,
            payee=line.payee,
            memo=line.memo,
            reference=line.reference,
            balance=money(line.balance, currency) if line.balance is not None else None,
            account_key=line.account_key,
            pending=line.pending,
        )


class PreviewOut(BaseModel):
    format: str
    mapping: dict[str, Any] | None = Field(
        description="The inferred CSV layout; send changed keys back as `mapping` to override"
    )
    lines: list[PreviewLineOut] = Field(description=f"Up to {statements.PREVIEW_LINES} lines")


def _upload(
    file: UploadFile,
    wiring: Container,
    *,
    format: str | None,
    mapping: str | None,
    encoding: str | None,
    account_id: str | None = None,
    account_name: str | None = None,
    account_type: str | None = None,
) -> statements.StatementUpload:
    limit = wiring.settings.statement_max_bytes
    if file.size is not None and file.size > limit:
        raise StatementError(
            StatementErrorCode.FILE_TOO_LARGE,
            f"the file is {file.size:,} bytes; the largest statement accepted is {limit:,} bytes",
        )
    chosen = None
    if format:
        try:
            chosen = StatementFormat("ofx" if format.lower() == "qfx" else format.lower())
        except ValueError:
            raise InvalidInput(f"format must be one of {_FORMATS}", code="invalid_format") from None
    overrides = None
    if mapping:
        try:
            overrides = json.loads(mapping)
        except ValueError:
            raise InvalidInput("mapping must be a JSON object", code="invalid_mapping") from None
        if not isinstance(overrides, dict):
            raise InvalidInput("mapping must be a JSON object", code="invalid_mapping")
    return statements.StatementUpload(
        data=file.file,
        filename=file.filename,
        format=chosen,
        mapping=overrides,
        encoding=encoding or None,
        account_id=account_id or None,
        account_name=account_name or None,
        account_type=account_type or None,
    )


_FILE = Annotated[UploadFile, File(description=f"The statement file ({_FORMATS}; QFX too)")]
_TEXT = Annotated[str | None, Form(max_length=200)]
_MAPPING = Annotated[
    str | None, Form(max_length=10_000, description="JSON object of CSV layout overrides")
]


@router.post("/statements", response_model=ImportResult, status_code=201)
def upload(
    ctx: Ctx,
    client: CurrentClient,
    wiring: Wiring,
    file: _FILE,
    connection_id: _TEXT = None,
    user_id: _TEXT = None,
    institution_id: _TEXT = None,
    format: _TEXT = None,
    mapping: _MAPPING = None,
    encoding: _TEXT = None,
    account_id: _TEXT = None,
    account_name: _TEXT = None,
    account_type: _TEXT = None,
) -> dict[str, Any]:
    """Import a statement into a statement connection (or a new one for `user_id`).

    Re-uploading an overlapping file adds only what is new. A bad file is refused
    with a clear error and changes nothing.
    """
    data = _upload(
        file,
        wiring,
        format=format,
        mapping=mapping,
        encoding=encoding,
        account_id=account_id,
        account_name=account_name,
        account_type=account_type,
    )
    connection, result = statements.import_statement(
        ctx=ctx,
        client_id=client.id,
        upload=data,
        max_bytes=wiring.settings.statement_max_bytes,
        connection_id=connection_id or None,
        user_id=user_id or None,
        institution_id=institution_id or None,
    )
    return {"connection": ConnectionOut.of(connection), "import": ImportOut.of(result)}


@router.post("/statements/preview", response_model=PreviewOut)
def preview(
    client: CurrentClient,
    wiring: Wiring,
    file: _FILE,
    format: _TEXT = None,
    mapping: _MAPPING = None,
    encoding: _TEXT = None,
) -> PreviewOut:
    """Read the first lines and show the layout Billfold inferred; stores nothing."""
    data = _upload(file, wiring, format=format, mapping=mapping, encoding=encoding)
    found = statements.preview_statement(upload=data, max_bytes=wiring.settings.statement_max_bytes)
    return PreviewOut(
        format=found.format.value,
        mapping=found.mapping,
        lines=[PreviewLineOut.of(line) for line in found.lines],
    )


@router.get("/statements/{import_id}", response_model=ImportOut)
async def get(import_id: str, ctx: Ctx, client: CurrentClient) -> ImportOut:
    return ImportOut.of(statements.get_import(ctx=ctx, client_id=client.id, import_id=import_id))


@router.get("/connections/{connection_id}/statements", response_model=ImportList)
async def list_(connection_id: str, ctx: Ctx, client: CurrentClient) -> ImportList:
    found = statements.list_imports(ctx=ctx, client_id=client.id, connection_id=connection_id)
    return ImportList(data=[ImportOut.of(i) for i in found])
