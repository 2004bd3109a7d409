"""Everything the tickets service runs on, built once: the event store application and its workers."""

from __future__ import annotations

from hostdesk_tickets.adapters.event_store import SequenceNumbers, eventsourcing_env, prepare_schema
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.settings import Settings


def build_application(settings: Settings) -> TicketsApplication:
    """The tickets application on PostgreSQL: its schema prepared, ticket numbers from its sequence
    (synchronous: call it in a worker thread)."""
    prepare_schema(settings)
    return TicketsApplication(numbers=SequenceNumbers(settings), env=eventsourcing_env(settings))
