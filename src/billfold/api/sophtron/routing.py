"""A small router for the dialect: method + path pattern -> handler, errors in its envelope.

Paths arrive normalized (`paths.DialectPaths`); query parameter names are
matched case-insensitively (`uniqueID`). Every response, errors included, is
JSON in the dialect's shape; an unexpected error is logged by type only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from billfold.api.sophtron.auth import Authenticator, Caller
from billfold.api.sophtron.errors import error_response, from_error
from billfold.api.sophtron.wire import Body, clean, parse_object
from billfold.domain.errors import BillfoldError, Forbidden
from billfold.services.context import ServiceContext

log = logging.getLogger("billfold.api.sophtron")


@dataclass(slots=True)
class Call:
    """One request as a handler sees it."""

    request: Request
    ctx: ServiceContext
    caller: Caller
    params: dict[str, str]
    hold: timedelta
    _body: Body | None = field(default=None)

    @property
    def client_id(self) -> str:
        return self.caller.client_id

    async def body(self) -> Body:
        if self._body is None:
            self._body = Body(parse_object(await self.request.body()))
        return self._body

    def query(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.request.query_params.multi_items():
            if key.lower() == wanted:
                return clean(value, name)
        return None

    def check_user(self, body: Body, name: str = "UserID") -> None:
        """A body `UserID` must be the authenticated developer."""
        given = body.text(name)
        if given and given.strip().lower() not in {self.caller.user_id, self.caller.client_id}:
            raise Forbidden("UserID is not the authenticated developer.", code="foreign_user")


Handler = Callable[[Call], Awaitable[Response]]
Plain = Callable[[Request, ServiceContext], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler | None = None
    plain: Plain | None = None  # no caller needed (OAuth endpoints)


def _compile(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template.lower())
    return re.compile(f"^{regex}$")


class Routes:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.items: list[Route] = []

    def add(self, methods: str, template: str, handler: Handler) -> None:
        self.items.append(
            Route(frozenset(methods.split(",")), _compile(self.prefix + template), handler)
        )

    def add_plain(self, methods: str, template: str, handler: Plain) -> None:
        self.items.append(
            Route(frozenset(methods.split(",")), _compile(self.prefix + template), plain=handler)
        )


class Dispatcher:
    """The dialect's ASGI app."""

    def __init__(
        self, *, ctx: ServiceContext, auth: Authenticator, routes: list[Route], hold: timedelta
    ) -> None:
        self._ctx = ctx
        self._auth = auth
        self._routes = routes
        self._hold = hold

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self._dispatch(request)
        except BillfoldError as exc:
            response = from_error(exc)
        except Exception as exc:
            log.error("unexpected %s on %s %s", type(exc).__name__, request.method, scope["path"])
            response = error_response(500, "internal_error", "Something went wrong on our side.")
        await response(scope, receive, send)

    async def _dispatch(self, request: Request) -> Response:
        path: str = request.scope["path"]
        if any(ord(c) < 32 for c in path):
            return error_response(404, "not_found", "No such route.")
        allowed = False
        for route in self._routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            if request.method not in route.methods:
                allowed = True
                continue
            if route.plain is not None:
                return await route.plain(request, self._ctx)
            assert route.handler is not None
            caller = self._auth.caller(
                request.headers.get("authorization", ""),
                request.method,
                str(request.scope.get("sophtron.original_path", path)),
                request.url.query,
            )
            params: dict[str, Any] = match.groupdict()
            return await route.handler(Call(request, self._ctx, caller, params, self._hold))
        if allowed:
            return error_response(405, "method_not_allowed", "Method not allowed on this route.")
        return error_response(404, "not_found", "No such route.")
