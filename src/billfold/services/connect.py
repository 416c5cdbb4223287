"""Billfold Connect: connect tokens, widget sessions, and the link flow the widget drives.

A client's backend creates a short-lived, single-use connect token for one of
its users (`create_connect_token`). The widget page exchanges it once for a
widget session (`open_session`) bound to that client, user and the host page's
origin; every later widget call carries the session secret, never an API key.
The flow itself calls the same services as the native API (connections, jobs,
data, statements), scoped to what the session may touch. Instead of a login the
person may upload a statement file (`upload_statement`): that feeds a statement
connection, which no job runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from billfold.domain.accounts import Account
from billfold.domain.connections import Connection, ConnectionStatus
from billfold.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from billfold.domain.imports import StatementImport
from billfold.domain.institutions import Institution
from billfold.domain.jobs import Job, JobStatus
from billfold.services import connections, data, jobs, statements
from billfold.services.context import ServiceContext
from billfold.store.connect import ConnectRepository, ConnectSession, ConnectToken
from billfold.store.ids import new_id
from billfold.store.imports import StatementImportRepository

TOKEN_PREFIX = "ct_"  # noqa: S105 - a prefix, not a secret
SESSION_PREFIX = "cs_"
DEFAULT_TOKEN_TTL = timedelta(minutes=15)
MAX_TOKEN_TTL = timedelta(hours=1)
SESSION_TTL = timedelta(minutes=45)
MAX_ORIGINS = 10


@dataclass(frozen=True, slots=True)
class IssuedConnectToken:
    token: str  # shown once; only its hash is kept
    record: ConnectToken


@dataclass(frozen=True, slots=True)
class OpenedSession:
    secret: str  # held by the widget in memory; only its hash is kept
    session: ConnectSession


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalize_origin(value: str) -> str:
    """`scheme://host[:port]`, lower-cased; refuse paths, credentials and other schemes."""
    text = value.strip()
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.password
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise InvalidInput(
            f"{text[:100]!r} is not an origin like https://app.example.com", code="invalid_origin"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidInput("the origin's port is not valid", code="invalid_origin") from exc
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme}://{host}{suffix}"


# ----- the client's backend: connect tokens --------------------------------------------


def create_connect_token(
    *,
    ctx: ServiceContext,
    client_id: str,
    user_id: str,
    institution_id: str | None = None,
    connection_id: str | None = None,
    allowed_origins: list[str] | None = None,
    expires_in: timedelta | None = None,
) -> IssuedConnectToken:
    """A single-use token that opens the widget for one user (and maybe one institution).

    With `connection_id` the widget re-authenticates that connection. Without
    `allowed_origins`, only pages on Billfold's own origin may host the widget.
    """
    ttl = expires_in or DEFAULT_TOKEN_TTL
    if ttl <= timedelta(0) or ttl > MAX_TOKEN_TTL:
        raise InvalidInput("expires_in must be between 1 and 3600 seconds", code="invalid_ttl")
    origins = tuple(dict.fromkeys(normalize_origin(o) for o in allowed_origins or ()))
    if len(origins) > MAX_ORIGINS:
        raise InvalidInput(f"at most {MAX_ORIGINS} allowed_origins", code="invalid_origin")
    now = ctx.clock()
    with ctx.store.write() as unit:
        if unit.users.get(client_id, user_id) is None:
            raise NotFound("No such user.", code="user_not_found")
        if connection_id is not None:
            connection = unit.connections.get(connection_id, client_id)
            if connection is None or connection.user_id != user_id:
                raise NotFound("No such connection for this user.", code="connection_not_found")
            # Re-authentication needs a login; a statement connection takes its next file.
            connections.require_login(unit, connection.id)
            if institution_id is not None and institution_id != connection.institution_id:
                raise InvalidInput(
                    "institution_id does not match the connection's institution",
                    code="institution_mismatch",
                )
            institution_id = connection.institution_id
        elif institution_id is not None and unit.institutions.get(institution_id) is None:
            raise NotFound("No such institution.", code="institution_not_found")
        token = f"{TOKEN_PREFIX}{secrets.token_urlsafe(32)}"
        record = ConnectToken(
            id=new_id(),
            client_id=client_id,
            user_id=user_id,
            institution_id=institution_id,
            connection_id=connection_id,
            allowed_origins=origins,
            created_at=now,
            expires_at=now + ttl,
            used_at=None,
        )
        ConnectRepository(unit.session).add_token(record, _hash(token))
    return IssuedConnectToken(token, record)


def allowed_frame_origins(*, ctx: ServiceContext, token: str) -> tuple[str, ...]:
    """The origins that may frame the widget for this token (nothing is consumed)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return ()
    with ctx.store.read() as unit:
        found = ConnectRepository(unit.session).token_by_hash(_hash(token))
    return () if found is None else found.allowed_origins


