"""The in-memory records every service reads the directory through: the newer version wins, and an
organisation's staff follow their moves."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from hostdesk_contracts.directory import AccountKind, AccountRecord, StaffRecord, StaffRole, SupportAddressRecord
from hostdesk_contracts.runtime.directory import DirectoryUnavailable, MemoryDirectory
from hostdesk_contracts.runtime.problems import install_problem_handlers


def staff(staff_id: str, organisation: str, version: int = 1) -> StaffRecord:
    return StaffRecord(
        id=staff_id, organisation_id=organisation, role=StaffRole.AGENT, display_name=staff_id, version=version
    )


async def test_an_organisations_staff_are_listed_by_id_and_follow_a_move() -> None:
    directory = MemoryDirectory()
    directory.put(staff("b", "north"), staff("a", "north"), staff("c", "south"))

    assert [each.id for each in await directory.staff_of("north")] == ["a", "b"]
    directory.put(staff("b", "south", version=2))
    assert [each.id for each in await directory.staff_of("north")] == ["a"]
    assert [each.id for each in await directory.staff_of("south")] == ["b", "c"]
    directory.put(staff("b", "north", version=1))  # an older record arriving late changes nothing
    assert [each.id for each in await directory.staff_of("south")] == ["b", "c"]
    assert await directory.staff_of("nobody") == ()


async def test_the_holders_of_an_address_are_found_in_any_case_and_follow_a_change_of_address() -> None:
    directory = MemoryDirectory()
    jo = AccountRecord(id="jo", kind=AccountKind.CUSTOMER, parent_id="acme", display_name="Jo", email="Jo@Example.org")
    box = AccountRecord(
        id="box", kind=AccountKind.SUBACCOUNT, parent_id="jo", display_name="Box", email="jo@example.org"
    )
    directory.put(jo, box, staff("a", "north"))

    assert [each.id for each in await directory.principals_with_email("JO@example.ORG")] == ["box", "jo"]
    directory.put(jo.model_copy(update={"email": "new@example.org", "version": 2}))
    assert [each.id for each in await directory.principals_with_email("jo@example.org")] == ["box"]
    assert [each.id for each in await directory.principals_with_email("new@example.org")] == ["jo"]
    assert await directory.principals_with_email("nobody@example.org") == ()


async def test_a_support_address_is_found_by_its_address_in_any_case() -> None:
    directory = MemoryDirectory()
    directory.put(SupportAddressRecord(address="Support@Acme.test", organisation_id="acme"))

    found = await directory.support_address("SUPPORT@acme.test")
    assert found is not None
    assert (found.address, found.organisation_id) == ("support@acme.test", "acme")
    assert await directory.support_address("sales@acme.test") is None


async def test_a_directory_that_cannot_be_read_is_a_routes_503_whichever_look_up_met_it() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/looks-up")
    async def looks_up() -> None:
        raise DirectoryUnavailable("the directory bucket is not reached yet")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
        response = await client.get("/looks-up")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    assert "nothing was done" in response.json()["detail"]


async def test_an_organisations_support_addresses_are_listed_by_address_retired_ones_too() -> None:
    directory = MemoryDirectory()
    billing = SupportAddressRecord(address="billing@acme.test", organisation_id="acme", department="Billing")
    directory.put(
        SupportAddressRecord(address="support@acme.test", organisation_id="acme"),
        billing,
        SupportAddressRecord(address="help@reseller.test", organisation_id="reseller"),
    )
    directory.put(billing.model_copy(update={"retired": True, "version": 2}))

    found = await directory.support_addresses_of("acme")
    assert [(each.address, each.retired) for each in found] == [
        ("billing@acme.test", True),
        ("support@acme.test", False),
    ]
    assert [each.address for each in await directory.support_addresses_of("reseller")] == ["help@reseller.test"]
    assert await directory.support_addresses_of("nobody") == ()
