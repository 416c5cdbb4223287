"""`/users`: create, list, read and update Synapse users (Billfold end users + a profile)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from billfold.api.synapse.auth import Caller, Gateway, authorize_user, require_fingerprint
from billfold.api.synapse.envelopes import flag, list_envelope, not_found, paging, payload_error
from billfold.api.synapse.idempotency import idempotent, json_body, respond
from billfold.api.synapse.presenters import user_object
from billfold.services import users as user_service
from billfold.store.synapse import SynapseRepository, SynapseUserRow, new_oid

router = APIRouter()

REFRESH_PREFIX = "refresh_"
ALL_SCOPES = [
    "USERS|POST",
    "USER|PATCH",
    "NODES|POST",
    "NODES|GET",
    "NODE|GET",
    "NODE|PATCH",
    "NODE|DELETE",
    "TRANS|POST",
    "TRANS|GET",
    "TRAN|GET",
    "TRAN|PATCH",
    "TRAN|DELETE",
    "SUBNETS|GET",
    "SUBNETS|POST",
    "SUBNET|GET",
    "SUBNET|PATCH",
    "STATEMENTS|GET",
    "STATEMENT|GET",
]


def new_refresh_token() -> str:
    return REFRESH_PREFIX + secrets.token_hex(20)


def _strings(body: dict[str, Any], name: str, *, required: bool) -> list[str]:
    value = body.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise payload_error(f"{name} must be a list of strings.", f"invalid_{name}")
    if required and not value:
        raise payload_error(f"{name} is required.", f"missing_{name}")
    return [v.strip() for v in value]


def _logins(body: dict[str, Any], *, required: bool) -> list[dict[str, str]]:
    value = body.get("logins")
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise payload_error("logins is required.", "missing_logins")
    logins = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("email"), str):
            raise payload_error("each login needs an email.", "invalid_logins")
        scope = item.get("scope", "READ_AND_WRITE")
        # Passwords are never stored or returned by this dialect.
        logins.append({"email": item["email"].strip(), "scope": str(scope)})
    return logins


def _extra(body: dict[str, Any]) -> dict[str, Any]:
    extra = body.get("extra") or {}
    if not isinstance(extra, dict):
        raise payload_error("extra must be an object.", "invalid_extra")
    allowed = ("supp_id", "cip_tag", "is_business", "extra_security", "note", "public_note")
    return {k: extra[k] for k in allowed if k in extra}


def present(
    caller: Caller, repo: SynapseRepository, row: SynapseUserRow, *, full: bool = False
) -> dict[str, Any]:
    return user_object(
        row,
        client=caller.client,
        gateway_id=caller.gateway_id,
        base_url=caller.base_url,
        refresh_token=repo.refresh_token(row),
        full_dehydrate=full,
    )


@router.post("/users")
async def create_user(request: Request, caller: Gateway) -> JSONResponse:
    async def handle() -> JSONResponse:
        fingerprint = require_fingerprint(caller)
        body = await json_body(request)
        legal_names = _strings(body, "legal_names", required=True)
        profile: dict[str, Any] = {
            "logins": _logins(body, required=True),
            "phone_numbers": _strings(body, "phone_numbers", required=True),
            "legal_names": legal_names,
            "documents": [],
            "extra": _extra(body),
            "is_hidden": bool(body.get("is_hidden", False)),
        }
        user = user_service.create_user(
            ctx=caller.ctx, client_id=caller.client.id, name=legal_names[0][:200]
        )
        now = caller.ctx.clock()
        row = SynapseUserRow(
            id=new_oid(),
            client_id=caller.client.id,
            user_id=user.id,
            profile=profile,
            fingerprints={"registered": [fingerprint]},
            refresh_uses=0,
            last_ip=caller.ip,
            created_at=now,
            updated_at=now,
        )
        with caller.repo_write() as repo:
            repo.add_user(row, new_refresh_token())
            repo.s.flush()
            return respond(present(caller, repo, row))

    return await idempotent(request, caller, handle)


@router.get("/users")
async def list_users(
    caller: Gateway,
    query: str | None = None,
    page: str | None = None,
    per_page: str | None = None,
    show_refresh_tokens: str | None = None,
) -> JSONResponse:
    number, size = paging(page, per_page)
    with caller.repo_read() as repo:
        rows = repo.users(caller.client.id)
        if query:
            folded = query.strip().casefold()
            rows = [r for r in rows if folded in _searchable(r)]
        chosen = rows[(number - 1) * size : number * size]
        items = [present(caller, repo, r) for r in chosen]
    if not flag(show_refresh_tokens):
        for item in items:
            item.pop("refresh_token", None)
    return respond(
        list_envelope("users", "users_count", items, page=number, per_page=size, total=len(rows))
    )


def _searchable(row: SynapseUserRow) -> str:
    profile = row.profile
    parts = [*profile.get("legal_names", []), *(x["email"] for x in profile.get("logins", []))]
    return " ".join(parts).casefold()


@router.get("/users/{user_id}")
async def get_user(
    caller: Gateway, user_id: str, full_dehydrate: str | None = None
) -> JSONResponse:
    with caller.repo_read() as repo:
        row = repo.user(caller.client.id, user_id)
        if row is None:
            raise not_found("User not found.", "user_not_found")
        return respond(present(caller, repo, row, full=flag(full_dehydrate)))


@router.patch("/users/{user_id}")
async def update_user(request: Request, caller: Gateway, user_id: str) -> JSONResponse:
    body = await json_body(request)
    with caller.repo_write() as repo:
        row = authorize_user(caller, repo, user_id)
        profile = dict(row.profile)
        for name in ("legal_names", "phone_numbers"):
            for value in _strings(body, name, required=False):
                if value not in profile.get(name, []):
                    profile[name] = [*profile.get(name, []), value]
        known = {x["email"] for x in profile.get("logins", [])}
        new_logins = [x for x in _logins(body, required=False) if x["email"] not in known]
        profile["logins"] = [*profile.get("logins", []), *new_logins]
        profile["extra"] = {**profile.get("extra", {}), **_extra(body)}
        if "is_hidden" in body:
            profile["is_hidden"] = bool(body["is_hidden"])
        row.profile = profile
        row.updated_at = caller.ctx.clock()
        return respond(present(caller, repo, row))
