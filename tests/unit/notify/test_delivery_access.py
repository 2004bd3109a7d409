"""Notify keeps whom a ticket is addressed to, and reads a ticket's delivery log to its handling side only, by the
one rule of who sees a ticket (``tests.unit.query.branches`` holds the tree and who sees what)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hostdesk_contracts.access import reach_of
from hostdesk_contracts.base import Side
from hostdesk_notify.domain.contacts import contact_after, contact_from_opened, handled_by

from tests.unit.notify.builders import STAFF, TENANT
from tests.unit.query.branches import CALLERS, SIDES, opening, tickets_of, tree


def test_the_opening_keeps_the_requester_the_handling_organisation_and_the_department() -> None:
    branches = tree(TENANT)
    ticket = tickets_of(branches)["to_reseller"]

    kept = contact_from_opened(opening(ticket))

    assert (kept.requester_id, kept.handling_organisation_id, kept.department) == (
        branches["customer"].account_id,
        branches.reseller_id,
        "Technical Support",
    )


def test_a_transfer_moves_the_kept_department() -> None:
    ticket = tickets_of(tree(TENANT))["to_reseller"]
    kept = contact_from_opened(opening(ticket))
    for event in ticket.events[1:]:
        kept = contact_after(kept, event)

    moved = contact_after(kept, ticket.story.department_change(STAFF, "Billing"))

    assert (moved.department, moved.handling_organisation_id) == ("Billing", kept.handling_organisation_id)


@pytest.mark.parametrize("caller", CALLERS)
def test_only_the_handling_side_of_a_ticket_reads_its_deliveries(caller: str) -> None:
    branches = tree(TENANT)

    handled = {
        name
        for name, ticket in tickets_of(branches).items()
        if handled_by(reach_of(branches[caller]), contact_from_opened(opening(ticket)))
    }

    assert handled == {name for name, side in SIDES[caller].items() if side is Side.HANDLER}


def test_a_ticket_kept_before_notify_knew_its_parties_is_the_providers() -> None:
    branches = tree(TENANT)
    kept = replace(
        contact_from_opened(opening(tickets_of(branches)["to_reseller"])),
        requester_id=None,
        handling_organisation_id=None,
    )

    assert handled_by(reach_of(branches["provider_agent"]), kept)
    assert not handled_by(reach_of(branches["reseller_agent"]), kept)
