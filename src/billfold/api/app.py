"""The ASGI application: every face mounted on one FastAPI app around one container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from billfold import __version__
from billfold.api.connect import demo as connect_demo
from billfold.api.connect import tokens as connect_tokens
from billfold.api.connect import widget as connect_widget
from billfold.api.errors import install_error_handlers
from billfold.api.native import (
    accounts,
    connections,
    institutions,
    job_views,
    jobs,
    statements,
    users,
    webhooks,
)
from billfold.container import Container
from billfold.settings import Settings

DESCRIPTION = """\
One consistent API for end users' financial and billing data.

Authenticate with `Authorization: Bearer <api_key>` (`billfold clients create`).
Create a **user**, pick an **institution**, post the login to create a **connection**
and its **job**, poll the job and answer its **challenge** when it waits for one,
then read **accounts** and **transactions**.

Errors are `{"error": {"code": "...", "message": "..."}}` with a stable `code`.
Money is a decimal string; positive transaction amounts are money into the account.
"""


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    built = container or Container(settings or Settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await built.start()
        try:
            yield
        finally:
            await built.stop()

    app = FastAPI(
        title="Billfold",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.container = built
    install_error_handlers(app)

    v1 = APIRouter(prefix="/v1")
    for module in (institutions, users, connections, jobs, accounts, webhooks, statements):
        v1.include_router(module.router)
    v1.include_router(connect_tokens.router)
    app.include_router(v1)
    app.include_router(connect_widget.router)
    app.include_router(connect_widget.api)
    app.include_router(connect_demo.router)
    app.router.routes.insert(0, job_views.poll_route)

    from billfold.api.synapse import mount_synapse

    mount_synapse(app, built)

    from billfold.api.sophtron import install as install_sophtron

    install_sophtron(app, built)

    @app.get("/health", tags=["meta"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
