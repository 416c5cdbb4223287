"""OAuth 2.0 for the dialect: the token endpoint and the authorization-code flow.

Written by hand rather than on an OAuth library because the clients to serve
break what libraries enforce: token requests carry misspelt or wrong
Content-Types (the body is read as a form whatever it says), and the
`password` grant sends a `username` and no password (the username must name
the developer account that owns the client registration). Errors are RFC 6749
bodies; secrets and tokens are never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from billfold.api.sophtron.routing import Routes
from billfold.services import sophtron as dialect
from billfold.services.context import ServiceContext
from billfold.services.sophtron import IssuedTokens, OAuthClient, OAuthError


def parse_form(raw: bytes) -> dict[str, str]:
    """Form fields whatever the Content-Type; a JSON object body is accepted too."""
    text = raw.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise OAuthError("invalid_request", "The request body is not valid.") from exc
        if not isinstance(value, dict):
            raise OAuthError("invalid_request", "The request body is not valid.")
        form = {str(k): str(v) for k, v in value.items() if v is not None}
    else:
        form = dict(parse_qsl(text, keep_blank_values=True))
    if any("\x00" in k or "\x00" in v for k, v in form.items()):
        raise OAuthError("invalid_request", "The request body is not valid.")
    return form


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=False).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "Client authentication failed.", 401) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or "\x00" in decoded:
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    return client_id, secret


def _error(exc: OAuthError) -> Response:
    headers = {"Cache-Control": "no-store"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="billfold"'
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers=headers,
    )


def _tokens_body(tokens: IssuedTokens) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": tokens.access_token,
        "token_type": "bearer",
        "expires_in": tokens.expires_in,
    }
    if tokens.refresh_token:
        body["refresh_token"] = tokens.refresh_token
    return body


async def token(request: Request, ctx: ServiceContext) -> Response:
    try:
        form = parse_form(await request.body())
        pair = _basic(request) or (form.get("client_id", ""), form.get("client_secret", ""))
        if not pair[0]:
            raise OAuthError("invalid_client", "Client authentication failed.", 401)
        client = dialect.authenticate_oauth_client(
            ctx=ctx, oauth_client_id=pair[0], client_secret=pair[1]
        )
        grant = form.get("grant_type", "")
        if grant == "password":
            tokens = dialect.password_grant(
                ctx=ctx, oauth_client=client, username=form.get("username", "")
            )
        elif grant == "authorization_code":
            if not form.get("code"):
                raise OAuthError("invalid_request", "code is required.")
            tokens = dialect.code_grant(
                ctx=ctx,
                oauth_client=client,
                code=form["code"],
                redirect_uri=form.get("redirect_uri") or None,
            )
        elif grant == "refresh_token":
            if not form.get("refresh_token"):
                raise OAuthError("invalid_request", "refresh_token is required.")
            tokens = dialect.refresh_grant(
                ctx=ctx, oauth_client=client, refresh_token=form["refresh_token"]
            )
        elif not grant:
            raise OAuthError("invalid_request", "grant_type is required.")
        else:
            raise OAuthError("unsupported_grant_type", "That grant type is not supported.")
    except OAuthError as exc:
        return _error(exc)
    return JSONResponse(
        _tokens_body(tokens), headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
    )


def _registration(ctx: ServiceContext, params: dict[str, str]) -> tuple[OAuthClient, str]:
    client = dialect.find_oauth_client(ctx=ctx, oauth_client_id=params.get("client_id", ""))
    if client is None:
        raise OAuthError("invalid_client", "Unknown client_id.", 400)
    redirect_uri = params.get("redirect_uri") or (
        client.redirect_uris[0] if len(client.redirect_uris) == 1 else ""
    )
    if redirect_uri not in client.redirect_uris:
        raise OAuthError("invalid_request", "redirect_uri is not registered for this client.")
    return client, redirect_uri


def _redirect(uri: str, **params: str) -> Response:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{uri}{'&' if '?' in uri else '?'}{query}", status_code=302)


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Authorize {name}</title></head>
<body>
<h1>Authorize access</h1>
<p>Sign in with the developer account's UserId and AccessKey to let this client use the API.</p>
<form method="post">
<input type="hidden" name="client_id" value="{client_id}">
<input type="hidden" name="redirect_uri" value="{redirect_uri}">
<input type="hidden" name="state" value="{state}">
<input type="hidden" name="scope" value="{scope}">
<input type="hidden" name="response_type" value="code">
<label>UserId <input name="user_id" autocomplete="username"></label>
<label>AccessKey <input name="access_key" type="password" autocomplete="off"></label>
<button name="decision" value="allow">Allow</button>
<button name="decision" value="deny">Deny</button>
</form>
</body></html>
"""


async def authorize(request: Request, ctx: ServiceContext) -> Response:
    try:
        if request.method == "GET":
            params = {k.lower(): v for k, v in request.query_params.items()}
        else:
            params = parse_form(await request.body())
        if any("\x00" in v for v in params.values()):
            raise OAuthError("invalid_request", "The request is not valid.")
        _, redirect_uri = _registration(ctx, params)
        state = params.get("state", "")
        if params.get("response_type", "code") != "code":
            return _redirect(redirect_uri, error="unsupported_response_type", state=state)
        if request.method == "GET":
            return HTMLResponse(
                _PAGE.format(
                    name=escape(params.get("client_id", "")),
                    client_id=escape(params.get("client_id", "")),
                    redirect_uri=escape(redirect_uri),
                    state=escape(state),
                    scope=escape(params.get("scope", "")),
                )
            )
        client, _ = _registration(ctx, params)
        if params.get("decision", "allow") != "allow":
            return _redirect(redirect_uri, error="access_denied", state=state)
        found = dialect.access_key_of(ctx=ctx, user_id=params.get("user_id", "").strip().lower())
        if (
            found is None
            or found[0] != client.owner_client_id
            or not hmac.compare_digest(found[1].encode(), params.get("access_key", "").encode())
        ):
            raise OAuthError("access_denied", "Sign-in failed: wrong UserId or AccessKey.", 401)
        code = dialect.issue_code(ctx=ctx, oauth_client=client, redirect_uri=redirect_uri)
        return _redirect(redirect_uri, code=code, state=state)
    except OAuthError as exc:
        return _error(exc)


def routes(prefix: str) -> Routes:
    table = Routes(prefix)
    table.add_plain("POST", "/token", token)
    table.add_plain("GET,POST", "/authorize", authorize)
    return table
