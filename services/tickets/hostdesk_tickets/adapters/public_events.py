"""The one place where stored events become public events: ticket events, and the directory's.

Stored events stay private to this service and may change shape (with upcasters); the public contract
changes only by addition. A test fails when a stored event class has no mapping here. A directory event
carries the whole record as it became, with the version the change gave it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.base import Actor, Side
from hostdesk_contracts.directory import (
    AccountChanged,
    AccountRecord,
    ApiKeyChanged,
    ApiKeyRecord,
    Configuration,
    ConfigurationChanged,
    DirectoryEvent,
    Record,
    StaffChanged,
    StaffRecord,
    SupportAddressChanged,
    SupportAddressRecord,
    record_key,
)
from hostdesk_contracts.events import (
    CategoryChanged,
    CcChanged,
    DepartmentChanged,
    ImportedFrom,
    MergedPost,
    PostsMerged,
    PriorityChanged,
    ReplyPosted,
    StatusChanged,
    TagsChanged,
    TicketArchived,
    TicketAssigned,
    TicketClosed,
    TicketEvent,
    TicketImported,
    TicketMerged,
    TicketOpened,
    TicketRated,
    TicketReopened,
    event_id_of,
)

from hostdesk_tickets.domain.directory_records import Account, ApiKey, OrganisationConfiguration, Staff, SupportAddress
from hostdesk_tickets.domain.ticket import Ticket


def _envelope(stored: Any) -> dict[str, Any]:
    actor = Actor.model_validate(stored.actor)
    ticket_id: UUID = stored.originator_id
    version: int = stored.originator_version
    occurred_at: datetime = stored.timestamp
    return {
        "event_id": event_id_of(ticket_id, version),
        "ticket_id": ticket_id,
        "tenant": actor.tenant,
        "version": version,
        "occurred_at": occurred_at,
        "actor": actor,
        "command_id": stored.command_id,
    }


def _common(stored: Any) -> dict[str, Any]:
    return {**_envelope(stored), "side": stored.side}


def _opened(stored: Any) -> TicketOpened:
    return TicketOpened(
        **_envelope(stored),
        side=Side(stored.side),
        number=stored.number,
        subject=stored.subject,
        body=stored.body,
        post_id=stored.post_id,
        requester=Actor.model_validate(stored.requester),
        status=stored.status,
        priority=stored.priority,
        department=stored.department,
        category=stored.category,
        channel=stored.channel,
        cc=tuple(stored.cc),
        related_service=stored.related_service,
        tags=tuple(stored.tags),
        handling_organisation_id=stored.handling_organisation_id,
        attachments=_attachments(stored.attachments),
    )


def _reply_posted(stored: Any) -> ReplyPosted:
    return ReplyPosted(
        **_common(stored),
        post_id=stored.post_id,
        body=stored.body,
        visibility=stored.visibility,
        attachments=_attachments(stored.attachments),
    )


def _attachments(stored: list[dict[str, Any]]) -> tuple[Attachment, ...]:
    return tuple(Attachment.model_validate(attachment) for attachment in stored)


def _status_changed(stored: Any) -> StatusChanged:
    return StatusChanged(
        **_common(stored),
        from_status=stored.from_status,
        to_status=stored.to_status,
        status_label=stored.status_label,
        reason=stored.reason,
    )


def _closed(stored: Any) -> TicketClosed:
    return TicketClosed(
        **_common(stored), from_status=stored.from_status, reason=stored.reason, automatic=stored.automatic
    )


def _reopened(stored: Any) -> TicketReopened:
    return TicketReopened(**_common(stored), from_status=stored.from_status, reason=stored.reason)


def _assigned(stored: Any) -> TicketAssigned:
    return TicketAssigned(**_common(stored), assignee=stored.assignee, from_assignee=stored.from_assignee)


def _priority_changed(stored: Any) -> PriorityChanged:
    return PriorityChanged(**_common(stored), from_priority=stored.from_priority, to_priority=stored.to_priority)


def _department_changed(stored: Any) -> DepartmentChanged:
    return DepartmentChanged(
        **_common(stored), from_department=stored.from_department, to_department=stored.to_department
    )


def _category_changed(stored: Any) -> CategoryChanged:
    return CategoryChanged(**_common(stored), from_category=stored.from_category, to_category=stored.to_category)


def _cc_changed(stored: Any) -> CcChanged:
    return CcChanged(**_common(stored), from_cc=tuple(stored.from_cc), cc=tuple(stored.cc))


def _tags_changed(stored: Any) -> TagsChanged:
    return TagsChanged(**_common(stored), from_tags=tuple(stored.from_tags), tags=tuple(stored.tags))


def _rated(stored: Any) -> TicketRated:
    return TicketRated(**_common(stored), rating=stored.rating, comment=stored.comment)


def _archived(stored: Any) -> TicketArchived:
    return TicketArchived(**_common(stored), status=stored.status)


def _merged(stored: Any) -> TicketMerged:
    return TicketMerged(
        **_common(stored),
        from_status=stored.from_status,
        into_ticket_id=stored.into_ticket_id,
        into_number=stored.into_number,
    )


def _posts_merged(stored: Any) -> PostsMerged:
    return PostsMerged(
        **_common(stored),
        from_ticket_id=stored.from_ticket_id,
        from_number=stored.from_number,
        posts=tuple(MergedPost.model_validate(post) for post in stored.posts),
    )


def _imported(stored: Any) -> TicketImported:
    return TicketImported(
        **_envelope(stored),
        side=Side(stored.side),
        source=ImportedFrom.model_validate(stored.source),
        number=stored.number,
        subject=stored.subject,
        requester=Actor.model_validate(stored.requester),
        status=stored.status,
        priority=stored.priority,
        department=stored.department,
        category=stored.category,
        channel=stored.channel,
        cc=tuple(stored.cc),
        tags=tuple(stored.tags),
        handling_organisation_id=stored.handling_organisation_id,
        opened_at=datetime.fromisoformat(stored.opened_at),
        posts=tuple(MergedPost.model_validate(post) for post in stored.posts),
        message_ids=tuple(stored.message_ids),
    )


MAPPINGS: dict[type[Any], Callable[[Any], TicketEvent]] = {
    Ticket.Opened: _opened,
    Ticket.ReplyPosted: _reply_posted,
    Ticket.StatusChanged: _status_changed,
    Ticket.Closed: _closed,
    Ticket.Reopened: _reopened,  # type: ignore[attr-defined]
    Ticket.Assigned: _assigned,  # type: ignore[attr-defined]
    Ticket.PriorityChanged: _priority_changed,  # type: ignore[attr-defined]
    Ticket.DepartmentChanged: _department_changed,  # type: ignore[attr-defined]
    Ticket.CategoryChanged: _category_changed,  # type: ignore[attr-defined]
    Ticket.CcChanged: _cc_changed,  # type: ignore[attr-defined]
    Ticket.TagsChanged: _tags_changed,  # type: ignore[attr-defined]
    Ticket.Rated: _rated,  # type: ignore[attr-defined]
    Ticket.Archived: _archived,  # type: ignore[attr-defined]
    Ticket.Merged: _merged,  # type: ignore[attr-defined]
    Ticket.PostsMerged: _posts_merged,
    Ticket.Imported: _imported,
}


class UnmappedEvent(Exception):
    pass


def to_public(stored: DomainEventProtocol[UUID]) -> TicketEvent:
    try:
        mapping = MAPPINGS[type(stored)]
    except KeyError:
        raise UnmappedEvent(f"no public event for stored {type(stored).__qualname__}") from None
    return mapping(stored)


# -- the directory -----------------------------------------------------------------------------------------


def _record(stored: Any, record_type: type[Record]) -> Record:
    return record_type.model_validate({**stored.record, "version": stored.originator_version})


def _directory_envelope(stored: Any, record: Record) -> dict[str, Any]:
    key = record_key(record)
    return {
        "event_id": f"{key}:{record.version}",
        "key": key,
        "tenant": stored.tenant,
        "version": record.version,
        "occurred_at": stored.timestamp,
        "actor": Actor.model_validate(stored.actor),
        "command_id": stored.command_id,
    }


def _account_changed(stored: Any) -> AccountChanged:
    account = _record(stored, AccountRecord)
    moved_from = getattr(stored, "from_parent_id", None)  # a new account's first event moves nothing
    return AccountChanged(**_directory_envelope(stored, account), account=account, from_parent_id=moved_from)


def _staff_changed(stored: Any) -> StaffChanged:
    staff = _record(stored, StaffRecord)
    return StaffChanged(**_directory_envelope(stored, staff), staff=staff)


def _configuration_changed(stored: Any) -> ConfigurationChanged:
    configuration = _record(stored, Configuration)
    return ConfigurationChanged(**_directory_envelope(stored, configuration), configuration=configuration)


def _api_key_changed(stored: Any) -> ApiKeyChanged:
    api_key = _record(stored, ApiKeyRecord)
    return ApiKeyChanged(**_directory_envelope(stored, api_key), api_key=api_key)


def _support_address_changed(stored: Any) -> SupportAddressChanged:
    address = _record(stored, SupportAddressRecord)
    return SupportAddressChanged(**_directory_envelope(stored, address), support_address=address)


DIRECTORY_MAPPINGS: dict[type[Any], Callable[[Any], DirectoryEvent]] = {
    Account.Registered: _account_changed,
    Account.Replaced: _account_changed,
    Staff.Registered: _staff_changed,
    Staff.Replaced: _staff_changed,
    OrganisationConfiguration.Registered: _configuration_changed,
    OrganisationConfiguration.Replaced: _configuration_changed,
    ApiKey.Registered: _api_key_changed,
    ApiKey.Replaced: _api_key_changed,
    SupportAddress.Registered: _support_address_changed,
    SupportAddress.Replaced: _support_address_changed,
}


def to_published(stored: DomainEventProtocol[UUID]) -> TicketEvent | DirectoryEvent:
    """The public event of any stored event of the log, a ticket's or a directory record's."""
    if (mapping := DIRECTORY_MAPPINGS.get(type(stored))) is not None:
        return mapping(stored)
    return to_public(stored)
