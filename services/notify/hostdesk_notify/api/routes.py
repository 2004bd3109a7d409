"""Thin routes: check the caller, ask the store, shape the answer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from hostdesk_contracts.runtime.problems import NotFound

from hostdesk_notify.api.deps import StaffDep, StoreDep
from hostdesk_notify.api.schemas import DeliveriesOut, DeliveryOut

router = APIRouter()


@router.get("/v1/deliveries")
async def list_deliveries(
    actor: StaffDep,
    store: StoreDep,
    ticket_id: Annotated[UUID, Query(description="The ticket whose mail to list.")],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveriesOut:
    """The mail notify sent, is still trying to send, gave up or held back (``suppressed``, with its reason) about
    one ticket of the caller's organisation."""
    if not await store.ticket_in_tenant(ticket_id, actor.tenant):
        raise NotFound(f"No ticket {ticket_id} is known here.")
    deliveries = await store.deliveries(ticket_id, tenant=actor.tenant, limit=limit)
    return DeliveriesOut(ticket_id=ticket_id, deliveries=[DeliveryOut.model_validate(d) for d in deliveries])
