"""The one rule of who sees a ticket, and for which side."""

from __future__ import annotations

import pytest
from hostdesk_contracts.access import departments_limit, reach_of, side_of
from hostdesk_contracts.base import Actor, Role, Side
from hostdesk_contracts.directory import Configuration, StaffRecord, StaffRole
from hostdesk_contracts.runtime.departments import DirectoryDepartments
from hostdesk_contracts.runtime.directory import MemoryDirectory

TENANT = "acme"
# acme (provider) > reseller-1 > cust-1 > sub-1; acme > reseller-2 > cust-2
TICKET = {"tenant": TENANT, "requester_id": "cust-1", "handling_organisation_id": "reseller-1", "department": "Billing"}


def actor(account_id: str, role: Role, organisation_id: str | None = None, tenant: str = TENANT) -> Actor:
    return Actor(account_id=account_id, tenant=tenant, role=role, organisation_id=organisation_id)


@pytest.mark.parametrize(
    ("caller", "side"),
    [
        (actor("cust-1", Role.CUSTOMER), Side.REQUESTER),
        (actor("reseller-1", Role.RESELLER), Side.HANDLER),
        (actor("ana", Role.AGENT, "reseller-1"), Side.HANDLER),
        (actor("sup", Role.SUPERVISOR, "reseller-1"), Side.HANDLER),
        (actor("acme", Role.PROVIDER), None),
        (actor("bob", Role.AGENT, "acme"), None),
        (actor("sup-acme", Role.SUPERVISOR, "acme"), None),
        (actor("sub-1", Role.SUBACCOUNT), None),
        (actor("cust-2", Role.CUSTOMER), None),
        (actor("reseller-2", Role.RESELLER), None),
        (actor("eve", Role.AGENT, "reseller-2"), None),
        (actor("reseller-1", Role.RESELLER, tenant="other"), None),
        (actor("hostdesk", Role.SYSTEM), Side.HANDLER),
    ],
)
def test_only_the_requester_and_the_handling_organisation_see_a_ticket(caller: Actor, side: Side | None) -> None:
    assert side_of(caller, **TICKET) is side


def test_a_ticket_from_before_the_directory_is_handled_by_its_tenants_provider() -> None:
    legacy = {**TICKET, "handling_organisation_id": None}

    assert side_of(actor("bob", Role.AGENT, "acme"), **legacy) is Side.HANDLER
    assert side_of(actor("acme", Role.PROVIDER), **legacy) is Side.HANDLER
    assert side_of(actor("ana", Role.AGENT, "reseller-1"), **legacy) is None


def test_staff_limited_to_their_departments_see_those_and_the_unrouted() -> None:
    reach = reach_of(actor("ana", Role.AGENT, "reseller-1"), departments=["Technical Support"])

    assert reach.side(**TICKET) is None
    assert reach.side(**{**TICKET, "department": "Technical Support"}) is Side.HANDLER
    assert reach.side(**{**TICKET, "department": None}) is Side.HANDLER


def test_a_customer_handles_its_subaccounts_tickets() -> None:
    ticket = {**TICKET, "requester_id": "sub-1", "handling_organisation_id": "cust-1"}

    assert side_of(actor("cust-1", Role.CUSTOMER), **ticket) is Side.HANDLER
    assert side_of(actor("sub-1", Role.SUBACCOUNT), **ticket) is Side.REQUESTER
    assert side_of(actor("reseller-1", Role.RESELLER), **ticket) is None


async def test_an_agent_is_limited_to_its_departments_only_when_its_organisation_says_so() -> None:
    directory = MemoryDirectory()
    staff = StaffRecord(
        id="ana", organisation_id="reseller-1", role=StaffRole.AGENT, display_name="Ana", departments=("Billing",)
    )
    directory.put(staff)
    agent = actor("ana", Role.AGENT, "reseller-1")
    departments = DirectoryDepartments(directory)

    assert await departments.limit_for(agent) is None  # no configuration
    directory.put(Configuration(organisation_id="reseller-1", staff_see_own_departments_only=False))
    assert await departments.limit_for(agent) is None
    directory.put(Configuration(organisation_id="reseller-1", staff_see_own_departments_only=True, version=2))
    assert await departments.limit_for(agent) == frozenset({"Billing"})
    assert await departments.limit_for(actor("ana", Role.SUPERVISOR, "reseller-1")) is None
    assert departments_limit(actor("cust-1", Role.CUSTOMER), None, None) is None
