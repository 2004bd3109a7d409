"""Thin routes: check the caller, ask the store, shape the answer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from hostdesk_contracts.runtime.auth import ActorDep
from hostdesk_contracts.runtime.problems import NotFound

from hostdesk_notify.api.deps import ReachDep, StoreDep
from hostdesk_notify.api.schemas import DeliveriesOut, DeliveryOut
from hostdesk_notify.domain.contacts import handled_by

router = APIRouter()


@router.get("/v1/deliveries")
async def list_deliveries(
    actor: ActorDep,
    reach: ReachDep,
    store: StoreDep,
    ticket_id: Annotated[UUID, Query(description="The ticket whose mail to list.")],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveriesOut:
    """The mail notify sent, is still trying to send, gave up or held back (``suppressed``, with its reason) about
    one ticket, for the ticket's handling side only: the staff of the organisation it is addressed to, or that
    account itself. Anyone else, its requester included, is answered 404, as for a ticket notify never saw."""
    ticket = await store.ticket_of_tenant(ticket_id, actor.tenant)
    if ticket is None or not handled_by(reach, ticket):
        raise NotFound(f"No ticket {ticket_id} is known here.")
    deliveries = await store.deliveries(ticket_id, tenant=actor.tenant, limit=limit)
    return DeliveriesOut(ticket_id=ticket_id, deliveries=[DeliveryOut.model_validate(d) for d in deliveries])
