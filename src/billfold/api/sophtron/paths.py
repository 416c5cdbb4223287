"""Path rules of the dialect, applied only under its root, as a small ASGI middleware.

Sophtron clients send `/OAuth/Token`, `/API/institution/getINSTITUTIONbyname`,
`/api//v2/customers` and trailing slashes, so under the root the path is
percent-decoded (the server already did), runs of `/` are collapsed, one
trailing `/` is dropped and the whole path is lower-cased (ids are lower-case
GUIDs, so nothing is lost). Everything else goes to the wrapped app untouched.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

_SLASHES = re.compile(r"/{2,}")


def normalize(path: str) -> str:
    path = _SLASHES.sub("/", path).lower()
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path


class DialectPaths:
    """Send requests whose path starts with one of `prefixes` (any case) to `dialect`."""

    def __init__(self, app: ASGIApp, *, dialect: ASGIApp, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.dialect = dialect
        self.prefixes = tuple(normalize(p) for p in prefixes)

    def _claims(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            original: str = scope["path"]
            path = normalize(original)
            if self._claims(path):
                inner = dict(scope)
                inner["path"] = path
                inner["sophtron.original_path"] = _SLASHES.sub("/", original)
                await self.dialect(inner, receive, send)
                return
        await self.app(scope, receive, send)
