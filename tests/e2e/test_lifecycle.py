"""Every ticket action through intake, decided by tickets and read back from query, on the real services."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hostdesk_contracts.base import Role

from tests.e2e.conftest import Running
from tests.e2e.test_journey import committed, read_ticket

CUSTOMER_EMAIL = "jo@customer.example"


async def act(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """Send a command and wait for its committed outcome."""
    response = await client.request(method, path, **kwargs)
    return await committed(client, response)


def kinds(ticket: dict[str, Any]) -> list[str]:
    return [entry["kind"] for entry in ticket["timeline"]]


async def test_staff_and_requester_actions_are_decided_and_shown_to_each_side(running: Running) -> None:
    customer_token = await running.token("cust-1", Role.CUSTOMER, email=CUSTOMER_EMAIL)
    staff_token = await running.token("agent-1", Role.AGENT, email="sam@provider.example")
    await running.token("agent-2", Role.AGENT)  # recorded in the directory: the staff member assigned below
    async with (
        running.client("intake", customer_token) as customer,
        running.client("intake", staff_token) as staff,
        running.client("query", customer_token) as customer_reads,
        running.client("query", staff_token) as staff_reads,
    ):
        opened = await act(
            customer,
            "POST",
            "/v1/tickets",
            json={"subject": "Install WordPress", "body": "On my-site.example, please.", "category": "Installs"},
        )
        ticket = f"/v1/tickets/{opened['ticket_id']}"

        await act(staff, "POST", f"{ticket}/pickup")
        await act(staff, "POST", f"{ticket}/status", json={"label": "Install request"})
        await act(staff, "PATCH", ticket, json={"priority": "high", "department": "Sales", "tags": ["wordpress"]})
        await act(customer, "PATCH", ticket, json={"cc": ["boss@customer.example"]})
        await act(staff, "POST", f"{ticket}/replies", json={"body": "Needs a DB first.", "visibility": "internal"})
        await act(staff, "PUT", f"{ticket}/assignee", json={"account_id": "agent-2", "display_name": "Kim"})
        await act(staff, "POST", f"{ticket}/replies", json={"body": "Installed; log in at /wp-admin."})
        await act(customer, "POST", f"{ticket}/resolve")

        complaint = await customer.post(f"{ticket}/rating", json={"rating": "unsatisfied"})
        assert complaint.status_code == 422, complaint.text
        rated = await act(customer, "POST", f"{ticket}/rating", json={"rating": "satisfied", "comment": "Quick!"})
        again = await customer.post(f"{ticket}/rating", json={"rating": "neutral"})
        assert again.status_code == 409, again.text
        assert again.headers["content-type"].startswith("application/problem+json")
        assert again.json()["current_status"] == "resolved"

        staff_view = await read_ticket(staff_reads, opened["ticket_id"], min_version=rated["version"])
        customer_view = await read_ticket(customer_reads, opened["ticket_id"], min_version=rated["version"])

    assert staff_view["status"] == customer_view["status"] == "resolved"
    assert (staff_view["priority"], staff_view["department"], staff_view["category"]) == ("high", "Sales", "Installs")
    assert staff_view["cc"] == ["boss@customer.example"]
    assert staff_view["tags"] == ["wordpress"]
    assert staff_view["assignee"]["account_id"] == "agent-2"
    assert staff_view["rating"] == {"rating": "satisfied", "comment": "Quick!"}
    assert kinds(staff_view) == [
        "opened",
        "assigned",
        "status_changed",
        "priority_changed",
        "department_changed",
        "tags_changed",
        "cc_changed",
        "post",  # the internal note
        "assigned",
        "post",
        "status_changed",  # answered
        "status_changed",  # resolved by the requester
        "rated",
    ]
    labelled = next(entry for entry in staff_view["timeline"] if entry["kind"] == "status_changed")
    assert (labelled["to_status"], labelled["status_label"]) == ("in_progress", "Install request")
    assert "tags" not in customer_view
    assert "assignee" not in customer_view
    assert "tags_changed" not in kinds(customer_view)
    assert "assigned" not in kinds(customer_view)
    assert "Needs a DB first." not in [entry.get("body") for entry in customer_view["timeline"]]
    assert len(customer_view["timeline"]) == len(staff_view["timeline"]) - 4


async def test_archive_merge_and_concurrent_staff_keep_every_change(running: Running) -> None:
    customer_token = await running.token("cust-1", Role.CUSTOMER, email=CUSTOMER_EMAIL)
    staff_token = await running.token("agent-1", Role.AGENT)
    other_staff_token = await running.token("agent-2", Role.AGENT)
    async with (
        running.client("intake", customer_token) as customer,
        running.client("intake", staff_token) as staff,
        running.client("intake", other_staff_token) as other_staff,
        running.client("query", staff_token) as staff_reads,
    ):
        ids = []
        for subject in ("Mail bounces", "Mail still bounces", "DNS question"):
            opened = await act(customer, "POST", "/v1/tickets", json={"subject": subject, "body": subject + "."})
            ids.append(opened["ticket_id"])
        first, second, third = ids
        for ticket_id in (first, second):
            await act(staff, "POST", f"/v1/tickets/{ticket_id}/replies", json={"body": "Checked the MX."})

        unconfirmed = await customer.post("/v1/tickets/archive", json={"ticket_ids": ids})
        assert unconfirmed.status_code == 422, unconfirmed.text
        bulk = await customer.post("/v1/tickets/archive", json={"ticket_ids": ids, "confirm": True})
        assert bulk.status_code == 200, bulk.text
        results = bulk.json()["results"]
        assert [result["result"] for result in results] == ["archived", "archived", "refused"]
        assert results[2]["status"] == "open"

        single = await customer.post(f"/v1/tickets/{third}/archive")
        assert single.status_code == 409, single.text
        assert single.json()["current_status"] == "open"

        back = await act(customer, "POST", f"/v1/tickets/{first}/replies", json={"body": "Bounced again."})
        first_view = await read_ticket(staff_reads, first, min_version=back["version"])
        assert (first_view["status"], first_view["archived"]) == ("open", False)

        merged = await act(staff, "POST", f"/v1/tickets/{second}/merge", json={"into_ticket_id": third})
        source = await read_ticket(staff_reads, second, min_version=merged["version"])
        target = await read_ticket(staff_reads, third, min_version=2)
        assert source["merged_into"]["ticket_id"] == third
        assert (source["status"], source["archived"]) == ("closed", True)
        merged_bodies = [entry["body"] for entry in target["timeline"] if entry["kind"] == "merged_post"]
        assert merged_bodies == ["Mail still bounces.", "Checked the MX."]
        times = [entry["occurred_at"] for entry in target["timeline"]]
        assert times == sorted(times)

        version = target["version"]
        stale = await staff.post(
            f"/v1/tickets/{third}/status", json={"status": "on_hold"}, headers={"If-Match": str(version - 1)}
        )
        assert stale.status_code == 409, stale.text
        assert stale.json()["current_version"] == version

        priority, department = await asyncio.gather(
            act(staff, "PATCH", f"/v1/tickets/{third}", json={"priority": "urgent"}),
            act(other_staff, "PATCH", f"/v1/tickets/{third}", json={"department": "Technical Support"}),
        )
        both = await read_ticket(staff_reads, third, min_version=max(priority["version"], department["version"]))

    assert (both["priority"], both["department"]) == ("urgent", "Technical Support")
    assert both["version"] == version + 2
