"""Jobs in the dialect: the job object, and answers to its one pending step.

Answers are one-shot: an answer goes through only while its step is the one
pending, of the matching kind; anything else is `-1` (spec 7.2 and 7.3). The
core commits the answer (and clears the step) before this returns.
"""

from __future__ import annotations

import json
from datetime import timedelta
from enum import StrEnum
from typing import Any

from billfold.api.sophtron.presenters import job_out
from billfold.domain.challenges import ChallengeKind
from billfold.domain.errors import Conflict, InvalidInput
from billfold.domain.jobs import JobStatus
from billfold.services import jobs
from billfold.services import sophtron as dialect
from billfold.services.context import ServiceContext

ACCEPTED = 0
REFUSED = -1


class Step(StrEnum):
    """A pending step, by its v2 challenge type (lower-cased). Names, not secrets."""

    SECURITY_QUESTION = "securityquestion"
    TOKEN_METHOD = "tokenmethod"  # noqa: S105
    TOKEN_INPUT = "tokeninput"  # noqa: S105
    TOKEN_READ = "tokenread"  # noqa: S105
    CAPTCHA = "captchaimage"
    ACCOUNT_SELECT = "single_account_select"


# v2 challenge types and their aliases ([Billfold]: SecurityAnswer, TokenChoice, ...).
STEP_NAMES: dict[str, Step] = {
    **{s.value: s for s in Step},
    "securityanswer": Step.SECURITY_QUESTION,
    "tokenchoice": Step.TOKEN_METHOD,
    "captchainput": Step.CAPTCHA,
    "captcha": Step.CAPTCHA,
    "verifyphoneflag": Step.TOKEN_READ,
}

_KINDS = {
    Step.SECURITY_QUESTION: ChallengeKind.QUESTIONS,
    Step.TOKEN_METHOD: ChallengeKind.CHOICE,
    Step.TOKEN_INPUT: ChallengeKind.CODE,
    Step.TOKEN_READ: ChallengeKind.APPROVE,
    Step.CAPTCHA: ChallengeKind.CAPTCHA,
}


def job_body(
    *, ctx: ServiceContext, client_id: str, job_id: str, hold: timedelta
) -> dict[str, Any]:
    job = jobs.get_job(ctx=ctx, client_id=client_id, job_id=job_id.lower())
    token_choice, verify_phone = dialect.job_mark(ctx=ctx, job_id=job.id)
    return job_out(
        job, token_choice=token_choice, verify_phone=verify_phone, hold=hold, now=ctx.clock()
    )


def answer_values(step: Step, raw: Any) -> list[str]:
    """The answer as core values; `InvalidInput` when it is malformed for its step."""
    values = _answer_values(step, raw)
    if any("\x00" in v or len(v) > 1000 for v in values):
        raise InvalidInput(f"The answer is not valid for {step.value}.", code="invalid_answer")
    return values


def _answer_values(step: Step, raw: Any) -> list[str]:
    malformed = InvalidInput(f"The answer is not valid for {step.value}.", code="invalid_answer")
    if step is Step.SECURITY_QUESTION:
        value = raw
        if isinstance(raw, str):
            try:
                value = json.loads(raw)
            except ValueError:
                value = [raw]  # one question may be answered with a plain string
            if not isinstance(value, list):
                value = [raw]
        if not isinstance(value, list) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
        ):
            raise malformed
        return [str(v) for v in value]
    if step is Step.TOKEN_READ:
        if raw is True or (isinstance(raw, str) and raw.strip().lower() == "true"):
            return ["done"]
        raise malformed
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise malformed
    return [str(raw)]


def answer(*, ctx: ServiceContext, client_id: str, job_id: str, step: Step, raw: Any) -> int:
    """Answer the job's pending step; 0 when accepted, -1 when it does not apply."""
    values = answer_values(step, raw)
    job = jobs.get_job(ctx=ctx, client_id=client_id, job_id=job_id.lower())
    if step is Step.ACCOUNT_SELECT:
        try:
            dialect.select_account(
                ctx=ctx, client_id=client_id, job_id=job.id, account_id=values[0]
            )
        except (Conflict, InvalidInput):
            return REFUSED
        return ACCEPTED
    pending = job.challenge if job.status is JobStatus.WAITING_FOR_ANSWER else None
    if pending is None or pending.answered or pending.challenge.kind is not _KINDS[step]:
        return REFUSED
    label = None
    if step is Step.TOKEN_METHOD:
        option = pending.challenge.option_for(values[0])
        if option is None:
            return REFUSED
        label = option.label
    try:
        jobs.answer_challenge(
            ctx=ctx, client_id=client_id, job_id=job.id, challenge_id=pending.id, values=values
        )
    except (Conflict, InvalidInput):
        return REFUSED
    if label is not None:
        dialect.mark_job(ctx=ctx, job_id=job.id, token_choice=label)
    if step is Step.TOKEN_READ:
        dialect.mark_job(ctx=ctx, job_id=job.id, verify_phone=True)
    return ACCEPTED
