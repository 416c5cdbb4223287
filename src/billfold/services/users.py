"""End users of a client's app."""

from __future__ import annotations

from datetime import datetime

from billfold.domain.errors import Conflict, InvalidInput, NotFound
from billfold.domain.parties import EndUser
from billfold.services.context import ServiceContext
from billfold.services.pagination import Page, decode_cursor, encode_cursor
from billfold.store.ids import new_id


def create_user(
    *, ctx: ServiceContext, client_id: str, external_id: str | None = None, name: str | None = None
) -> EndUser:
    external_id = external_id.strip() if external_id else None
    if external_id is not None and len(external_id) > 200:
        raise InvalidInput("external_id is longer than 200 characters")
    with ctx.store.write() as unit:
        if external_id and unit.users.by_external_id(client_id, external_id):
            raise Conflict(f"a user with external_id {external_id!r} exists", code="user_exists")
        user = EndUser(
            id=new_id(),
            client_id=client_id,
            external_id=external_id,
            name=name.strip() if name else None,
            created_at=ctx.clock(),
        )
        unit.users.add(user)
    return user


def get_user(*, ctx: ServiceContext, client_id: str, user_id: str) -> EndUser:
    with ctx.store.read() as unit:
        user = unit.users.get(client_id, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


def list_users(
    *,
    ctx: ServiceContext,
    client_id: str,
    cursor: str | None = None,
    limit: int = 50,
    external_id: str | None = None,
) -> Page[EndUser]:
    after = None
    if cursor:
        at, last_id = decode_cursor(cursor, 2)
        after = (_parse_time(at), last_id)
    with ctx.store.read() as unit:
        users = unit.users.page(client_id, after=after, limit=limit + 1, external_id=external_id)
    more = len(users) > limit
    users = users[:limit]
    next_cursor = encode_cursor(users[-1].created_at.isoformat(), users[-1].id) if more else None
    return Page(users, next_cursor)


def delete_user(*, ctx: ServiceContext, client_id: str, user_id: str) -> None:
    """Delete a user with every connection, account and transaction of theirs."""
    with ctx.store.write() as unit:
        if unit.users.get(client_id, user_id) is None:
            raise NotFound("No such user.", code="user_not_found")
        for connection in unit.connections.for_client(client_id, user_id=user_id):
            active = unit.jobs.active_for_connection(connection.id)
            unit.connections.delete(connection.id)
            if active is not None:
                unit.wake(active.id)
        unit.users.delete(client_id, user_id)


def _parse_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput("The cursor is not valid.", code="invalid_cursor") from exc
