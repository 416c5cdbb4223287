"""The institution directory: filled from connector catalogs, searched by clients."""

from __future__ import annotations

from collections.abc import Iterable

from billfold.connectors.base import Connector
from billfold.domain.errors import InvalidInput, NotFound
from billfold.domain.institutions import Institution, InstitutionKind
from billfold.services.context import ServiceContext
from billfold.services.pagination import Page, check_limit, decode_cursor, encode_cursor
from billfold.store.institutions import search_key


def sync_directory(*, ctx: ServiceContext, connectors: Iterable[Connector]) -> int:
    """Write every connector's catalog into the directory (on start)."""
    institutions = [inst for connector in connectors for inst in connector.catalog()]
    with ctx.store.write() as unit:
        return unit.institutions.sync(institutions, ctx.clock())


def search_institutions(
    *,
    ctx: ServiceContext,
    query: str | None = None,
    kinds: list[str] | None = None,
    routing_number: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Institution]:
    check_limit(limit)
    parsed_kinds: list[InstitutionKind] = []
    for kind in kinds or []:
        try:
            parsed_kinds.append(InstitutionKind(kind.strip().lower()))
        except ValueError as exc:
            allowed = ", ".join(k.value for k in InstitutionKind)
            raise InvalidInput(
                f"unknown kind {kind!r}; use one of: {allowed}", code="invalid_kind"
            ) from exc
    after = None
    if cursor:
        name, last_id = decode_cursor(cursor, 2)
        after = (name, last_id)
    with ctx.store.read() as unit:
        found = unit.institutions.search(
            query=query,
            kinds=parsed_kinds or None,
            routing_number=routing_number,
            after=after,
            limit=limit + 1,
        )
    more = len(found) > limit
    found = found[:limit]
    next_cursor = encode_cursor(search_key(found[-1].name), found[-1].id) if more else None
    return Page(found, next_cursor)


def get_institution(*, ctx: ServiceContext, institution_id: str) -> Institution:
    with ctx.store.read() as unit:
        institution = unit.institutions.get(institution_id)
    if institution is None:
        raise NotFound("No such institution.", code="institution_not_found")
    return institution


def find_institution_by_code(*, ctx: ServiceContext, code: str) -> Institution:
    """The institution some dialects name by a short code ("fake" for the Synapse sandbox)."""
    with ctx.store.read() as unit:
        institution = unit.institutions.by_code(code)
    if institution is None:
        raise NotFound("No institution has that code.", code="institution_not_found")
    return institution
