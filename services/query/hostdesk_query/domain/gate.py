"""The per-ticket version gate: every event names the version it brings its ticket to, so the read model
applies each event exactly once and in order, however often and in whatever order JetStream delivers it."""

from __future__ import annotations

from enum import StrEnum


class Decision(StrEnum):
    APPLY = "apply"  # the next event of the ticket: apply it
    DUPLICATE = "duplicate"  # already applied: acknowledge it and change nothing
    GAP = "gap"  # an earlier event is missing: retry it once that one has arrived


def decide(*, current_version: int | None, event_version: int, opens: bool) -> Decision:
    """What to do with an event that brings its ticket to ``event_version``.

    ``current_version`` is the ticket's version in the read model (None: no such ticket yet); ``opens`` says
    the event creates the ticket.
    """
    if current_version is None:
        return Decision.APPLY if opens else Decision.GAP
    if event_version <= current_version or opens:
        return Decision.DUPLICATE
    if event_version == current_version + 1:
        return Decision.APPLY
    return Decision.GAP
