"""The attachment store and the uploads bucket on the real NATS, as each service's own user: intake stores a file
once by its content (a file of several megabytes, in chunks well under the payload limit) and remembers its
uploads; query and notify read files and store none; a subscriber reads none."""

from __future__ import annotations

import os
import uuid

import pytest
from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.runtime.blobs import BlobsUnavailable, NatsBlobStore, blob_name, digest_of
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.servers import Server
from hostdesk_intake.adapters.uploads import KvUploads
from hostdesk_intake.domain.attachments import Upload
from nats.aio.client import Client
from nats.errors import Error as NatsError

from tests.integration.intake.test_rate_counters import as_user


async def store_as(nats_server: Server, subjects: Subjects, user: str) -> tuple[Client, NatsBlobStore]:
    client = await as_user(nats_server, user, name=f"blobs-{user}")
    return client, NatsBlobStore(lambda: client, subjects=subjects, timeout=5.0)


async def test_intake_stores_a_file_once_by_its_content_and_query_reads_it_back(
    nats_server: Server, declared_streams: Subjects
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # three chunks and more: beyond one message's payload limit
    intake, blobs = await store_as(nats_server, declared_streams, "intake")
    query, read = await store_as(nats_server, declared_streams, "query")
    try:
        first = await blobs.put("acme", data)
        second = await blobs.put("acme", data)
        store = await intake.jetstream().object_store(declared_streams.attachments_bucket)
        stored = [info.name for info in await store.list()]
        back = await read.get("acme", first)
        elsewhere = await read.get("globex", first)  # another tenant never reads it
    finally:
        await intake.close()
        await query.close()

    assert first == second == digest_of(data)
    assert stored == [blob_name("acme", first)]
    assert back == data
    assert elsewhere is None


@pytest.mark.parametrize("user", ["query", "notify", "subscriber"])
async def test_nobody_but_intake_stores_a_file(nats_server: Server, declared_streams: Subjects, user: str) -> None:
    client, blobs = await store_as(nats_server, declared_streams, user)
    try:
        with pytest.raises((BlobsUnavailable, NatsError)):
            await blobs.put("acme", b"a file of " + user.encode())
    finally:
        await client.close()


async def test_a_subscriber_reads_no_file(nats_server: Server, declared_streams: Subjects) -> None:
    intake, blobs = await store_as(nats_server, declared_streams, "intake")
    subscriber, read = await store_as(nats_server, declared_streams, "subscriber")
    try:
        digest = await blobs.put("acme", b"the customer's database dump")
        with pytest.raises((BlobsUnavailable, NatsError)):
            await read.get("acme", digest)
    finally:
        await intake.close()
        await subscriber.close()


async def test_an_upload_is_remembered_for_its_uploader(nats_server: Server, declared_streams: Subjects) -> None:
    client = await as_user(nats_server, "intake", name="uploads")
    uploads = KvUploads(lambda: client, bucket=declared_streams.uploads_bucket, timeout=5.0)
    attachment = Attachment(
        id=f"att_{uuid.uuid4().hex}", name="a.png", media_type="image/png", size=3, digest=digest_of(b"png")
    )
    try:
        await uploads.keep(Upload(tenant="acme", account_id="cust-1", attachment=attachment))
        found = await uploads.find(attachment.id)
        unknown = await uploads.find(f"att_{uuid.uuid4().hex}")
        hostile = await uploads.find("att_>")
    finally:
        await client.close()

    assert found == Upload(tenant="acme", account_id="cust-1", attachment=attachment)
    assert (unknown, hostile) == (None, None)


async def test_before_the_store_is_declared_it_is_unavailable(nats_server: Server, subjects: Subjects) -> None:
    client, blobs = await store_as(nats_server, subjects, "intake")
    try:
        with pytest.raises(BlobsUnavailable, match="not declared"):
            await blobs.put("acme", b"early")
    finally:
        await client.close()
