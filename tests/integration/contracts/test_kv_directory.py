"""The directory bucket as a service reads it, on a real NATS with authorisation on: its records loaded before
the service is ready, every change followed, a record not seen yet read at once, no version going back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import nats
import pytest
from hostdesk_contracts.directory import AccountKind, AccountRecord, Configuration, record_key
from hostdesk_contracts.runtime.directory import ABSENT_SECONDS, KvDirectory
from hostdesk_contracts.runtime.nats import connect, directory_bucket
from hostdesk_contracts.subjects import Subjects
from nats.js.kv import KeyValue

from tests.support import eventually

PROVIDER = AccountRecord(id="acme", kind=AccountKind.PROVIDER, display_name="Acme Hosting")


def customer(account_id: str = "cust-1", *, version: int = 1, **fields: object) -> AccountRecord:
    record = AccountRecord(id=account_id, kind=AccountKind.CUSTOMER, parent_id="acme", display_name="Ada")
    return record.model_copy(update={"version": version, **fields})


@pytest.fixture
async def bucket(nats_url: str, declared_streams: Subjects) -> AsyncIterator[KeyValue]:
    """The bucket, written as the tickets service writes it (as admin here)."""
    nc = await nats.connect(nats_url)
    try:
        yield await directory_bucket(nc.jetstream(), declared_streams)
    finally:
        await nc.close()


async def put(bucket: KeyValue, record: AccountRecord) -> None:
    await bucket.put(record_key(record), record.model_dump_json().encode())


@pytest.fixture
async def directory(
    nats_url: str, declared_streams: Subjects, bucket: KeyValue, service_nats: Callable[[str], dict[str, str]]
) -> AsyncIterator[KvDirectory]:
    """Query's directory, logged in as query: reading the bucket is all it may do with it."""
    await put(bucket, PROVIDER)
    await put(bucket, customer())
    login = service_nats("query")
    client = await connect(nats_url, name="directory-test", user=login["nats_user"], password=login["nats_password"])
    directory = KvDirectory.on(client, subjects=declared_streams)
    await directory.start(wait=10)
    try:
        yield directory
    finally:
        await directory.stop()
        await client.close()


async def test_the_buckets_records_are_in_before_the_directory_is_ready(directory: KvDirectory) -> None:
    assert directory.ready
    assert await directory.principal("cust-1") == customer()
    assert await directory.tenant_of(customer()) == "acme"


async def test_a_change_is_followed(directory: KvDirectory, bucket: KeyValue) -> None:
    await put(bucket, customer(version=2, disabled=True))

    async def disabled() -> bool:
        principal = await directory.principal("cust-1")
        return principal is not None and principal.disabled

    await eventually(disabled, within=10, what="the disabled account seen")


async def test_a_record_not_seen_yet_is_read_from_the_bucket_at_once(directory: KvDirectory, bucket: KeyValue) -> None:
    await put(bucket, customer("cust-new"))

    assert await directory.principal("cust-new") == customer("cust-new")  # whether or not the watch has it yet
    assert await directory.principal("nobody") is None


async def test_an_older_version_never_replaces_a_newer_one(directory: KvDirectory, bucket: KeyValue) -> None:
    await put(bucket, customer(version=3, display_name="Ada Lovelace"))

    async def newest() -> bool:
        principal = await directory.principal("cust-1")
        return principal is not None and principal.version == 3

    await eventually(newest, within=10, what="version 3 seen")
    await put(bucket, customer(version=2, display_name="Ada"))  # a late writer
    await put(bucket, customer("cust-marker"))  # after it in the bucket: once seen, so was the late one

    async def marker_watched() -> bool:
        return record_key(customer("cust-marker")) in directory._records

    await eventually(marker_watched, within=10, what="the watch past the late write")
    principal = await directory.principal("cust-1")
    assert principal is not None
    assert principal.display_name == "Ada Lovelace"


async def test_a_configuration_found_absent_is_not_read_again_until_it_arrives(
    directory: KvDirectory, bucket: KeyValue, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    read = directory._read

    async def counting(key: str) -> object:
        reads.append(key)
        return await read(key)

    monkeypatch.setattr(directory, "_read", counting)
    assert await directory.configuration("acme") is None
    assert await directory.configuration("acme") is None
    assert reads == [record_key(Configuration, "acme")]
    assert await directory.principal("cust-later") is None
    assert await directory.principal("cust-later") is None  # an account is read on each miss
    assert reads[1:] == [record_key(AccountRecord, "cust-later")] * 2

    configuration = Configuration(organisation_id="acme", version=1)
    await bucket.put(record_key(configuration), configuration.model_dump_json().encode())

    async def arrived() -> bool:
        return await directory.configuration("acme") is not None

    # Through the watch, well before the absence would have been read again.
    await eventually(arrived, within=ABSENT_SECONDS / 2, what="the new configuration seen")
    assert len(reads) == 3
