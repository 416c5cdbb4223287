"""v1: `POST R/api/<Controller>/<Action>` with a JSON body (spec section 4).

TransmitStatus calls answer a bare `0` (done) or `-1` (not applicable, unknown
job, malformed answer), always with HTTP 200.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from billfold.api.sophtron import accounts as views
from billfold.api.sophtron.jobs import ACCEPTED, REFUSED, Step, answer, job_body
from billfold.api.sophtron.presenters import institution_out, user_institution_out
from billfold.api.sophtron.routing import Call, Routes
from billfold.api.sophtron.wire import ZERO_GUID, Body, reply
from billfold.domain.connections import Connection
from billfold.domain.errors import BillfoldError
from billfold.services import connections, data, institutions
from billfold.services import sophtron as dialect

# Create variants -> normalized job products (spec 6.4).
CREATE_VARIANTS: dict[str, tuple[str, ...]] = {
    "createuserinstitution": ("aggregate",),
    "createuserinstitutionwithrefresh": ("aggregate",),
    "createuserinstitutionwithfullhistory": ("aggregate", "history"),
    "createuserinstitutionwithfullaccountnumbers": ("verification", "aggregate"),
    "createuserinstitutionwithprofileinfo": ("identity", "aggregate"),
    "createuserinstitutionwithrewardsinfo": ("aggregate",),
    "createuserinstitutionwithallplusprofile": ("verification", "identity", "aggregate", "history"),
    "createuserinstitutionwithall": ("verification", "identity", "aggregate", "history"),
}


def _credentials(body: Body, *, required: bool) -> dict[str, str]:
    values: dict[str, str] = {}
    for field, key in (("UserName", "username"), ("Password", "password")):
        value = body.text(field, required=required)
        if value is not None:
            values[key] = value
    return values


def _attributes(body: Body) -> dict[str, Any]:
    company = body.text("CompanyID")
    return {"sophtron_company_id": company} if company else {}


async def health(call: Call) -> Response:
    return reply("this is online.")


async def ping(call: Call) -> Response:
    return reply("pong")


async def institution_by_name(call: Call) -> Response:
    name = (await call.body()).text("InstitutionName") or ""
    if not name.strip():
        return reply([])
    page = institutions.search_institutions(ctx=call.ctx, query=name, limit=100)
    return reply([institution_out(i) for i in page.items])


async def institution_by_id(call: Call) -> Response:
    institution_id = (await call.body()).guid("InstitutionID")
    return reply(
        institution_out(institutions.get_institution(ctx=call.ctx, institution_id=institution_id))
    )


async def institution_by_routing(call: Call) -> Response:
    number = ((await call.body()).text("RoutingNumber") or "").strip()
    if not number:
        return reply([])
    page = institutions.search_institutions(ctx=call.ctx, routing_number=number, limit=100)
    return reply([institution_out(i) for i in page.items])


async def institutions_by_user(call: Call) -> Response:
    call.check_user(await call.body())
    seen: dict[str, Any] = {}
    for connection in connections.list_connections(ctx=call.ctx, client_id=call.client_id):
        if connection.institution_id not in seen:
            seen[connection.institution_id] = institution_out(
                institutions.get_institution(ctx=call.ctx, institution_id=connection.institution_id)
            )
    return reply(list(seen.values()))


async def add_institution(call: Call) -> Response:
    await call.body()
    return reply(ZERO_GUID)


async def integration_key(call: Call) -> Response:
    call.check_user(await call.body(), "Id")
    return reply(
        {"IntegrationKey": dialect.integration_key(ctx=call.ctx, client_id=call.client_id)}
    )


async def create_user_institution(call: Call) -> Response:
    body = await call.body()
    call.check_user(body)
    action = str(call.request.scope["path"]).rsplit("/", 1)[-1]
    user = dialect.v1_user(ctx=call.ctx, client_id=call.client_id)
    connection, job = connections.create_connection(
        ctx=call.ctx,
        client_id=call.client_id,
        user_id=user.id,
        institution_id=body.guid("InstitutionID"),
        credentials=_credentials(body, required=True),
        products=list(CREATE_VARIANTS[action]),
        attributes=_attributes(body),
    )
    return reply({"JobID": job.id, "UserInstitutionID": connection.id})


async def create_without_job(call: Call) -> Response:
    body = await call.body()
    call.check_user(body)
    user = dialect.v1_user(ctx=call.ctx, client_id=call.client_id)
    connection = dialect.create_login(
        ctx=call.ctx,
        client_id=call.client_id,
        user_id=user.id,
        institution_id=body.guid("InstitutionID"),
        credentials=_credentials(body, required=True),
        attributes=_attributes(body),
    )
    return reply(connection.id)


async def update_user_institution(call: Call) -> Response:
    body = await call.body()
    try:
        connections.update_credentials(
            ctx=call.ctx,
            client_id=call.client_id,
            connection_id=body.guid("UserInstitutionID"),
            credentials=_credentials(body, required=False),
        )
    except BillfoldError:
        return reply(REFUSED)
    return reply(ACCEPTED)


async def delete_user_institution(call: Call) -> Response:
    body = await call.body()
    try:
        connections.delete_connection(
            ctx=call.ctx, client_id=call.client_id, connection_id=body.guid("UserInstitutionID")
        )
    except BillfoldError:
        return reply(REFUSED)
    return reply(ACCEPTED)


async def retry_user_institution(call: Call) -> Response:
    connection_id = (await call.body()).guid("UserInstitutionID")
    job = connections.relink_connection(
        ctx=call.ctx, client_id=call.client_id, connection_id=connection_id
    )
    return reply({"JobID": job.id})


async def refresh_user_institution(call: Call) -> Response:
    connection_id = (await call.body()).guid("UserInstitutionID")
    job = connections.refresh_connection(
        ctx=call.ctx, client_id=call.client_id, connection_id=connection_id
    )
    return reply({"JobID": job.id})


def _user_institution(call: Call, connection: Connection) -> dict[str, Any]:
    identity, attributes = dialect.connection_details(
        ctx=call.ctx, client_id=call.client_id, connection_id=connection.id
    )
    return user_institution_out(
        connection,
        developer=call.caller.user_id,
        institution_name=institutions.get_institution(
            ctx=call.ctx, institution_id=connection.institution_id
        ).name,
        identity=identity,
        attributes=attributes,
    )


async def user_institutions_by_user(call: Call) -> Response:
    call.check_user(await call.body())
    found = connections.list_connections(ctx=call.ctx, client_id=call.client_id)
    return reply([_user_institution(call, c) for c in found])


async def user_institution_by_id(call: Call) -> Response:
    connection_id = (await call.body()).guid("UserInstitutionID")
    connection = connections.get_connection(
        ctx=call.ctx, client_id=call.client_id, connection_id=connection_id
    )
    return reply(_user_institution(call, connection))


async def profile_info(call: Call) -> Response:
    connection_id = (await call.body()).guid("UserInstitutionID")
    out = _user_institution(
        call,
        connections.get_connection(
            ctx=call.ctx, client_id=call.client_id, connection_id=connection_id
        ),
    )
    return reply(
        {k: out[k] for k in ("UserInstitutionID", "OwnerName", "Address", "Phone", "Email")}
    )


async def user_institution_accounts(call: Call) -> Response:
    connection_id = (await call.body()).guid("UserInstitutionID")
    return reply(views.connection_accounts(call.ctx, call.client_id, connection_id))


async def account_by_id(call: Call) -> Response:
    _, out = views.one_account(call.ctx, call.client_id, (await call.body()).guid("AccountID"))
    return reply(out)


async def refresh_account(call: Call) -> Response:
    account = data.get_account(
        ctx=call.ctx, client_id=call.client_id, account_id=(await call.body()).guid("AccountID")
    )
    job = connections.refresh_connection(
        ctx=call.ctx,
        client_id=call.client_id,
        connection_id=account.connection_id,
        account_external_ids=(account.data.external_id,),
    )
    return reply({"JobID": job.id})


async def full_account_number(call: Call) -> Response:
    body = await call.body()
    account_id, job_id = body.guid("AccountID"), body.guid("JobID")
    dialect.select_account(
        ctx=call.ctx, client_id=call.client_id, job_id=job_id, account_id=account_id
    )
    account, out = views.one_account(call.ctx, call.client_id, account_id)
    out["FullAccountNumber"] = account.data.full_number
    out["RoutingNumber"] = account.data.routing_number
    return reply(out)


async def transactions_by_date(call: Call) -> Response:
    body = await call.body()
    return reply(
        views.transactions_out(
            call.ctx,
            call.client_id,
            body.guid("AccountID"),
            body.text("StartDate"),
            body.text("EndDate"),
        )
    )


async def job_information(call: Call) -> Response:
    job_id = (await call.body()).guid("JobID")
    return reply(job_body(ctx=call.ctx, client_id=call.client_id, job_id=job_id, hold=call.hold))


async def _answer(call: Call, step: Step, raw: Any) -> Response:
    body = await call.body()
    job_id = body.text("JobID")
    if not job_id or raw is None:
        return reply(REFUSED)
    try:
        return reply(
            answer(
                ctx=call.ctx, client_id=call.client_id, job_id=job_id.strip(), step=step, raw=raw
            )
        )
    except BillfoldError:
        return reply(REFUSED)


async def security_answer(call: Call) -> Response:
    return await _answer(call, Step.SECURITY_QUESTION, (await call.body()).raw("SecurityAnswer"))


async def token_input(call: Call) -> Response:
    body = await call.body()
    given = [n for n in ("TokenChoice", "TokenInput", "VerifyPhoneFlag") if body.has(n)]
    if len(given) != 1:
        return reply(REFUSED)
    step = {
        "TokenChoice": Step.TOKEN_METHOD,
        "TokenInput": Step.TOKEN_INPUT,
        "VerifyPhoneFlag": Step.TOKEN_READ,
    }[given[0]]
    return await _answer(call, step, body.raw(given[0]))


async def captcha(call: Call) -> Response:
    return await _answer(call, Step.CAPTCHA, (await call.body()).raw("CaptchaInput"))


def routes(prefix: str) -> Routes:
    table = Routes(prefix)
    both = "GET,POST"
    table.add(both, "/institution/healthcheckauth", health)
    table.add(both, "/userinstitution/ping", ping)
    table.add("POST", "/institution/getinstitutionbyname", institution_by_name)
    table.add("POST", "/institution/getinstitutionbyid", institution_by_id)
    table.add("POST", "/institution/getinstitutionbyroutingnumber", institution_by_routing)
    table.add("POST", "/institution/getinstitutionsbyuser", institutions_by_user)
    table.add("POST", "/institution/addinstitution", add_institution)
    table.add("POST", "/user/getuserintegrationkey", integration_key)
    for action in CREATE_VARIANTS:
        table.add("POST", f"/userinstitution/{action}", create_user_institution)
    table.add("POST", "/userinstitution/createuserinstitutionwojob", create_without_job)
    table.add("POST", "/userinstitution/updateuserinstitution", update_user_institution)
    table.add("POST", "/userinstitution/deleteuserinstitution", delete_user_institution)
    table.add("POST", "/userinstitution/retryaddinguserinstitution", retry_user_institution)
    table.add("POST", "/userinstitution/refreshuserinstitution", refresh_user_institution)
    table.add("POST", "/userinstitution/getuserinstitutionsbyuser", user_institutions_by_user)
    table.add("POST", "/userinstitution/getuserinstitutionbyid", user_institution_by_id)
    table.add("POST", "/userinstitution/getuserinstitutionprofileinfor", profile_info)
    table.add("POST", "/userinstitution/getuserinstitutionaccounts", user_institution_accounts)
    table.add("POST", "/userinstitutionaccount/getuserinstitutionaccountbyid", account_by_id)
    table.add("POST", "/userinstitutionaccount/refreshuserinstitutionaccount", refresh_account)
    table.add("POST", "/userinstitutionaccount/getfullaccountnumberwithinjob", full_account_number)
    table.add("POST", "/transaction/gettransactionsbytransactiondate", transactions_by_date)
    table.add("POST", "/job/getjobinformationbyid", job_information)
    table.add("POST", "/job/getjobbyid", job_information)
    table.add("POST", "/job/updatejobsecurityanswer", security_answer)
    table.add("POST", "/job/updatejobtokeninput", token_input)
    table.add("POST", "/job/updatejobcaptcha", captcha)
    table.add("POST", "/job/updatejobcaptchainput", captcha)
    return table
