"""`X-SP-IDEMPOTENCY-KEY` (spec §2.2): replay a stored 2xx for the same key, path and body.

`synapsepy` makes the key sticky: once used, it rides on every later request. So
only a few creating POSTs take part, and a key reused with a different body (the
MFA answer after `create_node`) is simply processed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from billfold.api.synapse.auth import Caller
from billfold.api.synapse.envelopes import payload_error

REPLAY_WINDOW = timedelta(hours=24)
MAX_BODY = 256 * 1024


async def json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; empty means `{}`; anything else is a payload error."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise payload_error("The request body is too large.", "body_too_large")
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise payload_error("The request body is not valid JSON.", "invalid_json") from exc
    if not isinstance(parsed, dict):
        raise payload_error("The request body must be a JSON object.", "invalid_json")
    return parsed


def respond(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


async def idempotent(
    request: Request, caller: Caller, handle: Callable[[], Awaitable[JSONResponse]]
) -> JSONResponse:
    """Run `handle`, or replay what it answered before for the same key, path and body."""
    key = request.headers.get("x-sp-idempotency-key", "").strip()
    if not key:
        return await handle()
    body_hash = hashlib.sha256(await request.body()).hexdigest()
    where = {
        "client_id": caller.client.id,
        "key": key[:200],
        "method": request.method,
        "path": request.url.path[:300],
        "body_hash": body_hash,
    }
    with caller.repo_read() as repo:
        stored = repo.replay(**where, since=caller.ctx.clock() - REPLAY_WINDOW)
    if stored is not None:
        status, content = stored
        return JSONResponse(json.loads(content), status_code=status)
    response = await handle()
    if 200 <= response.status_code < 300:
        with caller.repo_write() as repo:
            repo.remember(
                **where,
                status=response.status_code,
                body=bytes(response.body),
                at=caller.ctx.clock(),
            )
    return response
