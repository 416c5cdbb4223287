"""Who is calling: a `FIApiAUTH` signature or an OAuth bearer token, both -> one client.

Good UserIds are remembered briefly with their decoded key so polling stays
cheap; the header value itself is never logged.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from billfold.api.sophtron import signature
from billfold.domain.errors import Unauthorized
from billfold.services import sophtron as dialect
from billfold.services.context import ServiceContext

_INVALID = "Invalid Sophtron User ID or Access Key."


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: str
    user_id: str | None  # the developer UserId (None when the client has none)


class Authenticator:
    def __init__(self, ctx: ServiceContext, *, binding: bool, cache_seconds: float = 30.0) -> None:
        self._ctx = ctx
        self._binding = binding
        self._ttl = cache_seconds
        self._keys: dict[str, tuple[str, bytes, float]] = {}
        self._lock = threading.Lock()

    def caller(self, authorization: str, method: str, path: str, query: str) -> Caller:
        value = authorization.strip()
        if not value:
            raise Unauthorized(
                "Send 'Authorization: FIApiAUTH:...' or an OAuth bearer token.",
                code="missing_authorization",
            )
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "bearer":
            return self._bearer(token.strip())
        signed = signature.parse(value)
        if signed is None:
            raise Unauthorized(_INVALID, code="invalid_authorization")
        client_id, key = self._key(signed.user_id)
        if not signature.verify(key, method, signed):
            raise Unauthorized(_INVALID, code="invalid_signature")
        if self._binding and not signature.bound_to(signed.auth_path, path, query):
            raise Unauthorized(
                "The signed path does not match the request.", code="signature_path_mismatch"
            )
        return Caller(client_id, signed.user_id)

    def _key(self, user_id: str) -> tuple[str, bytes]:
        cached = self._keys.get(user_id)
        if cached is not None and cached[2] > time.monotonic():
            return cached[0], cached[1]
        found = (
            dialect.access_key_of(ctx=self._ctx, user_id=user_id) if len(user_id) <= 40 else None
        )
        if found is None:
            raise Unauthorized(_INVALID, code="invalid_signature")
        key = signature.decode_key(found[1])
        with self._lock:
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[user_id] = (found[0], key, time.monotonic() + self._ttl)
        return found[0], key

    def _bearer(self, token: str) -> Caller:
        client_id = dialect.client_of_access_token(ctx=self._ctx, token=token) if token else None
        if client_id is None:
            raise Unauthorized("The access token is invalid or expired.", code="invalid_token")
        return Caller(client_id, dialect.developer_user_id(ctx=self._ctx, client_id=client_id))
