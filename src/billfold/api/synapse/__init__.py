"""The Synapse-style v3.1 dialect: a translation of Synapse calls onto Billfold's services.

Mounted at `/v3.1` as its own small ASGI app so its error envelope (§10) covers
every answer under that prefix, unknown routes included.
"""

from __future__ import annotations

from fastapi import FastAPI

from billfold.api.synapse import client, links, nodes, oauth, subscriptions, users
from billfold.api.synapse.envelopes import install_error_handlers
from billfold.container import Container

PREFIX = "/v3.1"


def build_synapse_app(container: Container) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, redirect_slashes=False)
    app.state.container = container
    install_error_handlers(app)
    for module in (users, oauth, links, nodes, client, subscriptions):
        app.include_router(module.router)
    return app


def mount_synapse(app: FastAPI, container: Container) -> None:
    app.mount(PREFIX, build_synapse_app(container))


__all__ = ["PREFIX", "build_synapse_app", "mount_synapse"]
