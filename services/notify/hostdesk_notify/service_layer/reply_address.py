"""Finding, in the directory as it is when an event is handled, the address a ticket's mail is answered at."""

from __future__ import annotations

from hostdesk_contracts.runtime.directory import Directory

from hostdesk_notify.domain.contacts import TicketContact
from hostdesk_notify.domain.reply_address import support_address_among, tagged


async def reply_address_for(directory: Directory, ticket: TicketContact, *, installation: str) -> str:
    """The ticket's per-ticket reply address, on its handling organisation's support address (or the nearest
    ancestor's, or ``installation``'s). From memory, but for the walk up the tree. May raise
    ``DirectoryUnavailable``."""
    organisation_id = ticket.handling_organisation_id or ticket.tenant
    organisations = [organisation_id, *(each.id for each in await directory.ancestors(organisation_id))]
    for each in organisations:
        addresses = await directory.support_addresses_of(each)
        department = ticket.department if each == organisation_id else None
        if (found := support_address_among(addresses, department=department)) is not None:
            return tagged(found, ticket.number)
    return tagged(installation, ticket.number)
