"""The widget: its page, loader script and assets, and its own JSON API under `/connect/api`.

The page is plain HTML, CSS and JavaScript from the package (no build step, no
CDN) behind a strict Content-Security-Policy. Its API is authenticated by a
widget session (`Authorization: Bearer cs_...`) that the page gets once for its
single-use connect token; API keys never reach the browser.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile

from billfold.api.connect.schemas import (
    InstitutionBrief,
    InstitutionBriefList,
    OpenSession,
    SessionOut,
    StartLink,
    WidgetAnswer,
    WidgetJob,
    WidgetStatement,
)
from billfold.api.native.auth import Ctx, container, service_context
from billfold.api.native.schemas import AccountList, AccountOut, InstitutionOut
from billfold.domain.errors import InvalidInput, NotFound, Unauthorized
from billfold.services import connect, institutions
from billfold.services.context import ServiceContext
from billfold.services.statements import StatementUpload
from billfold.statements.records import StatementError, StatementErrorCode
from billfold.store.connect import ConnectSession

ASSETS = {
    "widget.css": "text/css; charset=utf-8",
    "widget.js": "text/javascript; charset=utf-8",
    "demo.js": "text/javascript; charset=utf-8",
    "demo.css": "text/css; charset=utf-8",
}
# The widget's type filter, in the words a person uses.
KIND_GROUPS: dict[str, list[str]] = {
    "all": [],
    "banks": ["bank", "credit_union"],
    "cards": ["card_issuer"],
    "utilities": ["utility"],
    "phone": ["phone"],
    "internet": ["internet"],
    "other": ["other_biller"],
}
WIDGET_FILES = ("widget.html", "widget.css", "widget.js", "connect.js")
BASE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'"
)

_TOKEN_IN_URL = re.compile(r"((?:^|[?&])token=)[^&\s\"]+")


class RedactConnectTokens(logging.Filter):
    """The widget's URL carries its single-use token: keep it out of access logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(a) for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        return True


def _redact(value: Any) -> Any:
    return _TOKEN_IN_URL.sub(r"\1<redacted>", value) if isinstance(value, str) else value


def install_log_redaction() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactConnectTokens) for f in access.filters):
        access.addFilter(RedactConnectTokens())


install_log_redaction()

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/connect/api", tags=["connect widget"])


@cache
def asset(name: str) -> bytes:
    return resources.files("billfold.api.connect").joinpath("static", name).read_bytes()


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


# ----- pages and assets ------------------------------------------------------------------


@router.get("/connect")
async def widget_page(
    ctx: Ctx, token: Annotated[str | None, Query(max_length=300)] = None
) -> Response:
    """The widget. Only pages on the token's allowed origins (or Billfold's own) may frame it."""
    origins = connect.allowed_frame_origins(ctx=ctx, token=token) if token else ()
    ancestors = " ".join(("'self'", *origins))
    csp = f"{BASE_CSP}; frame-ancestors {ancestors}"
    return Response(asset("widget.html"), media_type="text/html", headers=_headers(csp))


@router.get("/connect.js")
async def loader() -> Response:
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    return Response(asset("connect.js"), media_type="text/javascript", headers=headers)


@router.get("/connect/static/{name}")
async def static_asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound("No such file.", code="not_found")
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    return Response(asset(name), media_type=media_type, headers=headers)


# ----- the widget's API ------------------------------------------------------------------


async def _session(request: Request) -> ConnectSession:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("The widget session is missing.", code="session_invalid")
    ctx: ServiceContext = await service_context(request)
    return connect.get_session(ctx=ctx, secret=secret.strip())


Session = Annotated[ConnectSession, Depends(_session)]


@api.post("/session", response_model=SessionOut, status_code=201)
async def open_session(body: OpenSession, request: Request, ctx: Ctx) -> SessionOut:
    """Exchange the single-use connect token for this widget's session."""
    home = own_origin(request)
    opened = connect.open_session(
        ctx=ctx,
        token=body.token,
        origin=body.origin or home,
        own_origin=home,
        client_id=body.client_id,
    )
    view = connect.describe_session(ctx=ctx, session=opened.session)
    return SessionOut(
        session=opened.secret,
        expires_at=opened.session.expires_at,
        mode=opened.session.mode,
        client_name=view.client_name,
        origin=opened.session.origin,
        institution=InstitutionOut.of(view.institution) if view.institution else None,
        pinned=opened.session.pinned_institution_id is not None,
        username=view.username,
    )