# ----- the widget: sessions ------------------------------------------------------------


def open_session(
    *,
    ctx: ServiceContext,
    token: str,
    origin: str,
    own_origin: str,
    client_id: str | None = None,
) -> OpenedSession:
    """Exchange a connect token, once, for a widget session bound to the host page's origin.

    `origin` is the page that hosts the widget (Billfold's own origin for a
    standalone page); `client_id`, when the host names it, must own the token.
    """
    now = ctx.clock()
    invalid = Unauthorized("This link is not valid.", code="token_invalid")
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise invalid
    try:
        host_origin = normalize_origin(origin)
    except InvalidInput as exc:
        raise Forbidden(
            "This page is not allowed to open Billfold Connect.", code="origin_not_allowed"
        ) from exc
    with ctx.store.write() as unit:
        repo = ConnectRepository(unit.session)
        found = repo.token_by_hash(_hash(token))
        if found is None:
            raise invalid
        if client_id is not None and client_id != found.client_id:
            raise Unauthorized("This link was made for another app.", code="token_wrong_client")
        if found.used_at is not None:
            raise Unauthorized("This link was already used.", code="token_used")
        if now >= found.expires_at:
            raise Unauthorized("This link has expired.", code="token_expired")
        if host_origin not in (found.allowed_origins or (normalize_origin(own_origin),)):
            raise Forbidden(
                "This page is not allowed to open Billfold Connect.", code="origin_not_allowed"
            )
        if not repo.mark_token_used(found.id, now):
            raise Unauthorized("This link was already used.", code="token_used")
        secret = f"{SESSION_PREFIX}{secrets.token_urlsafe(32)}"
        session = ConnectSession(
            id=new_id(),
            token_id=found.id,
            client_id=found.client_id,
            user_id=found.user_id,
            mode="relink" if found.connection_id else "link",
            origin=host_origin,
            pinned_institution_id=found.institution_id,
            institution_id=found.institution_id,
            connection_id=found.connection_id,
            job_id=None,
            created_at=now,
            expires_at=now + SESSION_TTL,
        )
        repo.add_session(session, _hash(secret))
    return OpenedSession(secret, session)


def get_session(*, ctx: ServiceContext, secret: str) -> ConnectSession:
    if not secret.startswith(SESSION_PREFIX) or len(secret) > 200:
        raise Unauthorized("The widget session is not valid.", code="session_invalid")
    with ctx.store.read() as unit:
        session = ConnectRepository(unit.session).session_by_hash(_hash(secret))
    if session is None:
        raise Unauthorized("The widget session is not valid.", code="session_invalid")
    if ctx.clock() >= session.expires_at:
        raise Unauthorized("The widget session has expired.", code="session_expired")
    return session


@dataclass(frozen=True, slots=True)
class SessionView:
    """What the widget needs to draw its first screen."""

    session: ConnectSession
    client_name: str
    institution: Institution | None
    username: str | None  # the login name of a connection being re-authenticated


def describe_session(*, ctx: ServiceContext, session: ConnectSession) -> SessionView:
    with ctx.store.read() as unit:
        client = unit.clients.get(session.client_id)
        institution = (
            unit.institutions.get(session.institution_id) if session.institution_id else None
        )
        connection = (
            unit.connections.get(session.connection_id, session.client_id)
            if session.mode == "relink" and session.connection_id
            else None
        )
    return SessionView(
        session=session,
        client_name=client.name if client else "",
        institution=institution,
        username=connection.username if connection else None,
    )


# ----- the widget: the link flow ---------------------------------------------------------


