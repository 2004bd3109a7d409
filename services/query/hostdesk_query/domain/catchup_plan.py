"""Planning a chunk of the catch-up: the version gate and the projection of ``plan_batch``, with the events that
arrive ahead of their ticket held back instead of retried later by JetStream.

The live path naks such an event and gets it again after a delay, by which time the missing one has usually
been applied. Here the chunk is planned again with the held events moved after all the others (by ticket and
version, so that a run of them resolves in one pass), and those still ahead of their ticket are carried into
the next chunk. The decisions of the others do not change, since an event held changed nothing.

Each event carries its message as read (``M``: the stream adapter's), untouched here, to be dead-lettered later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

from hostdesk_query.domain.gate import Decision
from hostdesk_query.domain.model import TicketRecord
from hostdesk_query.domain.projection import BatchPlan, Change, plan_batch

M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class Pending(Generic[M]):
    """An event of the stream waiting to be applied."""

    seq: int  # its stream sequence
    change: Change
    message: M  # as read, to be dead-lettered if the database refuses it


@dataclass(frozen=True, slots=True)
class ChunkPlan(Generic[M]):
    plan: BatchPlan  # decisions in the order of ``order``
    order: tuple[Pending[M], ...]  # the events as finally planned
    held: tuple[Pending[M], ...]  # still ahead of their ticket, in stream order


def resume_seq(held: Sequence[Pending[M]], *, read_seq: int) -> int:
    """Where reading starts again once everything up to ``read_seq`` is read: at the first event held."""
    return min((pending.seq for pending in held), default=read_seq + 1)


def in_ticket_order(pending: Pending[M]) -> tuple[UUID, int]:
    return pending.change.ticket_id, pending.change.version


def _split(order: Sequence[Pending[M]], plan: BatchPlan) -> tuple[list[Pending[M]], list[Pending[M]]]:
    """The events decided (applied or duplicates), and those ahead of their ticket."""
    decided: list[Pending[M]] = []
    ahead: list[Pending[M]] = []
    for pending, decision in zip(order, plan.decisions, strict=True):
        (ahead if decision is Decision.GAP else decided).append(pending)
    return decided, ahead


def plan_chunk(existing: Mapping[UUID, TicketRecord], events: Sequence[Pending[M]]) -> ChunkPlan[M]:
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
