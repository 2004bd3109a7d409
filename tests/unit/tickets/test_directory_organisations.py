"""The directory's staff, configurations and API keys: where each belongs, what each may hold, who may put it."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from hostdesk_contracts.base import Role, Status
from hostdesk_contracts.directory import (
    AccountKind,
    ApiKeyRecord,
    CannedResponse,
    Category,
    Configuration,
    Configure,
    Department,
    PutApiKey,
    PutSupportAddress,
    Scope,
    StaffRole,
    SupportAddressRecord,
)
from hostdesk_contracts.outcomes import Refusal
from hostdesk_tickets.service_layer.application import TicketsApplication

from .builders import NOW
from .test_directory import (
    PROVIDER,
    TENANT,
    account,
    as_actor,
    committed,
    put_account,
    put_staff,
    refused,
    staff,
    tree,
)

SUPPORT, BILLING = Department(name="Support"), Department(name="Billing")


def configure(configuration: Configuration, actor: Any = PROVIDER, **fields: Any) -> Configure:
    fields.setdefault("command_id", str(uuid.uuid4()))
    return Configure(actor=actor, issued_at=NOW, configuration=configuration, **fields)


def config(organisation_id: str = TENANT, **fields: Any) -> Configuration:
    fields.setdefault("departments", (SUPPORT, BILLING))
    return Configuration(organisation_id=organisation_id, **fields)


def api_key(key_id: str, account_id: str, tail: str = "s3cret", **fields: Any) -> ApiKeyRecord:
    digest = hashlib.sha256(f"hd_{key_id}_{tail}".encode()).hexdigest()
    return ApiKeyRecord(
        id=key_id, account_id=account_id, label="Billing", scopes=(Scope.TICKETS_READ,), secret_sha256=digest, **fields
    )


def put_key(record: ApiKeyRecord, actor: Any = PROVIDER) -> PutApiKey:
    return PutApiKey(command_id=str(uuid.uuid4()), actor=actor, issued_at=NOW, api_key=record)


def configured() -> TicketsApplication:
    app = tree()
    committed(app, configure(config()))
    return app


# -- staff ---------------------------------------------------------------------------------------------------


def test_staff_belong_to_a_provider_or_a_reseller_in_departments_of_its_configuration() -> None:
    app = configured()

    member = committed(app, put_staff(staff("agent-1", TENANT, departments=("Support", "Billing"))))
    reseller_staff = committed(app, put_staff(staff("agent-2", "res-1")))

    assert (member.version, reseller_staff.version) == (1, 1)


def test_a_customer_has_no_staff_and_staff_need_an_organisation_of_the_tenant() -> None:
    app = configured()

    refused(app, put_staff(staff("agent-1", "cust-1")), Refusal.INVALID, "organisation_id")
    refused(app, put_staff(staff("agent-1", "nobody")), Refusal.INVALID, "organisation_id")


def test_staff_join_only_departments_the_organisation_has_and_none_retired() -> None:
    app = configured()
    committed(app, put_staff(staff("agent-1", TENANT, departments=("Billing",))))
    committed(app, configure(config(departments=(SUPPORT, Department(name="Billing", retired=True)))))

    refused(app, put_staff(staff("agent-2", TENANT, departments=("Sales",))), Refusal.INVALID, "departments")
    refused(app, put_staff(staff("agent-2", TENANT, departments=("Billing",))), Refusal.INVALID, "departments")
    kept = committed(app, put_staff(staff("agent-1", TENANT, departments=("Billing",), display_name="Still here")))
    assert kept.version == 2


def test_a_reseller_puts_its_own_staff_and_a_supervisor_those_of_its_organisation_but_no_agent_any() -> None:
    app = configured()
    reseller = as_actor("res-1", Role.RESELLER)
    committed(app, put_staff(staff("sup-1", "res-1", StaffRole.SUPERVISOR), reseller))
    supervisor = as_actor("sup-1", Role.SUPERVISOR, organisation_id="res-1")
    agent = as_actor("agent-0", Role.AGENT, organisation_id=TENANT)

    committed(app, put_staff(staff("agent-3", "res-1"), supervisor))
    refused(app, put_staff(staff("agent-4", TENANT), reseller), Refusal.NOT_FOUND)
    refused(app, put_staff(staff("agent-4", TENANT), supervisor), Refusal.NOT_FOUND)
    refused(app, put_staff(staff("agent-4", TENANT), agent), Refusal.NOT_FOUND)
    refused(app, put_staff(staff("agent-0", TENANT, display_name="Taken over"), reseller), Refusal.NOT_FOUND)


def test_staff_of_a_disabled_organisation_change_nothing() -> None:
    app = configured()
    committed(app, put_staff(staff("sup-1", "res-1", StaffRole.SUPERVISOR)))
    committed(app, put_account(account("res-1", AccountKind.RESELLER, TENANT, disabled=True)))
    supervisor = as_actor("sup-1", Role.SUPERVISOR, organisation_id="res-1")

    refused(app, put_staff(staff("agent-3", "res-1"), supervisor), Refusal.NOT_FOUND)


# -- configurations ------------------------------------------------------------------------------------------


def test_an_organisation_that_handles_tickets_is_configured_by_itself_or_its_supervisors() -> None:
    app = configured()
    committed(app, put_staff(staff("sup-1", "res-1", StaffRole.SUPERVISOR)))

    by_customer = committed(app, configure(config("cust-1"), as_actor("cust-1", Role.CUSTOMER)))
    by_supervisor = committed(
        app,
        configure(
            config("res-1", status_labels={"To do": Status.ON_HOLD}),
            as_actor("sup-1", Role.SUPERVISOR, organisation_id="res-1"),
        ),
    )

    assert (by_customer.version, by_supervisor.version) == (1, 1)
    refused(app, configure(config("ftp-1")), Refusal.INVALID, "organisation_id")
    refused(app, configure(config("nobody")), Refusal.INVALID, "organisation_id")


def test_nobody_configures_an_organisation_not_its_own() -> None:
    app = configured()
    committed(app, put_staff(staff("sup-1", "res-1", StaffRole.SUPERVISOR)))
    agent = as_actor("agent-0", Role.AGENT, organisation_id=TENANT)
    reseller_supervisor = as_actor("sup-1", Role.SUPERVISOR, organisation_id="res-1")

    refused(app, configure(config(departments=(SUPPORT, BILLING, Department(name="Sales"))), agent), Refusal.NOT_FOUND)
    refused(
        app,
        configure(config(departments=(SUPPORT, BILLING, Department(name="Sales"))), reseller_supervisor),
        Refusal.NOT_FOUND,
    )
    refused(app, configure(config("res-2"), as_actor("res-1", Role.RESELLER)), Refusal.NOT_FOUND)
    refused(app, configure(config("cust-0"), as_actor("cust-1", Role.CUSTOMER)), Refusal.NOT_FOUND)


def test_names_of_departments_categories_and_canned_responses_are_unique_in_any_case() -> None:
    app = configured()

    refused(
        app,
        configure(config(departments=(SUPPORT, BILLING, Department(name="support")))),
        Refusal.INVALID,
        "departments",
    )
    twice = (Category(name="VPS"), Category(name="vps"))
    refused(app, configure(config(categories=twice)), Refusal.INVALID, "categories")
    canned = (CannedResponse(name="Hello", body="Hi."), CannedResponse(name="Hello", body="Hello."))
    refused(app, configure(config(canned_responses=canned)), Refusal.INVALID, "canned_responses")


def test_a_category_goes_to_one_of_the_departments_and_to_staff_of_the_organisation() -> None:
    app = configured()
    committed(app, put_staff(staff("agent-9", "res-1")))

    refused(
        app, configure(config(categories=(Category(name="VPS", department="Sales"),))), Refusal.INVALID, "categories"
    )
    refused(
        app, configure(config(categories=(Category(name="VPS", assignee_id="agent-9"),))), Refusal.INVALID, "categories"
    )
    refused(
        app, configure(config(categories=(Category(name="VPS", assignee_id="cust-0"),))), Refusal.INVALID, "categories"
    )
    fine = (Category(name="VPS", department="Support", assignee_id="agent-0"),)
    assert committed(app, configure(config(categories=fine))).version == 2


def test_a_department_is_retired_never_removed() -> None:
    app = configured()
    before = app.recorder.max_notification_id()

    outcome = app.handle_directory(configure(config(departments=(SUPPORT,))))

    assert (outcome.refusal, outcome.field, outcome.current_version) == (Refusal.INVALID, "departments", 1)
    assert outcome.detail is not None
    assert "'Billing'" in outcome.detail
    assert app.recorder.max_notification_id() == before
    retired = (SUPPORT, Department(name="Billing", retired=True))
    assert committed(app, configure(config(departments=retired))).version == 2


def test_a_configuration_put_again_records_nothing_and_if_match_guards_a_concurrent_edit() -> None:
    app = configured()
    before = app.recorder.max_notification_id()

    again = committed(app, configure(config()))
    assert (again.version, app.recorder.max_notification_id()) == (1, before)
    edited = config(departments=(SUPPORT, BILLING, Department(name="Sales")))
    refused(app, configure(edited, expected_version=2), Refusal.STALE)
    assert committed(app, configure(edited, expected_version=1)).version == 2


# -- API keys ------------------------------------------------------------------------------------------------


def test_the_provider_makes_keys_for_any_account_and_a_reseller_for_itself_and_below() -> None:
    app = configured()
    reseller = as_actor("res-1", Role.RESELLER)

    committed(app, put_key(api_key("key-0", TENANT)))
    committed(app, put_key(api_key("key-1", "res-1"), reseller))
    committed(app, put_key(api_key("key-2", "ftp-1"), reseller))
    refused(app, put_key(api_key("key-3", TENANT), reseller), Refusal.NOT_FOUND)
    refused(app, put_key(api_key("key-4", "cust-0"), reseller), Refusal.NOT_FOUND)
    refused(app, put_key(api_key("key-5", "cust-1"), as_actor("cust-1", Role.CUSTOMER)), Refusal.NOT_FOUND)
    refused(app, put_key(api_key("key-6", "nobody")), Refusal.INVALID, "account_id")


def test_a_key_is_made_once_and_a_revoked_key_stays_revoked() -> None:
    app = configured()
    committed(app, put_key(api_key("key-1", "cust-1")))

    refused(app, put_key(api_key("key-1", "cust-1", tail="other")), Refusal.INVALID, "secret_sha256")
    refused(app, put_key(api_key("key-1", "cust-0")), Refusal.INVALID, "account_id")
    assert committed(app, put_key(api_key("key-1", "cust-1", revoked=True))).version == 2
    refused(app, put_key(api_key("key-1", "cust-1")), Refusal.INVALID, "revoked")


# -- support addresses ---------------------------------------------------------------------------------------


def put_address(address: str, organisation_id: str, actor: Any = PROVIDER, **fields: Any) -> PutSupportAddress:
    record = SupportAddressRecord(address=address, organisation_id=organisation_id, **fields)
    return PutSupportAddress(command_id=str(uuid.uuid4()), actor=actor, issued_at=NOW, support_address=record)


def test_an_organisation_receives_mail_at_its_addresses_in_its_departments() -> None:
    app = configured()
    reseller = as_actor("res-1", Role.RESELLER)

    assert committed(app, put_address("Support@Acme.test", TENANT, department="Billing")).version == 1
    assert committed(app, put_address("help@res-1.test", "res-1", reseller)).version == 1
    assert committed(app, put_address("support@acme.test", TENANT, department="Billing")).version == 1  # as it is
    assert committed(app, put_address("support@acme.test", TENANT, retired=True)).version == 2


def test_an_address_is_its_first_organisation_s_for_ever_and_nobody_else_is_told_it_is_taken() -> None:
    app = configured()
    committed(app, put_address("support@acme.test", TENANT))
    reseller = as_actor("res-1", Role.RESELLER)

    refused(app, put_address("support@acme.test", "res-1", reseller), Refusal.NOT_FOUND)
    refused(app, put_address("support@acme.test", "res-1"), Refusal.NOT_FOUND)  # not even by the provider
    refused(app, put_address("sales@acme.test", TENANT, reseller), Refusal.NOT_FOUND)  # not its organisation


def test_a_support_address_names_a_department_of_its_organisation_that_takes_tickets() -> None:
    app = configured()
    committed(app, configure(config(departments=(SUPPORT, Department(name="Billing", retired=True)))))

    refused(app, put_address("a@acme.test", TENANT, department="Sales"), Refusal.INVALID, "department")
    refused(app, put_address("a@acme.test", TENANT, department="Billing"), Refusal.INVALID, "department")
    refused(app, put_address("a@acme.test", "ftp-1"), Refusal.INVALID, "organisation_id")
    refused(app, put_address("a@acme.test", "nobody"), Refusal.INVALID, "organisation_id")
