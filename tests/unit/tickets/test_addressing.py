"""Given / when / then: a ticket is addressed through the directory (who requests, which organisation handles it,
its department, category, related service and assignee), and each command is admitted by the one rule of who sees
a ticket. An in-memory directory and event store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hostdesk_contracts.base import Actor, Assignee, Role, Side, Status, Visibility
from hostdesk_contracts.commands import (
    AssignTicket,
    MergeTicket,
    OpenTicket,
    PostReply,
    UpdateTicket,
    ticket_id_for,
)
from hostdesk_contracts.directory import (
    AccountKind,
    AccountRecord,
    Category,
    Department,
    HostingService,
    Record,
    StaffRecord,
    StaffRole,
)
from hostdesk_contracts.events import TicketAssigned, TicketOpened
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.domain.errors import TicketNotFound
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.service_layer.history import AsOf, HistoryNotFound, read_history
from hostdesk_tickets.service_layer.lookups import reach_for

from .builders import NOW, at_once, configuration, handle, new_id

TENANT = "acme"


def account(account_id: str, kind: AccountKind, parent: str | None, **fields: Any) -> AccountRecord:
    return AccountRecord(id=account_id, kind=kind, parent_id=parent, display_name=f"Account {account_id}", **fields)


def staff(staff_id: str, organisation: str, role: StaffRole = StaffRole.AGENT, **fields: Any) -> StaffRecord:
    return StaffRecord(id=staff_id, organisation_id=organisation, role=role, display_name=f"Staff {staff_id}", **fields)


def tree() -> MemoryDirectory:
    """acme > reseller-1 > cust-r > sub-1, and acme > cust-p; staff of acme and of reseller-1."""
    directory = MemoryDirectory()
    directory.put(*tree_records())
    return directory


def tree_records() -> tuple[Record, ...]:
    """The records of ``tree``: accounts, configurations and staff."""
    return (
        account(TENANT, AccountKind.PROVIDER, None),
        account("reseller-1", AccountKind.RESELLER, TENANT),
        account("reseller-2", AccountKind.RESELLER, TENANT),
        account("cust-r", AccountKind.CUSTOMER, "reseller-1", email="r@example.com", services=(vps(),)),
        account("cust-p", AccountKind.CUSTOMER, TENANT),
        account("sub-1", AccountKind.SUBACCOUNT, "cust-r"),
        account("cust-gone", AccountKind.CUSTOMER, TENANT, disabled=True),
        configuration(
            TENANT,
            departments=(
                Department(name="Technical Support"),
                Department(name="Billing"),
                Department(name="Old", retired=True),
                Department(name="Web", round_robin=True),
            ),
            categories=(
                Category(name="Domains"),
                Category(name="Invoices", department="Billing"),
                Category(name="Servers", for_subaccounts=False),
                Category(name="Migrations", assignee_id="agent-2"),
            ),
        ),
        configuration("reseller-1", departments=(Department(name="Reseller desk"),), categories=()),
        configuration("cust-r", departments=(), categories=(Category(name="Mailboxes"),)),
        staff("agent-1", TENANT, departments=("Technical Support",), email="agent1@acme.example"),
        staff("agent-2", TENANT, departments=("Billing",), email="agent2@acme.example"),
        staff("lead-1", TENANT, StaffRole.SUPERVISOR),
        staff("gone-1", TENANT, disabled=True),
        staff("res-agent", "reseller-1"),
        *(staff(f"web-{n}", TENANT, departments=("Web",)) for n in "abc"),
        staff("web-off", TENANT, departments=("Web",), disabled=True),
        staff("web-lead", TENANT, StaffRole.SUPERVISOR, departments=("Web",)),
    )


def vps() -> HostingService:
    return HostingService(id="vps-1042", label="VPS Prague")


def caller(account_id: str, role: Role, organisation: str | None = None) -> Actor:
    return Actor(account_id=account_id, tenant=TENANT, role=role, organisation_id=organisation)


CUST_R = caller("cust-r", Role.CUSTOMER)
CUST_P = caller("cust-p", Role.CUSTOMER)
SUB = caller("sub-1", Role.SUBACCOUNT)
AGENT = caller("agent-1", Role.AGENT, TENANT)
LEAD = caller("lead-1", Role.SUPERVISOR, TENANT)
RESELLER_AGENT = caller("res-agent", Role.AGENT, "reseller-1")


@pytest.fixture
def directory() -> MemoryDirectory:
    return tree()


@pytest.fixture
def app() -> Iterator[TicketsApplication]:
    application = TicketsApplication(numbers=CountingNumbers(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


def open_as(actor: Actor, **fields: Any) -> OpenTicket:
    command_id = new_id()
    return OpenTicket(
        command_id=command_id,
        ticket_id=ticket_id_for(command_id),
        actor=actor,
        issued_at=NOW,
        subject="Mail bounces",
        body="Every mail to example.com bounces.",
        **fields,
    )


def opened(app: TicketsApplication, directory: MemoryDirectory, actor: Actor, **fields: Any) -> OpenTicket:
    command = open_as(actor, **fields)
    outcome = handle(app, command, directory)
    assert outcome.result == "committed", outcome.detail
    return command


def refused_naming(outcome: CommandOutcome, field: str) -> None:
    assert (outcome.result, outcome.refusal, outcome.field) == ("refused", Refusal.INVALID, field), outcome.detail


def published(app: TicketsApplication, command: OpenTicket) -> list[Any]:
    return [to_public(event) for event in app.repository.event_store.get(command.ticket_id)]


def stored_events(app: TicketsApplication, command: OpenTicket | PostReply) -> int:
    return len(list(app.repository.event_store.get(command.ticket_id)))


# -- who requests, and which organisation handles -------------------------------------------------------------


def test_a_customer_opens_to_its_reseller_by_default_and_to_the_provider_by_choice(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    to_parent = opened(app, directory, CUST_R)
    to_provider = opened(app, directory, CUST_R, handling_organisation_id=TENANT)

    assert app.get_ticket(to_parent.ticket_id).handling_organisation_id == "reseller-1"
    assert app.get_ticket(to_provider.ticket_id).handling_organisation_id == TENANT
    (event,) = published(app, to_provider)
    assert isinstance(event, TicketOpened)
    assert (event.handling_organisation_id, event.status, event.side) == (TENANT, Status.OPEN, Side.REQUESTER)


def test_a_subaccount_opens_to_its_customer(app: TicketsApplication, directory: MemoryDirectory) -> None:
    command = opened(app, directory, SUB)

    assert app.get_ticket(command.ticket_id).handling_organisation_id == "cust-r"


def test_a_ticket_is_addressed_only_to_an_ancestor_of_its_requester_that_takes_tickets(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    directory.put(account("reseller-1", AccountKind.RESELLER, TENANT, disabled=True, version=2))

    refused_naming(
        handle(app, open_as(CUST_R, handling_organisation_id="reseller-2"), directory), "handling_organisation_id"
    )
    refused_naming(
        handle(app, open_as(CUST_R, handling_organisation_id="nobody"), directory), "handling_organisation_id"
    )
    refused_naming(handle(app, open_as(CUST_R), directory), "handling_organisation_id")  # its reseller: disabled
    assert opened(app, directory, CUST_R, handling_organisation_id=TENANT)


def test_an_unknown_or_disabled_requester_is_refused_naming_the_requester(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    refused_naming(handle(app, open_as(caller("cust-gone", Role.CUSTOMER)), directory), "requester_id")
    refused_naming(handle(app, open_as(caller("cust-new", Role.CUSTOMER)), directory), "requester_id")
    refused_naming(handle(app, open_as(AGENT, requester_id="cust-gone"), directory), "requester_id")


def test_staff_may_not_open_a_ticket_for_themselves(app: TicketsApplication, directory: MemoryDirectory) -> None:
    command = open_as(AGENT)

    outcome = handle(app, command, directory)

    refused_naming(outcome, "requester_id")
    assert "below their organisation" in (outcome.detail or "")
    assert stored_events(app, command) == 0


def test_a_resellers_staff_opens_a_ticket_to_its_customer_which_starts_answered(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    command = opened(app, directory, RESELLER_AGENT, requester_id="cust-r")

    ticket = app.get_ticket(command.ticket_id)
    (event,) = published(app, command)
    assert (ticket.handling_organisation_id, ticket.requester_id, ticket.status) == (
        "reseller-1",
        "cust-r",
        Status.ANSWERED,
    )
    assert ticket.answered_version == 1  # auto-close counts from the opening
    assert isinstance(event, TicketOpened)
    assert (event.status, event.side, event.actor.account_id) == (Status.ANSWERED, Side.HANDLER, "res-agent")
    assert (event.requester.display_name, event.requester.email) == ("Account cust-r", "r@example.com")


def test_the_handling_side_opens_only_to_an_account_below_it_and_for_its_own_organisation(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    refused_naming(handle(app, open_as(RESELLER_AGENT, requester_id="cust-p"), directory), "requester_id")
    refused_naming(
        handle(app, open_as(RESELLER_AGENT, requester_id="cust-r", handling_organisation_id=TENANT), directory),
        "handling_organisation_id",
    )
    reseller_itself = caller("reseller-1", Role.RESELLER)
    assert opened(app, directory, reseller_itself, requester_id="cust-r")
    assert opened(app, directory, AGENT, requester_id="cust-r")  # the provider handles for an ancestor too


# -- department, category, related service ----------------------------------------------------------------------


def test_a_department_of_another_organisation_or_retired_is_refused_naming_the_department(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    refused_naming(handle(app, open_as(CUST_R, department="Billing"), directory), "department")  # acme's
    refused_naming(handle(app, open_as(CUST_P, department="Old"), directory), "department")
    assert opened(app, directory, CUST_R, department="Reseller desk")


def test_a_category_must_be_the_handling_organisations_and_some_are_closed_to_subaccounts(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    refused_naming(handle(app, open_as(CUST_P, category="Mailboxes"), directory), "category")
    refused_naming(
        handle(app, open_as(SUB, handling_organisation_id=TENANT, category="Servers"), directory), "category"
    )
    assert opened(app, directory, CUST_P, category="Servers")
    assert opened(app, directory, SUB, category="Mailboxes")


def test_a_category_names_the_department_and_the_assignee_its_tickets_go_to(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    to_billing = opened(app, directory, CUST_P, category="Invoices")
    assigned = opened(app, directory, CUST_P, category="Migrations")

    assert app.get_ticket(to_billing.ticket_id).department == "Billing"
    opening, assignment = published(app, assigned)
    assert isinstance(opening, TicketOpened)
    assert isinstance(assignment, TicketAssigned)
    assert assignment.assignee is not None
    assert (assignment.assignee.account_id, assignment.assignee.email) == ("agent-2", "agent2@acme.example")
    assert (assignment.version, assignment.actor.role) == (2, Role.SYSTEM)


def test_the_related_service_is_one_of_the_requesters_own(app: TicketsApplication, directory: MemoryDirectory) -> None:
    refused_naming(handle(app, open_as(CUST_P, related_service="vps-1042"), directory), "related_service")
    assert opened(app, directory, CUST_R, related_service="vps-1042")


# -- admission of every command --------------------------------------------------------------------------------


def test_the_providers_staff_cannot_reply_to_a_ticket_addressed_to_a_reseller(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    ticket = opened(app, directory, CUST_R)
    answer = PostReply(command_id=new_id(), ticket_id=ticket.ticket_id, actor=AGENT, issued_at=NOW, body="Hello.")

    with pytest.raises(TicketNotFound):  # as for a ticket not stored (yet): the consumer then refuses it not_found
        handle(app, answer, directory)

    assert stored_events(app, ticket) == 1
    reseller_answer = answer.model_copy(update={"command_id": new_id(), "actor": RESELLER_AGENT})
    assert handle(app, reseller_answer, directory).result == "committed"


def test_agents_limited_to_their_departments_see_only_those_and_supervisors_all(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    own = at_once(directory.configuration(TENANT))
    assert own is not None
    directory.put(own.model_copy(update={"staff_see_own_departments_only": True, "version": 2}))
    billing = opened(app, directory, CUST_P, department="Billing")

    def note(actor: Actor) -> CommandOutcome:
        command = PostReply(
            command_id=new_id(),
            ticket_id=billing.ticket_id,
            actor=actor,
            issued_at=NOW,
            body="Seen.",
            visibility=Visibility.INTERNAL,
        )
        return handle(app, command, directory)

    with pytest.raises(TicketNotFound):
        note(AGENT)  # agent-1 is in Technical Support only
    assert note(caller("agent-2", Role.AGENT, TENANT)).result == "committed"
    assert note(LEAD).result == "committed"
    with pytest.raises(HistoryNotFound):
        read_history(app, billing.ticket_id, AGENT, AsOf(), reach=at_once(reach_for(AGENT, directory)))


def test_an_assignee_is_staff_of_the_handling_organisation_named_as_the_directory_names_them(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    ticket = opened(app, directory, CUST_P)

    def assign(assignee_id: str) -> CommandOutcome:
        named = Assignee(account_id=assignee_id, display_name="Made up", email="made-up@example.com")
        command = AssignTicket(
            command_id=new_id(), ticket_id=ticket.ticket_id, actor=LEAD, issued_at=NOW, assignee=named
        )
        return handle(app, command, directory)

    for outsider in ("res-agent", "gone-1", "cust-p", "nobody"):
        refused_naming(assign(outsider), "assignee")
    assert assign("agent-1").result == "committed"
    assert app.get_ticket(ticket.ticket_id).assignee == {
        "account_id": "agent-1",
        "display_name": "Staff agent-1",
        "email": "agent1@acme.example",
    }


def test_an_update_names_only_departments_and_categories_of_the_handling_organisation(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    ticket = opened(app, directory, CUST_P)

    def update(**fields: Any) -> CommandOutcome:
        command = UpdateTicket(command_id=new_id(), ticket_id=ticket.ticket_id, actor=AGENT, issued_at=NOW, **fields)
        return handle(app, command, directory)

    refused_naming(update(department="Reseller desk"), "department")
    refused_naming(update(department="Old"), "department")
    refused_naming(update(category="Mailboxes"), "category")
    assert update(department="Billing", category="Domains").result == "committed"


def test_a_merge_joins_only_tickets_of_one_handling_organisation(
    app: TicketsApplication, directory: MemoryDirectory
) -> None:
    to_reseller = opened(app, directory, CUST_R)
    to_provider = opened(app, directory, CUST_R, handling_organisation_id=TENANT)
    merge = MergeTicket(
        command_id=new_id(),
        ticket_id=to_provider.ticket_id,
        actor=LEAD,
        issued_at=NOW,
        into_ticket_id=to_reseller.ticket_id,
    )

    outcome = handle(app, merge, directory)

    assert (outcome.result, outcome.refusal) == ("refused", Refusal.NOT_FOUND)  # the target is not acme's to see
    assert app.get_ticket(to_provider.ticket_id).merged_into is None
