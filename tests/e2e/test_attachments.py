"""Files through the whole system: a customer uploads a screenshot and a log and opens a ticket with them, an agent
answers with a file and keeps another in an internal note; each side downloads what it may see through query, the
bytes as uploaded, and nobody else learns that a file exists. The bytes are stored once by content."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import nats
from hostdesk_contracts.base import Role

from tests.e2e.conftest import Running
from tests.e2e.test_journey import read_ticket

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
LOG = b"Dec  2 03:00:01 web1 php-fpm[812]: WARNING: [pool www] server reached pm.max_children\n" * 40


async def upload(intake: httpx.AsyncClient, *files: tuple[str, bytes]) -> list[dict[str, Any]]:
    response = await intake.post("/v1/attachments", files=[("files", (name, data)) for name, data in files])
    assert response.status_code == 201, response.text
    attachments: list[dict[str, Any]] = response.json()["attachments"]
    return attachments


def files_of(ticket: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every attachment the caller's timeline shows, by name."""
    return {file["name"]: file for entry in ticket["timeline"] for file in entry.get("attachments", ())}


async def test_each_side_downloads_the_files_it_may_see_and_nobody_else_any(running: Running) -> None:
    customer_token = await running.token("cust-1", Role.CUSTOMER, email="cust-1@customer.test")
    neighbour_token = await running.token("cust-2", Role.CUSTOMER)
    agent_token = await running.token("agent-1", Role.AGENT)
    async with (
        running.client("intake", customer_token) as customer,
        running.client("intake", agent_token) as agent,
        running.client("query", customer_token) as customer_reads,
        running.client("query", agent_token) as agent_reads,
        running.client("query", neighbour_token) as neighbour_reads,
    ):
        screenshot, log = await upload(customer, ("C:\\Users\\jo\\502 error.png", PNG), ("php-fpm.log", LOG))
        opened = await customer.post(
            "/v1/tickets",
            json={
                "subject": "502 on every page",
                "body": "See the screenshot.",
                "attachments": [screenshot["id"], log["id"]],
            },
        )
        assert opened.status_code == 201, opened.text
        ticket_id = opened.json()["ticket_id"]

        [config] = await upload(agent, ("www.conf", b"pm.max_children = 40\n"))
        [notes] = await upload(agent, ("diagnosis.txt", b"The customer's plugin leaks workers.\n"))
        replied = await agent.post(
            f"/v1/tickets/{ticket_id}/replies",
            json={"body": "Raised the pool size; the new pool file is attached.", "attachments": [config["id"]]},
        )
        noted = await agent.post(
            f"/v1/tickets/{ticket_id}/replies",
            json={"body": "Root cause", "visibility": "internal", "attachments": [notes["id"]]},
        )
        assert (replied.status_code, noted.status_code) == (201, 201), (replied.text, noted.text)

        seen_by_customer = files_of(await read_ticket(customer_reads, ticket_id, min_version=noted.json()["version"]))
        seen_by_agent = files_of(await read_ticket(agent_reads, ticket_id, min_version=noted.json()["version"]))

        async def download(reads: httpx.AsyncClient, file: dict[str, Any]) -> httpx.Response:
            return await reads.get(f"/v1/tickets/{ticket_id}/attachments/{file['id']}")

        own = await download(customer_reads, seen_by_customer["502 error.png"])
        staff_file = await download(customer_reads, seen_by_customer["www.conf"])
        note_file_by_agent = await download(agent_reads, seen_by_agent["diagnosis.txt"])
        note_file_by_customer = await download(customer_reads, seen_by_agent["diagnosis.txt"])
        by_neighbour = await download(neighbour_reads, seen_by_customer["502 error.png"])

    assert set(seen_by_customer) == {"502 error.png", "php-fpm.log", "www.conf"}
    assert set(seen_by_agent) == {"502 error.png", "php-fpm.log", "www.conf", "diagnosis.txt"}
    assert (own.status_code, own.content, own.headers["content-type"]) == (200, PNG, "image/png")
    assert "502 error.png" in own.headers["content-disposition"]
    assert own.headers["x-content-type-options"] == "nosniff"
    assert (staff_file.status_code, staff_file.content) == (200, b"pm.max_children = 40\n")
    assert (note_file_by_agent.status_code, note_file_by_agent.content) == (
        200,
        b"The customer's plugin leaks workers.\n",
    )
    # An internal note's file, and another customer's, do not exist for the caller: the same 404 as an unknown id.
    assert note_file_by_customer.status_code == by_neighbour.status_code == 404
    assert note_file_by_customer.headers["content-type"] == "application/problem+json"

    # The customer's mail of the agent's public reply carries its file; no mail carries the internal note's.
    mail = await running.sink.mailbox.wait_for_async(
        lambda each: "cust-1@customer.test" in each.rcpt_tos and "new pool file" in each.body, within=30
    )
    assert {part.get_filename(): part.get_content() for part in mail.message.iter_attachments()} == {
        "www.conf": "pm.max_children = 40\n"
    }
    assert all("diagnosis.txt" not in each.raw.decode(errors="replace") for each in running.sink.mailbox.all())


async def test_the_same_file_uploaded_twice_is_stored_once(running: Running) -> None:
    token = await running.token("cust-1", Role.CUSTOMER)
    async with running.client("intake", token) as customer:
        first = await upload(customer, ("a.log", LOG))
        second = await upload(customer, ("again.log", LOG))

    nc = await nats.connect(running.nats_url)
    try:
        store = await nc.jetstream().object_store(running.subjects.attachments_bucket)
        stored = await store.list()
    finally:
        await nc.close()

    assert first[0]["digest"] == second[0]["digest"]
    assert first[0]["id"] != second[0]["id"]
    assert len(stored) == 1
