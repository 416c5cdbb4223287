"""The Sophtron-compatible dialect: Sophtron's Data API (v1 RPC, v2 REST) and OAuth 2.0.

Code written against Sophtron's API works unchanged when pointed at Billfold:
the data API answers at `<root>/api/...` and OAuth at `<root>/oauth/...`
(`BILLFOLD_SOPHTRON_ROOT`, default the host root), with Sophtron's path
quirks, PascalCase JSON, `FIApiAUTH` signatures and bearer tokens. Every call
is a translation onto Billfold's services.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from billfold.api.sophtron import oauth, v1, v2
from billfold.api.sophtron.auth import Authenticator
from billfold.api.sophtron.paths import DialectPaths, normalize
from billfold.api.sophtron.routing import Dispatcher
from billfold.container import Container

__all__ = ["install"]


def install(app: FastAPI, container: Container) -> None:
    """Serve the dialect from `app` under the configured root."""
    settings = container.settings
    root = normalize("/" + settings.sophtron_root.strip("/")).rstrip("/")
    api, auth_root = f"{root}/api", f"{root}/oauth"
    routes = [
        *v2.routes(api).items,
        *v1.routes(api).items,
        *oauth.routes(auth_root).items,
    ]
    dispatcher = Dispatcher(
        ctx=container.ctx,
        auth=Authenticator(container.ctx, binding=settings.sophtron_signature_binding),
        routes=routes,
        hold=timedelta(seconds=settings.sophtron_hold_seconds),
    )
    app.add_middleware(DialectPaths, dialect=dispatcher, prefixes=(api, auth_root))
