"""The demo host page, `/connect/demo`: a stand-in for a client's app around the widget.

Its little backend plays the client's server: it creates connect tokens and
reads data for the demo client made by `billfold serve --demo`, so the page
itself never sees an API key. Without `--demo` the page says how to start it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request, Response
from pydantic import BaseModel, Field

from billfold.api.connect.widget import asset
from billfold.api.native.auth import Ctx
from billfold.api.native.schemas import AccountOut, ConnectionOut, Strict, TransactionOut
from billfold.domain.errors import NotFound
from billfold.services import connect, connections, data, institutions

router = APIRouter(prefix="/connect/demo", include_in_schema=False)

DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class DemoHost:
    client_id: str
    user_id: str


def enable_demo(app: FastAPI, *, client_id: str, user_id: str) -> None:
    """Let `/connect/demo` act for this client and user (`billfold serve --demo`)."""
    app.state.connect_demo = DemoHost(client_id, user_id)


def _demo(request: Request) -> DemoHost:
    found: DemoHost | None = getattr(request.app.state, "connect_demo", None)
    if found is None:
        raise NotFound(
            "The demo is off; start Billfold with `billfold serve --demo`.", code="demo_off"
        )
    return found


class DemoTokenRequest(Strict):
    connection_id: str | None = Field(default=None, max_length=64)


class DemoToken(BaseModel):
    token: str
    client_id: str


class DemoConnection(BaseModel):
    connection: ConnectionOut
    institution_name: str


class DemoData(BaseModel):
    connections: list[DemoConnection]
    accounts: list[AccountOut]
    transactions: list[TransactionOut]


@router.get("")
async def page() -> Response:
    headers = {
        "Content-Security-Policy": DEMO_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(asset("demo.html"), media_type="text/html", headers=headers)


@router.post("/token", response_model=DemoToken)
async def token(request: Request, ctx: Ctx, body: DemoTokenRequest | None = None) -> DemoToken:
    """What a client's backend does: create a connect token for its signed-in user."""
    demo = _demo(request)
    issued = connect.create_connect_token(
        ctx=ctx,
        client_id=demo.client_id,
        user_id=demo.user_id,
        connection_id=body.connection_id if body else None,
    )
    return DemoToken(token=issued.token, client_id=demo.client_id)


@router.get("/data", response_model=DemoData)
async def demo_data(
    request: Request, ctx: Ctx, connection_id: Annotated[str | None, Query(max_length=64)] = None
) -> DemoData:
    """The demo user's connections and accounts, and recent transactions (of one connection)."""
    demo = _demo(request)
    found = connections.list_connections(ctx=ctx, client_id=demo.client_id, user_id=demo.user_id)
    names: dict[str, str] = {}
    for c in found:
        if c.institution_id not in names:
            inst = institutions.get_institution(ctx=ctx, institution_id=c.institution_id)
            names[c.institution_id] = inst.name
    accounts = data.list_accounts(ctx=ctx, client_id=demo.client_id, user_id=demo.user_id)
    page = data.list_transactions(
        ctx=ctx,
        client_id=demo.client_id,
        user_id=demo.user_id,
        connection_id=connection_id,
        limit=25,
    )
    return DemoData(
        connections=[
            DemoConnection(connection=ConnectionOut.of(c), institution_name=names[c.institution_id])
            for c in found
        ],
        accounts=[AccountOut.of(a) for a in accounts],
        transactions=[TransactionOut.of(t) for t in page.items],
    )
