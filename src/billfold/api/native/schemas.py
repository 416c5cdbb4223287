"""Request and response shapes of `/v1`, and their translation from domain objects.

Money is a decimal string ("1000.00") with an ISO currency, so no client loses
cents to floating point. Times are ISO 8601 UTC; dates are YYYY-MM-DD.
"""

from __future__ import annotations

import base64
import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from billfold.domain.accounts import Account
from billfold.domain.challenges import PendingChallenge
from billfold.domain.connections import Connection
from billfold.domain.errors import ERROR_MESSAGES
from billfold.domain.institutions import Institution
from billfold.domain.jobs import Job
from billfold.domain.money import exponent
from billfold.domain.parties import EndUser
from billfold.domain.transactions import Transaction


def money(amount: Decimal | None, currency: str) -> str | None:
    if amount is None:
        return None
    return str(amount.quantize(Decimal(1).scaleb(-exponent(currency))))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


# requests -------------------------------------------------------------------------------


class CreateUser(Strict):
    external_id: str | None = Field(
        default=None, max_length=200, description="Your own id for this person (unique)"
    )
    name: str | None = Field(default=None, max_length=200)


class CreateConnection(Strict):
    user_id: str = Field(max_length=64)
    institution_id: str = Field(max_length=64)
    credentials: dict[str, str] = Field(
        description="Login fields keyed by the institution's `login_fields[].key`"
    )
    products: list[str] | None = Field(
        default=None, description="Any of verification, identity, aggregate, history"
    )


class Relink(Strict):
    credentials: dict[str, str] | None = None
    products: list[str] | None = None


class UpdateCredentials(Strict):
    credentials: dict[str, str]


class UpdateConnection(Strict):
    refresh_every_hours: int | None = Field(
        description="Refresh in the background every N hours (1-720); null turns it off"
    )


class CreateWebhook(Strict):
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(
        default_factory=lambda: ["*"],
        max_length=20,
        description="job.waiting_for_answer, job.succeeded, job.failed, "
        "connection.needs_relink, transactions.updated, account.balance_changed, or *",
    )


class UpdateWebhook(Strict):
    url: str | None = Field(default=None, max_length=2000)
    event_types: list[str] | None = Field(default=None, max_length=20)
    enabled: bool | None = None


class Refresh(Strict):
    products: list[str] | None = None


class AnswerChallenge(Strict):
    challenge_id: str | None = Field(default=None, description="The challenge you answer")
    answers: list[str] | None = Field(
        default=None, max_length=20, description="One per question, in order"
    )
    answer: str | None = Field(default=None, description="Shorthand for a single answer")

    def values(self) -> list[str]:
        if self.answers is not None:
            return self.answers
        return [] if self.answer is None else [self.answer]


# responses ------------------------------------------------------------------------------


class LoginFieldOut(BaseModel):
    key: str
    label: str
    secret: bool
    required: bool


class InstitutionOut(BaseModel):
    id: str
    name: str
    kind: str
    url: str | None
    logo_url: str | None
    routing_numbers: list[str]
    code: str | None
    country: str
    connector: str
    login_fields: list[LoginFieldOut]

    @classmethod
    def of(cls, inst: Institution) -> InstitutionOut:
        return cls(
            id=inst.id,
            name=inst.name,
            kind=inst.kind.value,
            url=inst.url,
            logo_url=inst.logo_url,
            routing_numbers=list(inst.routing_numbers),
            code=inst.code,
            country=inst.country,
            connector=inst.connector,
            login_fields=[
                LoginFieldOut(key=f.key, label=f.label, secret=f.secret, required=f.required)
                for f in inst.login_fields
            ],
        )


class UserOut(BaseModel):
    id: str
    external_id: str | None
    name: str | None
    created_at: datetime

    @classmethod
    def of(cls, user: EndUser) -> UserOut:
        return cls(
            id=user.id, external_id=user.external_id, name=user.name, created_at=user.created_at
        )


class ErrorOut(BaseModel):
    code: str
    message: str


class ConnectionOut(BaseModel):
    id: str
    user_id: str
    institution_id: str
    status: str
    error: ErrorOut | None
    username: str | None = Field(description="The login name (never the password)")
    created_at: datetime
    updated_at: datetime
    last_synced_at: datetime | None
    refresh_every_hours: int | None = Field(description="Background refresh period; null: off")
    next_refresh_at: datetime | None

    @classmethod
    def of(cls, c: Connection) -> ConnectionOut:
        error = (
            ErrorOut(code=c.error_code.value, message=ERROR_MESSAGES[c.error_code])
            if c.error_code
            else None
        )
        return cls(
            id=c.id,
            user_id=c.user_id,
            institution_id=c.institution_id,
            status=c.status.value,
            error=error,
            username=c.username,
            created_at=c.created_at,
            updated_at=c.updated_at,
            last_synced_at=c.last_synced_at,
            refresh_every_hours=c.refresh_every_hours,
            next_refresh_at=c.next_refresh_at,
        )


class OptionOut(BaseModel):
    id: str
    label: str


class ImageOut(BaseModel):
    content_type: str
    base64: str