def _active_job(ctx: ServiceContext, session: ConnectSession) -> Job | None:
    if session.job_id is None:
        return None
    try:
        return jobs.get_job(ctx=ctx, client_id=session.client_id, job_id=session.job_id)
    except NotFound:
        return None


def _remember(
    ctx: ServiceContext, session: ConnectSession, institution_id: str, connection_id: str, job: Job
) -> None:
    with ctx.store.write() as unit:
        ConnectRepository(unit.session).set_session_job(
            session.id, institution_id=institution_id, connection_id=connection_id, job_id=job.id
        )


def start_link(
    *,
    ctx: ServiceContext,
    session: ConnectSession,
    institution_id: str,
    credentials: Mapping[str, Any],
) -> Job:
    """Submit the login form: link a new connection, or log in again on the session's one.

    The same connection is reused when the person corrects a wrong login, so a
    retry never leaves a second connection behind.
    """
    if session.pinned_institution_id and institution_id != session.pinned_institution_id:
        raise Forbidden("This link is for another institution.", code="institution_not_allowed")
    current = _active_job(ctx, session)
    if current is not None and not current.is_finished:
        raise Conflict("A link is already in progress.", code="job_in_progress")
    reuse = session.connection_id if session.institution_id == institution_id else None
    if reuse is not None and _is_statement_connection(ctx, reuse):
        if session.mode == "relink":
            raise Conflict(
                "This connection is fed by uploaded statements; it has no login to renew.",
                code="not_a_login_connection",
            )
        reuse = None  # a login gets its own connection beside the uploaded statements
    if reuse is not None:
        connection = connections.get_connection(
            ctx=ctx, client_id=session.client_id, connection_id=reuse
        )
        if (
            session.mode == "link"
            and current is not None
            and current.status is JobStatus.SUCCEEDED
            and connection.status is ConnectionStatus.ACTIVE
        ):
            raise Conflict("This institution is already linked.", code="already_linked")
        job = connections.relink_connection(
            ctx=ctx, client_id=session.client_id, connection_id=reuse, credentials=credentials
        )
        _remember(ctx, session, institution_id, reuse, job)
        return job
    if session.mode == "relink":
        raise Forbidden("This link is for another institution.", code="institution_not_allowed")
    connection, job = connections.create_connection(
        ctx=ctx,
        client_id=session.client_id,
        user_id=session.user_id,
        institution_id=institution_id,
        credentials=credentials,
    )
    _remember(ctx, session, institution_id, connection.id, job)
    return job


def retry_link(*, ctx: ServiceContext, session: ConnectSession) -> Job:
    """Log in again with the stored login after a failure the person can get past."""
    current = _active_job(ctx, session)
    if current is None or session.connection_id is None:
        raise Conflict("There is nothing to retry.", code="nothing_to_retry")
    if not current.is_finished:
        raise Conflict("A link is already in progress.", code="job_in_progress")
    if current.status is JobStatus.SUCCEEDED:
        raise Conflict("This institution is already linked.", code="already_linked")
    job = connections.relink_connection(
        ctx=ctx, client_id=session.client_id, connection_id=session.connection_id
    )
    _remember(ctx, session, session.institution_id or "", session.connection_id, job)
    return job


def current_job(*, ctx: ServiceContext, session: ConnectSession) -> Job:
    job = _active_job(ctx, session)
    if job is None:
        raise NotFound("No link has started yet.", code="job_not_found")
    return job


def job_version(job: Job) -> str:
    """Changes whenever the widget may need to draw another screen."""
    challenge = job.challenge.id if job.challenge is not None else ""
    return f"{job.status}|{challenge}|{len(job.steps)}|{job.updated_at.isoformat()}"


