"""Attachments up and down, beside the storage's raw rate measured in the same run.

The same files (1 MiB each of random bytes, so that nothing compresses and no two are stored as one) go twice:
first straight into a NATS object store of their own with nats-py and back (the storage's raw rate), then through
the product: uploaded to intake (``POST /v1/attachments``, one file a request, as a browser sends them), attached to
tickets, and downloaded from query (``GET /v1/tickets/{id}/attachments/{file}``) by their requester, each checked
byte for byte. The same number of requests are in flight at once in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import nats
from nats.js.api import ObjectStoreConfig, StorageType
from nats.js.errors import NotFoundError

FILE_BYTES = 2**20
FILES_PER_TICKET = 10  # as many as a post may hold
HTTP_TIMEOUT_SECONDS = 60.0
VISIBLE_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Transfer:
    """``size`` bytes sent in ``up`` seconds and read back in ``down``."""

    size: int
    up: float
    down: float

    @property
    def up_mb_s(self) -> float:
        return self.size / 2**20 / self.up if self.up else 0.0

    @property
    def down_mb_s(self) -> float:
        return self.size / 2**20 / self.down if self.down else 0.0


@dataclass(frozen=True)
class FileTransfers:
    raw: Transfer  # the object store, straight
    product: Transfer  # intake's upload, query's download
    files: int
    concurrency: int


def random_files(count: int) -> list[bytes]:
    return [os.urandom(FILE_BYTES) for _ in range(count)]


async def _all(work: Sequence[Callable[[], Awaitable[Any]]], *, concurrency: int) -> tuple[list[Any], float]:
    """Run ``work`` with ``concurrency`` at once; the results in order, and the seconds it took."""
    gate = asyncio.Semaphore(concurrency)

    async def one(step: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await step()

    started = time.monotonic()
    results = await asyncio.gather(*(one(step) for step in work))
    return list(results), time.monotonic() - started


async def raw_object_store(nats_url: str, *, root: str, files: Sequence[bytes], concurrency: int) -> Transfer:
    """nats-py's object store put and get, in a bucket of its own (deleted after)."""
    bucket = f"{root.upper()}_LIMIT_FILES"
    client = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        js = client.jetstream(timeout=HTTP_TIMEOUT_SECONDS)
        store = await js.create_object_store(bucket, config=ObjectStoreConfig(storage=StorageType.FILE))
        try:
            names = [f"file-{index}" for index in range(len(files))]
            puts = [lambda name=name, data=data: store.put(name, data) for name, data in zip(names, files, strict=True)]
            _, up = await _all(puts, concurrency=concurrency)
            gets = [lambda name=name: store.get(name) for name in names]
            read, down = await _all(gets, concurrency=concurrency)
            if [bytes(each.data or b"") for each in read] != list(files):
                raise RuntimeError("the object store gave back other bytes than it was given")
        finally:
            with contextlib.suppress(NotFoundError):
                await js.delete_object_store(bucket)
    finally:
        await client.close()
    return Transfer(size=sum(map(len, files)), up=up, down=down)


async def _files_of(query: httpx.AsyncClient, ticket_id: str) -> dict[str, str]:
    """The ticket's files as query shows them, by name: their ids, once the ticket is there."""
    deadline = time.monotonic() + VISIBLE_WAIT_SECONDS
    while (answer := await query.get(f"/v1/tickets/{ticket_id}")).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"ticket {ticket_id} was not in query within {VISIBLE_WAIT_SECONDS:.0f} s")
        await asyncio.sleep(0.05)
    return {file["name"]: file["id"] for entry in answer.json()["timeline"] for file in entry.get("attachments", ())}


async def through_the_product(
    *, intake_url: str, query_url: str, token: str, files: Sequence[bytes], concurrency: int
) -> Transfer:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with (
        httpx.AsyncClient(base_url=intake_url, headers=headers, timeout=HTTP_TIMEOUT_SECONDS, limits=limits) as intake,
        httpx.AsyncClient(base_url=query_url, headers=headers, timeout=HTTP_TIMEOUT_SECONDS, limits=limits) as query,
    ):
        names = [f"access-{index}.log.gz" for index in range(len(files))]

        async def upload(name: str, data: bytes) -> str:
            answer = await intake.post("/v1/attachments", files=[("files", (name, data))])
            answer.raise_for_status()
            upload_id: str = answer.json()["attachments"][0]["id"]
            return upload_id

        uploads = [lambda name=name, data=data: upload(name, data) for name, data in zip(names, files, strict=True)]
        upload_ids, up = await _all(uploads, concurrency=concurrency)

        placed: list[tuple[str, str]] = []  # (ticket, file) for each file, in order
        for start in range(0, len(upload_ids), FILES_PER_TICKET):
            body = {
                "subject": "Access logs of the outage",
                "body": "The logs are attached.",
                "attachments": upload_ids[start : start + FILES_PER_TICKET],
            }
            opened = await intake.post("/v1/tickets", json=body)
            opened.raise_for_status()
            ticket_id = opened.json()["ticket_id"]
            on_ticket = await _files_of(query, ticket_id)
            placed += [(ticket_id, on_ticket[name]) for name in names[start : start + FILES_PER_TICKET]]

        async def download(ticket_id: str, file_id: str) -> bytes:
            answer = await query.get(f"/v1/tickets/{ticket_id}/attachments/{file_id}")
            answer.raise_for_status()
            return answer.content

        downloads = [lambda ticket=ticket, file=file: download(ticket, file) for ticket, file in placed]
        read, down = await _all(downloads, concurrency=concurrency)
        if read != list(files):
            raise RuntimeError("query gave back other bytes than intake was given")
    return Transfer(size=sum(map(len, files)), up=up, down=down)


async def file_transfers(
    *, nats_url: str, root: str, intake_url: str, query_url: str, token: str, count: int, concurrency: int
) -> FileTransfers:
    raw = await raw_object_store(nats_url, root=root, files=random_files(count), concurrency=concurrency)
    product = await through_the_product(
        intake_url=intake_url, query_url=query_url, token=token, files=random_files(count), concurrency=concurrency
    )
    return FileTransfers(raw=raw, product=product, files=count, concurrency=concurrency)
