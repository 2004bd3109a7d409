"""Support mailboxes polled through the whole system, against a real Dovecot (IMAP and POP3): a customer's mail with
a file opens a ticket; replies thread by the number in the subject, by ``In-Reply-To`` the product's own mail, and
by the per-ticket reply address; the same message delivered twice, or to two support addresses, makes one post; and
intake killed between storing a message and deleting it fetches it again after its restart, and posts it once."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hostdesk_contracts.directory import support_address_key
from hostdesk_devtools.dovecot import OwnDovecot

from tests.e2e.conftest import Running
from tests.e2e.directory_tree import C1_EMAIL, PROVIDER_DEPARTMENT, Tree, build_tree, in_bucket
from tests.e2e.test_journey import committed, read_ticket
from tests.e2e.test_mail_in import entry_for, mail
from tests.support import eventually

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))


def address_of(tree: Tree, local: str = "support") -> str:
    return f"{local}@{tree.provider}.example"


async def put_mailbox(
    running: Running, tree: Tree, dovecot: OwnDovecot, address: str, *, protocol: str, port: int | None = None
) -> None:
    """The support address, its mail delivered to a Dovecot mailbox of its own that intake polls."""
    password = secrets.token_urlsafe(12)
    dovecot.add_user(address, password)
    mailbox = {
        "protocol": protocol,
        "host": "127.0.0.1",
        "port": port or (dovecot.imap_port if protocol == "imap" else dovecot.pop3_port),
        "security": "none",
        "username": address,
        "password": password,
        "interval_seconds": 10,
    }
    async with running.client("intake", tree.credentials["PS"] or "") as supervisor:
        response = await supervisor.put(
            f"/v1/directory/support-addresses/{address}",
            json={"organisation_id": tree.provider, "department": PROVIDER_DEPARTMENT, "mailbox": mailbox},
        )
        assert response.status_code == 200, response.text
    await in_bucket(running, support_address_key(address))


async def poll(intake: httpx.AsyncClient, address: str) -> dict[str, Any]:
    response = await intake.post(f"/v1/mail/mailboxes/{quote(address)}/poll")
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    assert "password" not in view
    assert "password_sealed" not in view
    return view


def with_file(message: EmailMessage) -> EmailMessage:
    message.add_attachment(PNG, maintype="application", subtype="octet-stream", filename="../../screen.png")
    return message


@pytest.fixture
async def tree(running: Running) -> Tree:
    return await build_tree(running)


async def test_an_imap_mailbox_opens_a_ticket_with_its_file_and_replies_thread_all_three_ways_once(
    running: Running, tree: Tree, dovecot: OwnDovecot
) -> None:
    support = address_of(tree)
    await put_mailbox(running, tree, dovecot, support, protocol="imap")
    first = mail(
        sender=f"Jo <{C1_EMAIL}>", to=support, subject="Backups fail", body="Since Monday.", message_id="<b1@c1>"
    )
    dovecot.deliver(support, with_file(first).as_bytes())

    async with (
        running.client("intake", tree.credentials["PS"] or "") as supervisor,
        running.client("query", tree.credentials["C1"] or "") as customer,
    ):
        view = await poll(supervisor, support)
        assert view["protocol"] == "imap"
        assert view["status"]["error"] is None
        opened = (await entry_for(supervisor, "posted", "<b1@c1>"))["outcome"]
        assert opened["opened"] is True
        assert opened["sender"] == C1_EMAIL
        ticket_id, number = opened["ticket_id"], opened["number"]
        ticket = await read_ticket(customer, ticket_id, min_version=1)
        assert ticket["subject"] == "Backups fail"
        assert ticket["department"] == PROVIDER_DEPARTMENT
        files = [file for entry in ticket["timeline"] for file in entry.get("attachments", ())]
        assert [(file["name"], file["media_type"]) for file in files] == [("screen.png", "image/png")]
        assert dovecot.count(support) == 0

        # By the number in the subject, delivered twice (the MTA retried): one post.
        by_number = mail(
            sender=C1_EMAIL, to=support, subject=f"Re: [#{number}] Backups", body="Any news?", message_id="<b2@c1>"
        )
        dovecot.deliver(support, by_number.as_bytes(), by_number.as_bytes())
        await poll(supervisor, support)
        assert (await entry_for(supervisor, "posted", "<b2@c1>"))["outcome"]["ticket_id"] == ticket_id

        # Staff answer; the customer answers the product's mail, once by In-Reply-To, once to its Reply-To address.
        answered = await supervisor.post(f"/v1/tickets/{ticket_id}/replies", json={"body": "Looking into it."})
        await committed(supervisor, answered)
        notice = await running.sink.mailbox.wait_for_async(
            lambda each: C1_EMAIL in each.rcpt_tos and "Looking into it." in each.body, within=30
        )
        reply_to, message_id = str(notice.message["Reply-To"]), str(notice.message["Message-ID"])
        assert reply_to == f"support+t{number}@{tree.provider}.example"
        threaded = mail(
            sender=C1_EMAIL,
            to=support,
            subject="Re: your answer",
            body="Thanks, it works.",
            message_id="<b3@c1>",
            In_Reply_To=message_id,
            References=f"{notice.message.get('References', '')} {message_id}".strip(),
        )
        tagged = mail(
            sender=C1_EMAIL, to=reply_to, subject="One more thing", body="And the cron?", message_id="<b4@c1>"
        )
        dovecot.deliver(support, threaded.as_bytes(), tagged.as_bytes())
        await poll(supervisor, support)
        assert (await entry_for(supervisor, "posted", "<b3@c1>"))["outcome"]["ticket_id"] == ticket_id
        assert (await entry_for(supervisor, "posted", "<b4@c1>"))["outcome"]["ticket_id"] == ticket_id

        async def all_posted() -> bool:
            timeline = (await read_ticket(customer, ticket_id, min_version=1))["timeline"]
            bodies = [entry.get("body") for entry in timeline if entry.get("body")]
            return bodies == ["Since Monday.", "Any news?", "Looking into it.", "Thanks, it works.", "And the cron?"]

        await eventually(all_posted, within=30, every=0.2, what="each post of the ticket once, in order")
        assert dovecot.count(support) == 0


async def test_one_message_to_two_pop3_mailboxes_is_one_ticket(
    running: Running, tree: Tree, dovecot: OwnDovecot
) -> None:
    sales, billing = address_of(tree, "sales"), address_of(tree, "billing")
    await put_mailbox(running, tree, dovecot, sales, protocol="pop3")
    await put_mailbox(running, tree, dovecot, billing, protocol="pop3")
    both = mail(
        sender=C1_EMAIL, to=f"{sales}, {billing}", subject="Upgrade", body="To the big plan.", message_id="<u1@c1>"
    )
    dovecot.deliver(sales, both.as_bytes())
    dovecot.deliver(billing, both.as_bytes())

    async with running.client("intake", tree.credentials["PS"] or "") as supervisor:
        for address in (sales, billing):
            view = await poll(supervisor, address)
            assert view["status"]["error"] is None, view
        ticket_ids: set[str] = set()

        async def both_logged() -> bool:
            response = await supervisor.get("/v1/mail", params={"result": "posted"})
            entries = [e for e in response.json()["entries"] if e["outcome"]["message_id"] == "u1@c1"]
            ticket_ids.update(e["outcome"]["ticket_id"] for e in entries)
            return len(entries) >= 2

        await eventually(both_logged, within=30, every=0.2, what="both copies logged")
        assert len(ticket_ids) == 1
        listed = await supervisor.get("/v1/mail/mailboxes")
        assert {each["address"] for each in listed.json()} == {sales, billing}
    assert dovecot.count(sales) == dovecot.count(billing) == 0


@contextlib.asynccontextmanager
async def cut_at(port: int, marker: bytes, on_cut: Callable[[], None]) -> AsyncIterator[int]:
    """A TCP relay to ``127.0.0.1:port`` that, the first time the client sends ``marker``, calls ``on_cut`` and drops
    the connection before the server sees it; every later session is relayed whole. Yields the relay's port."""
    cut = asyncio.Event()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, watch: bool) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65_536):
                if watch and not cut.is_set() and marker in data:
                    cut.set()
                    await asyncio.to_thread(on_cut)
                    writer.transport.abort()
                    return
                writer.write(data)
                await writer.drain()
        writer.close()

    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(
            pipe(client_reader, server_writer, watch=True), pipe(server_reader, client_writer, watch=False)
        )

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_intake_killed_between_storing_and_deleting_fetches_again_and_posts_once(
    running: Running, tree: Tree, dovecot: OwnDovecot
) -> None:
    support = address_of(tree, "help")
    # POP3 deletes at QUIT: intake is killed as it sends it, when the message is stored and not yet deleted.
    async with cut_at(dovecot.pop3_port, b"QUIT", lambda: running.system.kill("intake")) as relay_port:
        await put_mailbox(running, tree, dovecot, support, protocol="pop3", port=relay_port)
        message = mail(sender=C1_EMAIL, to=support, subject="Disk full", body="On vps-7.", message_id="<k1@c1>")
        dovecot.deliver(support, message.as_bytes())

        async with running.client("intake", tree.credentials["PS"] or "") as supervisor:
            with contextlib.suppress(httpx.TransportError):  # the poll's own replica is killed under it
                await supervisor.post(f"/v1/mail/mailboxes/{quote(support)}/poll")
        await eventually(
            lambda: asyncio.to_thread(lambda: running.system.processes["intake"].poll() is not None),
            within=30,
            what="intake killed at QUIT",
        )
        assert dovecot.count(support) == 1  # stored, never deleted

        await asyncio.to_thread(running.system.restart, "intake")
        async with running.client("intake", tree.credentials["PS"] or "") as supervisor:
            await eventually(lambda: _emptied(supervisor, support, dovecot), within=60, every=0.5, what="fetched again")
            outcome = (await entry_for(supervisor, "posted", "<k1@c1>"))["outcome"]
            async with running.client("query", tree.credentials["C1"] or "") as customer:
                ticket = await read_ticket(customer, outcome["ticket_id"], min_version=1)
                assert [entry.get("body") for entry in ticket["timeline"] if entry.get("body")] == ["On vps-7."]


async def _emptied(supervisor: httpx.AsyncClient, address: str, dovecot: OwnDovecot) -> bool:
    await poll(supervisor, address)
    return await asyncio.to_thread(dovecot.count, address) == 0
