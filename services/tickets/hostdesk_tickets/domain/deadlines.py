"""When an answered ticket closes by itself (SPEC section 2: "Answered tickets with no reply from the requester
for a configurable time close by themselves, with the reason recorded").

A ticket that becomes ``answered`` (or opens so: the handling side opened it to an account below it) waits for
its requester, and closes by itself once the idle time has passed.
Another public answer while it waits starts the wait again, at that answer's version (a ticket that does not
wait has no deadline to renew). Any other status, a
close, a reopening or a merge lifts the deadline. Pure: ticket events in, changes to the table of deadlines out.

The ticket records the version of the answer its requester has not replied to (``Ticket.answered_version``),
the same version a deadline holds: it refuses a close for any earlier answer, so a deadline the table has not
caught up with yet never closes a ticket answered since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from hostdesk_contracts.base import Actor, Role, Side, Status, Visibility
from hostdesk_contracts.commands import AutoCloseTicket
from hostdesk_contracts.events import (
    ReplyPosted,
    StatusChanged,
    TicketClosed,
    TicketEvent,
    TicketMerged,
    TicketOpened,
    TicketReopened,
)

SYSTEM_ACCOUNT = "system"
SYSTEM_NAME = "HostDesk"


@dataclass(frozen=True, slots=True)
class Deadline:
    """The ticket, answered at ``answered_version``, closes at ``due_at`` unless something happens first."""

    ticket_id: UUID
    tenant: str
    answered_version: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Renewed:
    """Another public answer: a ticket that waits for its requester waits again from this answer."""

    ticket_id: UUID
    answered_version: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Lifted:
    """The ticket no longer waits for its requester: it has no deadline."""

    ticket_id: UUID


DeadlineChange = Deadline | Renewed | Lifted


def deadline_change(event: TicketEvent, *, idle: timedelta) -> DeadlineChange | None:
    """What one ticket event does to the ticket's deadline; None when it does nothing to it."""
    match event:
        case TicketOpened(status=Status.ANSWERED):  # opened by the handling side: it waits for its requester
            return Deadline(
                ticket_id=event.ticket_id,
                tenant=event.tenant,
                answered_version=event.version,
                due_at=event.occurred_at + idle,
            )
        case StatusChanged(to_status=Status.ANSWERED):
            return Deadline(
                ticket_id=event.ticket_id,
                tenant=event.tenant,
                answered_version=event.version,
                due_at=event.occurred_at + idle,
            )
        case StatusChanged() | TicketClosed() | TicketReopened() | TicketMerged():
            return Lifted(ticket_id=event.ticket_id)
        case ReplyPosted(side=Side.HANDLER, visibility=Visibility.PUBLIC):
            return Renewed(ticket_id=event.ticket_id, answered_version=event.version, due_at=event.occurred_at + idle)
    return None


def deadline_changes(events: Iterable[TicketEvent], *, idle: timedelta) -> list[DeadlineChange]:
    """The net change of each ticket's deadline over ``events`` (in log order): one write per ticket."""
    net: dict[UUID, DeadlineChange] = {}
    for event in events:
        change = deadline_change(event, idle=idle)
        if change is None:
            continue
        before = net.get(change.ticket_id)
        if isinstance(change, Renewed):
            if isinstance(before, Lifted):
                continue  # no wait left to renew
            if isinstance(before, Deadline):
                change = replace(before, answered_version=change.answered_version, due_at=change.due_at)
        net[change.ticket_id] = change
    return list(net.values())


def idle_time_in_words(idle: timedelta) -> str:
    """``7 days``, ``36 hours``, ``90 minutes``: the largest whole unit, as a person would say it."""
    seconds = int(idle.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return f"{seconds} second" + ("" if seconds == 1 else "s")


def auto_close_command(deadline: Deadline, *, idle: timedelta, now: datetime) -> AutoCloseTicket:
    """The system's command closing the ticket of a passed ``deadline``.

    Its id names the ticket and the answer it waited on, so however many times and by however many
    replicas it is issued, the ticket applies it once; if the ticket moved on, the ticket refuses it.
    """
    return AutoCloseTicket(
        command_id=f"auto-close:{deadline.ticket_id}:{deadline.answered_version}",
        ticket_id=deadline.ticket_id,
        actor=Actor(account_id=SYSTEM_ACCOUNT, tenant=deadline.tenant, role=Role.SYSTEM, display_name=SYSTEM_NAME),
        issued_at=now,
        answered_version=deadline.answered_version,
        reason=f"No reply from the requester for {idle_time_in_words(idle)}",
    )
