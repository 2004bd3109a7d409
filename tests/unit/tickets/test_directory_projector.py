"""The directory projector keeps the latest record of each id in the bucket: never an older over a newer, never
what the relay did not sign, and a write another writer overtook is looked at again."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from hostdesk_contracts.directory import AccountChanged, AccountKind, AccountRecord, DirectoryEvent
from hostdesk_contracts.subjects import Subjects, directory_event_headers
from hostdesk_tickets.entrypoints.directory_projector import DirectoryProjector
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from tests.support import RELAY_SIGNER

from .test_directory import PROVIDER, TENANT

SUBJECTS = Subjects("unit")


class Bucket:
    """As much of a KV bucket as the projector uses, with revisions as NATS keeps them."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[bytes, int]] = {}
        self.revision = 0
        self.before_next_write: list[tuple[str, bytes]] = []  # another writer's, just before this one's

    async def get(self, key: str) -> Any:
        if key not in self.values:
            raise KeyNotFoundError
        value, revision = self.values[key]
        return SimpleNamespace(value=value, revision=revision)

    def _write(self, key: str, value: bytes) -> int:
        self.revision += 1
        self.values[key] = (value, self.revision)
        return self.revision

    def _overtaken(self) -> None:
        while self.before_next_write:
            self._write(*self.before_next_write.pop())

    async def create(self, key: str, value: bytes) -> int:
        self._overtaken()
        if key in self.values:
            raise KeyWrongLastSequenceError
        return self._write(key, value)

    async def update(self, key: str, value: bytes, last: int) -> int:
        self._overtaken()
        if self.values.get(key, (b"", 0))[1] != last:
            raise KeyWrongLastSequenceError
        return self._write(key, value)

    def version(self, key: str) -> int:
        return int(AccountRecord.model_validate_json(self.values[key][0]).version)


class Delivered:
    def __init__(self, event: DirectoryEvent | bytes, *, signed: bool = True) -> None:
        if isinstance(event, DirectoryEvent):
            self.subject = SUBJECTS.directory_event(event.tenant, event)
            self.data = event.model_dump_json().encode()
            headers = directory_event_headers(event, position=1)
        else:
            self.subject = f"unit.events.{TENANT}.directory.something_new.v1"
            self.data = event
            headers = {}
        self.headers = RELAY_SIGNER.signed(self.subject, headers, self.data) if signed else headers
        self.settled: list[str] = []

    async def ack(self) -> None:
        self.settled.append("ack")

    async def term(self) -> None:
        self.settled.append("term")


def changed(version: int, name: str = "Jo Ltd") -> AccountChanged:
    record = AccountRecord(id="cust-1", kind=AccountKind.CUSTOMER, parent_id=TENANT, display_name=name, version=version)
    return AccountChanged(
        event_id=f"principal.cust-1:{version}",
        key="principal.cust-1",
        tenant=TENANT,
        version=version,
        occurred_at=datetime(2026, 11, 22, tzinfo=UTC),
        actor=PROVIDER,
        account=record,
    )


def projector(bucket: Bucket) -> DirectoryProjector:
    return DirectoryProjector(js=None, bucket=bucket, subjects=SUBJECTS, signer=RELAY_SIGNER)  # type: ignore[arg-type]


async def test_each_record_is_kept_under_its_key_at_its_latest_version() -> None:
    bucket = Bucket()
    messages = [Delivered(changed(1)), Delivered(changed(2, "Renamed"))]

    await projector(bucket).handle_batch(messages)  # type: ignore[arg-type]

    assert bucket.version("principal.cust-1") == 2
    assert [message.settled for message in messages] == [["ack"], ["ack"]]


async def test_an_older_version_delivered_late_never_replaces_a_newer_one() -> None:
    bucket = Bucket()
    await projector(bucket).handle_batch([Delivered(changed(3))])  # type: ignore[list-item]
    late = Delivered(changed(2))

    await projector(bucket).handle_batch([late])  # type: ignore[list-item]

    assert bucket.version("principal.cust-1") == 3
    assert late.settled == ["ack"]


async def test_a_write_another_writer_overtook_looks_again_and_keeps_the_newest() -> None:
    bucket = Bucket()
    await projector(bucket).handle_batch([Delivered(changed(1))])  # type: ignore[list-item]
    bucket.before_next_write.append(("principal.cust-1", changed(4).account.model_dump_json().encode()))

    await projector(bucket).handle_batch([Delivered(changed(2))])  # type: ignore[list-item]

    assert bucket.version("principal.cust-1") == 4


async def test_a_message_the_relay_did_not_sign_or_that_is_no_directory_event_is_set_aside_unwritten() -> None:
    bucket = Bucket()
    forged, garbage = Delivered(changed(9), signed=False), Delivered(b"{not json")

    await projector(bucket).handle_batch([forged, garbage])  # type: ignore[list-item]

    assert bucket.values == {}
    assert (forged.settled, garbage.settled) == (["term"], ["term"])


async def test_a_directory_event_of_a_type_added_later_is_passed_over() -> None:
    bucket = Bucket()
    newer = Delivered(b'{"type": "directory.something_new.v1", "key": "principal.cust-1"}')

    await projector(bucket).handle_batch([newer])  # type: ignore[list-item]

    assert (bucket.values, newer.settled) == ({}, ["ack"])
