"""Domain objects -> the dialect's PascalCase objects (spec section 6).

Every key is present (null when unknown). A job shows at most one pending MFA
step, derived from the core job's current challenge, so a step is cleared the
moment its answer is accepted.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

from billfold.api.sophtron.dates import iso
from billfold.api.sophtron.wire import ZERO_GUID, json_text
from billfold.domain.accounts import Account, AccountType
from billfold.domain.challenges import ChallengeKind
from billfold.domain.connections import Connection
from billfold.domain.institutions import Institution
from billfold.domain.jobs import Job, JobStatus
from billfold.domain.parties import EndUser
from billfold.domain.snapshot import Identity
from billfold.domain.transactions import Transaction, TransactionStatus

STEP_NAMES: dict[ChallengeKind, str] = {
    ChallengeKind.CAPTCHA: "Captcha",
    ChallengeKind.QUESTIONS: "SecurityQuestion",
    ChallengeKind.CHOICE: "TokenMethods",
    ChallengeKind.CODE: "TokenInput",
    ChallengeKind.APPROVE: "TokenRead",
    ChallengeKind.ACCOUNT_SELECT: "Accounts",
}

# Core failure codes -> the dialect's `Error` strings.
ERRORS = {"invalid_answer": "mfa_rejected", "answer_timeout": "mfa_timeout"}

ACCOUNT_TYPES = {
    AccountType.CHECKING: "Checking",
    AccountType.SAVINGS: "Savings",
    AccountType.CREDIT_CARD: "CreditCard",
    AccountType.LOAN: "Loan",
    AccountType.UTILITY: "Utility",
    AccountType.PHONE: "Phone",
    AccountType.INTERNET: "Internet",
    AccountType.OTHER_BILL: "Bill",
}


def job_type(job: Job) -> str:
    return "|".join(job.options.products)


def is_holding(job: Job, hold: timedelta, now: datetime) -> bool:
    """A verification job waits at AccountsReady for an account selection (rule 8)."""
    if "verification" not in job.options.products or job.selected_account_id is not None:
        return False
    if job.status is not JobStatus.SUCCEEDED or job.finished_at is None:
        return False
    return now - job.finished_at < hold


def _last_challenge_step(job: Job) -> str:
    for step in reversed(job.steps):
        if step.challenge_kind:
            return STEP_NAMES.get(ChallengeKind(step.challenge_kind), "Login")
    return "Login"


def job_out(
    job: Job,
    *,
    token_choice: str | None,
    verify_phone: bool,
    hold: timedelta,
    now: datetime,
) -> dict[str, Any]:
    pending = job.challenge if job.status is JobStatus.WAITING_FOR_ANSWER else None
    if pending is not None and pending.answered:
        pending = None
    fields: dict[str, Any] = {
        "SecurityQuestion": None,
        "TokenMethod": None,
        "TokenSentFlag": False,
        "TokenInputName": None,
        "TokenRead": None,
        "CaptchaImage": None,
    }
    success: bool | None = None
    error: str | None = None
    if pending is not None:
        challenge = pending.challenge
        status, step = "WaitingForInput", STEP_NAMES[challenge.kind]
        if challenge.kind is ChallengeKind.QUESTIONS:
            fields["SecurityQuestion"] = json_text(list(challenge.questions))
        elif challenge.kind is ChallengeKind.CHOICE:
            fields["TokenMethod"] = json_text([o.label for o in challenge.options])
        elif challenge.kind is ChallengeKind.CODE:
            fields["TokenSentFlag"] = True
            fields["TokenInputName"] = challenge.code_label or "Token"
        elif challenge.kind is ChallengeKind.APPROVE:
            fields["TokenRead"] = challenge.approve_code or challenge.prompt
        elif challenge.kind is ChallengeKind.CAPTCHA and challenge.image_png is not None:
            fields["CaptchaImage"] = base64.b64encode(challenge.image_png).decode("ascii")
    elif job.status is JobStatus.SUCCEEDED:
        if is_holding(job, hold, now):
            status, step = "AccountsReady", "Accounts"
        else:
            success, status, step = True, "Completed", "Completed"
    elif job.status is JobStatus.EXPIRED:
        success, status, step = False, "Timeout", _last_challenge_step(job)
        error = ERRORS.get(str(job.error_code), "mfa_timeout")
    elif job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        success, status = False, "Failed"
        code = job.error_code.value if job.error_code else "cancelled"
        step = "Login" if code == "invalid_credentials" else _last_challenge_step(job)
        error = ERRORS.get(code, code)
    elif job.accounts_ready_at is not None:
        status, step = "AccountsReady", "Transactions"
    else:
        status, step = "Started", "Login"
    return {
        "JobID": job.id,
        "JobType": job_type(job),
        "UserInstitutionID": job.connection_id,
        "AccountID": job.selected_account_id or ZERO_GUID,
        "SuccessFlag": success,
        "LastStep": step,
        "LastStatus": status,
        **fields,
        "SecurityAnswer": None,
        "TokenChoice": token_choice,
        "TokenInput": None,
        "VerifyPhoneFlag": True if verify_phone else None,
        "CaptchaInput": None,
        "StartDate": iso(job.created_at),
        "LastModified": iso(job.updated_at),
        "Error": error,
    }


def institution_out(institution: Institution) -> dict[str, Any]:
    username = institution.login_fields[0].label if institution.login_fields else "User ID"
    password = next((f.label for f in institution.login_fields if f.secret), "None")
    return {
        "InstitutionID": institution.id,
        "InstitutionName": institution.name,
        "URL": institution.url,
        "Logo": institution.logo_url,
        "RoutingNumber": institution.routing_numbers[0] if institution.routing_numbers else None,
        "InstitutionDetail": {"LoginFormUserName": username, "LoginFormPassword": password},
    }


def account_out(
    account: Account,
    *,
    full_numbers: bool,
    identity: Identity | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data = account.data
    card = data.type is AccountType.CREDIT_CARD
    loan = data.type is AccountType.LOAN
    out: dict[str, Any] = {
        "UserInstitutionID": account.connection_id,
        "AccountID": account.id,
        "AccountName": data.name,
        "AccountNumber": data.mask,
        "AccountType": ACCOUNT_TYPES.get(data.type, "Other"),
        "SubType": "Business" if data.holder.value == "business" else None,
        "Balance": data.current_balance,
        "AvailableBalance": data.available_balance,
        "CashBalance": data.available_balance if data.type.is_deposit else None,
        "BalanceCurrency": "$" if data.currency == "USD" else data.currency,
        "LastUpdated": iso(account.balance_updated_at or account.updated_at),
        "DueDate": iso(data.due_date),
        "Status": "Tracked" if account.is_active else "Untracked",
        "FullAccountNumber": data.full_number if full_numbers else None,
        "RoutingNumber": data.routing_number if full_numbers else None,
        "InstitutionNumber": None,
        "TransitNumber": None,
        "OwnerName": (data.owner_name or _first(identity, "names")) if identity else None,
        "Address": _first(identity, "addresses") if identity else None,
        "InsuranceData": None,
        "CreditCardData": (
            {"CreditLimit": data.credit_limit, "AmountDue": data.amount_due} if card else None
        ),
        "LoanData": {"AmountDue": data.amount_due} if loan else None,
        "MinimumPayment": data.minimum_payment,
    }
    if extra:
        out.update(extra)
    return out


def _first(identity: Identity | None, name: str) -> str | None:
    values: tuple[str, ...] = getattr(identity, name, ()) if identity else ()
    return values[0] if values else None


def transaction_out(txn: Transaction) -> dict[str, Any]:
    data = txn.data
    return {
        "TransactionID": txn.id,
        "UserInstitutionAccountID": txn.account_id,
        "Status": "Pending" if data.status is TransactionStatus.PENDING else "Posted",
        "Type": "CREDIT" if data.amount > 0 else "DEBIT",
        "Amount": data.amount,
        "Currency": "$" if data.currency == "USD" else data.currency,
        "Date": iso(data.date),
        "TransactionDate": iso(data.date),
        "PostDate": iso(data.posted_date) if data.posted_date else None,
        "Description": data.description,
        "Balance": None,
        "Merchant": data.merchant,
        "Category": data.category,
        "CheckNum": data.check_number,
        "Memo": data.memo,
        "CheckImage": None,
        "LastModified": iso(txn.updated_at),
    }


def user_institution_out(
    connection: Connection,
    *,
    developer: str | None,
    institution_name: str | None,
    identity: Identity | None,
    attributes: dict[str, Any],
) -> dict[str, Any]:
    return {
        "UserID": developer,
        "InstitutionID": connection.institution_id,
        "InstitutionName": institution_name,
        "UserInstitutionID": connection.id,
        "UserName": connection.username,
        "CompanyID": attributes.get("sophtron_company_id"),
        "OwnerName": _first(identity, "names"),
        "Address": _first(identity, "addresses"),
        "Phone": json_text(list(identity.phones)) if identity else None,
        "Email": json_text(list(identity.emails)) if identity else None,
        "LastModified": iso(connection.updated_at),
    }


def member_out(
    connection: Connection, *, institution_name: str | None, job_id: str | None
) -> dict[str, Any]:
    return {
        "MemberID": connection.id,
        "CustomerID": connection.user_id,
        "InstitutionID": connection.institution_id,
        "InstitutionName": institution_name,
        "UserName": connection.username,
        "JobID": job_id or ZERO_GUID,
        "LastModified": iso(connection.updated_at),
    }


def customer_out(user: EndUser, *, source: str | None, member_ids: list[str]) -> dict[str, Any]:
    return {
        "CustomerID": user.id,
        "UniqueID": user.external_id,
        "Name": user.name,
        "Source": source,
        "MemberIDs": member_ids,
        "CreatedDate": iso(user.created_at),
    }


def parse_json_list(text: str) -> list[Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, list) else None
