"""`POST /users/{user_id}/nodes`: link ACH-US nodes by bank login, and the 202 MFA loop.

A bank login becomes a Billfold connection at the institution whose code is
`bank_name`; the link job runs in the background while this request waits for
it to ask a question or end, so the client gets 202 (with an MFA access token),
200 (the node envelope) or the Synapse error row for the job's failure code.
Also here: `force_refresh`, the same wait for a refresh job.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from billfold.api.synapse.auth import Caller, Gateway, authorize_user
from billfold.api.synapse.envelopes import (
    SynapseError,
    incorrect_values,
    payload_error,
)
from billfold.api.synapse.fields import decrypt_fields
from billfold.api.synapse.idempotency import idempotent, json_body, respond
from billfold.api.synapse.node_views import nodes_envelope, present_nodes, sync_nodes
from billfold.domain.challenges import ChallengeKind
from billfold.domain.errors import Conflict, ErrorCode, NotFound
from billfold.domain.jobs import TERMINAL_STATUSES, Job, JobStatus
from billfold.services import connections as connection_service
from billfold.services import institutions as institution_service
from billfold.services import jobs as job_service
from billfold.services.logins import find_connection_by_login
from billfold.services.synapse_webhooks import queue_events
from billfold.store.synapse import SynapseNodeRow

router = APIRouter()

WAIT_SECONDS = 90.0
MFA_TOKEN_TTL = timedelta(minutes=10)
ASKING = frozenset({JobStatus.WAITING_FOR_ANSWER, *TERMINAL_STATUSES})

# Job failure -> (HTTP status, Synapse error_code, English text), at link time (§6.4).
LINK_ERRORS: dict[ErrorCode, tuple[int, str, str]] = {
    ErrorCode.INVALID_CREDENTIALS: (400, "200", "Invalid bank credentials."),
    ErrorCode.NO_ACCOUNTS: (402, "460", "No ACH-capable account behind this login."),
    ErrorCode.ACTION_REQUIRED: (402, "500", "The bank wants the account holder's attention."),
    ErrorCode.INSTITUTION_UNAVAILABLE: (503, "503", "The bank is unavailable; try again later."),
    ErrorCode.INVALID_ANSWER: (409, "400", "Incorrect MFA answer."),
    ErrorCode.ANSWER_TIMEOUT: (409, "400", "The MFA question expired; link again."),
}
# ... and at force_refresh (§8).
SYNC_ERRORS: dict[ErrorCode, tuple[int, str, str]] = {
    ErrorCode.REFRESH_NOT_ALLOWED: (400, "410", "Refresh not allowed."),
    ErrorCode.NEEDS_RELINK: (401, "110", "Bad credentials. Relink the node."),
    ErrorCode.INVALID_CREDENTIALS: (401, "110", "Bad credentials. Relink the node."),
    ErrorCode.ACTION_REQUIRED: (401, "110", "The bank asks for MFA. Relink the node."),
    ErrorCode.INSTITUTION_UNAVAILABLE: (503, "503", "Refresh unavailable."),
}
UNKNOWN_ROW = (500, "500", "Unknown refresh error.")


def _job_error(job: Job, table: dict[ErrorCode, tuple[int, str, str]]) -> SynapseError:
    code = job.error_code or ErrorCode.UNKNOWN
    if job.status is JobStatus.EXPIRED:
        code = ErrorCode.ANSWER_TIMEOUT
    status, error_code, en = table.get(code, UNKNOWN_ROW)
    return SynapseError(status, error_code, en, code.value)


def _still_running() -> SynapseError:
    return SynapseError(504, "504", "The bank did not answer in time; try again.", "timeout")


def _mfa_body(job: Job, token: str) -> dict[str, Any]:
    assert job.challenge is not None
    challenge = job.challenge.challenge
    if challenge.kind is ChallengeKind.QUESTIONS:
        kind, message = "question", " ".join(challenge.questions) or challenge.prompt
    elif challenge.kind is ChallengeKind.CODE:
        kind, message = "code", challenge.prompt
    else:
        kind, message = "question", challenge.prompt
        if challenge.options:
            message += " Options: " + ", ".join(o.label for o in challenge.options)
    return {
        "error_code": "10",
        "http_code": "202",
        "mfa": {"access_token": token, "message": message, "type": kind},
        "success": True,
    }


def _linked(caller: Caller, synapse_user_id: str, connection_id: str) -> JSONResponse:
    nodes = sync_nodes(caller, synapse_user_id=synapse_user_id, connection_id=connection_id)
    items = present_nodes(caller, nodes)
    queue_events(
        ctx=caller.ctx,
        client_id=caller.client.id,
        function="NODES|POST",
        objects=[(item["_id"], item) for item in items],
    )
    return respond(nodes_envelope(items))


def _text(info: dict[str, Any], name: str) -> str:
    value = info.get(name)
    if not isinstance(value, str) or not value.strip():
        raise payload_error(f"info.{name} is required.", f"missing_{name}")
    return value


async def _link(caller: Caller, user_id: str, body: dict[str, Any]) -> JSONResponse:
    if body.get("type") != "ACH-US":
        raise payload_error("Only ACH-US nodes by bank login are supported.", "unsupported_type")
    info = body.get("info")
    if not isinstance(info, dict):
        raise payload_error("info is required.", "missing_info")
    fields = {name: _text(info, name) for name in ("bank_id", "bank_pw", "bank_name")}
    with caller.repo_read() as repo:
        user = authorize_user(caller, repo, user_id)
        synapse_user_id, end_user_id = user.id, user.user_id
        plain = decrypt_fields(
            repo,
            ctx=caller.ctx,
            client_id=caller.client.id,
            values={"bank_id": fields["bank_id"], "bank_pw": fields["bank_pw"]},
        )
    try:
        institution = institution_service.find_institution_by_code(
            ctx=caller.ctx, code=fields["bank_name"].strip()
        )
    except NotFound:
        try:
            institution = institution_service.get_institution(
                ctx=caller.ctx, institution_id=fields["bank_name"].strip()
            )
        except NotFound as exc:
            raise payload_error("Unsupported bank_name.", "unsupported_bank") from exc
    credentials = {"username": plain["bank_id"], "password": plain["bank_pw"]}
    known = find_connection_by_login(
        ctx=caller.ctx,
        client_id=caller.client.id,
        user_id=end_user_id,
        institution_id=institution.id,
        credentials=credentials,
    )
    if known is not None:
        # The same login again: log in again on the same connection, so its nodes
        # come back (refreshed) instead of duplicates.
        connection = known
        job = connection_service.relink_connection(
            ctx=caller.ctx, client_id=caller.client.id, connection_id=known.id
        )
    else:
        connection, job = connection_service.create_connection(
            ctx=caller.ctx,
            client_id=caller.client.id,
            user_id=end_user_id,
            institution_id=institution.id,
            credentials=credentials,
        )
        with caller.repo_write() as repo:
            repo.add_login(
                connection_id=connection.id,
                client_id=caller.client.id,
                synapse_user_id=synapse_user_id,
                at=caller.ctx.clock(),
            )
    job = await job_service.wait_for_job(
        ctx=caller.ctx,
        client_id=caller.client.id,
        job_id=job.id,
        until=ASKING,
        timeout=WAIT_SECONDS,
    )
    if job.status is JobStatus.WAITING_FOR_ANSWER:
        token = "fake_" + secrets.token_hex(32)
        with caller.repo_write() as repo:
            repo.add_mfa_token(
                token=token,
                client_id=caller.client.id,
                synapse_user_id=synapse_user_id,
                job_id=job.id,
                expires_at=caller.ctx.clock() + MFA_TOKEN_TTL,
            )
        return respond(_mfa_body(job, token), 202)
    if job.status is JobStatus.SUCCEEDED:
        return _linked(caller, synapse_user_id, connection.id)
    if job.is_finished:
        raise _job_error(job, LINK_ERRORS)
    raise _still_running()


async def _answer(caller: Caller, user_id: str, body: dict[str, Any]) -> JSONResponse:
    token, answer = body.get("access_token"), body.get("mfa_answer")
    if not isinstance(token, str) or not isinstance(answer, str) or not answer.strip():
        raise payload_error("access_token and mfa_answer are required.", "missing_mfa_answer")
    unknown = incorrect_values("Unknown or expired access_token.", "invalid_access_token")
    with caller.repo_read() as repo:
        user = authorize_user(caller, repo, user_id)
        found = repo.mfa_token(token)
        if (
            found is None
            or found.client_id != caller.client.id
            or found.synapse_user_id != user.id
            or found.used
            or found.expires_at <= caller.ctx.clock()
        ):
            raise unknown
        job_id, synapse_user_id = found.job_id, user.id
        plain = decrypt_fields(
            repo, ctx=caller.ctx, client_id=caller.client.id, values={"mfa_answer": answer}
        )
    job = job_service.get_job(ctx=caller.ctx, client_id=caller.client.id, job_id=job_id)
    if job.status is not JobStatus.WAITING_FOR_ANSWER or job.challenge is None:
        raise unknown
    try:
        job_service.answer_challenge(
            ctx=caller.ctx,
            client_id=caller.client.id,
            job_id=job_id,
            challenge_id=job.challenge.id,
            values=[plain["mfa_answer"]],
        )
    except Conflict as exc:
        raise unknown from exc
    job = await job_service.wait_for_job(
        ctx=caller.ctx,
        client_id=caller.client.id,
        job_id=job_id,
        until=ASKING,
        timeout=WAIT_SECONDS,
    )
    if job.status is JobStatus.WAITING_FOR_ANSWER:
        retried = job.challenge is not None and job.challenge.challenge.retry_note is not None
        if retried and caller.strict_mfa:
            # The token stays valid: the bank asks again, the client may answer again.
            raise incorrect_values("Incorrect MFA answer.", "incorrect_mfa_answer")
        return respond(_mfa_body(job, token), 202)
    with caller.repo_write() as repo:
        row = repo.mfa_token(token)
        if row is not None:
            row.used = True
    if job.status is JobStatus.SUCCEEDED:
        return _linked(caller, synapse_user_id, job.connection_id)
    if job.is_finished:
        raise _job_error(job, LINK_ERRORS)
    raise _still_running()


@router.post("/users/{user_id}/nodes")
async def create_nodes(request: Request, caller: Gateway, user_id: str) -> JSONResponse:
    with caller.repo_read() as repo:
        authorize_user(caller, repo, user_id)  # before any replay: replays need the key too

    async def handle() -> JSONResponse:
        body = await json_body(request)
        if "access_token" in body or "mfa_answer" in body:
            return await _answer(caller, user_id, body)
        return await _link(caller, user_id, body)

    return await idempotent(request, caller, handle)


async def force_refresh(caller: Caller, node: SynapseNodeRow) -> None:
    """Re-run the connector for the node's login and wait; raise the §8 row on failure."""
    if not node.is_active:
        raise SynapseError(400, "410", "The node is inactive.", "node_inactive")
    try:
        job = connection_service.refresh_connection(
            ctx=caller.ctx,
            client_id=caller.client.id,
            connection_id=node.connection_id,
            interactive=False,
        )
    except Conflict as exc:
        if exc.code == "needs_relink":
            status, error_code, en = SYNC_ERRORS[ErrorCode.NEEDS_RELINK]
            raise SynapseError(status, error_code, en, "needs_relink") from exc
        if exc.code == "job_in_progress":
            raise SynapseError(
                429, "429", "A refresh of this node is already running.", "refresh_in_progress"
            ) from exc
        raise SynapseError(400, "410", "This node cannot be refreshed.", exc.code) from exc
    job = await job_service.wait_for_job(
        ctx=caller.ctx,
        client_id=caller.client.id,
        job_id=job.id,
        until=TERMINAL_STATUSES,
        timeout=WAIT_SECONDS,
    )
    if job.status is JobStatus.SUCCEEDED:
        sync_nodes(caller, synapse_user_id=node.synapse_user_id, connection_id=node.connection_id)
        return
    if job.is_finished:
        raise _job_error(job, SYNC_ERRORS)
    raise _still_running()