async def wait_for_change(
    *, ctx: ServiceContext, session: ConnectSession, known: str | None, timeout: float
) -> Job:
    """The session's job once it differs from the version the widget has (a long poll)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(0.0, min(timeout, 25.0))
    while True:
        job = current_job(ctx=ctx, session=session)
        remaining = deadline - loop.time()
        if job_version(job) != known or job.is_finished or remaining <= 0:
            return job
        if ctx.job_changes is None:
            await asyncio.sleep(min(remaining, 0.05))
        else:
            # Short waits: a notification that lands between the read and the wait is not lost.
            await ctx.job_changes.wait(job.id, min(remaining, 0.25))


def answer(
    *, ctx: ServiceContext, session: ConnectSession, challenge_id: str | None, values: list[str]
) -> Job:
    job = current_job(ctx=ctx, session=session)
    return jobs.answer_challenge(
        ctx=ctx,
        client_id=session.client_id,
        job_id=job.id,
        challenge_id=challenge_id,
        values=values,
    )


def cancel(*, ctx: ServiceContext, session: ConnectSession) -> Job | None:
    """Stop the session's job if it still runs (the person closed the widget)."""
    job = _active_job(ctx, session)
    if job is None or job.is_finished:
        return job
    try:
        return jobs.cancel_job(ctx=ctx, client_id=session.client_id, job_id=job.id)
    except Conflict:  # it ended meanwhile
        return current_job(ctx=ctx, session=session)


def linked_accounts(*, ctx: ServiceContext, session: ConnectSession) -> list[Account]:
    """The accounts of the session's connection, once its link succeeded or a statement
    was imported into it."""
    if (
        session.mode == "link"
        and session.job_id is None
        and session.connection_id is not None
        and _has_statement_import(ctx, session.connection_id)
    ):
        return data.list_accounts(
            ctx=ctx, client_id=session.client_id, connection_id=session.connection_id
        )
    job = current_job(ctx=ctx, session=session)
    if job.status is not JobStatus.SUCCEEDED or session.connection_id is None:
        raise Conflict("The link has not succeeded yet.", code="job_not_succeeded")
    return data.list_accounts(
        ctx=ctx, client_id=session.client_id, connection_id=session.connection_id
    )


# ----- the widget: a statement instead of a login --------------------------------------


@dataclass(frozen=True, slots=True)
class UploadedStatement:
    connection: Connection
    statement_import: StatementImport
    accounts: list[Account]  # every account of the connection, not only those the file named


def _is_statement_connection(ctx: ServiceContext, connection_id: str) -> bool:
    with ctx.store.read() as unit:
        return connections.is_statement_connection(unit, connection_id)


def _has_statement_import(ctx: ServiceContext, connection_id: str) -> bool:
    with ctx.store.read() as unit:
        return connections.is_statement_connection(unit, connection_id) and bool(
            StatementImportRepository(unit.session).for_connection(connection_id)
        )


def upload_statement(
    *,
    ctx: ServiceContext,
    session: ConnectSession,
    institution_id: str,
    upload: statements.StatementUpload,
    max_bytes: int,
) -> UploadedStatement:
    """Import a statement file for the session's user at the institution: no login needed.

    The first upload makes a statement connection; another upload in the same session
    for the same institution goes into that connection, so a second file adds to the
    first instead of leaving two connections. A bad file stores nothing and leaves the
    session as it was, so the person can pick another file or log in after all.
    """
    if session.mode == "relink":
        # Signing in again must renew the existing connection, not add a new one beside it.
        raise Forbidden(
            "This link is to sign in again; a statement cannot be uploaded here.",
            code="statement_not_allowed",
        )
    if session.pinned_institution_id and institution_id != session.pinned_institution_id:
        raise Forbidden("This link is for another institution.", code="institution_not_allowed")
    current = _active_job(ctx, session)
    if current is not None and not current.is_finished:
        raise Conflict("A link is already in progress.", code="job_in_progress")
    reuse = None
    if (
        session.institution_id == institution_id
        and session.connection_id is not None
        and _is_statement_connection(ctx, session.connection_id)
    ):
        reuse = session.connection_id
    connection, result = statements.import_statement(
        ctx=ctx,
        client_id=session.client_id,
        upload=upload,
        max_bytes=max_bytes,
        connection_id=reuse,
        user_id=None if reuse else session.user_id,
        institution_id=None if reuse else institution_id,
    )
    with ctx.store.write() as unit:
        ConnectRepository(unit.session).set_session_connection(
            session.id, institution_id=connection.institution_id, connection_id=connection.id
        )
    accounts = data.list_accounts(ctx=ctx, client_id=session.client_id, connection_id=connection.id)
    return UploadedStatement(connection, result, accounts)
