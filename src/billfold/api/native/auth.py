"""API-key authentication for `/v1`: `Authorization: Bearer <api_key>`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from billfold.container import Container
from billfold.domain.errors import Unauthorized
from billfold.domain.parties import Client
from billfold.services.context import ServiceContext


def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


async def service_context(request: Request) -> ServiceContext:
    # async: a plain def dependency costs a thread-pool round trip per request.
    return container(request).ctx


def current_client(request: Request) -> Client:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized(
            "Send your API key as 'Authorization: Bearer <api_key>'.", code="missing_api_key"
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Use the Bearer scheme: 'Authorization: Bearer <api_key>'.",
            code="invalid_authorization",
        )
    return container(request).api_keys.verify(token.strip())


async def _current_client(request: Request) -> Client:
    return current_client(request)


Ctx = Annotated[ServiceContext, Depends(service_context)]
CurrentClient = Annotated[Client, Depends(_current_client)]
