from dataclasses import replace

import pytest
from hostdesk_contracts.base import Role, Visibility
from hostdesk_query.domain.model import TicketRecord, TimelineEntry
from hostdesk_query.domain.projection import change_of
from hostdesk_query.domain.visibility import may_read, scope_of, shows
from hostdesk_query.testing import TicketStory, account

TENANT = "acme"


def _ticket(requester_id: str = "customer-1") -> TicketRecord:
    story = TicketStory(account(TENANT))
    opened = change_of(story.opened()).opened
    assert opened is not None
    return replace(opened, requester_id=requester_id)


def _note(visibility: Visibility) -> TimelineEntry:
    story = TicketStory(account(TENANT))
    story.opened()
    entry = change_of(story.reply(account(TENANT, Role.AGENT), "Reseller owes us.", visibility=visibility)).entry
    assert entry is not None
    return entry


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_staff_read_every_ticket_of_their_tenant(role: Role) -> None:
    scope = scope_of(account(TENANT, role))

    assert may_read(scope, _ticket("someone-else"))


def test_staff_of_another_tenant_read_none_of_its_tickets() -> None:
    scope = scope_of(account("other", Role.AGENT))

    assert not may_read(scope, _ticket())


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.RESELLER, Role.SUBACCOUNT, Role.PROVIDER])
def test_a_requester_reads_the_tickets_it_requested(role: Role) -> None:
    caller = account(TENANT, role)

    assert may_read(scope_of(caller), _ticket(caller.account_id))


def test_a_customer_does_not_read_another_customers_ticket() -> None:
    caller = account(TENANT)

    assert not may_read(scope_of(caller), _ticket("customer-2"))


def test_the_requesting_side_never_reads_internal_notes() -> None:
    scope = scope_of(account(TENANT))

    assert not shows(scope, _note(Visibility.INTERNAL))
    assert shows(scope, _note(Visibility.PUBLIC))


def test_staff_read_internal_notes() -> None:
    scope = scope_of(account(TENANT, Role.AGENT))

    assert shows(scope, _note(Visibility.INTERNAL))
