"""What the directory says of the people a ticket's mail may go to, as found when its event is handled.

The service layer looks the records up (``service_layer.people``) and the rules of ``recipients`` decide with what
they are given. Notify handles each event once: the people are those of the directory at that moment, and a later
change of the directory (a new member of a department, an address changed, an agent disabled) never re-addresses
mail already planned. It addresses the mail of the events after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hostdesk_contracts.directory import AccountRecord, StaffRecord

Principal = AccountRecord | StaffRecord


@dataclass(frozen=True, kw_only=True, slots=True)
class People:
    """``requester``: the ticket's requester, whose language the requesting side's mail speaks. ``assignee``: the
    record of the ticket's assignee. ``organisation``: the account the ticket is addressed to, looked up when its
    organisation has no staff at all. ``staff``: that organisation's staff members, disabled ones included.
    Anyone the directory does not hold is None (or no staff): a ticket from before the directory, a guest."""

    requester: Principal | None = None
    assignee: Principal | None = None
    organisation: AccountRecord | None = None
    staff: tuple[StaffRecord, ...] = ()


NOBODY_KNOWN = People()
