"""v2: REST under `R/api/v2` (spec section 5): customers, members, accounts, jobs.

A Customer is a Billfold end user (`UniqueID` = external id), a Member a
connection (`MemberID` == `UserInstitutionID`). Ids of another client, or a
member under another customer, are 404.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from billfold.api.sophtron import accounts as views
from billfold.api.sophtron.jobs import STEP_NAMES, answer, job_body
from billfold.api.sophtron.presenters import customer_out, member_out
from billfold.api.sophtron.routing import Call, Routes
from billfold.api.sophtron.wire import reply
from billfold.domain.connections import Connection
from billfold.domain.errors import Conflict, InvalidInput, NotFound
from billfold.domain.parties import EndUser
from billfold.services import connections, data, institutions, jobs, users
from billfold.services import sophtron as dialect
from billfold.services.connections import KNOWN_PRODUCTS

_SEPARATORS = re.compile(r"[|_,+ ]+")
_ALIASES = {"extendedhistory": "history", "verify": "verification"}


def products(job_types: str) -> list[str]:
    """`verification|identity` or `aggregate_identity_verification`; unknown tokens ignored."""
    tokens = {_ALIASES.get(t, t) for t in _SEPARATORS.split(job_types.lower()) if t}
    return [p for p in KNOWN_PRODUCTS if p in tokens] or ["aggregate"]


def _customer(call: Call) -> EndUser:
    user = users.get_user(ctx=call.ctx, client_id=call.client_id, user_id=call.params["cid"])
    if user.external_id == dialect.V1_BUCKET_EXTERNAL_ID:
        raise NotFound("No such customer.", code="customer_not_found")
    return user


def _member(call: Call) -> Connection:
    user = _customer(call)
    connection = connections.get_connection(
        ctx=call.ctx, client_id=call.client_id, connection_id=call.params["mid"]
    )
    if connection.user_id != user.id:
        raise NotFound("No such member.", code="member_not_found")
    return connection


def _customers_out(call: Call, found: list[EndUser]) -> list[dict[str, Any]]:
    found = [u for u in found if u.external_id != dialect.V1_BUCKET_EXTERNAL_ID]
    sources = dialect.customer_sources(ctx=call.ctx, user_ids=[u.id for u in found])
    members: dict[str, list[str]] = {}
    if found:
        for connection in connections.list_connections(ctx=call.ctx, client_id=call.client_id):
            members.setdefault(connection.user_id, []).append(connection.id)
    return [
        customer_out(u, source=sources.get(u.id), member_ids=members.get(u.id, [])) for u in found
    ]


async def list_customers(call: Call) -> Response:
    unique_id = call.query("uniqueID")
    found: list[EndUser] = []
    cursor = None
    while True:
        page = users.list_users(
            ctx=call.ctx,
            client_id=call.client_id,
            cursor=cursor,
            limit=500,
            external_id=unique_id.strip() if unique_id is not None else None,
        )
        found.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            return reply(_customers_out(call, found))


async def create_customer(call: Call) -> Response:
    body = await call.body()
    user, _ = dialect.create_customer(
        ctx=call.ctx,
        client_id=call.client_id,
        unique_id=body.text("UniqueID"),
        name=body.text("Name"),
        source=body.text("Source"),
    )
    return reply(_customers_out(call, [user])[0])


async def get_customer(call: Call) -> Response:
    return reply(_customers_out(call, [_customer(call)])[0])


async def delete_customer(call: Call) -> Response:
    user = _customer(call)
    users.delete_user(ctx=call.ctx, client_id=call.client_id, user_id=user.id)
    return reply(0)


def _member_out(call: Call, connection: Connection, names: dict[str, str]) -> dict[str, Any]:
    if connection.institution_id not in names:
        names[connection.institution_id] = institutions.get_institution(
            ctx=call.ctx, institution_id=connection.institution_id
        ).name
    latest = jobs.list_jobs(
        ctx=call.ctx, client_id=call.client_id, connection_id=connection.id, limit=1
    )
    return member_out(
        connection,
        institution_name=names[connection.institution_id],
        job_id=latest[0].id if latest else None,
    )


async def list_members(call: Call) -> Response:
    user = _customer(call)
    found = connections.list_connections(ctx=call.ctx, client_id=call.client_id, user_id=user.id)
    names: dict[str, str] = {}
    return reply([_member_out(call, c, names) for c in found])


async def create_member(call: Call) -> Response:
    user = _customer(call)
    body = await call.body()
    credentials = {
        "username": body.text("UserName", required=True),
        "password": body.text("Password", required=True),
    }
    connection, job = connections.create_connection(
        ctx=call.ctx,
        client_id=call.client_id,
        user_id=user.id,
        institution_id=body.guid("InstitutionID"),
        credentials=credentials,
        products=products(call.params["jobtypes"]),
    )
    return reply(
        {
            "MemberID": connection.id,
            "JobID": job.id,
            "CustomerID": user.id,
            "InstitutionID": connection.institution_id,
        }
    )


async def get_member(call: Call) -> Response:
    return reply(_member_out(call, _member(call), {}))


async def delete_member(call: Call) -> Response:
    connection = _member(call)
    connections.delete_connection(
        ctx=call.ctx, client_id=call.client_id, connection_id=connection.id
    )
    return reply(0)


async def update_member(call: Call) -> Response:
    """New credentials (either may be absent: keep the stored one) and a new login job."""
    connection = _member(call)
    body = await call.body()
    credentials = {
        key: value
        for key, value in (
            ("username", body.text("UserName")),
            ("password", body.text("Password")),
        )
        if value
    }
    job = connections.relink_connection(
        ctx=call.ctx,
        client_id=call.client_id,
        connection_id=connection.id,
        credentials=credentials or None,
        products=products(call.params["jobtypes"]),
    )
    return reply({"MemberID": connection.id, "JobID": job.id})


async def refresh_member(call: Call) -> Response:
    connection = _member(call)
    wanted = products(call.params["jobtypes"])
    try:
        job = connections.refresh_connection(
            ctx=call.ctx, client_id=call.client_id, connection_id=connection.id, products=wanted
        )
    except Conflict as exc:
        if exc.code not in {"connection_not_linked", "needs_relink"}:
            raise
        job = connections.relink_connection(
            ctx=call.ctx, client_id=call.client_id, connection_id=connection.id, products=wanted
        )
    return reply({"MemberID": connection.id, "JobID": job.id})


async def member_accounts(call: Call) -> Response:
    connection = _member(call)
    return reply(views.connection_accounts(call.ctx, call.client_id, connection.id, v2=True))


async def customer_accounts(call: Call) -> Response:
    user = _customer(call)
    found = data.list_accounts(
        ctx=call.ctx, client_id=call.client_id, user_id=user.id, sensitive=True
    )
    return reply(views.accounts_out(call.ctx, call.client_id, found, v2=True))


def _account_of_customer(call: Call) -> tuple[str, dict[str, Any]]:
    user = _customer(call)
    account, out = views.one_account(call.ctx, call.client_id, call.params["aid"], v2=True)
    if account.user_id != user.id:
        raise NotFound("No such account.", code="account_not_found")
    return account.id, out


async def customer_account(call: Call) -> Response:
    return reply(_account_of_customer(call)[1])


async def account_transactions(call: Call) -> Response:
    account_id, _ = _account_of_customer(call)
    return reply(
        views.transactions_out(
            call.ctx, call.client_id, account_id, call.query("startDate"), call.query("endDate")
        )
    )


async def get_job(call: Call) -> Response:
    return reply(
        job_body(
            ctx=call.ctx, client_id=call.client_id, job_id=call.params["jobid"], hold=call.hold
        )
    )


async def answer_challenge(call: Call) -> Response:
    step = STEP_NAMES.get(call.params["type"])
    if step is None:
        raise InvalidInput("Unknown challenge type.", code="invalid_challenge_type")
    body = await call.body()
    if not body.has("AnswerText"):
        raise InvalidInput("AnswerText is required.", code="missing_field")
    result = answer(
        ctx=call.ctx,
        client_id=call.client_id,
        job_id=call.params["jobid"],
        step=step,
        raw=body.raw("AnswerText"),
    )
    return reply(result)


def routes(prefix: str) -> Routes:
    table = Routes(prefix + "/v2")
    table.add("GET", "/customers", list_customers)
    table.add("POST", "/customers", create_customer)
    table.add("GET", "/customers/{cid}", get_customer)
    table.add("DELETE", "/customers/{cid}", delete_customer)
    table.add("GET", "/customers/{cid}/members", list_members)
    table.add("POST", "/customers/{cid}/members/{jobtypes}", create_member)
    table.add("GET", "/customers/{cid}/members/{mid}", get_member)
    table.add("DELETE", "/customers/{cid}/members/{mid}", delete_member)
    table.add("GET", "/customers/{cid}/members/{mid}/accounts", member_accounts)
    table.add("PUT", "/customers/{cid}/members/{mid}/{jobtypes}", update_member)
    table.add("POST", "/customers/{cid}/members/{mid}/{jobtypes}", refresh_member)
    table.add("GET", "/customers/{cid}/accounts", customer_accounts)
    table.add("GET", "/customers/{cid}/accounts/{aid}", customer_account)
    table.add("GET", "/customers/{cid}/accounts/{aid}/transactions", account_transactions)
    table.add("GET", "/job/{jobid}", get_job)
    table.add("PUT", "/job/{jobid}/challenge/{type}", answer_challenge)
    return table
