import pytest
from hostdesk_contracts.access import reach_of
from hostdesk_contracts.base import Actor, Role, Side, Visibility
from hostdesk_devtools.stories import Lifecycle, TicketStory, account, every_kind_of_event
from hostdesk_query.domain.listing import AssignedTo, TicketFilter
from hostdesk_query.domain.model import EntryKind, TicketRecord, TimelineEntry
from hostdesk_query.domain.projection import change_of, evolve, plan_batch
from hostdesk_query.domain.visibility import handles, listed, shows, side_on

TENANT = "acme"


def _ticket(requester_id: str = "customer-1", *, handler: str | None = None) -> TicketRecord:
    story = TicketStory(account(TENANT))
    opened = story.opened().model_copy(update={"handling_organisation_id": handler})
    return evolve(None, change_of(opened))._replace(requester_id=requester_id)


def _staff(organisation_id: str | None, role: Role = Role.AGENT, tenant: str = TENANT) -> Actor:
    return account(tenant, role).model_copy(update={"organisation_id": organisation_id})


def _note(visibility: Visibility) -> TimelineEntry:
    story = TicketStory(account(TENANT))
    story.opened()
    (entry,) = change_of(story.reply(account(TENANT, Role.AGENT), "Reseller owes us.", visibility=visibility)).entries
    return entry


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_staff_of_the_provider_handle_the_tickets_addressed_to_it_and_those_from_before_the_directory(
    role: Role,
) -> None:
    reach = reach_of(_staff(TENANT, role))

    assert side_on(reach, _ticket("someone-else", handler=TENANT)) is Side.HANDLER
    assert side_on(reach, _ticket("someone-else")) is Side.HANDLER


def test_staff_of_the_provider_read_nothing_addressed_to_a_reseller() -> None:
    assert side_on(reach_of(_staff(TENANT)), _ticket(handler="reseller-1")) is None


def test_staff_of_a_reseller_handle_its_tickets_and_nothing_addressed_to_the_provider() -> None:
    reach = reach_of(_staff("reseller-1"))

    assert side_on(reach, _ticket(handler="reseller-1")) is Side.HANDLER
    assert side_on(reach, _ticket(handler=TENANT)) is None
    assert side_on(reach, _ticket()) is None


def test_staff_of_another_tenant_read_none_of_its_tickets() -> None:
    assert side_on(reach_of(_staff(TENANT, tenant="other")), _ticket()) is None


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.RESELLER, Role.SUBACCOUNT, Role.PROVIDER])
def test_a_requester_reads_the_tickets_it_requested(role: Role) -> None:
    caller = account(TENANT, role)

    assert side_on(reach_of(caller), _ticket(caller.account_id, handler="someone")) is Side.REQUESTER


def test_a_reseller_account_requests_from_its_provider_and_handles_its_customers() -> None:
    reseller = account(TENANT, Role.RESELLER)
    reach = reach_of(reseller)

    assert side_on(reach, _ticket(reseller.account_id, handler=TENANT)) is Side.REQUESTER
    assert side_on(reach, _ticket("customer-1", handler=reseller.account_id)) is Side.HANDLER
    assert side_on(reach, _ticket("customer-2", handler="reseller-2")) is None


def test_a_customer_does_not_read_another_customers_ticket() -> None:
    assert side_on(reach_of(account(TENANT)), _ticket("customer-2", handler="reseller-1")) is None


def test_a_list_filtered_on_the_assignee_holds_only_the_tickets_the_caller_handles() -> None:
    reseller = account(TENANT, Role.RESELLER)
    requested, handled = _ticket(reseller.account_id, handler=TENANT), _ticket(handler=reseller.account_id)
    unassigned = TicketFilter(assignee=AssignedTo(None))

    assert [listed(reach_of(reseller), unassigned, ticket) for ticket in (requested, handled)] == [False, True]
    assert [listed(reach_of(reseller), TicketFilter(), ticket) for ticket in (requested, handled)] == [True, True]
    assert [handles(reach_of(reseller), ticket) for ticket in (requested, handled)] == [False, True]


def test_staff_limited_to_their_departments_list_those_and_the_unrouted() -> None:
    reach = reach_of(_staff(TENANT), departments=["Billing"])
    routed = _ticket(handler=TENANT)  # in Technical Support

    assert not listed(reach, TicketFilter(), routed)
    assert listed(reach, TicketFilter(), routed._replace(department="Billing"))
    assert listed(reach, TicketFilter(), routed._replace(department=None))


def test_the_requesting_side_never_reads_internal_notes() -> None:
    assert not shows(Side.REQUESTER, _note(Visibility.INTERNAL))
    assert shows(Side.REQUESTER, _note(Visibility.PUBLIC))


def test_the_handling_side_reads_internal_notes() -> None:
    assert shows(Side.HANDLER, _note(Visibility.INTERNAL))


def lifecycle_entries() -> tuple[Lifecycle, list[TimelineEntry]]:
    lifecycle = every_kind_of_event(TENANT)
    plan = plan_batch({}, [change_of(event) for event in lifecycle.events])
    return lifecycle, [entry for entry in plan.entries if entry.ticket_id == lifecycle.target.ticket_id]


def test_the_requesting_side_never_reads_assignment_tags_or_internal_posts() -> None:
    _, entries = lifecycle_entries()

    hidden = [entry for entry in entries if not shows(Side.REQUESTER, entry)]

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
    _, entries = lifecycle_entries()

    shown = {entry.kind for entry in entries if shows(Side.REQUESTER, entry)}

    imported = {EntryKind.IMPORTED, EntryKind.IMPORTED_POST}  # another ticket's (``lifecycle.imported``)
    assert shown == set(EntryKind) - {EntryKind.ASSIGNED, EntryKind.TAGS_CHANGED, EntryKind.MERGED} - imported


def test_the_requesting_side_reads_that_its_ticket_was_imported_and_its_public_posts() -> None:
    lifecycle = every_kind_of_event(TENANT)
    plan = plan_batch({}, [change_of(event) for event in lifecycle.events])
    entries = [entry for entry in plan.entries if entry.ticket_id == lifecycle.imported.ticket_id]

    shown = [entry.kind for entry in entries if shows(Side.REQUESTER, entry)]

    assert shown == [EntryKind.IMPORTED, EntryKind.IMPORTED_POST, EntryKind.IMPORTED_POST, EntryKind.POST]


def test_the_handling_side_reads_every_entry() -> None:
    _, entries = lifecycle_entries()

    assert all(shows(Side.HANDLER, entry) for entry in entries)
