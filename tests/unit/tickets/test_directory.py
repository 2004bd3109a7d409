"""The directory's accounts and who may put them: kinds, parents, tenants, moves, and each role's reach.

Each test runs on the tickets application in memory (``eventsourcing.popo``), through ``handle_directory``, as
the commands consumer runs it."""

from __future__ import annotations

import uuid
from typing import Any

from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.directory import (
    AccountKind,
    AccountRecord,
    AnyDirectoryCommand,
    PutAccount,
    PutStaff,
    StaffRecord,
    StaffRole,
    aggregate_id_for,
)
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.service_layer.application import TicketsApplication

from .builders import NOW

TENANT = "acme"
PROVIDER = Actor(account_id=TENANT, tenant=TENANT, role=Role.PROVIDER)


def new_app() -> TicketsApplication:
    return TicketsApplication(numbers=CountingNumbers(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def as_actor(account_id: str, role: Role, *, tenant: str = TENANT, organisation_id: str | None = None) -> Actor:
    return Actor(account_id=account_id, tenant=tenant, role=role, organisation_id=organisation_id)


def account(account_id: str, kind: AccountKind, parent_id: str | None = None, **fields: Any) -> AccountRecord:
    fields.setdefault("display_name", account_id.title())
    return AccountRecord(id=account_id, kind=kind, parent_id=parent_id, **fields)


def put_account(record: AccountRecord, actor: Actor = PROVIDER, **fields: Any) -> PutAccount:
    fields.setdefault("command_id", str(uuid.uuid4()))
    return PutAccount(actor=actor, issued_at=NOW, account=record, **fields)


def put_staff(record: StaffRecord, actor: Actor = PROVIDER, **fields: Any) -> PutStaff:
    fields.setdefault("command_id", str(uuid.uuid4()))
    return PutStaff(actor=actor, issued_at=NOW, staff=record, **fields)


def staff(staff_id: str, organisation_id: str, role: StaffRole = StaffRole.AGENT, **fields: Any) -> StaffRecord:
    fields.setdefault("display_name", staff_id.title())
    return StaffRecord(id=staff_id, organisation_id=organisation_id, role=role, **fields)


def committed(app: TicketsApplication, command: AnyDirectoryCommand) -> CommandOutcome:
    outcome = app.handle_directory(command)
    assert outcome.result == "committed", outcome
    return outcome


def founded(app: TicketsApplication | None = None, tenant: str = TENANT) -> TicketsApplication:
    """An application whose directory holds the provider ``tenant``, founded by itself."""
    app = app or new_app()
    provider = Actor(account_id=tenant, tenant=tenant, role=Role.PROVIDER)
    committed(app, put_account(account(tenant, AccountKind.PROVIDER), provider))
    return app


def tree() -> TicketsApplication:
    """acme: reseller ``res-1`` (customer ``cust-1`` with subaccount ``ftp-1``), reseller ``res-2``, the provider's
    own customer ``cust-0``, and a provider supervisor ``sup-0`` and agent ``agent-0``."""
    app = founded()
    for record in (
        account("res-1", AccountKind.RESELLER, TENANT),
        account("res-2", AccountKind.RESELLER, TENANT),
        account("cust-0", AccountKind.CUSTOMER, TENANT),
        account("cust-1", AccountKind.CUSTOMER, "res-1"),
        account("ftp-1", AccountKind.SUBACCOUNT, "cust-1"),
    ):
        committed(app, put_account(record))
    committed(app, put_staff(staff("sup-0", TENANT, StaffRole.SUPERVISOR)))
    committed(app, put_staff(staff("agent-0", TENANT)))
    return app


def events_of(app: TicketsApplication) -> int:
    return app.recorder.max_notification_id() or 0


def refused(app: TicketsApplication, command: AnyDirectoryCommand, refusal: Refusal, field: str | None = None) -> None:
    """``command`` is refused so, and records nothing."""
    before = events_of(app)
    outcome = app.handle_directory(command)
    assert (outcome.result, outcome.refusal, outcome.field) == ("refused", refusal, field), outcome
    assert events_of(app) == before


# -- founding, versions, idempotency -----------------------------------------------------------------------


def test_a_provider_founds_its_tenant_by_putting_its_own_account() -> None:
    app = new_app()

    outcome = app.handle_directory(put_account(account(TENANT, AccountKind.PROVIDER), PROVIDER))

    assert (outcome.result, outcome.version, outcome.key) == ("committed", 1, f"principal.{TENANT}")
    assert events_of(app) == 1


def test_nobody_the_directory_does_not_know_creates_anything_but_its_own_provider() -> None:
    app = new_app()

    refused(app, put_account(account("res-1", AccountKind.RESELLER, TENANT), PROVIDER), Refusal.NOT_FOUND)
    refused(app, put_account(account("globex", AccountKind.PROVIDER), PROVIDER), Refusal.NOT_FOUND)
    reseller = as_actor("res-1", Role.RESELLER)
    refused(app, put_account(account("cust-1", AccountKind.CUSTOMER, "res-1"), reseller), Refusal.NOT_FOUND)


def test_a_founded_provider_creates_no_other_provider() -> None:
    app = founded()

    refused(app, put_account(account("globex", AccountKind.PROVIDER)), Refusal.NOT_FOUND)


def test_a_providers_id_must_be_a_tenant() -> None:
    app = founded()

    refused(app, put_account(account("Big-Co", AccountKind.PROVIDER)), Refusal.INVALID, "id")


def test_the_same_account_put_again_records_nothing_and_answers_its_version() -> None:
    app = tree()
    before = events_of(app)

    outcome = committed(app, put_account(account("cust-1", AccountKind.CUSTOMER, "res-1")))

    assert outcome.version == 1
    assert events_of(app) == before


def test_a_changed_account_gets_the_next_version() -> None:
    app = tree()

    outcome = committed(app, put_account(account("cust-1", AccountKind.CUSTOMER, "res-1", display_name="Jo Ltd")))

    assert outcome.version == 2


def test_a_put_expecting_another_version_is_stale_and_names_the_current_one() -> None:
    app = tree()
    changed = account("cust-1", AccountKind.CUSTOMER, "res-1", display_name="Jo Ltd")

    before = events_of(app)
    outcome = app.handle_directory(put_account(changed, expected_version=3))
    missing = app.handle_directory(put_account(account("cust-9", AccountKind.CUSTOMER, TENANT), expected_version=1))

    assert (outcome.refusal, outcome.current_version) == (Refusal.STALE, 1)
    assert (missing.refusal, missing.current_version) == (Refusal.STALE, None)
    assert events_of(app) == before
    assert committed(app, put_account(changed, expected_version=1)).version == 2


def test_a_command_delivered_again_after_a_later_change_records_nothing_and_answers_its_own_version() -> None:
    app = tree()
    first = put_account(account("cust-1", AccountKind.CUSTOMER, "res-1", display_name="First"))
    committed(app, first)
    committed(app, put_account(account("cust-1", AccountKind.CUSTOMER, "res-1", display_name="Second")))
    before = events_of(app)

    again = app.handle_directory(first)

    assert (again.result, again.version) == ("committed", 2)
    assert events_of(app) == before


# -- kinds, parents, tenants -------------------------------------------------------------------------------


def test_a_whole_tree_hangs_together_under_its_provider() -> None:
    app = tree()

    subaccount = app.handle_directory(put_account(account("ftp-2", AccountKind.SUBACCOUNT, "cust-1")))

    assert (subaccount.result, subaccount.version) == ("committed", 1)


def test_each_kind_hangs_only_under_the_kinds_it_may() -> None:
    app = tree()

    refused(app, put_account(account("res-9", AccountKind.RESELLER, "res-1")), Refusal.INVALID, "parent_id")
    refused(app, put_account(account("ftp-9", AccountKind.SUBACCOUNT, "res-1")), Refusal.INVALID, "parent_id")
    refused(app, put_account(account("cust-9", AccountKind.CUSTOMER, "ftp-1")), Refusal.INVALID, "parent_id")
    refused(app, put_account(account("cust-9", AccountKind.CUSTOMER)), Refusal.INVALID, "parent_id")
    refused(app, put_account(account(TENANT, AccountKind.PROVIDER, "res-1")), Refusal.INVALID, "parent_id")


def test_a_parent_must_exist_in_the_tenant() -> None:
    app = founded(tree(), "globex")

    refused(app, put_account(account("cust-9", AccountKind.CUSTOMER, "nobody")), Refusal.INVALID, "parent_id")
    refused(app, put_account(account("cust-9", AccountKind.CUSTOMER, "globex")), Refusal.INVALID, "parent_id")


def test_a_disabled_parent_takes_no_new_account_but_its_accounts_may_still_change() -> None:
    app = tree()
    committed(app, put_account(account("res-1", AccountKind.RESELLER, TENANT, disabled=True)))

    refused(app, put_account(account("cust-9", AccountKind.CUSTOMER, "res-1")), Refusal.INVALID, "parent_id")
    renamed = committed(app, put_account(account("cust-1", AccountKind.CUSTOMER, "res-1", display_name="Renamed")))
    assert renamed.version == 2


def test_an_accounts_kind_never_changes() -> None:
    app = tree()

    refused(app, put_account(account("cust-1", AccountKind.RESELLER, TENANT)), Refusal.INVALID, "kind")


def test_a_customer_moves_to_another_reseller_and_the_event_names_the_parent_it_left() -> None:
    app = tree()

    moved = committed(app, put_account(account("cust-1", AccountKind.CUSTOMER, "res-2")))

    stored = list(app.repository.event_store.get(aggregate_id_for("principal.cust-1")))[-1]
    assert moved.version == 2
    assert stored.from_parent_id == "res-1"  # type: ignore[attr-defined]


def test_an_account_never_moves_to_another_tenant() -> None:
    app = founded(tree(), "globex")

    refused(app, put_account(account("cust-1", AccountKind.CUSTOMER, "globex")), Refusal.INVALID, "parent_id")


def test_accounts_and_staff_share_one_id_space() -> None:
    app = tree()

    refused(app, put_staff(staff("cust-1", TENANT)), Refusal.INVALID, "id")
    refused(app, put_account(account("agent-0", AccountKind.CUSTOMER, TENANT)), Refusal.INVALID, "id")


# -- who may --------------------------------------------------------------------------------------------------


def test_a_reseller_puts_the_accounts_below_it_and_nothing_beside_or_above_it() -> None:
    app = tree()
    reseller = as_actor("res-1", Role.RESELLER)

    committed(app, put_account(account("cust-2", AccountKind.CUSTOMER, "res-1"), reseller))
    committed(app, put_account(account("ftp-2", AccountKind.SUBACCOUNT, "cust-1"), reseller))
    refused(
        app, put_account(account("res-1", AccountKind.RESELLER, TENANT, display_name="Me"), reseller), Refusal.NOT_FOUND
    )
    refused(app, put_account(account("cust-3", AccountKind.CUSTOMER, "res-2"), reseller), Refusal.NOT_FOUND)
    refused(
        app, put_account(account("cust-0", AccountKind.CUSTOMER, TENANT, display_name="X"), reseller), Refusal.NOT_FOUND
    )
    refused(app, put_account(account("cust-1", AccountKind.CUSTOMER, TENANT), reseller), Refusal.NOT_FOUND)


def test_a_customer_puts_its_own_subaccounts_only() -> None:
    app = tree()
    customer = as_actor("cust-1", Role.CUSTOMER)

    committed(app, put_account(account("ftp-2", AccountKind.SUBACCOUNT, "cust-1"), customer))
    refused(app, put_account(account("ftp-3", AccountKind.SUBACCOUNT, "cust-0"), customer), Refusal.NOT_FOUND)
    refused(
        app,
        put_account(account("cust-1", AccountKind.CUSTOMER, "res-1", display_name="Me"), customer),
        Refusal.NOT_FOUND,
    )


def test_the_providers_supervisor_puts_the_tenants_accounts_but_not_the_provider_and_an_agent_puts_nothing() -> None:
    app = tree()
    supervisor = as_actor("sup-0", Role.SUPERVISOR, organisation_id=TENANT)
    agent = as_actor("agent-0", Role.AGENT, organisation_id=TENANT)

    committed(app, put_account(account("cust-5", AccountKind.CUSTOMER, "res-2"), supervisor))
    refused(
        app, put_account(account(TENANT, AccountKind.PROVIDER, display_name="Renamed"), supervisor), Refusal.NOT_FOUND
    )
    refused(app, put_account(account("cust-6", AccountKind.CUSTOMER, TENANT), agent), Refusal.NOT_FOUND)


def test_an_actor_of_another_tenant_is_told_nothing_exists() -> None:
    app = founded(tree(), "globex")
    foreign = as_actor("globex", Role.PROVIDER, tenant="globex")

    refused(
        app,
        put_account(account("cust-1", AccountKind.CUSTOMER, "res-1", display_name="Mine"), foreign),
        Refusal.NOT_FOUND,
    )
    refused(app, put_staff(staff("agent-0", TENANT, display_name="Mine"), foreign), Refusal.NOT_FOUND)


def test_an_actor_is_who_the_directory_says_not_who_its_token_says() -> None:
    app = tree()

    posing = as_actor("cust-1", Role.RESELLER)  # a customer's token claiming to be a reseller
    refused(app, put_account(account("ftp-5", AccountKind.SUBACCOUNT, "cust-1"), posing), Refusal.NOT_FOUND)
    committed(app, put_account(account("res-1", AccountKind.RESELLER, TENANT, disabled=True)))
    disabled = as_actor("res-1", Role.RESELLER)
    refused(app, put_account(account("cust-7", AccountKind.CUSTOMER, "res-1"), disabled), Refusal.NOT_FOUND)
