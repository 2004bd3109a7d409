"""Files downloaded through the running query service, as its own NATS user, from the real object store: the bytes
intake stored (as intake's user), for the requester of the ticket and for staff; an internal note's file is the
handling side's only."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable

import asyncpg
import nats
import pytest
from hostdesk_contracts.base import Role, Visibility
from hostdesk_contracts.problems import PROBLEM_MEDIA_TYPE
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.servers import Server
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_query.settings import Settings

from tests.integration.intake.test_attachment_store_over_nats import store_as
from tests.integration.query.test_query_service import SECRET, Service, at_version
from tests.support import EVENT_KEY
from tests.unit.query.files import attached, attachment_of


@pytest.fixture
async def service(
    database_url: str,
    nats_url: str,
    declared_streams: Subjects,
    query_pool: asyncpg.Pool,
    service_nats: Callable[[str], dict[str, str]],
) -> AsyncIterator[Service]:
    settings = Settings(
        DATABASE_URL=database_url,
        NATS_URL=nats_url,
        HOSTDESK_JWT_SECRET=SECRET,
        HOSTDESK_SUBJECT_ROOT=declared_streams.root,
        HOSTDESK_EVENT_KEY=EVENT_KEY,
        **service_nats("query"),
        fetch_timeout_seconds=0.2,
    )
    nc = await nats.connect(nats_url)
    service = Service(settings=settings, js=nc.jetstream(), pool=query_pool)
    try:
        await service.start()
        yield service
    finally:
        await service.stop()
        await nc.close()


async def stored_by_intake(nats_server: Server, subjects: Subjects, tenant: str, data: bytes) -> str:
    client, blobs = await store_as(nats_server, subjects, "intake")
    try:
        return await blobs.put(tenant, data)
    finally:
        await client.close()


async def test_the_requester_downloads_the_bytes_intake_stored_for_its_ticket(
    service: Service, nats_server: Server, declared_streams: Subjects, tenant: str
) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    data = os.urandom(300 * 1024)  # several chunks of the object store
    await stored_by_intake(nats_server, declared_streams, tenant, data)
    dump = attachment_of(data, name="Résumé du site.tar.gz", media_type="application/gzip")
    story = TicketStory(customer)
    await service.publish(attached(story.opened(), dump))
    await service.publish(story.reply(agent, "Got it."))
    await service.eventually(f"/v1/tickets/{story.ticket_id}", customer, at_version(2))

    response = await service.get(f"/v1/tickets/{story.ticket_id}/attachments/{dump.id}", customer)

    assert response.status_code == 200, response.text
    assert response.content == data
    assert response.headers["content-type"] == "application/gzip"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"Resume du site.tar.gz\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20du%20site.tar.gz"
    )
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_an_internal_notes_file_is_404_for_the_requester_and_served_to_staff(
    service: Service, nats_server: Server, declared_streams: Subjects, tenant: str
) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    data = b"The customer's plugin leaks workers.\n"
    await stored_by_intake(nats_server, declared_streams, tenant, data)
    diagnosis = attachment_of(data, name="diagnosis.txt", media_type="text/plain")
    story = TicketStory(customer)
    await service.publish(story.opened())
    await service.publish(attached(story.reply(agent, "Root cause", visibility=Visibility.INTERNAL), diagnosis))
    await service.eventually(f"/v1/tickets/{story.ticket_id}", agent, at_version(2))
    path = f"/v1/tickets/{story.ticket_id}/attachments/{diagnosis.id}"

    by_requester = await service.get(path, customer)
    by_staff = await service.get(path, agent)

    assert (by_requester.status_code, by_requester.headers["content-type"]) == (404, PROBLEM_MEDIA_TYPE)
    assert (by_staff.status_code, by_staff.content) == (200, data)


async def test_a_file_the_store_does_not_hold_answers_404(service: Service, tenant: str) -> None:
    customer = account(tenant)
    never_stored = attachment_of(b"never stored " + os.urandom(8))
    story = TicketStory(customer)
    await service.publish(attached(story.opened(), never_stored))
    await service.eventually(f"/v1/tickets/{story.ticket_id}", customer, at_version(1))

    response = await service.get(f"/v1/tickets/{story.ticket_id}/attachments/{never_stored.id}", customer)

    assert (response.status_code, response.headers["content-type"]) == (404, PROBLEM_MEDIA_TYPE)
