"""`/v1/institutions`: search the directory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from billfold.api.native.auth import Ctx, CurrentClient
from billfold.api.native.schemas import InstitutionOut, InstitutionPage
from billfold.services import institutions

router = APIRouter(prefix="/institutions", tags=["institutions"])


@router.get("", response_model=InstitutionPage)
async def search(
    ctx: Ctx,
    _: CurrentClient,
    query: Annotated[str | None, Query(max_length=200, description="Part of the name")] = None,
    kind: Annotated[
        list[str] | None,
        Query(
            description="bank, credit_union, card_issuer, utility, phone, internet, other_biller"
        ),
    ] = None,
    routing_number: Annotated[str | None, Query(max_length=9)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> InstitutionPage:
    kinds = [k for value in kind or [] for k in value.split(",") if k.strip()]
    page = institutions.search_institutions(
        ctx=ctx, query=query, kinds=kinds, routing_number=routing_number, cursor=cursor, limit=limit
    )
    return InstitutionPage(
        data=[InstitutionOut.of(i) for i in page.items], next_cursor=page.next_cursor
    )


@router.get("/{institution_id}", response_model=InstitutionOut)
async def get(institution_id: str, ctx: Ctx, _: CurrentClient) -> InstitutionOut:
    return InstitutionOut.of(institutions.get_institution(ctx=ctx, institution_id=institution_id))
