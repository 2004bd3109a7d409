"""Why the ticket refuses a command. One translation point turns each into an outcome (and so an HTTP status)."""

from __future__ import annotations

from uuid import UUID

from hostdesk_contracts.base import Status
from hostdesk_contracts.outcomes import Refusal


class TicketRefusal(Exception):
    refusal: Refusal
    field: str | None = None  # the command's field the refusal is about
    retry_after: int | None = None  # seconds after which the same command may pass

    def __init__(self, detail: str, *, current_status: Status | None = None, current_version: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.current_status = current_status
        self.current_version = current_version


class TicketNotFound(TicketRefusal):
    """No such ticket, or not one the actor may see: the two answer alike."""

    refusal = Refusal.NOT_FOUND

    def __init__(self, ticket_id: UUID) -> None:
        super().__init__(f"There is no ticket {ticket_id}.")


class MergeTargetNotFound(TicketRefusal):
    """A merge names a target ticket that does not exist or that the actor may not see: refused at once,
    never waited for."""

    refusal = Refusal.NOT_FOUND

    def __init__(self, ticket_id: UUID) -> None:
        super().__init__(f"There is no ticket {ticket_id} to merge into.")


class TransitionForbidden(TicketRefusal):
    refusal = Refusal.CONFLICT


class StaleVersion(TicketRefusal):
    refusal = Refusal.STALE


class InvalidCommand(TicketRefusal):
    """The rules never allow what the command asks of this ticket, whatever its state: ``field`` is at fault."""

    refusal = Refusal.INVALID

    def __init__(self, detail: str, *, field: str, current_status: Status, current_version: int | None) -> None:
        super().__init__(detail, current_status=current_status, current_version=current_version)
        self.field = field


class PostingTooFast(TicketRefusal):
    """The requesting side posted as often as a ticket takes in a while; it may post again in ``retry_after``."""

    refusal = Refusal.RATE_LIMITED

    def __init__(self, detail: str, *, retry_after: int, current_status: Status, current_version: int) -> None:
        super().__init__(detail, current_status=current_status, current_version=current_version)
        self.retry_after = retry_after


class DirectoryRefusal(Exception):
    """Why the directory refuses to put a record. Translated into an outcome in one place, like ticket refusals."""

    refusal: Refusal
    field: str | None = None  # the command's field an ``invalid`` refusal is about

    def __init__(self, detail: str, *, current_version: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.current_version = current_version


class RecordNotFound(DirectoryRefusal):
    """No such record, or not one the actor may change: the two answer alike, never a hint that it exists."""

    refusal = Refusal.NOT_FOUND

    def __init__(self, key: str) -> None:
        super().__init__(f"There is no {key} that you may change.")


class RecordStale(DirectoryRefusal):
    refusal = Refusal.STALE


class RecordInvalid(DirectoryRefusal):
    """The directory's rules never allow this record: ``field`` names what is at fault."""

    refusal = Refusal.INVALID

    def __init__(self, detail: str, *, field: str, current_version: int | None) -> None:
        super().__init__(detail, current_version=current_version)
        self.field = field
