"""Looking up, in the directory as it is when an event is handled, the people its mail may go to."""

from __future__ import annotations

from hostdesk_contracts.directory import AccountRecord
from hostdesk_contracts.runtime.directory import Directory

from hostdesk_notify.domain.contacts import TicketContact
from hostdesk_notify.domain.people import NOBODY_KNOWN, People
from hostdesk_notify.domain.recipients import MailKind


async def people_for(directory: Directory, kind: MailKind | None, ticket: TicketContact) -> People:
    """Only what ``kind`` of mail needs: the requester, for mail to the requesting side; the assignee and the
    handling organisation's staff (its own account when it has none), for mail to the handling side. In memory
    but for a record the directory has not seen (one read of its bucket). May raise ``DirectoryUnavailable``."""
    if kind is None:
        return NOBODY_KNOWN
    if not kind.to_handling_side:
        requester = await directory.principal(ticket.requester_id) if ticket.requester_id else None
        return People(requester=requester)
    organisation_id = ticket.handling_organisation_id or ticket.tenant
    staff = await directory.staff_of(organisation_id)
    assignee = await directory.principal(ticket.assignee_id) if ticket.assignee_id else None
    organisation = None if staff else await directory.principal(organisation_id)
    return People(
        assignee=assignee,
        staff=staff,
        organisation=organisation if isinstance(organisation, AccountRecord) else None,
    )
