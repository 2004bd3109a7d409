"""The in-memory records every service reads the directory through: the newer version wins, and an
organisation's staff follow their moves."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from hostdesk_contracts.directory import StaffRecord, StaffRole
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
