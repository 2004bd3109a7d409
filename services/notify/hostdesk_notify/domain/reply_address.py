"""The address a ticket's mail is answered at: its per-ticket reply address (``support+t482913@example.com``).

It is built on a support address of the organisation that handles the ticket, so that a reseller's customers
answer the reseller's own address: the one of the ticket's department, else the organisation's address for no
department in particular, else any of its addresses; none retired. An organisation with no address of its own
answers at its parent's, up to the provider's, and in the end at the installation's (``NOTIFY_SUPPORT_ADDRESS``).
Intake takes mail to the tagged address for the ticket of that number (the provider's MTA forwards the tag, as it
does with a ``recipient_delimiter`` of ``+``).
"""

from __future__ import annotations

from collections.abc import Sequence

from hostdesk_contracts.directory import SupportAddressRecord


def support_address_among(addresses: Sequence[SupportAddressRecord], *, department: str | None) -> str | None:
    """The organisation's address for a ticket of ``department``, among its ``addresses``; ``None`` when it has no
    address that takes mail."""
    live = [each for each in addresses if not each.retired]
    if department is not None:
        for each in live:
            if each.department is not None and each.department.casefold() == department.casefold():
                return each.address
    for each in live:
        if each.department is None:
            return each.address
    return live[0].address if live else None


def tagged(address: str, number: int) -> str:
    """``support@example.com`` (or ``support+old@example.com``) and 482913 -> ``support+t482913@example.com``."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        return address
    return f"{local.partition('+')[0]}+t{number}@{domain}"
