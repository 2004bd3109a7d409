"""Ticket events made by hand and published as the relay would, for feeding the consumers directly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

import nats
from hostdesk_contracts.base import Actor, Channel, Priority, Role, Side, Status, Visibility
from hostdesk_contracts.events import ReplyPosted, TicketEvent, TicketOpened, event_id_of
from hostdesk_contracts.subjects import Subjects, event_headers

from tests.support import RELAY_SIGNER


def opened(tenant: str, ticket_id: UUID, *, requester_email: str, number: int | None = None) -> TicketOpened:
    requester = Actor(account_id="cust-poison", tenant=tenant, role=Role.CUSTOMER, email=requester_email)
    command_id = str(uuid.uuid4())
    return TicketOpened(
        event_id=event_id_of(ticket_id, 1),
        ticket_id=ticket_id,
        tenant=tenant,
        version=1,
        occurred_at=datetime.now(UTC),
        actor=requester,
        side=Side.REQUESTER,
        command_id=command_id,
        number=100_000 + ticket_id.int % 800_000 if number is None else number,
        subject="Disk full",
        body="The disk of vps-7 is full.",
        post_id=command_id,
        requester=requester,
        status=Status.OPEN,
        priority=Priority.NORMAL,
        channel=Channel.WEB,
    )


def staff_reply(tenant: str, ticket_id: UUID, *, version: int, body: str) -> ReplyPosted:
    command_id = str(uuid.uuid4())
    return ReplyPosted(
        event_id=event_id_of(ticket_id, version),
        ticket_id=ticket_id,
        tenant=tenant,
        version=version,
        occurred_at=datetime.now(UTC),
        actor=Actor(account_id="agent-poison", tenant=tenant, role=Role.AGENT),
        side=Side.HANDLER,
        command_id=command_id,
        post_id=command_id,
        body=body,
        visibility=Visibility.PUBLIC,
    )


async def publish(nats_url: str, subjects: Subjects, events: list[TicketEvent]) -> list[int]:
    """Publish ``events`` in order on the events stream; their stream sequences."""
    nc = await nats.connect(nats_url, connect_timeout=5)
    try:
        js = nc.jetstream()
        sequences = []
        for event in events:
            subject, body = subjects.event(event.tenant, event), event.model_dump_json().encode()
            ack = await js.publish(subject, body, headers=RELAY_SIGNER.signed(subject, event_headers(event), body))
            sequences.append(ack.seq)
        return sequences
    finally:
        await nc.close()
