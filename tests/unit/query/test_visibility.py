import pytest
from hostdesk_contracts.base import Role, Visibility
from hostdesk_devtools.stories import Lifecycle, TicketStory, account, every_kind_of_event
from hostdesk_query.domain.model import EntryKind, TicketRecord, TimelineEntry
from hostdesk_query.domain.projection import change_of, evolve, plan_batch
from hostdesk_query.domain.visibility import may_read, scope_of, shows

TENANT = "acme"


def _ticket(requester_id: str = "customer-1") -> TicketRecord:
    story = TicketStory(account(TENANT))
    return evolve(None, change_of(story.opened()))._replace(requester_id=requester_id)


def _note(visibility: Visibility) -> TimelineEntry:
    story = TicketStory(account(TENANT))
    story.opened()
    (entry,) = change_of(story.reply(account(TENANT, Role.AGENT), "Reseller owes us.", visibility=visibility)).entries
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


def lifecycle_entries() -> tuple[Lifecycle, list[TimelineEntry]]:
    lifecycle = every_kind_of_event(TENANT)
    plan = plan_batch({}, [change_of(event) for event in lifecycle.events])
    return lifecycle, [entry for entry in plan.entries if entry.ticket_id == lifecycle.target.ticket_id]


def test_the_requesting_side_never_reads_assignment_tags_or_internal_posts() -> None:
    lifecycle, entries = lifecycle_entries()

    hidden = [entry for entry in entries if not shows(scope_of(lifecycle.requester), entry)]

    assert {entry.kind for entry in hidden} == {
        EntryKind.ASSIGNED,
        EntryKind.TAGS_CHANGED,
        EntryKind.POST,
        EntryKind.MERGED_POST,
    }
    assert {entry.body for entry in hidden if entry.body} == {
        "Refund once billing agrees.",
        "Billing will answer here.",
    }


def test_the_requesting_side_reads_every_other_change_as_a_system_entry() -> None:
    lifecycle, entries = lifecycle_entries()

    shown = {entry.kind for entry in entries if shows(scope_of(lifecycle.requester), entry)}

    assert shown == set(EntryKind) - {EntryKind.ASSIGNED, EntryKind.TAGS_CHANGED, EntryKind.MERGED}


def test_staff_read_every_entry() -> None:
    lifecycle, entries = lifecycle_entries()

    assert all(shows(scope_of(lifecycle.agent), entry) for entry in entries)
