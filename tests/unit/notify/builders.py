"""Notify's own test builders: what notify keeps of a ticket (``contact``), the accounts and addresses its tests
mail. The tickets' events come from ``hostdesk_devtools.stories``."""

from __future__ import annotations

from datetime import UTC, datetime

from hostdesk_contracts.base import Role
from hostdesk_contracts.directory import (
    AccountKind,
    AccountRecord,
    Language,
    Record,
    StaffRecord,
    StaffRole,
)
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_devtools.stories import Own, TicketStory, account
from hostdesk_notify.adapters.memory import MemoryStore, OutboxRow
from hostdesk_notify.adapters.ports import DeliveryStatus
from hostdesk_notify.domain.contacts import TicketContact

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
TENANT = "acme"
REQUESTER_EMAIL = "jo@example.com"
CC = ("boss@example.com", "ops@example.com")
ASSIGNEE_EMAIL = "kim@hostdesk.test"

REQUESTER = account(TENANT, name=None, email=REQUESTER_EMAIL)  # no display name: a mail names it by its address
STAFF = account(TENANT, Role.AGENT, name="Sam", email="sam@hostdesk.test")
ASSIGNEE = account(TENANT, Role.AGENT, name="Kim", email=ASSIGNEE_EMAIL)
SYSTEM = account(TENANT, Role.SYSTEM, name="HostDesk", email=None)


def contact(
    story: TicketStory,
    *,
    requester_email: str | None = REQUESTER_EMAIL,
    cc: tuple[str, ...] = CC,
    assignee_email: str | None = None,
) -> TicketContact:
    """What notify remembers of the story's ticket at its current version."""
    return TicketContact(
        ticket_id=story.ticket_id,
        tenant=story.tenant,
        number=story.number,
        subject=story.subject,
        requester_email=requester_email,
        cc=cc,
        assignee_id=None if assignee_email is None else ASSIGNEE.account_id,
        assignee_email=assignee_email,
        version=max(story.version, 1),
    )


def mail_of(store: MemoryStore) -> list[OutboxRow]:
    """The outbox without what is kept never to be sent (held back by a bound, or with nobody to mail: a ticket of
    these tests' tenant, which the directory does not hold, has nobody on its handling side)."""
    return [row for row in store.outbox if row.status is not DeliveryStatus.SUPPRESSED]


# -- the directory of these tests' tenant ------------------------------------------------------------------------

PROVIDER = AccountRecord(id=TENANT, kind=AccountKind.PROVIDER, display_name="Acme Hosting", email="desk@acme.test")


def staff_member(
    name: str,
    *departments: str,
    organisation: str = TENANT,
    email: str | Own | None = Own.OWN,
    language: Language = Language.EN,
    disabled: bool = False,
) -> StaffRecord:
    """An agent of ``organisation`` named ``name`` (its id too), at ``<name>@<organisation>.test`` unless told."""
    return StaffRecord(
        id=name,
        organisation_id=organisation,
        role=StaffRole.AGENT,
        departments=departments,
        display_name=name.capitalize(),
        email=f"{name}@{organisation}.test" if email is Own.OWN else email,
        language=language,
        disabled=disabled,
    )


def directory_of(*records: Record) -> MemoryDirectory:
    directory = MemoryDirectory()
    directory.put(*records)
    return directory
