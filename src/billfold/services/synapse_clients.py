"""Synapse client credentials: a `client_id` / `client_secret` pair per Billfold client.

The secret is kept encrypted, not hashed: webhook deliveries are signed with it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from billfold.domain.errors import NotFound
from billfold.services.context import ServiceContext
from billfold.store.synapse import SynapseRepository

SECRET_PREFIX = "client_secret_"  # noqa: S105 (a prefix, not a secret)


@dataclass(frozen=True, slots=True)
class SynapseCredentials:
    client_id: str  # the 24-hex id Synapse clients send in X-SP-GATEWAY
    client_secret: str


def issue_synapse_credentials(*, ctx: ServiceContext, client_id: str) -> SynapseCredentials:
    """A new pair for an existing client (shown once to the operator)."""
    secret = SECRET_PREFIX + secrets.token_hex(20)
    with ctx.store.write() as unit:
        if unit.clients.get(client_id) is None:
            raise NotFound("No such client.", code="client_not_found")
        repo = SynapseRepository(unit.session, ctx.store.keys)
        gateway_id = repo.add_credential(client_id=client_id, secret=secret, at=ctx.clock())
    return SynapseCredentials(gateway_id, secret)


def rewrap_synapse_secrets(*, ctx: ServiceContext) -> int:
    """Re-wrap the dialect's encrypted values under the active key (`billfold keys rotate`)."""
    with ctx.store.write() as unit:
        return SynapseRepository(unit.session, ctx.store.keys).rewrap_all()
