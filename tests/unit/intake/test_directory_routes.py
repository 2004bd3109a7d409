"""The directory's routes over an in-memory bus: what each request becomes, and what is refused unsent."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from hostdesk_contracts.base import Role
from hostdesk_contracts.commands import OpenTicket
from hostdesk_contracts.directory import (
    AccountKind,
    AccountRecord,
    ApiKeyRecord,
    Category,
    Configuration,
    Configure,
    Department,
    HostingService,
    PutAccount,
    PutApiKey,
    PutStaff,
    Scope,
    StaffRecord,
    StaffRole,
)
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.runtime.auth import issue_token
from hostdesk_intake.adapters.fake_bus import FakeCommandBus
from hostdesk_intake.domain.commands import SentCommand

from tests.support import bearer

from .serving import CALLERS, SECRET, serving, token_for

PROVIDER = token_for("acme", role=Role.PROVIDER)
ACCOUNT = {"kind": "customer", "parent_id": "reseller-1", "display_name": "Jo Example", "email": "jo@example.com"}


@pytest.fixture
def bus() -> FakeCommandBus:
    return FakeCommandBus()


@pytest.fixture
async def client(bus: FakeCommandBus) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(bus) as client:
        yield client


async def test_an_account_is_put_by_the_control_panels_own_id(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    services = [{"id": "vps-1042", "label": "VPS Prague"}]
    response = await client.put(
        "/v1/directory/accounts/cust-1042", json={**ACCOUNT, "services": services}, headers=PROVIDER
    )

    assert response.status_code == 200, response.text
    assert response.json() | {"command_id": None} == {"command_id": None, "key": "principal.cust-1042", "version": 1}
    [command] = bus.sent
    assert isinstance(command, PutAccount)
    assert command.account.id == "cust-1042"
    assert command.account.parent_id == "reseller-1"
    assert command.account.services[0].label == "VPS Prague"
    assert command.actor.account_id == "acme"


@pytest.mark.parametrize("account_id", ["a.b", "a*", "a>", "a b", "-a", "x" * 101])
async def test_an_id_that_could_reach_into_a_subject_is_refused_unsent(
    client: httpx.AsyncClient, bus: FakeCommandBus, account_id: str
) -> None:
    response = await client.put(f"/v1/directory/accounts/{account_id}", json=ACCOUNT, headers=PROVIDER)

    assert response.status_code in (404, 422), response.text  # a '/' never reaches the route: 404
    assert response.headers["content-type"] == "application/problem+json"
    assert bus.sent == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ACCOUNT, "kind": "emperor"}, "kind"),
        ({**ACCOUNT, "parent_id": "reseller.1"}, "parent_id"),
        ({**ACCOUNT, "language": "de"}, "language"),
        ({**ACCOUNT, "display_name": "x" * 201}, "display_name"),
        ({**ACCOUNT, "tenant": "other"}, "tenant"),
    ],
)
async def test_a_malformed_account_is_a_422_naming_its_field(
    client: httpx.AsyncClient, bus: FakeCommandBus, body: dict[str, object], field: str
) -> None:
    response = await client.put("/v1/directory/accounts/cust-1", json=body, headers=PROVIDER)

    assert response.status_code == 422, response.text
    assert field in response.text
    assert bus.sent == []


async def test_a_refused_change_names_the_field_the_directory_refuses() -> None:
    def refuse(command: SentCommand) -> CommandOutcome:
        return CommandOutcome.of(command, result="refused", refusal=Refusal.INVALID, field="parent_id", detail="No.")

    async with serving(FakeCommandBus(refuse)) as client:
        response = await client.put("/v1/directory/accounts/cust-1", json=ACCOUNT, headers=PROVIDER)

    assert response.status_code == 422
    assert response.json()["invalid-params"] == [{"name": "parent_id", "reason": "No."}]


async def test_a_change_the_caller_may_not_make_is_a_404_like_no_record() -> None:
    def refuse(command: SentCommand) -> CommandOutcome:
        return CommandOutcome.of(command, result="refused", refusal=Refusal.NOT_FOUND)

    async with serving(FakeCommandBus(refuse)) as client:
        response = await client.put("/v1/directory/accounts/cust-1", json=ACCOUNT, headers=PROVIDER)

    assert response.status_code == 404
    assert response.json()["detail"] == "There is no principal.cust-1 that you may change."


async def test_the_bulk_form_puts_parents_before_their_children(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    accounts = [
        {**ACCOUNT, "id": "sub-1", "kind": "subaccount", "parent_id": "cust-1"},
        {**ACCOUNT, "id": "cust-1", "parent_id": "reseller-9"},
        {**ACCOUNT, "id": "reseller-9", "kind": "reseller", "parent_id": "acme"},
        {**ACCOUNT, "id": "cust-2", "parent_id": "acme"},
    ]
    response = await client.put("/v1/directory/accounts", json={"accounts": accounts}, headers=PROVIDER)

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [result["key"] for result in results] == [
        "principal.reseller-9",
        "principal.cust-2",
        "principal.cust-1",
        "principal.sub-1",
    ]
    assert {result["result"] for result in results} == {"committed"}
    assert [command.account.id for command in bus.sent if isinstance(command, PutAccount)] == [
        "reseller-9",
        "cust-2",
        "cust-1",
        "sub-1",
    ]
    assert len({command.command_id for command in bus.sent}) == 4


async def test_the_bulk_form_refuses_an_account_given_twice_unsent(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    accounts = [{**ACCOUNT, "id": "cust-1"}, {**ACCOUNT, "id": "cust-1", "display_name": "Other"}]
    response = await client.put("/v1/directory/accounts", json={"accounts": accounts}, headers=PROVIDER)

    assert response.status_code == 422
    assert "cust-1" in response.text
    assert bus.sent == []


async def test_the_same_bulk_request_with_its_key_is_the_same_commands(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    body = {"accounts": [{**ACCOUNT, "id": "cust-1"}, {**ACCOUNT, "id": "cust-2"}]}
    headers = {**PROVIDER, "Idempotency-Key": "sync-2026-12-02"}
    first = await client.put("/v1/directory/accounts", json=body, headers=headers)
    again = await client.put("/v1/directory/accounts", json=body, headers=headers)

    assert first.json() == again.json()
    assert len(bus.sent) == 2


async def test_staff_and_a_configuration_are_put(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    staff = {"organisation_id": "acme", "role": "agent", "display_name": "Ana", "departments": ["Billing"]}
    configuration = {
        "departments": [{"name": "Billing", "round_robin": True}, {"name": "Technical Support"}],
        "categories": [{"name": "Invoices", "department": "Billing", "for_subaccounts": False}],
        "status_labels": {"Validation": "in_progress"},
        "canned_responses": [{"name": "Thanks", "body": "Thank you for your patience."}],
        "staff_see_own_departments_only": True,
    }
    assert (await client.put("/v1/directory/staff/ana", json=staff, headers=PROVIDER)).status_code == 200
    response = await client.put(
        "/v1/directory/organisations/acme/configuration", json=configuration, headers={**PROVIDER, "If-Match": '"3"'}
    )

    assert response.status_code == 200, response.text
    put_staff, configure = bus.sent
    assert isinstance(put_staff, PutStaff)
    assert put_staff.staff.departments == ("Billing",)
    assert isinstance(configure, Configure)
    assert configure.expected_version == 3
    assert configure.configuration.departments[0].round_robin
    assert configure.configuration.categories[0].for_subaccounts is False


async def test_an_api_key_is_shown_once_and_only_its_hash_is_sent(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    request = {"account_id": "acme", "label": "Monitoring", "scopes": ["tickets:write", "tickets:write"]}
    response = await client.post("/v1/directory/api-keys", json=request, headers=PROVIDER)

    assert response.status_code == 201, response.text
    answer = response.json()
    key: str = answer["key"]
    assert key.startswith(f"hd_{answer['id']}_")
    [command] = bus.sent
    assert isinstance(command, PutApiKey)
    assert command.api_key.secret_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert key not in command.model_dump_json()
    assert command.api_key.scopes == ("tickets:write",)


async def test_a_key_with_an_unknown_scope_is_refused_unsent(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    request = {"account_id": "acme", "label": "Monitoring", "scopes": ["everything"]}
    response = await client.post("/v1/directory/api-keys", json=request, headers=PROVIDER)

    assert response.status_code == 422
    assert "scopes" in response.text
    assert bus.sent == []


async def test_an_api_key_without_the_directory_scope_may_not_change_the_directory(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    token_for("acme", role=Role.PROVIDER)  # the key's account, in the directory
    key = "hd_monitoring01_" + "s" * 43
    CALLERS.directory.put(
        ApiKeyRecord(
            id="monitoring01",
            account_id="acme",
            label="Monitoring",
            scopes=(Scope.TICKETS_WRITE,),
            secret_sha256=hashlib.sha256(key.encode()).hexdigest(),
        )
    )
    response = await client.put("/v1/directory/accounts/cust-1", json=ACCOUNT, headers=bearer(key))

    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert bus.sent == []


def _tree() -> None:
    """A provider, a reseller with a configuration, a customer under it and its subaccount, in the directory."""
    CALLERS.directory.put(
        AccountRecord(id="tree-p", kind=AccountKind.PROVIDER, display_name="Provider"),
        AccountRecord(id="tree-r", kind=AccountKind.RESELLER, parent_id="tree-p", display_name="Reseller"),
        AccountRecord(
            id="tree-c",
            kind=AccountKind.CUSTOMER,
            parent_id="tree-r",
            display_name="Customer",
            services=(HostingService(id="vps-1", label="VPS"),),
        ),
        AccountRecord(id="tree-s", kind=AccountKind.SUBACCOUNT, parent_id="tree-c", display_name="FTP user"),
        AccountRecord(id="tree-other", kind=AccountKind.CUSTOMER, parent_id="tree-p", display_name="Other"),
        Configuration(
            organisation_id="tree-r",
            departments=(Department(name="Support"), Department(name="Old", retired=True)),
            categories=(Category(name="Billing", for_subaccounts=False), Category(name="Mail")),
        ),
        StaffRecord(id="tree-agent", organisation_id="tree-r", role=StaffRole.AGENT, display_name="Agent"),
    )


async def test_a_customer_learns_where_it_may_write_and_what_it_may_choose(client: httpx.AsyncClient) -> None:
    _tree()
    customer = bearer(issue_token(secret=SECRET, account_id="tree-c"))
    subaccount = bearer(issue_token(secret=SECRET, account_id="tree-s"))

    mine = (await client.get("/v1/directory/me", headers=customer)).json()
    sub = (await client.get("/v1/directory/me", headers=subaccount)).json()

    assert [each["organisation_id"] for each in mine["addressees"]] == ["tree-r", "tree-p"]
    assert mine["addressees"][0]["departments"] == ["Support"]
    assert mine["addressees"][0]["categories"] == ["Billing", "Mail"]
    assert mine["services"] == [{"id": "vps-1", "label": "VPS"}]
    assert [each["organisation_id"] for each in sub["addressees"]] == ["tree-c", "tree-r", "tree-p"]
    assert sub["addressees"][1]["categories"] == ["Mail"]


async def test_staff_read_their_branch_and_nothing_else(client: httpx.AsyncClient) -> None:
    _tree()
    agent = bearer(issue_token(secret=SECRET, account_id="tree-agent"))
    other = bearer(issue_token(secret=SECRET, account_id="tree-other"))

    me = (await client.get("/v1/directory/me", headers=agent)).json()
    assert me["organisation"]["departments"] == ["Support"]
    assert [each["id"] for each in me["organisation"]["staff"]] == ["tree-agent"]
    assert (await client.get("/v1/directory/accounts/tree-s", headers=agent)).status_code == 200
    assert (await client.get("/v1/directory/accounts/tree-other", headers=agent)).status_code == 404
    assert (await client.get("/v1/directory/accounts/tree-c", headers=other)).status_code == 404
    assert (await client.get("/v1/directory/accounts/nobody", headers=agent)).status_code == 404
    configuration = await client.get("/v1/directory/organisations/tree-r/configuration", headers=agent)
    assert configuration.json()["departments"][1] == {"name": "Old", "retired": True, "round_robin": False}
    assert (await client.get("/v1/directory/organisations/tree-r/configuration", headers=other)).status_code == 404


async def test_a_ticket_is_addressed_to_the_ancestor_the_requester_names(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    body = {"subject": "Domain transfer", "body": "Please move example.com.", "handling_organisation_id": "acme"}
    response = await client.post("/v1/tickets", json=body, headers=token_for("cust-77"))
    refused = await client.post(
        "/v1/tickets", json={**body, "handling_organisation_id": "acme.*"}, headers=token_for("cust-77")
    )

    assert response.status_code == 201, response.text
    [command] = bus.sent
    assert isinstance(command, OpenTicket)
    assert command.handling_organisation_id == "acme"
    assert refused.status_code == 422
    assert "handling_organisation_id" in refused.text
