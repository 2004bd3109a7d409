"""Support mail through the whole system, over real SMTP into intake's listener: a customer's mail opens a ticket
in the department of the address it came to, a reply threads by the number in its subject, the same message sent
again posts nothing more, a stranger becomes a guest of the organisation written to, an auto-reply is screened,
a broken message is quarantined and its staff download and replay it; mail to no support address is refused at
``RCPT TO``, and nobody but the address's organisation sees its mail log."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from hostdesk_contracts.directory import support_address_key

from tests.e2e.conftest import Running
from tests.e2e.directory_tree import C1_EMAIL, PROVIDER_DEPARTMENT, R1, Tree, build_tree, in_bucket
from tests.e2e.test_journey import read_ticket
from tests.support import eventually


def support_address(tree: Tree) -> str:
    return f"support@{tree.provider}.example"


def reseller_address(tree: Tree) -> str:
    return f"help@{R1}-{tree.provider}.example"


def mail(*, sender: str, to: str, subject: str, body: str, message_id: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def send(running: Running, message: EmailMessage | bytes, *, to: str, sender: str = "bounce@example.org") -> None:
    with smtplib.SMTP("127.0.0.1", running.system.config.mail_port, timeout=30) as smtp:
        raw = message if isinstance(message, bytes) else message.as_bytes()
        smtp.sendmail(sender, [to], raw)


async def log_entries(intake: httpx.AsyncClient, result: str) -> list[dict[str, Any]]:
    response = await intake.get("/v1/mail", params={"result": result})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


async def entry_for(intake: httpx.AsyncClient, result: str, message_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    async def logged() -> bool:
        found[:] = [
            e for e in await log_entries(intake, result) if e["outcome"]["message_id"] == message_id.strip("<>")
        ]
        return bool(found)

    await eventually(logged, within=30, every=0.2, what=lambda: f"a {result} entry of {message_id}")
    return found[-1]


@pytest.fixture
async def tree(running: Running) -> Tree:
    tree = await build_tree(running)
    provider_token = tree.credentials["PS"]
    async with running.client("intake", provider_token or "") as supervisor:
        response = await supervisor.put(
            f"/v1/directory/support-addresses/{support_address(tree)}",
            json={"organisation_id": tree.provider, "department": PROVIDER_DEPARTMENT},
        )
        assert response.status_code == 200, response.text
    async with running.client("intake", tree.credentials["R1"] or "") as reseller:
        response = await reseller.put(
            f"/v1/directory/support-addresses/{reseller_address(tree)}", json={"organisation_id": R1}
        )
        assert response.status_code == 200, response.text
    await in_bucket(running, support_address_key(support_address(tree)), support_address_key(reseller_address(tree)))
    return tree


async def test_a_mail_opens_a_ticket_and_a_reply_by_its_number_threads_into_it_once(
    running: Running, tree: Tree
) -> None:
    first = mail(
        sender=f"Jo <{C1_EMAIL}>",
        to=support_address(tree),
        subject="Site down",
        body="Since 3 am.",
        message_id="<m1@c1.example>",
    )
    await asyncio.to_thread(send, running, first, to=support_address(tree))
    async with (
        running.client("intake", tree.credentials["PS"] or "") as supervisor,
        running.client("query", tree.credentials["C1"] or "") as customer,
    ):
        opened = (await entry_for(supervisor, "posted", "<m1@c1.example>"))["outcome"]
        assert opened["opened"] is True
        assert opened["sender"] == C1_EMAIL
        ticket = await read_ticket(customer, opened["ticket_id"], min_version=1)
        assert ticket["subject"] == "Site down"
        assert ticket["department"] == PROVIDER_DEPARTMENT
        assert ticket["channel"] == "email"

        reply = mail(
            sender=C1_EMAIL,
            to=support_address(tree),
            subject=f"Re: [#{opened['number']}] Site down",
            body="Still down.\n\nOn Tue, Support wrote:\n> We are looking.\n",
            message_id="<m2@c1.example>",
        )
        await asyncio.to_thread(send, running, reply, to=support_address(tree))
        await asyncio.to_thread(send, running, reply, to=support_address(tree))  # the MTA sends it again
        replied = (await entry_for(supervisor, "posted", "<m2@c1.example>"))["outcome"]
        assert replied["ticket_id"] == opened["ticket_id"]
        assert replied["opened"] is False
        ticket = await read_ticket(customer, opened["ticket_id"], min_version=2)
        posts = [entry for entry in ticket["timeline"] if entry.get("body")]
        assert [post["body"] for post in posts][-1].startswith("Still down.")
        assert "We are looking" not in posts[-1]["body"]  # the quoted text is trimmed from the reply
        assert sum(post["body"].startswith("Still down.") for post in posts) == 1


async def test_a_stranger_s_mail_to_a_reseller_is_a_guest_s_ticket_of_that_reseller(
    running: Running, tree: Tree
) -> None:
    message = mail(
        sender="Sam <sam@nowhere.example>",
        to=reseller_address(tree),
        subject="Quote?",
        body="How much?",
        message_id="<g1@nowhere.example>",
    )
    await asyncio.to_thread(send, running, message, to=reseller_address(tree))
    async with (
        running.client("intake", tree.credentials["R1"] or "") as reseller,
        running.client("intake", tree.credentials["PS"] or "") as provider_staff,
    ):
        outcome = (await entry_for(reseller, "posted", "<g1@nowhere.example>"))["outcome"]
        assert outcome["opened"] is True
        seen_by_the_provider = await log_entries(provider_staff, "posted")
        assert all(entry["outcome"]["message_id"] != "g1@nowhere.example" for entry in seen_by_the_provider)
    async with running.client("query", tree.credentials["R1"] or "") as reseller_reads:
        ticket = await read_ticket(reseller_reads, outcome["ticket_id"], min_version=1)
        assert ticket["handling_organisation_id"] == R1


async def test_an_auto_reply_is_screened_and_a_broken_message_is_quarantined_and_replayed(
    running: Running, tree: Tree
) -> None:
    away = mail(
        sender=C1_EMAIL,
        to=support_address(tree),
        subject="Out of office",
        body="Back Monday.",
        message_id="<a1@c1.example>",
        Auto_Submitted="auto-replied",
    )
    await asyncio.to_thread(send, running, away, to=support_address(tree))
    broken = b"Subject: who sent this?\r\nMessage-ID: <b1@c1.example>\r\n\r\nno From header at all\r\n"
    await asyncio.to_thread(send, running, broken, to=support_address(tree))
    async with running.client("intake", tree.credentials["PS"] or "") as supervisor:
        screened = (await entry_for(supervisor, "screened", "<a1@c1.example>"))["outcome"]
        assert "auto_submitted" in screened["reason"]
        quarantined: list[dict[str, Any]] = []

        async def kept() -> bool:
            quarantined[:] = await log_entries(supervisor, "quarantined")
            return bool(quarantined)

        await eventually(kept, within=30, every=0.2, what=lambda: "the broken message in quarantine")
        entry = quarantined[-1]
        raw = await supervisor.get(f"/v1/mail/{entry['id']}/raw")
        assert raw.status_code == 200
        assert raw.content == broken
        assert raw.headers["content-type"].startswith("message/rfc822")
        replayed = await supervisor.post(f"/v1/mail/{entry['id']}/replay")
        assert replayed.status_code == 202, replayed.text

        async def again() -> bool:
            return len(await log_entries(supervisor, "quarantined")) == 2

        await eventually(again, within=30, every=0.2, what=lambda: "the replay's entry in the mail log")
    async with running.client("intake", tree.credentials["RA"] or "") as other_organisation:
        assert (await other_organisation.get(f"/v1/mail/{entry['id']}/raw")).status_code == 404


async def test_mail_to_no_support_address_is_refused_at_rcpt(running: Running, tree: Tree) -> None:
    message = mail(
        sender=C1_EMAIL, to=f"sales@{tree.provider}.example", subject="x", body="y", message_id="<r1@c1.example>"
    )

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(send, running, message, to=f"sales@{tree.provider}.example")

    [(code, _)] = refused.value.recipients.values()
    assert code == 550
