"""Synapse headers: `X-SP-GATEWAY` (client), `X-SP-USER` (oauth key + fingerprint), `X-SP-USER-IP`.

Client-level routes need the gateway; user-level routes also need a live oauth key
issued for the user in the path, with the same fingerprint (spec §2).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from billfold.api.synapse.envelopes import SynapseError, invalid_oauth_key, not_found
from billfold.container import Container
from billfold.domain.parties import Client
from billfold.services.context import ServiceContext
from billfold.store.synapse import SynapseRepository, SynapseUserRow


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the client behind the gateway, and what `X-SP-USER` carried."""

    ctx: ServiceContext
    client: Client
    gateway_id: str
    oauth_key: str
    fingerprint: str
    ip: str | None
    base_url: str
    strict_mfa: bool = False
    oauth_ttl_seconds: int = 7200

    def repo_read(self) -> _RepoScope:
        return _RepoScope(self.ctx, write=False)

    def repo_write(self) -> _RepoScope:
        return _RepoScope(self.ctx, write=True)


class _RepoScope:
    """`with caller.repo_write() as repo:` — a Synapse repository inside one transaction."""

    def __init__(self, ctx: ServiceContext, *, write: bool) -> None:
        self._ctx = ctx
        self._cm = ctx.store.write() if write else ctx.store.read()

    def __enter__(self) -> SynapseRepository:
        unit = self._cm.__enter__()
        return SynapseRepository(unit.session, self._ctx.store.keys)

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)  # type: ignore[arg-type]


def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


def split_user_header(value: str) -> tuple[str, str]:
    """`oauth_key|fingerprint` (or `|fingerprint` before any OAuth), split at the first `|`."""
    key, sep, fingerprint = value.partition("|")
    if not sep:
        return "", key.strip()
    return key.strip(), fingerprint.strip()


def _gateway(request: Request) -> Caller:
    built = container(request)
    ctx = built.ctx
    header = request.headers.get("x-sp-gateway", "").strip()
    if not header.replace("|", "").strip():
        raise SynapseError(
            400,
            "200",
            "Send client_id|client_secret in X-SP-GATEWAY.",
            "missing_client_credentials",
        )
    wrong = SynapseError(401, "100", "Invalid client_id or client_secret.", "invalid_client")
    gateway_id, _, secret = header.partition("|")
    with ctx.store.read() as unit:
        credential = SynapseRepository(unit.session, ctx.store.keys).credential(gateway_id.strip())
        client = unit.clients.get(credential.client_id) if credential else None
    if (
        credential is None
        or client is None
        or not hmac.compare_digest(credential.secret.encode(), secret.strip().encode())
    ):
        raise wrong
    oauth_key, fingerprint = split_user_header(request.headers.get("x-sp-user", ""))
    ip = request.headers.get("x-sp-user-ip", "").strip()[:64] or None
    root = f"{request.url.scheme}://{request.url.netloc}"
    return Caller(
        ctx,
        client,
        credential.gateway_id,
        oauth_key,
        fingerprint,
        ip,
        root,
        strict_mfa=built.settings.synapse_strict_mfa,
        oauth_ttl_seconds=built.settings.synapse_oauth_ttl_seconds,
    )


async def _gateway_dep(request: Request) -> Caller:
    return _gateway(request)


def require_fingerprint(caller: Caller) -> str:
    if not caller.fingerprint:
        raise SynapseError(
            400, "200", "Send the device fingerprint in X-SP-USER.", "missing_fingerprint"
        )
    return caller.fingerprint


def authorize_user(caller: Caller, repo: SynapseRepository, user_id: str) -> SynapseUserRow:
    """The user in the path, if the caller's oauth key was issued for them (else 401/"110")."""
    user = repo.user(caller.client.id, user_id)
    if user is None:
        raise not_found("User not found.", "user_not_found")
    if not caller.oauth_key:
        raise invalid_oauth_key()
    key = repo.oauth_key(caller.oauth_key)
    if (
        key is None
        or key.client_id != caller.client.id
        or key.synapse_user_id != user.id
        or key.fingerprint != caller.fingerprint
        or key.expires_at <= caller.ctx.clock()
    ):
        raise invalid_oauth_key()
    return user


Gateway = Annotated[Caller, Depends(_gateway_dep)]
