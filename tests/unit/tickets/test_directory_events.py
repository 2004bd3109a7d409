"""The directory's stored events: each has a public counterpart carrying the whole record, they keep the order of
the commands among ticket events, they load from snapshots, and the commands consumer takes directory commands."""

from __future__ import annotations

from eventsourcing.domain import CanMutateAggregate
from hostdesk_contracts.base import Role
from hostdesk_contracts.directory import (
    AccountChanged,
    AccountKind,
    AccountRecord,
    ApiKeyChanged,
    ConfigurationChanged,
    StaffChanged,
    aggregate_id_for,
)
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.subjects import Subjects
from hostdesk_tickets.adapters.public_events import DIRECTORY_MAPPINGS, to_published
from hostdesk_tickets.domain.directory_records import DIRECTORY_AGGREGATES, Account
from hostdesk_tickets.entrypoints.commands import CommandConsumer
from hostdesk_tickets.settings import Settings

from .builders import CUSTOMER, DIRECTORY, handle_batch, open_command
from .test_command_consumer import DecidingApp, Message, Outcomes
from .test_directory import PROVIDER, TENANT, account, committed, founded, put_account, put_staff, staff, tree
from .test_directory_organisations import api_key, config, configure, put_key


def stored_directory_event_classes() -> set[type]:
    classes = set()
    for aggregate in DIRECTORY_AGGREGATES:
        bases = {aggregate.Event, aggregate.Created}
        classes |= {
            value
            for value in vars(aggregate).values()
            if isinstance(value, type) and issubclass(value, CanMutateAggregate) and value not in bases
        }
    return classes


def test_every_stored_directory_event_class_has_a_public_mapping_and_a_class_version() -> None:
    classes = stored_directory_event_classes()

    assert classes - set(DIRECTORY_MAPPINGS) == set()
    assert len(classes) == 10
    assert all(getattr(event_class, "class_version", None) == 1 for event_class in classes)
    assert all(aggregate.class_version == 1 for aggregate in DIRECTORY_AGGREGATES)


def test_each_kind_of_record_is_published_as_its_own_event_carrying_the_whole_record_and_its_version() -> None:
    app = tree()
    committed(app, configure(config()))
    committed(app, put_key(api_key("key-1", "cust-1")))
    committed(app, put_account(account("cust-1", AccountKind.CUSTOMER, "res-2", display_name="Jo Ltd")))

    published = [to_published(app.mapper.to_domain_event(n)) for n in app.recorder.select_notifications(1, 100)]

    kinds = {type(event) for event in published}
    assert kinds == {AccountChanged, StaffChanged, ConfigurationChanged, ApiKeyChanged}
    moved = published[-1]
    assert isinstance(moved, AccountChanged)
    assert moved.account == AccountRecord(
        id="cust-1", kind=AccountKind.CUSTOMER, parent_id="res-2", display_name="Jo Ltd", version=2
    )
    assert (moved.event_id, moved.key, moved.tenant, moved.version) == (
        "principal.cust-1:2",
        "principal.cust-1",
        TENANT,
        2,
    )
    assert (moved.from_parent_id, moved.actor, moved.command_id is not None) == ("res-1", PROVIDER, True)
    first = published[0]
    assert isinstance(first, AccountChanged)
    assert (first.event_id, first.from_parent_id) == (f"principal.{TENANT}:1", None)


def test_a_record_with_many_changes_loads_the_same_from_its_snapshot() -> None:
    app = founded()
    for n in range(55):
        committed(app, put_account(account(TENANT, AccountKind.PROVIDER, display_name=f"Acme {n}")))

    record_id = aggregate_id_for(f"principal.{TENANT}")
    snapshots = list(app.snapshots.get(record_id)) if app.snapshots else []
    loaded = app.repository.get(record_id)

    assert [snapshot.originator_version for snapshot in snapshots] == [50]
    assert isinstance(loaded, Account)
    assert (loaded.version, loaded.record["display_name"]) == (56, "Acme 54")
    replayed = None
    for event in app.events.get(record_id):
        replayed = event.mutate(replayed)  # type: ignore[attr-defined]
    assert vars(loaded) == vars(replayed)


