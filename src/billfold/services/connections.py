"""Connections: link a login (-> job), read, refresh, relink, delete."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from billfold.domain.connections import Connection, ConnectionStatus
from billfold.domain.errors import Conflict, InvalidInput, NotFound
from billfold.domain.imports import STATEMENT_SOURCE
from billfold.domain.institutions import Institution
from billfold.domain.jobs import Job, JobKind, JobOptions
from billfold.services.context import ServiceContext
from billfold.services.jobs import enqueue_job, new_job
from billfold.store.ids import new_id
from billfold.store.store import Unit

KNOWN_PRODUCTS = ("verification", "identity", "aggregate", "history")


def normalize_products(products: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Products in canonical order; unknown tokens are refused, none means `aggregate`."""
    wanted = {p.strip().lower() for p in products or () if p.strip()}
    unknown = wanted - set(KNOWN_PRODUCTS)
    if unknown:
        raise InvalidInput(
            f"unknown product(s): {', '.join(sorted(unknown))}; use {', '.join(KNOWN_PRODUCTS)}",
            code="invalid_product",
        )
    wanted.add("aggregate")
    return tuple(p for p in KNOWN_PRODUCTS if p in wanted)


def check_credentials(institution: Institution, credentials: Mapping[str, Any]) -> dict[str, str]:
    """Keep the institution's login fields; refuse missing required ones and non-strings."""
    cleaned: dict[str, str] = {}
    for key, value in credentials.items():
        if not isinstance(value, str):
            raise InvalidInput(f"credential {key!r} must be a string", code="invalid_credentials")
        if len(value) > 1000:
            raise InvalidInput(f"credential {key!r} is too long", code="invalid_credentials")
    for login_field in institution.login_fields:
        value = credentials.get(login_field.key)
        if login_field.required and (not isinstance(value, str) or not value.strip()):
            raise InvalidInput(
                f"{login_field.label} is required (field {login_field.key!r})",
                code="missing_credentials",
            )
        if isinstance(value, str):
            cleaned[login_field.key] = value if login_field.secret else value.strip()
    return cleaned


