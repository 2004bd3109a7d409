"""A support address's mailbox through intake's API: its password is sealed before the command is sent, kept when a
change leaves it out, never answered; without a mailbox key an installation refuses one with a 422."""

from __future__ import annotations

from hostdesk_contracts.base import Role
from hostdesk_contracts.directory import MailboxProtocol, MailboxSecurity, PutSupportAddress, SupportAddressRecord
from hostdesk_contracts.runtime.sealing import Sealer, new_key
from hostdesk_intake.adapters.fake_bus import FakeCommandBus

from .serving import CALLERS, serving, token_for

PROVIDER = token_for("acme", role=Role.PROVIDER)
KEY = new_key()
MAILBOX = {"protocol": "pop3", "host": "mail.acme.example", "username": "support@acme.example", "password": "pw 1"}


async def test_a_mailbox_s_password_is_sealed_before_it_is_sent_and_its_port_is_the_protocol_s() -> None:
    bus = FakeCommandBus()
    async with serving(bus, mailbox_keys=KEY) as client:
        response = await client.put(
            "/v1/directory/support-addresses/support@acme.example",
            json={"organisation_id": "acme", "mailbox": MAILBOX},
            headers=PROVIDER,
        )

    assert response.status_code == 200, response.text
    assert "pw 1" not in response.text
    [command] = bus.sent
    assert isinstance(command, PutSupportAddress)
    box = command.support_address.mailbox
    assert box is not None
    assert (box.protocol, box.security, box.port, box.folder) == (
        MailboxProtocol.POP3,
        MailboxSecurity.TLS,
        995,
        "INBOX",
    )
    assert "pw 1" not in command.model_dump_json()
    assert Sealer([KEY]).open(box.password_sealed) == "pw 1"


async def test_a_change_without_the_password_keeps_the_one_held_for_the_same_login_only() -> None:
    held_seal = Sealer([KEY]).seal("held")
    bus = FakeCommandBus()
    first = {"organisation_id": "acme", "mailbox": MAILBOX}
    async with serving(bus, mailbox_keys=KEY) as client:
        assert (
            await client.put("/v1/directory/support-addresses/help@acme.example", json=first, headers=PROVIDER)
        ).status_code == 200
        [sent] = bus.sent
        assert isinstance(sent, PutSupportAddress)
        assert sent.support_address.mailbox is not None
        CALLERS.directory.put(
            sent.support_address.model_copy(
                update={"mailbox": sent.support_address.mailbox.model_copy(update={"password_sealed": held_seal})}
            )
        )
        unchanged = {**MAILBOX, "password": None, "interval_seconds": 300}
        kept = await client.put(
            "/v1/directory/support-addresses/help@acme.example",
            json={"organisation_id": "acme", "mailbox": unchanged},
            headers=PROVIDER,
        )
        other_user = {**unchanged, "username": "someone@acme.example"}
        refused = await client.put(
            "/v1/directory/support-addresses/help@acme.example",
            json={"organisation_id": "acme", "mailbox": other_user},
            headers=PROVIDER,
        )

    assert kept.status_code == 200, kept.text
    changed = bus.sent[-1]
    assert isinstance(changed, PutSupportAddress)
    assert changed.support_address.mailbox is not None
    assert Sealer([KEY]).open(changed.support_address.mailbox.password_sealed) == "held"  # sealed anew
    assert changed.support_address.mailbox.interval_seconds == 300
    assert refused.status_code == 422
    assert refused.json()["invalid-params"][0]["name"] == "mailbox.password"
    assert len(bus.sent) == 2


async def test_without_a_mailbox_key_a_mailbox_is_a_422_and_nothing_is_sent() -> None:
    bus = FakeCommandBus()
    async with serving(bus) as client:
        response = await client.put(
            "/v1/directory/support-addresses/support@acme.example",
            json={"organisation_id": "acme", "mailbox": MAILBOX},
            headers=PROVIDER,
        )

    assert response.status_code == 422
    assert "INTAKE_MAILBOX_KEYS" in response.json()["detail"]
    assert bus.sent == []


async def test_a_malformed_mailbox_is_a_422_naming_its_field() -> None:
    bus = FakeCommandBus()
    async with serving(bus, mailbox_keys=KEY) as client:
        response = await client.put(
            "/v1/directory/support-addresses/support@acme.example",
            json={"organisation_id": "acme", "mailbox": {**MAILBOX, "protocol": "ftp", "interval_seconds": 1}},
            headers=PROVIDER,
        )

    assert response.status_code == 422
    names = {each["name"] for each in response.json()["invalid-params"]}
    assert {"mailbox.protocol", "mailbox.interval_seconds"} <= names
    assert bus.sent == []


async def test_the_mailboxes_of_an_organisation_are_listed_to_its_staff_without_their_password() -> None:
    record = SupportAddressRecord.model_validate(
        {
            "address": "listed@acme.example",
            "organisation_id": "acme",
            "mailbox": {**MAILBOX, "port": 995, "password": None, "password_sealed": Sealer([KEY]).seal("x")},
        }
    )
    CALLERS.directory.put(record)
    async with serving(FakeCommandBus(), mailbox_keys=KEY) as client:
        mine = await client.get("/v1/mail/mailboxes", headers=PROVIDER)
        theirs = await client.get(
            "/v1/mail/mailboxes", headers=token_for("globex", tenant="globex", role=Role.PROVIDER)
        )

    assert mine.status_code == 200, mine.text
    listed = [each for each in mine.json() if each["address"] == "listed@acme.example"]
    assert listed[0]["status"] is None
    assert "password" not in mine.text
    assert all(each["address"] != "listed@acme.example" for each in theirs.json())


async def test_a_put_without_the_password_seals_the_one_held_under_the_first_key() -> None:
    old, new = new_key(), new_key()
    CALLERS.directory.put(
        SupportAddressRecord.model_validate(
            {
                "address": "rotated@acme.example",
                "organisation_id": "acme",
                "mailbox": {**MAILBOX, "port": 995, "password": None, "password_sealed": Sealer([old]).seal("kept")},
            }
        )
    )
    bus = FakeCommandBus()
    async with serving(bus, mailbox_keys=f"{new},{old}") as client:
        response = await client.put(
            "/v1/directory/support-addresses/rotated@acme.example",
            json={"organisation_id": "acme", "mailbox": {**MAILBOX, "password": None}},
            headers=PROVIDER,
        )
    async with serving(FakeCommandBus(), mailbox_keys=new) as client:
        gone = await client.put(  # the old key dropped too soon: the password must be given again
            "/v1/directory/support-addresses/rotated@acme.example",
            json={"organisation_id": "acme", "mailbox": {**MAILBOX, "password": None}},
            headers=PROVIDER,
        )

    assert response.status_code == 200, response.text
    [command] = bus.sent
    assert isinstance(command, PutSupportAddress)
    assert command.support_address.mailbox is not None
    assert Sealer([new]).open(command.support_address.mailbox.password_sealed) == "kept"
    assert gone.status_code == 422
    assert "give the password again" in gone.json()["detail"]
