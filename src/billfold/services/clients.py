"""Clients (API tenants) and their API keys: shown once, stored hashed, checked fast."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from billfold.domain.errors import Unauthorized
from billfold.domain.parties import Client
from billfold.services.context import ServiceContext
from billfold.store.ids import new_id

KEY_PREFIX = "bf_"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    client: Client
    api_key: str  # shown once; only its hash is kept


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_key() -> tuple[str, str, str]:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, secret, f"{KEY_PREFIX}{key_id}_{secret}"


def create_client(*, ctx: ServiceContext, name: str) -> IssuedKey:
    name = name.strip()
    if not name:
        raise ValueError("a client needs a name")
    now = ctx.clock()
    client = Client(id=new_id(), name=name, created_at=now)
    key_id, secret, api_key = _new_key()
    with ctx.store.write() as unit:
        unit.clients.add(client)
        unit.session.flush()
        unit.clients.add_api_key(
            key_id=key_id, client_id=client.id, secret_hash=_hash(secret), at=now
        )
    return IssuedKey(client, api_key)


def issue_api_key(*, ctx: ServiceContext, client_id: str) -> str:
    key_id, secret, api_key = _new_key()
    with ctx.store.write() as unit:
        unit.clients.add_api_key(
            key_id=key_id, client_id=client_id, secret_hash=_hash(secret), at=ctx.clock()
        )
    return api_key


class ApiKeyVerifier:
    """Checks `bf_<id>_<secret>` keys; remembers good ones briefly so polling stays cheap."""

    def __init__(self, ctx: ServiceContext, cache_seconds: float = 30.0) -> None:
        self._ctx = ctx
        self._ttl = cache_seconds
        self._cache: dict[str, tuple[Client, float]] = {}
        self._lock = threading.Lock()

    def verify(self, api_key: str) -> Client:
        digest = _hash(api_key)
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        client = self._lookup(api_key)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (client, time.monotonic() + self._ttl)
        return client

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def _lookup(self, api_key: str) -> Client:
        invalid = Unauthorized("The API key is not valid.", code="invalid_api_key")
        if not api_key.startswith(KEY_PREFIX):
            raise invalid
        key_id, _, secret = api_key[len(KEY_PREFIX) :].partition("_")
        if not key_id or not secret:
            raise invalid
        with self._ctx.store.read() as unit:
            found = unit.clients.api_key(key_id)
            client = unit.clients.get(found[0]) if found else None
        if found is None or client is None or not hmac.compare_digest(found[1], _hash(secret)):
            raise invalid
        return client