def create_connection(
    *,
    ctx: ServiceContext,
    client_id: str,
    user_id: str,
    institution_id: str,
    credentials: Mapping[str, Any],
    products: list[str] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> tuple[Connection, Job]:
    """Store an encrypted login and start the job that links it."""
    options = JobOptions(interactive=True, products=normalize_products(products))
    with ctx.store.write() as unit:
        connection = _add_connection(
            unit, ctx.clock(), client_id, user_id, institution_id, credentials, attributes
        )
        unit.flush()
        job = new_job(unit, ctx=ctx, connection=connection, kind=JobKind.LINK, options=options)
    enqueue_job(ctx=ctx, job=job)
    return connection, job


def store_login(
    *,
    ctx: ServiceContext,
    client_id: str,
    user_id: str,
    institution_id: str,
    credentials: Mapping[str, Any],
    attributes: Mapping[str, Any] | None = None,
) -> Connection:
    """Store an encrypted login without starting a job (link it later with `relink`)."""
    with ctx.store.write() as unit:
        return _add_connection(
            unit, ctx.clock(), client_id, user_id, institution_id, credentials, attributes
        )


def _add_connection(
    unit: Unit,
    now: datetime,
    client_id: str,
    user_id: str,
    institution_id: str,
    credentials: Mapping[str, Any],
    attributes: Mapping[str, Any] | None,
) -> Connection:
    if unit.users.get(client_id, user_id) is None:
        raise NotFound("No such user.", code="user_not_found")
    institution = unit.institutions.get(institution_id)
    if institution is None:
        raise NotFound("No such institution.", code="institution_not_found")
    cleaned = check_credentials(institution, credentials)
    connection = Connection(
        id=new_id(),
        client_id=client_id,
        user_id=user_id,
        institution_id=institution.id,
        status=ConnectionStatus.PENDING,
        error_code=None,
        created_at=now,
        updated_at=now,
        last_synced_at=None,
        username=cleaned.get("username"),
    )
    unit.connections.add(connection, cleaned, attributes)
    return connection


def is_statement_connection(unit: Unit, connection_id: str) -> bool:
    """Fed by uploaded statements rather than a login (see services.statements)."""
    return unit.connections.attributes(connection_id).get("source") == STATEMENT_SOURCE


def require_login(unit: Unit, connection_id: str) -> None:
    """Refuse a job on a connection fed by uploaded statements: it has no login to run."""
    if is_statement_connection(unit, connection_id):
        raise Conflict(
            "this connection is fed by uploaded statements; upload the next statement "
            "with POST /v1/statements and its connection_id",
            code="statement_connection",
        )


def get_connection(*, ctx: ServiceContext, client_id: str, connection_id: str) -> Connection:
    with ctx.store.read() as unit:
        connection = unit.connections.get(connection_id, client_id)
    if connection is None:
        raise NotFound("No such connection.", code="connection_not_found")
    return connection


def list_connections(
    *, ctx: ServiceContext, client_id: str, user_id: str | None = None
) -> list[Connection]:
    with ctx.store.read() as unit:
        return unit.connections.for_client(client_id, user_id=user_id)


def refresh_connection(
    *,
    ctx: ServiceContext,
    client_id: str,
    connection_id: str,
    interactive: bool = True,
    account_external_ids: tuple[str, ...] = (),
    products: list[str] | None = None,
) -> Job:
    """Start a refresh with the stored login. Non-interactive refreshes never wait on a person."""
    options = JobOptions(interactive=interactive, products=normalize_products(products))
    with ctx.store.write() as unit:
        connection = unit.connections.get(connection_id, client_id)
        if connection is None:
            raise NotFound("No such connection.", code="connection_not_found")
        require_login(unit, connection.id)
        if connection.status in (ConnectionStatus.FAILED, ConnectionStatus.PENDING):
            raise Conflict(
                f"the connection is {connection.status}; link it first",
                code="connection_not_linked",
            )
        if connection.status is ConnectionStatus.NEEDS_RELINK:
            raise Conflict(
                "the login no longer works; relink it with new credentials", code="needs_relink"
            )
        job = new_job(unit, ctx=ctx, connection=connection, kind=JobKind.REFRESH, options=options)
        if account_external_ids:
            unit.connections.set_attributes(
                connection.id, {"refresh_accounts": list(account_external_ids)}
            )
    enqueue_job(ctx=ctx, job=job)
    return job


def relink_connection(
    *,
    ctx: ServiceContext,
    client_id: str,
    connection_id: str,
    credentials: Mapping[str, Any] | None = None,
    products: list[str] | None = None,
) -> Job:
    """Log in again (new or stored credentials), answering challenges as a link does."""
    options = JobOptions(interactive=True, products=normalize_products(products))
    now = ctx.clock()
    with ctx.store.write() as unit:
        connection = _merge_credentials(unit, client_id, connection_id, credentials or {}, now)
        job = new_job(unit, ctx=ctx, connection=connection, kind=JobKind.LINK, options=options)
    enqueue_job(ctx=ctx, job=job)
    return job


def update_credentials(
    *, ctx: ServiceContext, client_id: str, connection_id: str, credentials: Mapping[str, Any]
) -> Connection:
    """Store new credentials without starting a job."""
    if not credentials:
        raise InvalidInput("give at least one login field to change", code="missing_credentials")
    now = ctx.clock()
    with ctx.store.write() as unit:
        _merge_credentials(unit, client_id, connection_id, credentials, now)
    return get_connection(ctx=ctx, client_id=client_id, connection_id=connection_id)


def _merge_credentials(
    unit: Unit, client_id: str, connection_id: str, credentials: Mapping[str, Any], now: datetime
) -> Connection:
    """Overlay new login fields on the stored ones (none given: keep the stored login)."""
    connection = unit.connections.get(connection_id, client_id)
    if connection is None:
        raise NotFound("No such connection.", code="connection_not_found")
    require_login(unit, connection.id)
    institution = unit.institutions.get(connection.institution_id)
    if institution is None:
        raise NotFound("No such institution.", code="institution_not_found")
    if credentials:
        merged = {**unit.connections.credentials(connection.id), **credentials}
        unit.connections.replace_credentials(
            connection.id, check_credentials(institution, merged), now
        )
    return connection


def delete_connection(*, ctx: ServiceContext, client_id: str, connection_id: str) -> None:
    """Delete a connection with its jobs, accounts and transactions; a running job stops."""
    with ctx.store.write() as unit:
        connection = unit.connections.get(connection_id, client_id)
        if connection is None:
            raise NotFound("No such connection.", code="connection_not_found")
        active = unit.jobs.active_for_connection(connection.id)
        unit.connections.delete(connection.id)
        if active is not None:
            unit.wake(active.id)