class ChallengeOut(BaseModel):
    id: str
    kind: str
    prompt: str
    expires_at: datetime
    questions: list[str] | None = None
    options: list[OptionOut] | None = None
    code_label: str | None = None
    approve_code: str | None = None
    image: ImageOut | None = None
    retry_note: str | None = None

    @classmethod
    def of(cls, pending: PendingChallenge) -> ChallengeOut:
        ch = pending.challenge
        return cls(
            id=pending.id,
            kind=ch.kind.value,
            prompt=ch.prompt,
            expires_at=pending.expires_at,
            questions=list(ch.questions) or None,
            options=[OptionOut(id=o.id, label=o.label) for o in ch.options] or None,
            code_label=ch.code_label,
            approve_code=ch.approve_code,
            image=(
                ImageOut(content_type="image/png", base64=base64.b64encode(ch.image_png).decode())
                if ch.image_png
                else None
            ),
            retry_note=ch.retry_note,
        )


class StepOut(BaseModel):
    at: datetime
    status: str
    note: str | None
    challenge_id: str | None
    challenge_kind: str | None
    error_code: str | None


class JobOut(BaseModel):
    id: str
    connection_id: str
    kind: str
    status: str
    products: list[str]
    challenge: ChallengeOut | None
    error: ErrorOut | None
    accounts_ready: bool
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime
    finished_at: datetime | None
    steps: list[StepOut]

    @classmethod
    def of(cls, job: Job) -> JobOut:
        challenge = None
        if job.challenge is not None and not job.challenge.answered:
            challenge = ChallengeOut.of(job.challenge)
        error = (
            ErrorOut(code=job.error_code.value, message=job.error_message or "")
            if job.error_code
            else None
        )
        return cls(
            id=job.id,
            connection_id=job.connection_id,
            kind=job.kind.value,
            status=job.status.value,
            products=list(job.options.products),
            challenge=challenge,
            error=error,
            accounts_ready=job.accounts_ready_at is not None,
            created_at=job.created_at,
            updated_at=job.updated_at,
            deadline_at=job.deadline_at,
            finished_at=job.finished_at,
            steps=[
                StepOut(
                    at=s.at,
                    status=s.status.value,
                    note=s.note,
                    challenge_id=s.challenge_id,
                    challenge_kind=s.challenge_kind,
                    error_code=s.error_code,
                )
                for s in job.steps
            ],
        )


class LinkOut(BaseModel):
    connection: ConnectionOut
    job: JobOut


class BalancesOut(BaseModel):
    current: str | None
    available: str | None
    credit_limit: str | None


class BillOut(BaseModel):
    amount_due: str | None
    minimum_payment: str | None
    due_date: date | None


class AccountOut(BaseModel):
    id: str
    connection_id: str
    user_id: str
    name: str
    type: str
    holder: str
    mask: str
    currency: str
    balances: BalancesOut
    bill: BillOut
    is_active: bool
    balance_updated_at: datetime | None
    full_number: str | None = None
    routing_number: str | None = None
    owner_name: str | None = None

    @classmethod
    def of(cls, a: Account, *, sensitive: bool = False) -> AccountOut:
        d = a.data
        extra: dict[str, Any] = {}
        if sensitive:
            extra = {
                "full_number": d.full_number,
                "routing_number": d.routing_number,
                "owner_name": d.owner_name,
            }
        return cls(
            id=a.id,
            connection_id=a.connection_id,
            user_id=a.user_id,
            name=d.name,
            type=d.type.value,
            holder=d.holder.value,
            mask=d.mask,
            currency=d.currency,
            balances=BalancesOut(
                current=money(d.current_balance, d.currency),
                available=money(d.available_balance, d.currency),
                credit_limit=money(d.credit_limit, d.currency),
            ),
            bill=BillOut(
                amount_due=money(d.amount_due, d.currency),
                minimum_payment=money(d.minimum_payment, d.currency),
                due_date=d.due_date,
            ),
            is_active=a.is_active,
            balance_updated_at=a.balance_updated_at,
            **extra,
        )


class TransactionOut(BaseModel):
    id: str
    account_id: str
    amount: str = Field(description="Positive: money into the account; negative: money out")
    currency: str
    direction: str = Field(description="credit or debit")
    status: str
    date: dt.date
    posted_date: dt.date | None
    description: str
    merchant: str | None
    category: str | None
    memo: str | None
    check_number: str | None
    pending_transaction_id: str | None

    @classmethod
    def of(cls, t: Transaction) -> TransactionOut:
        d = t.data
        return cls(
            id=t.id,
            account_id=t.account_id,
            amount=money(d.amount, d.currency) or "0",
            currency=d.currency,
            direction=d.direction.value,
            status=d.status.value,
            date=d.date,
            posted_date=d.posted_date,
            description=d.description,
            merchant=d.merchant,
            category=d.category,
            memo=d.memo,
            check_number=d.check_number,
            pending_transaction_id=t.pending_transaction_id,
        )


class InstitutionPage(BaseModel):
    data: list[InstitutionOut]
    next_cursor: str | None


class UserPage(BaseModel):
    data: list[UserOut]
    next_cursor: str | None


class TransactionPage(BaseModel):
    data: list[TransactionOut]
    next_cursor: str | None


class ConnectionList(BaseModel):
    data: list[ConnectionOut]


class AccountList(BaseModel):
    data: list[AccountOut]


class JobList(BaseModel):
    data: list[JobOut]
