"""Intake behind its real HTTP server (uvicorn, configured as ``serve`` configures every service) over the real
NATS: what a hostile caller's request line, headers, body and token answer. Always a problem, never a 500,
and the server goes on serving."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
import uvicorn
from hostdesk_contracts.commands import OpenTicket
from hostdesk_contracts.runtime.serve import MAX_HEAD_BYTES, server_config
from hostdesk_devtools.servers import free_port
from hostdesk_intake.main import create_app
from hostdesk_intake.settings import Settings

from tests.support import eventually

from .conftest import SECRET
from .harness import StandIn

OPEN = {"subject": "Mail bounces", "body": "Every mail to info@ bounces since 08:00."}


@pytest.fixture
async def server(intake_settings: Settings) -> AsyncIterator[str]:
    """Intake served by uvicorn on a port of its own; yields its base URL."""
    settings = intake_settings.model_copy(update={"host": "127.0.0.1", "port": free_port()})
    config = server_config(create_app(settings), settings)
    config.log_config = None  # leave the test run's logging as it is
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())

    async def started() -> bool:
        return running.started

    await eventually(started, within=20, what="intake's server starting")
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        running.should_exit = True
        await task


def token(**claims: object) -> str:
    base = {"sub": "cust-1042", "exp": int(time.time()) + 3600}
    return jwt.encode(base | claims, SECRET, algorithm="HS256")


async def exchange(url: str, request: bytes, *, then: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` (and ``then``, which the server may refuse to read) on a new connection; its answer."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)

    async def rest() -> None:
        with contextlib.suppress(ConnectionError):
            for start in range(0, len(then), 65_536):
                writer.write(then[start : start + 65_536])
                await writer.drain()

    sending = asyncio.create_task(rest())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=20)
        status_line, *lines = head.decode("latin-1").strip().split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), timeout=20)
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return int(status_line.split()[1]), headers, body


async def test_a_header_over_the_bound_is_a_431_problem(server: str) -> None:
    request = f"GET /healthz HTTP/1.1\r\nHost: intake\r\nX-Padding: {'a' * MAX_HEAD_BYTES}\r\n\r\n".encode()

    status, headers, body = await exchange(server, request)

    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 431


async def test_a_two_megabyte_header_is_refused_before_it_is_all_read(server: str) -> None:
    status, headers, _ = await exchange(
        server, b"GET /healthz HTTP/1.1\r\nHost: intake\r\nX-Padding: ", then=b"a" * 2_000_000 + b"\r\n\r\n"
    )

    assert status == 431
    assert headers["content-type"] == "application/problem+json"


async def test_a_nul_in_a_header_is_a_400_problem_and_the_server_goes_on(
    server: str, stand_in: StandIn, caller: dict[str, str]
) -> None:
    status, headers, body = await exchange(server, b"GET /healthz HTTP/1.1\r\nHost: intake\r\nX-Note: a\x00b\r\n\r\n")
    async with httpx.AsyncClient(base_url=server) as client:
        opened = await client.post("/v1/tickets", json=OPEN, headers=caller)

    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["title"] == "Bad request"
    assert opened.status_code == 201
    assert len(stand_in.handled) == 1


async def test_a_chunked_body_over_the_limit_is_a_413_problem(server: str, caller: dict[str, str]) -> None:
    head = (
        "POST /v1/tickets HTTP/1.1\r\nHost: intake\r\nContent-Type: application/json\r\n"
        f"Authorization: {caller['Authorization']}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"10000\r\n" + b" " * 65_536 + b"\r\n"  # 64 KiB of JSON whitespace a chunk, 10 MiB in all

    status, headers, body = await exchange(server, head, then=chunk * 160 + b"0\r\n\r\n")

    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 413


async def test_a_chunked_body_within_the_limit_is_served(
    server: str, stand_in: StandIn, caller: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        encoded = json.dumps(OPEN).encode()
        yield encoded[:10]
        yield encoded[10:]

    async with httpx.AsyncClient(base_url=server) as client:
        response = await client.post(
            "/v1/tickets", content=chunks(), headers=caller | {"Content-Type": "application/json"}
        )

    assert response.status_code == 201
    [command] = stand_in.handled
    assert isinstance(command, OpenTicket)
    assert command.body == OPEN["body"]


async def test_a_json_number_of_five_thousand_digits_is_a_422_naming_the_body(
    server: str, caller: dict[str, str]
) -> None:
    body = b'{"subject": "Mail bounces", "body": "Bounces.", "priority": ' + b"9" * 5000 + b"}"

    async with httpx.AsyncClient(base_url=server) as client:
        response = await client.post("/v1/tickets", content=body, headers=caller | {"Content-Type": "application/json"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [param["name"] for param in response.json()["invalid-params"]] == ["body"]


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "\ud800"},
        {"sub": "cust\x001042"},
        {"sub": ""},
        {"sub": "c" * 5000},
        {"name": "n" * 4000},
        {"sub": "cust.1042"},
        {"sub": "cust-*"},
        {"sub": "nobody-1042"},
    ],
    ids=["lone-surrogate-sub", "nul-in-sub", "empty-sub", "long-sub", "long-token", "dot", "wildcard", "unknown"],
)
async def test_a_signed_token_with_a_bad_claim_is_a_401_problem_on_a_kept_connection(
    server: str, stand_in: StandIn, caller: dict[str, str], claims: dict[str, object]
) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        refused = await client.post("/v1/tickets", json=OPEN, headers={"Authorization": f"Bearer {token(**claims)}"})
        polled = await client.get("/v1/status-labels", headers={"Authorization": f"Bearer {token(**claims)}"})
        opened = await client.post("/v1/tickets", json=OPEN, headers=caller)

    assert (refused.status_code, polled.status_code) == (401, 401)
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers.get("connection") != "close"
    assert opened.status_code == 201
    assert len(stand_in.handled) == 1
