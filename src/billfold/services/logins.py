"""Finding a stored login again: the same user, institution and credentials.

Dialects whose clients simply post the same bank login twice (Synapse's bank-login
nodes) use this to reuse the connection instead of linking a duplicate.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from billfold.domain.connections import Connection, ConnectionStatus
from billfold.domain.errors import InvalidInput
from billfold.services.connections import check_credentials
from billfold.services.context import ServiceContext

LINKED = (ConnectionStatus.ACTIVE, ConnectionStatus.ERROR, ConnectionStatus.NEEDS_RELINK)


def find_connection_by_login(
    *,
    ctx: ServiceContext,
    client_id: str,
    user_id: str,
    institution_id: str,
    credentials: Mapping[str, Any],
) -> Connection | None:
    """The user's linked connection at the institution whose stored login equals `credentials`."""
    with ctx.store.read() as unit:
        institution = unit.institutions.get(institution_id)
        if institution is None:
            return None
        try:
            wanted = check_credentials(institution, credentials)
        except InvalidInput:
            return None
        for connection in unit.connections.for_client(client_id, user_id=user_id):
            if connection.institution_id != institution.id or connection.status not in LINKED:
                continue
            stored = unit.connections.credentials(connection.id)
            if stored.keys() == wanted.keys() and all(
                hmac.compare_digest(stored[k].encode(), wanted[k].encode()) for k in wanted
            ):
                return connection
    return None
