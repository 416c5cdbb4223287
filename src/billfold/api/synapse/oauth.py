"""`POST /oauth/{user_id}`: refresh token -> oauth key, with fingerprint 2FA (spec §5).

Checks run in the spec's order: user exists, refresh token, fingerprint, PIN.
A refresh token serves 10 OAuths, then rotates (the new one shows on GET user).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from billfold.api.synapse.auth import Gateway, require_fingerprint
from billfold.api.synapse.envelopes import incorrect_values, not_found, payload_error
from billfold.api.synapse.idempotency import json_body, respond
from billfold.api.synapse.users import ALL_SCOPES, new_refresh_token

router = APIRouter()

REFRESH_USES = 10
SANDBOX_PIN = "123456"


@router.post("/oauth/{user_id}")
async def oauth(request: Request, caller: Gateway, user_id: str) -> JSONResponse:
    # X-SP-IDEMPOTENCY-KEY is ignored here on purpose: a replay would hand back a dead key.
    fingerprint = require_fingerprint(caller)
    body = await json_body(request)
    token = body.get("refresh_token")
    with caller.repo_write() as repo:
        user = repo.user(caller.client.id, user_id)
        if user is None:
            raise not_found("User not found.", "user_not_found")
        if not isinstance(token, str) or not token:
            raise payload_error("refresh_token is required.", "missing_refresh_token")
        if not hmac.compare_digest(repo.refresh_token(user).encode(), token.encode()):
            raise incorrect_values("refresh_token is not valid.", "invalid_refresh_token")
        registered = list(user.fingerprints.get("registered", []))
        phones = list(user.profile.get("phone_numbers", []))
        if fingerprint not in registered:
            pin, phone = body.get("validation_pin"), body.get("phone_number")
            if pin is not None:
                if not isinstance(pin, str) or not hmac.compare_digest(pin, SANDBOX_PIN):
                    raise incorrect_values("validation_pin is not valid.", "invalid_pin")
                user.fingerprints = {"registered": [*registered, fingerprint]}
            elif phone is not None:
                if phone not in phones:
                    raise payload_error("phone_number is not one of the user's.", "unknown_phone")
                return respond(
                    {
                        "error_code": "10",
                        "http_code": "202",
                        "message": {"en": f"MFA sent to {phone}."},
                        "success": True,
                    },
                    202,
                )
            else:
                return respond(
                    {
                        "error": {"en": "Fingerprint not registered. Please perform the MFA flow."},
                        "error_code": "10",
                        "http_code": "202",
                        "phone_numbers": phones,
                        "success": False,
                    },
                    202,
                )
        now = caller.ctx.clock()
        key = "oauth_" + secrets.token_hex(20)
        ttl = timedelta(seconds=caller.oauth_ttl_seconds)
        expires_at = now + ttl
        repo.add_oauth_key(
            key=key,
            client_id=caller.client.id,
            synapse_user_id=user.id,
            fingerprint=fingerprint,
            expires_at=expires_at,
        )
        user.refresh_uses += 1
        if user.refresh_uses >= REFRESH_USES:
            repo.set_refresh_token(user, new_refresh_token())
        if caller.ip:
            user.last_ip = caller.ip
        scope = body.get("scope")
        if not isinstance(scope, list) or not all(isinstance(s, str) for s in scope) or not scope:
            scope = ALL_SCOPES
        return respond(
            {
                "client_id": caller.gateway_id,
                "client_name": caller.client.name,
                "expires_at": str(int(expires_at.timestamp())),
                "expires_in": str(caller.oauth_ttl_seconds),
                "oauth_key": key,
                "refresh_expires_in": REFRESH_USES - user.refresh_uses,
                "refresh_token": repo.refresh_token(user),
                "scope": scope,
                "user_id": user.id,
            }
        )
