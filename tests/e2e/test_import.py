"""Import from the previous helpdesk through the whole system: a ticket imported with its number, posts and status
is read with its own dates and says it was imported; nobody is mailed for it; importing it again is the same
ticket, a number already taken is refused; a customer's reply to the old helpdesk's mail lands in it, and the
support team's next answer is mailed as for any ticket."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hostdesk_contracts.directory import support_address_key

from tests.e2e.conftest import Running
from tests.e2e.directory_tree import C1, C1_EMAIL, Tree, build_tree, in_bucket
from tests.e2e.test_journey import committed, read_ticket
from tests.e2e.test_mail_in import entry_for, mail, send
from tests.support import eventually

THEN = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)


def old_ticket(tree: Tree, *, source_id: str = "T-77", number: int | None = 4242) -> dict[str, Any]:
    return {
        "source": {"system": "whmcs", "ticket_id": source_id},
        "number": number,
        "subject": "Mail bounces since the move",
        "requester_id": C1,
        "handling_organisation_id": tree.provider,
        "status": "answered",
        "posts": [
            {"posted_at": THEN.isoformat(), "side": "requester", "body": "Every mail to me bounces."},
            {
                "posted_at": (THEN + timedelta(hours=5)).isoformat(),
                "side": "handler",
                "author_name": "Ana (old helpdesk)",
                "body": "The SPF record is fixed; tell us if it happens again.",
            },
        ],
        "message_ids": [f"<whmcs-{source_id}-2@old-helpdesk.example>"],
    }


@pytest.fixture
async def tree(running: Running) -> Tree:
    tree = await build_tree(running)
    async with running.client("intake", tree.credentials["PS"] or "") as supervisor:
        response = await supervisor.put(
            f"/v1/directory/support-addresses/support@{tree.provider}.example", json={"organisation_id": tree.provider}
        )
        assert response.status_code == 200, response.text
    await in_bucket(running, support_address_key(f"support@{tree.provider}.example"))
    return tree


async def test_an_imported_ticket_keeps_its_history_mails_nobody_and_takes_replies_to_its_old_mail(
    running: Running, tree: Tree
) -> None:
    async with (
        running.client("intake", tree.credentials["PS"] or "") as supervisor,
        running.client("query", tree.credentials["C1"] or "") as customer,
    ):
        imported = await supervisor.post("/v1/imports/tickets", json=old_ticket(tree))
        assert imported.status_code in (201, 202), imported.text
        outcome = await committed(supervisor, imported)
        ticket_id = outcome["ticket_id"]
        assert outcome["number"] == 4242

        ticket = await read_ticket(customer, ticket_id, min_version=1)
        assert ticket["number"] == 4242
        assert ticket["status"] == "answered"
        assert datetime.fromisoformat(ticket["created_at"]) == THEN
        kinds = [entry["kind"] for entry in ticket["timeline"]]
        assert kinds == ["imported_post", "imported_post", "imported"]  # oldest first: the history, then its import
        assert ticket["timeline"][1]["actor"]["name"] == "Ana (old helpdesk)"

        again = await supervisor.post("/v1/imports/tickets", json=old_ticket(tree))
        assert (await committed(supervisor, again))["ticket_id"] == ticket_id
        taken = await supervisor.post("/v1/imports/tickets", json=old_ticket(tree, source_id="T-78"))
        assert taken.status_code == 409, taken.text
        assert "4242" in taken.json()["detail"]

        # The customer answers the old helpdesk's mail: no number in its subject, only its In-Reply-To.
        reply = mail(
            sender=C1_EMAIL,
            to=f"support@{tree.provider}.example",
            subject="Re: Mail bounces since the move",
            body="It happens again since this morning.",
            message_id="<again@c1.example>",
            In_Reply_To="<whmcs-T-77-2@old-helpdesk.example>",
        )
        await asyncio.to_thread(send, running, reply, to=f"support@{tree.provider}.example")
        posted = (await entry_for(supervisor, "posted", "<again@c1.example>"))["outcome"]
        assert posted["ticket_id"] == ticket_id

        answer = await supervisor.post(f"/v1/tickets/{ticket_id}/replies", json={"body": "Looking at SPF again."})
        await committed(supervisor, answer)
        notice = await running.sink.mailbox.wait_for_async(
            lambda each: C1_EMAIL in each.rcpt_tos and "Looking at SPF again." in each.body, within=30
        )
        assert "#4242" in notice.subject
        # The import and its history were never mailed: the customer's first mail is this answer.
        to_customer = [each for each in running.sink.mailbox.all() if C1_EMAIL in each.rcpt_tos]
        assert [each.body for each in to_customer if "SPF record is fixed" in each.body] == []

        async def all_there() -> bool:
            timeline = (await read_ticket(customer, ticket_id, min_version=1))["timeline"]
            return [e.get("body") for e in timeline if e.get("body")] == [
                "Every mail to me bounces.",
                "The SPF record is fixed; tell us if it happens again.",
                "It happens again since this morning.",
                "Looking at SPF again.",
            ]

        await eventually(all_there, within=30, every=0.2, what="the history, then the posts made here")


async def test_only_an_organisation_s_account_supervisors_and_import_keys_may_import(
    running: Running, tree: Tree
) -> None:
    async with running.client("intake", tree.credentials["PA"] or "") as agent:
        refused = await agent.post("/v1/imports/tickets", json=old_ticket(tree, source_id="T-90", number=None))
        assert refused.status_code == 422, refused.text
    async with running.client("intake", tree.credentials["KEY"] or "") as key:  # tickets:write, not tickets:import
        forbidden = await key.post("/v1/imports/tickets", json=old_ticket(tree, source_id="T-91", number=None))
        assert forbidden.status_code == 403, forbidden.text
    async with running.client("intake", tree.credentials["PS"] or "") as supervisor:
        malformed = await supervisor.post(
            "/v1/imports/tickets", json={**old_ticket(tree, source_id="T-92"), "posts": [], "status": "gone"}
        )
        assert malformed.status_code == 422
        names = {each["name"] for each in malformed.json()["invalid-params"]}
        assert {"posts", "status"} <= names
        stranger = await supervisor.post(
            "/v1/imports/tickets", json={**old_ticket(tree, source_id="T-93", number=None), "requester_id": "nobody"}
        )
        assert stranger.status_code == 422, stranger.text
