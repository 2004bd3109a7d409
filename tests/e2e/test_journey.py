"""One ticket's whole journey through the four services, and nothing lost or doubled across a kill -9."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hostdesk_contracts.base import Role

from tests.e2e.conftest import Running
from tests.support import eventually

CUSTOMER_EMAIL = "jo@customer.example"


async def read_ticket(query: httpx.AsyncClient, ticket_id: str, *, min_version: int) -> dict[str, Any]:
    response = await query.get(f"/v1/tickets/{ticket_id}", params={"min_version": min_version})
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def committed(intake: httpx.AsyncClient, response: httpx.Response) -> dict[str, Any]:
    """The committed outcome of a command: at once (200/201), or by polling its Location after a 202."""
    while response.status_code == 202:
        await asyncio.sleep(0.2)
        response = await intake.get(response.headers["Location"])
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_ticket_is_opened_answered_replied_to_and_closed_and_its_timeline_shows_it_all(
    running: Running,
) -> None:
    customer_token = await running.token("cust-1", Role.CUSTOMER, email=CUSTOMER_EMAIL)
    staff_token = await running.token("agent-1", Role.AGENT, email="sam@provider.example")
    async with (
        running.client("intake", customer_token) as customer,
        running.client("intake", staff_token) as staff,
        running.client("query", customer_token) as customer_reads,
    ):
        opened = await customer.post("/v1/tickets", json={"subject": "VPS down", "body": "vps-1042 answers no ping."})
        assert opened.status_code == 201, opened.text
        ticket_id, number = opened.json()["ticket_id"], opened.json()["number"]

        answered = await staff.post(f"/v1/tickets/{ticket_id}/replies", json={"body": "Rebooted the host."})
        assert answered.status_code == 201, answered.text
        mail = await running.sink.mailbox.wait_for_async(lambda m: CUSTOMER_EMAIL in m.rcpt_tos, within=30)
        assert f"#{number}" in mail.subject
        assert "Rebooted the host." in mail.body

        replied = await customer.post(f"/v1/tickets/{ticket_id}/replies", json={"body": "It works, thanks!"})
        assert replied.status_code == 201, replied.text
        assert (await read_ticket(customer_reads, ticket_id, min_version=replied.json()["version"]))["status"] == (
            "customer_reply"
        )

        closed = await staff.post(f"/v1/tickets/{ticket_id}/close", json={})
        assert closed.status_code == 200, closed.text
        ticket = await read_ticket(customer_reads, ticket_id, min_version=closed.json()["version"])

    assert ticket["status"] == "closed"
    assert ticket["number"] == number
    timeline = ticket["timeline"]
    assert [entry["kind"] for entry in timeline] == [
        "opened",
        "post",
        "status_changed",
        "post",
        "status_changed",
        "closed",
    ]
    assert [entry["position"] for entry in timeline] == list(range(1, 7))  # the requester sees no versions
    assert [entry.get("body") for entry in timeline if entry["kind"] == "post"] == [
        "Rebooted the host.",
        "It works, thanks!",
    ]
    replies_mailed = running.sink.mailbox.matching(lambda m: "Rebooted the host." in m.body)
    assert len(replies_mailed) == 1


async def test_nothing_accepted_is_lost_or_doubled_when_the_tickets_service_is_killed(running: Running) -> None:
    customer_token = await running.token("cust-2", Role.CUSTOMER, email="kim@customer.example")
    staff_token = await running.token("agent-2", Role.AGENT)
    async with (
        running.client("intake", customer_token) as customer,
        running.client("intake", staff_token) as staff,
        running.client("query", staff_token) as staff_reads,
    ):
        opened = await customer.post("/v1/tickets", json={"subject": "Mail bounces", "body": "All mail bounces."})
        assert opened.status_code == 201, opened.text
        ticket_id = opened.json()["ticket_id"]

        running.system.kill("tickets")
        bodies = [f"Detail {n}" for n in range(10)]  # as many as a requester may post in a minute
        accepted = []
        for n, body in enumerate(bodies):
            if n == 5:
                await asyncio.to_thread(running.system.restart, "tickets")
            response = await customer.post(
                f"/v1/tickets/{ticket_id}/replies", json={"body": body}, headers={"Idempotency-Key": f"reply-{n}"}
            )
            assert response.status_code in (201, 202), response.text
            accepted.append(response)
        outcomes = [await committed(customer, response) for response in accepted]

        again = await customer.post(
            f"/v1/tickets/{ticket_id}/replies", json={"body": bodies[0]}, headers={"Idempotency-Key": "reply-0"}
        )
        assert (await committed(customer, again))["version"] == outcomes[0]["version"]

        staff_reply = await staff.post(f"/v1/tickets/{ticket_id}/replies", json={"body": "Fixed the MX record."})
        final_version = (await committed(staff, staff_reply))["version"]
        ticket = await read_ticket(staff_reads, ticket_id, min_version=final_version)

    posts = [entry["body"] for entry in ticket["timeline"] if entry["kind"] == "post"]
    assert sorted(posts) == sorted([*bodies, "Fixed the MX record."])
    assert ticket["version"] == final_version
    await eventually(lambda: _mailed(running, "Fixed the MX record."))
    assert len(running.sink.mailbox.matching(lambda m: "Fixed the MX record." in m.body)) == 1


async def _mailed(running: Running, text: str) -> bool:
    return bool(running.sink.mailbox.matching(lambda m: text in m.body))
