"""Uploading files and attaching them, over an in-memory bus, attachment store and uploads: what a file is taken
for (sniffed, never trusted from its name), the limits (413 naming them), and that only the uploader may attach an
upload, each once a post."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from hostdesk_contracts.commands import OpenTicket, PostReply
from hostdesk_contracts.runtime.blobs import MemoryBlobStore
from hostdesk_intake.adapters.fake_bus import FakeCommandBus
from hostdesk_intake.domain.attachments import media_type_of
from hostdesk_intake.main import create_app
from hostdesk_intake.runtime import Runtime

from .builders import NOW
from .serving import CALLERS, settings, token_for

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
OPEN = {"subject": "Site shows a blank page", "body": "Screenshot attached."}


@pytest.fixture
def blobs() -> MemoryBlobStore:
    return MemoryBlobStore()


@pytest.fixture
def bus() -> FakeCommandBus:
    return FakeCommandBus()


@pytest.fixture
async def client(bus: FakeCommandBus, blobs: MemoryBlobStore) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings(attachment_max_bytes=4096, upload_max_bytes=64 * 1024)
    runtime = Runtime.over(bus, configured, directory=CALLERS.directory, clock=lambda: NOW, blobs=blobs)
    app = create_app(configured, runtime=runtime)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client,
    ):
        yield client


async def upload(
    client: httpx.AsyncClient, *files: tuple[str, bytes, str], account: str = "cust-1042"
) -> httpx.Response:
    parts = [("files", (name, data, claimed)) for name, data, claimed in files]
    return await client.post("/v1/attachments", files=parts, headers=token_for(account))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG, "image/png"),
        (PDF, "application/pdf"),
        (b"PK\x03\x04" + b"\x00" * 40, "application/zip"),
        (b"Jan 12 03:00:01 web1 nginx[812]: upstream timed out\n", "text/plain"),
        ("Le site répond « 502 »\n".encode(), "text/plain"),
        (b"\xef\xbb\xbf<!DOCTYPE html><html><script>alert(1)</script>", "text/html"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "application/xml"),
        (b"<svg onload=alert(1)>", "image/svg+xml"),
        (b"\x00\x01\x02\x03binary", "application/octet-stream"),
        (b"\xff\xfe\xfd not utf-8 at all", "application/octet-stream"),
        (b"", "text/plain"),
    ],
)
def test_a_files_type_is_sniffed_from_its_bytes(data: bytes, expected: str) -> None:
    assert media_type_of(data) == expected


def test_text_cut_in_the_middle_of_a_character_at_the_end_of_the_sniffed_bytes_is_still_text() -> None:
    data = ("é" * 5000).encode()  # 10,000 bytes: the sniffed 8,192 end between the two bytes of none

    assert media_type_of(("x" + "é" * 5000).encode()) == "text/plain"
    assert media_type_of(data) == "text/plain"


async def test_an_upload_answers_each_files_record_and_stores_its_bytes_once(
    client: httpx.AsyncClient, blobs: MemoryBlobStore
) -> None:
    response = await upload(
        client,
        ("../../screenshot.png", PNG, "text/plain"),  # the claimed type and the path are not trusted
        ("copy.png", PNG, "image/png"),
        ("invoice.exe", PDF, "application/x-msdownload"),
    )

    assert response.status_code == 201
    first, second, third = response.json()["attachments"]
    assert (first["name"], first["media_type"], first["size"]) == ("screenshot.png", "image/png", len(PNG))
    assert second["digest"] == first["digest"]
    assert second["id"] != first["id"]
    assert (third["name"], third["media_type"]) == ("invoice.exe", "application/pdf")
    assert blobs.puts == 2  # the same bytes twice are stored once


async def test_a_file_over_the_limit_of_one_attachment_is_413_naming_it_and_nothing_is_kept(
    client: httpx.AsyncClient, blobs: MemoryBlobStore
) -> None:
    response = await upload(client, ("small.txt", b"fine", "text/plain"), ("big.log", b"x" * 4097, "text/plain"))

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["limit_bytes"] == 4096
    assert "big.log" in response.json()["detail"]
    assert blobs.files == {}


async def test_a_request_over_the_upload_limit_is_413_before_it_is_read(client: httpx.AsyncClient) -> None:
    response = await upload(client, *[(f"{n}.txt", b"y" * 4000, "text/plain") for n in range(17)])

    assert response.status_code == 413
    assert response.json()["limit_bytes"] == 64 * 1024


async def test_more_files_than_a_post_holds_is_422_naming_files(client: httpx.AsyncClient) -> None:
    response = await upload(client, *[(f"{n}.txt", b"z", "text/plain") for n in range(11)])

    assert response.status_code == 422
    assert response.json()["invalid-params"][0]["name"] == "files"


@pytest.mark.parametrize(
    "body",
    [
        b"not multipart at all",
        b'--boundary\r\nContent-Disposition: form-data; name="files"\r\n\r\nunterminated',
    ],
)
async def test_a_broken_upload_is_a_problem_not_a_500(client: httpx.AsyncClient, body: bytes) -> None:
    headers = token_for() | {"Content-Type": "multipart/form-data; boundary=boundary"}

    response = await client.post("/v1/attachments", content=body, headers=headers)

    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_upload_without_files_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/attachments", data={"note": "x"}, files=[], headers=token_for())

    assert response.status_code == 422


async def test_a_new_ticket_and_a_reply_carry_the_files_their_caller_uploaded(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    [screenshot, log] = (await upload(client, ("s.png", PNG, "image/png"), ("a.log", b"log", "text/plain"))).json()[
        "attachments"
    ]

    opened = await client.post(
        "/v1/tickets", json=OPEN | {"attachments": [screenshot["id"], log["id"]]}, headers=token_for()
    )
    ticket_id = opened.json()["ticket_id"]
    replied = await client.post(
        f"/v1/tickets/{ticket_id}/replies",
        json={"body": "The log again.", "attachments": [log["id"]]},
        headers=token_for(),
    )

    assert (opened.status_code, replied.status_code) == (201, 201)
    open_command, reply_command = bus.sent
    assert isinstance(open_command, OpenTicket)
    assert isinstance(reply_command, PostReply)
    assert [(a.name, a.media_type, a.digest) for a in open_command.attachments] == [
        ("s.png", "image/png", screenshot["digest"]),
        ("a.log", "text/plain", log["digest"]),
    ]
    # The same upload in two posts is two attachments of one stored file.
    assert reply_command.attachments[0].digest == log["digest"]
    assert reply_command.attachments[0].id != open_command.attachments[1].id


async def test_a_retried_request_names_the_same_attachments(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    [file] = (await upload(client, ("a.txt", b"a", "text/plain"))).json()["attachments"]
    headers = token_for() | {"Idempotency-Key": f"form-{uuid.uuid4().hex}"}

    for _ in range(2):
        await client.post("/v1/tickets", json=OPEN | {"attachments": [file["id"]]}, headers=headers)

    assert len({command.attachments[0].id for command in bus.sent if isinstance(command, OpenTicket)}) == 1


async def test_another_callers_upload_is_422_naming_it_and_nothing_is_sent(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    [theirs] = (await upload(client, ("a.txt", b"a", "text/plain"), account="cust-2001")).json()["attachments"]
    [mine] = (await upload(client, ("b.txt", b"b", "text/plain"))).json()["attachments"]

    response = await client.post(
        "/v1/tickets", json=OPEN | {"attachments": [mine["id"], theirs["id"]]}, headers=token_for()
    )

    assert response.status_code == 422
    assert response.json()["invalid-params"][0]["name"] == "attachments.1"
    assert bus.sent == []


@pytest.mark.parametrize(
    "attachments",
    [["att_" + "0" * 32] * 2, ["not-an-id"], ["att_" + "1" * 32] * 11],
)
async def test_upload_ids_twice_malformed_or_too_many_are_422(
    client: httpx.AsyncClient, bus: FakeCommandBus, attachments: list[str]
) -> None:
    response = await client.post("/v1/tickets", json=OPEN | {"attachments": attachments}, headers=token_for())

    assert response.status_code == 422
    assert bus.sent == []


async def test_an_unreachable_store_is_503_and_nothing_is_recorded(
    client: httpx.AsyncClient, blobs: MemoryBlobStore
) -> None:
    blobs.reachable = False

    response = await upload(client, ("a.txt", b"a", "text/plain"))

    assert response.status_code == 503
    assert "Retry-After" in response.headers
