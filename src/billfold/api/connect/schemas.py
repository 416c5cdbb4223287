"""Request and response shapes of connect tokens (`/v1`) and of the widget's own API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from billfold.api.native.schemas import (
    AccountOut,
    ChallengeOut,
    ErrorOut,
    InstitutionOut,
    Strict,
)
from billfold.domain.imports import StatementImport
from billfold.domain.jobs import Job
from billfold.services.connect import UploadedStatement, job_version


class CreateConnectToken(Strict):
    user_id: str = Field(max_length=64)
    institution_id: str | None = Field(
        default=None, max_length=64, description="Open the widget on this institution's login"
    )
    connection_id: str | None = Field(
        default=None, max_length=64, description="Re-authenticate this connection"
    )
    allowed_origins: list[str] | None = Field(
        default=None,
        max_length=10,
        description="Origins of the pages that may host the widget "
        "(default: only Billfold's own origin)",
    )
    expires_in: int | None = Field(
        default=None, ge=1, le=3600, description="Seconds the token stays valid (default 900)"
    )


class ConnectTokenOut(BaseModel):
    token: str = Field(description="Single use; give it to the widget, never store it")
    expires_at: datetime
    url: str = Field(description="The widget page for this token (standalone use)")
    user_id: str
    institution_id: str | None
    connection_id: str | None
    allowed_origins: list[str]


class OpenSession(Strict):
    token: str = Field(max_length=200)
    origin: str | None = Field(default=None, max_length=300)
    client_id: str | None = Field(default=None, max_length=64)


class SessionOut(BaseModel):
    session: str
    expires_at: datetime
    mode: str
    client_name: str
    origin: str
    institution: InstitutionOut | None
    pinned: bool
    username: str | None


class InstitutionBrief(BaseModel):
    id: str
    name: str
    kind: str
    url: str | None


class InstitutionBriefList(BaseModel):
    data: list[InstitutionBrief]


class StartLink(Strict):
    institution_id: str = Field(max_length=64)
    credentials: dict[str, str]


class WidgetAnswer(Strict):
    challenge_id: str | None = Field(default=None, max_length=64)
    answers: list[str] = Field(max_length=20)


class WidgetJob(BaseModel):
    id: str
    connection_id: str
    status: str
    version: str
    seq: int = Field(description="Grows with every step: the newer of two views wins")
    challenge: ChallengeOut | None
    error: ErrorOut | None
    note: str | None

    @classmethod
    def of(cls, job: Job) -> WidgetJob:
        challenge = None
        if job.challenge is not None and not job.challenge.answered and not job.is_finished:
            challenge = ChallengeOut.of(job.challenge)
        error = (
            ErrorOut(code=job.error_code.value, message=job.error_message or "")
            if job.error_code
            else None
        )
        notes = [s.note for s in job.steps if s.note]
        return cls(
            id=job.id,
            connection_id=job.connection_id,
            status=job.status.value,
            version=job_version(job),
            seq=len(job.steps),
            challenge=challenge,
            error=error,
            note=notes[-1] if notes else None,
        )


class WidgetImport(BaseModel):
    """What the widget tells the person about the file it read."""

    id: str
    format: str
    lines: int = Field(description="Transactions the file holds")
    added: int = Field(description="New transactions stored")
    duplicates: int = Field(description="Transactions an earlier upload had already stored")
    period_start: date | None
    period_end: date | None

    @classmethod
    def of(cls, i: StatementImport) -> WidgetImport:
        return cls(
            id=i.id,
            format=i.format,
            lines=i.lines,
            added=i.added,
            duplicates=i.duplicates,
            period_start=i.period[0] if i.period else None,
            period_end=i.period[1] if i.period else None,
        )


class WidgetStatement(BaseModel):
    connection_id: str
    institution_id: str
    accounts: list[AccountOut]
    statement: WidgetImport

    @classmethod
    def of(cls, uploaded: UploadedStatement) -> WidgetStatement:
        return cls(
            connection_id=uploaded.connection.id,
            institution_id=uploaded.connection.institution_id,
            accounts=[AccountOut.of(a) for a in uploaded.accounts],
            statement=WidgetImport.of(uploaded.statement_import),
        )
