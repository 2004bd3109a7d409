"""Planning a chunk of the catch-up: the version gate and the projection of ``plan_batch``, with the events that
arrive ahead of their ticket held back instead of retried later by JetStream.

The live path naks such an event and gets it again after a delay, by which time the missing one has usually
been applied. Here the chunk is planned again with the held events moved after all the others (by ticket and
version, so that a run of them resolves in one pass), and those still ahead of their ticket are carried into
the next chunk. The decisions of the others do not change, since an event held changed nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from hostdesk_query.adapters.catchup_stream import StreamMessage
from hostdesk_query.domain.gate import Decision
from hostdesk_query.domain.model import TicketRecord
from hostdesk_query.domain.projection import BatchPlan, Change, plan_batch


@dataclass(frozen=True, slots=True)
class Pending:
    """An event of the stream waiting to be applied."""

    seq: int  # its stream sequence
    change: Change
    message: StreamMessage  # as read, to be dead-lettered if the database refuses it


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    plan: BatchPlan  # decisions in the order of ``order``
    order: tuple[Pending, ...]  # the events as finally planned
    held: tuple[Pending, ...]  # still ahead of their ticket, in stream order


def resume_seq(held: Sequence[Pending], *, read_seq: int) -> int:
    """Where reading starts again once everything up to ``read_seq`` is read: at the first event held."""
    return min((pending.seq for pending in held), default=read_seq + 1)


def in_ticket_order(pending: Pending) -> tuple[UUID, int]:
    return pending.change.ticket_id, pending.change.version


def _split(order: Sequence[Pending], plan: BatchPlan) -> tuple[list[Pending], list[Pending]]:
    """The events decided (applied or duplicates), and those ahead of their ticket."""
    decided: list[Pending] = []
    ahead: list[Pending] = []
    for pending, decision in zip(order, plan.decisions, strict=True):
        (ahead if decision is Decision.GAP else decided).append(pending)
    return decided, ahead


def plan_chunk(existing: Mapping[UUID, TicketRecord], events: Sequence[Pending]) -> ChunkPlan:
    """Plan ``events`` (in stream order) against the tickets as they are before the chunk."""
    order = list(events)
    plan = plan_batch(existing, [pending.change for pending in order])
    decided, held = _split(order, plan)
    while held:
        order = decided + sorted(held, key=in_ticket_order)
        plan = plan_batch(existing, [pending.change for pending in order])
        decided, still = _split(order, plan)
        resolved_some = len(still) < len(held)
        held = still
        if not resolved_some:
            break
    return ChunkPlan(plan=plan, order=tuple(order), held=tuple(sorted(held, key=lambda pending: pending.seq)))