@api.get("/institutions", response_model=InstitutionBriefList)
async def search(
    ctx: Ctx,
    _: Session,
    query: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[str, Query(max_length=20)] = "all",
) -> InstitutionBriefList:
    kinds = KIND_GROUPS.get(kind)
    if kinds is None:
        raise InvalidInput("No such institution type.", code="invalid_kind")
    page = institutions.search_institutions(ctx=ctx, query=query or None, kinds=kinds, limit=50)
    return InstitutionBriefList(
        data=[
            InstitutionBrief(id=i.id, name=i.name, kind=i.kind.value, url=i.url) for i in page.items
        ]
    )


@api.get("/institutions/{institution_id}", response_model=InstitutionOut)
async def institution(institution_id: str, ctx: Ctx, _: Session) -> InstitutionOut:
    return InstitutionOut.of(institutions.get_institution(ctx=ctx, institution_id=institution_id))


@api.post("/link", response_model=WidgetJob, status_code=202)
async def link(body: StartLink, ctx: Ctx, session: Session) -> WidgetJob:
    job = connect.start_link(
        ctx=ctx, session=session, institution_id=body.institution_id, credentials=body.credentials
    )
    return WidgetJob.of(job)


@api.post("/retry", response_model=WidgetJob, status_code=202)
async def retry(ctx: Ctx, session: Session) -> WidgetJob:
    return WidgetJob.of(connect.retry_link(ctx=ctx, session=session))


@api.get("/job", response_model=WidgetJob)
async def job(
    ctx: Ctx,
    session: Session,
    known: Annotated[str | None, Query(max_length=200)] = None,
    wait: Annotated[float, Query(ge=0, le=25)] = 0,
) -> WidgetJob:
    """The job; with `known` and `wait`, held until it differs from that version."""
    found = await connect.wait_for_change(ctx=ctx, session=session, known=known, timeout=wait)
    return WidgetJob.of(found)


@api.post("/answer", response_model=WidgetJob)
async def answer(body: WidgetAnswer, ctx: Ctx, session: Session) -> WidgetJob:
    job = connect.answer(
        ctx=ctx, session=session, challenge_id=body.challenge_id, values=body.answers
    )
    return WidgetJob.of(job)


@api.post("/cancel", status_code=204)
async def cancel(ctx: Ctx, session: Session) -> Response:
    connect.cancel(ctx=ctx, session=session)
    return Response(status_code=204)


@api.get("/accounts", response_model=AccountList)
async def accounts(ctx: Ctx, session: Session) -> AccountList:
    found = connect.linked_accounts(ctx=ctx, session=session)
    return AccountList(data=[AccountOut.of(a) for a in found])


@api.post("/statement", response_model=WidgetStatement, status_code=201)
def statement(
    ctx: Ctx,
    session: Session,
    request: Request,
    file: Annotated[UploadFile, File()],
    institution_id: Annotated[str, Form(min_length=1, max_length=64)],
    account_type: Annotated[str | None, Form(max_length=32)] = None,
) -> WidgetStatement:
    """Upload a statement file instead of logging in (a plain `def`: a big file takes a while)."""
    limit = container(request).settings.statement_max_bytes
    if file.size is not None and file.size > limit:
        raise StatementError(
            StatementErrorCode.FILE_TOO_LARGE,
            f"the file is {file.size:,} bytes; the largest statement accepted is {limit:,} bytes",
        )
    upload = StatementUpload(
        data=file.file, filename=file.filename, account_type=account_type or None
    )
    uploaded = connect.upload_statement(
        ctx=ctx, session=session, institution_id=institution_id, upload=upload, max_bytes=limit
    )
    return WidgetStatement.of(uploaded)