def test_a_batch_of_ticket_and_directory_commands_is_logged_in_the_order_the_commands_came() -> None:
    app = founded()
    customer = account(CUSTOMER.account_id, AccountKind.CUSTOMER, TENANT)
    commands = [
        open_command(),
        put_account(customer),
        open_command(),
        open_command(),
        put_staff(staff("agent-1", TENANT)),
    ]

    results = handle_batch(app, commands)

    assert [isinstance(result, CommandOutcome) and result.result for result in results] == ["committed"] * 5
    assert [getattr(result, "key", None) for result in results] == [
        None,
        "principal.cust-1",
        None,
        None,
        "principal.agent-1",
    ]
    logged = [type(app.mapper.to_domain_event(n)).__qualname__ for n in app.recorder.select_notifications(2, 100)]
    assert logged == ["Ticket.Opened", "Account.Registered", "Ticket.Opened", "Ticket.Opened", "Staff.Registered"]


async def test_the_commands_consumer_decodes_directory_commands_on_their_subjects() -> None:
    app = founded()
    put = put_account(account("res-1", AccountKind.RESELLER, TENANT))
    consumer = consumer_of(app)
    message = Message(put, deliveries=1)  # type: ignore[arg-type]
    assert message.subject == f"unit.commands.{TENANT}.directory.put_account"

    await consumer.handle_batch([message])  # type: ignore[list-item]

    stored = CommandOutcome.model_validate_json(consumer.outcomes.stored[put.command_id])  # type: ignore[attr-defined]
    assert (stored.result, stored.key, stored.version, message.acked) == ("committed", "principal.res-1", 1, True)


async def test_a_directory_command_on_another_tenants_subject_or_by_the_system_is_set_aside() -> None:
    app = founded()
    consumer = consumer_of(app)
    elsewhere = Message(put_account(account("res-1", AccountKind.RESELLER, TENANT)), deliveries=1)  # type: ignore[arg-type]
    elsewhere.subject = "unit.commands.globex.directory.put_account"
    system = PROVIDER.model_copy(update={"role": Role.SYSTEM})
    by_system = Message(put_account(account("res-2", AccountKind.RESELLER, TENANT), system), deliveries=1)  # type: ignore[arg-type]
    on_ticket_subject = Message(put_account(account("res-3", AccountKind.RESELLER, TENANT)), deliveries=1)  # type: ignore[arg-type]
    on_ticket_subject.subject = f"unit.commands.{TENANT}.open"
    terminated: list[str] = []
    for message in (elsewhere, by_system, on_ticket_subject):

        async def term(message: Message = message) -> None:
            terminated.append(message.subject)

        message.term = term  # type: ignore[method-assign]

    await consumer.handle_batch([elsewhere, by_system, on_ticket_subject])  # type: ignore[list-item]

    assert len(terminated) == 3
    assert consumer.outcomes.stored == {}  # type: ignore[attr-defined]
    assert app.recorder.max_notification_id() == 1


async def test_a_directory_command_delivered_again_gets_its_stored_outcome_and_is_not_decided_again() -> None:
    put = put_account(account("res-1", AccountKind.RESELLER, TENANT))
    first = CommandOutcome.of(put, result="committed", version=1)
    app = DecidingApp()
    consumer = consumer_of(app, Outcomes({put.command_id: first}))
    again = Message(put, deliveries=2)  # type: ignore[arg-type]

    await consumer.handle_batch([again])  # type: ignore[list-item]

    assert app.decided == []
    assert again.acked


def consumer_of(app: object, outcomes: Outcomes | None = None) -> CommandConsumer:
    return CommandConsumer(
        app=app,  # type: ignore[arg-type]
        nc=None,  # type: ignore[arg-type]
        js=None,  # type: ignore[arg-type]
        outcomes=outcomes or Outcomes({}),  # type: ignore[arg-type]
        directory=DIRECTORY,
        subjects=Subjects("unit"),
        settings=Settings(HOSTDESK_JWT_SECRET="unit-secret-0123456789abcdefghijklmnop"),
    )
