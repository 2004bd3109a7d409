"""Staff read the delivery log of a ticket of their organisation; nobody else learns it exists."""

from __future__ import annotations

import uuid

from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.problems import PROBLEM_MEDIA_TYPE
from hostdesk_devtools.smtp_sink import SmtpSink
from hostdesk_devtools.stories import TicketStory
from hostdesk_notify.settings import Settings

from tests.integration.notify.harness import Relay, bearer, running_notify
from tests.support import BucketCallers, eventually
from tests.unit.notify.builders import CC, REQUESTER_EMAIL


async def test_staff_see_each_mail_of_a_ticket_with_its_status(
    notify_settings: Settings,
    relay: Relay,
    smtp_sink: SmtpSink,
    story: TicketStory,
    staff: Actor,
    callers: BucketCallers,
) -> None:
    headers = await bearer(callers, tenant=story.tenant)  # the provider's one agent, who has no address
    async with running_notify(notify_settings) as client:
        await relay.publish(story.opened(cc=CC))
        await relay.publish(story.reply(staff))

        async def all_sent() -> bool:
            answer = await client.get("/v1/deliveries", params={"ticket_id": str(story.ticket_id)}, headers=headers)
            deliveries = answer.json().get("deliveries", []) if answer.status_code == 200 else []
            sent = [d for d in deliveries if d["status"] == "sent"]
            return len(deliveries) == 1 + 1 + len(CC) and len(sent) == 1 + len(CC)

        await eventually(all_sent, within=20)
        answer = await client.get("/v1/deliveries", params={"ticket_id": str(story.ticket_id)}, headers=headers)

    deliveries = answer.json()["deliveries"]
    sent = [d for d in deliveries if d["status"] == "sent"]
    assert sorted(d["recipient"] for d in sent) == sorted([REQUESTER_EMAIL, *CC])
    assert {d["subject"] for d in deliveries} == {f"[#{story.number}] {story.subject}"}
    assert all(d["attempts"] == 1 and d["sent_at"] is not None and d["language"] == "en" for d in sent)
    [unsent] = [d for d in deliveries if d["status"] == "suppressed"]  # the new ticket: its handling side has no one
    assert (unsent["recipient"], unsent["attempts"], unsent["sent_at"]) == ("", 0, None)
    assert unsent["suppressed_reason"] == (
        f"nobody to mail: no member of the staff of {story.tenant} can be mailed (no address, or disabled)"
    )


async def test_the_requesting_side_is_answered_404_as_if_the_endpoint_did_not_exist(
    notify_settings: Settings, story: TicketStory, callers: BucketCallers
) -> None:
    headers = await bearer(callers, tenant=story.tenant, role=Role.CUSTOMER, account_id="cust-1")

    async with running_notify(notify_settings) as client:
        answer = await client.get("/v1/deliveries", params={"ticket_id": str(story.ticket_id)}, headers=headers)

    assert answer.status_code == 404
    assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE


async def test_staff_of_another_organisation_are_answered_404(
    notify_settings: Settings, relay: Relay, story: TicketStory, staff: Actor, callers: BucketCallers
) -> None:
    async with running_notify(notify_settings) as client:
        await relay.publish(story.opened(cc=CC))
        await relay.publish(story.reply(staff))
        own = await bearer(callers, tenant=story.tenant)

        async def seen() -> bool:
            params = {"ticket_id": str(story.ticket_id)}
            return (await client.get("/v1/deliveries", params=params, headers=own)).status_code == 200

        await eventually(seen, within=20)
        answer = await client.get(
            "/v1/deliveries",
            params={"ticket_id": str(story.ticket_id)},
            headers=await bearer(callers, tenant="someone-else", account_id="agent-elsewhere"),
        )

    assert answer.status_code == 404


async def test_a_ticket_notify_never_saw_is_answered_404(
    notify_settings: Settings, tenant: str, callers: BucketCallers
) -> None:
    async with running_notify(notify_settings) as client:
        answer = await client.get(
            "/v1/deliveries", params={"ticket_id": str(uuid.uuid4())}, headers=await bearer(callers, tenant=tenant)
        )

    assert answer.status_code == 404


async def test_the_delivery_log_needs_a_token(notify_settings: Settings) -> None:
    async with running_notify(notify_settings) as client:
        answer = await client.get("/v1/deliveries", params={"ticket_id": str(uuid.uuid4())})

    assert answer.status_code == 401


async def test_a_ticket_id_that_is_no_uuid_is_named_in_a_422_problem(
    notify_settings: Settings, tenant: str, callers: BucketCallers
) -> None:
    async with running_notify(notify_settings) as client:
        answer = await client.get(
            "/v1/deliveries", params={"ticket_id": "482913"}, headers=await bearer(callers, tenant=tenant)
        )

    assert answer.status_code == 422
    assert [p["name"] for p in answer.json()["invalid-params"]] == ["ticket_id"]


async def test_notify_is_alive_and_ready_once_started(notify_settings: Settings) -> None:
    async with running_notify(notify_settings) as client:
        alive = await client.get("/healthz")
        ready = await client.get("/readyz")

    assert (alive.status_code, ready.status_code) == (200, 200)
