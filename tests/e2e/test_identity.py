"""Who calls, on every service as processes: whatever is wrong with a credential is a 401 problem that records
nothing, a key without the scope a route needs a 403; a disabled account is refused at once."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid

import httpx
import jwt
import nats
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.directory import AccountKind, AccountRecord, ApiKeyRecord, Scope
from hostdesk_contracts.problems import PROBLEM_MEDIA_TYPE

from tests.e2e.conftest import SECRET, Running
from tests.support import bearer, eventually, principal_records, seed_bucket

# One reading route of each service, and intake's opening of a ticket (the only one that would record anything).
ROUTES = {
    "intake": ("POST", "/v1/tickets"),
    "query": ("GET", "/v1/tickets"),
    "tickets": ("GET", f"/v1/tickets/{uuid.uuid4()}/history"),
    "notify": ("GET", f"/v1/deliveries?ticket_id={uuid.uuid4()}"),
}
OPEN = {"subject": "VPS down", "body": "vps-1042 answers no ping."}
FAR = int(time.time()) + 3600


def none_token(subject: str) -> str:
    def part(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "none"}).encode())
    return f"{header}.{part(json.dumps({'sub': subject, 'exp': FAR}).encode())}."


def key_record(
    key_id: str, key: str, *, account_id: str, scopes: tuple[Scope, ...], revoked: bool = False
) -> ApiKeyRecord:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return ApiKeyRecord(id=key_id, account_id=account_id, label="monitoring", scopes=scopes, secret_sha256=digest,
                        revoked=revoked)  # fmt: skip


async def call(running: Running, service: str, credential: str | None) -> httpx.Response:
    method, path = ROUTES[service]
    headers = bearer(credential) if credential is not None else {}
    async with httpx.AsyncClient(base_url=running.system.config.url(service), timeout=30) as client:
        return await client.request(method, path, json=OPEN if method == "POST" else None, headers=headers)


async def commands_recorded(running: Running) -> int:
    nc = await nats.connect(running.nats_url)
    try:
        info = await nc.jetstream().stream_info(running.subjects.commands_stream)
        return info.state.messages
    finally:
        await nc.close()


async def test_every_bad_credential_is_a_401_problem_on_every_service_and_records_nothing(running: Running) -> None:
    tenant = running.tenant
    customer = Actor(account_id="cust-1", tenant=tenant, role=Role.CUSTOMER)
    disabled = AccountRecord(id="gone-1", kind=AccountKind.CUSTOMER, parent_id=tenant, display_name="G", disabled=True)
    revoked_key, wrong_key = "hd_revoked0001_s3cret", "hd_wrongsec0001_s3cret"
    nc = await nats.connect(running.nats_url)
    try:
        await seed_bucket(
            nc.jetstream(),
            running.subjects,
            customer,
            disabled,
            key_record("revoked0001", revoked_key, account_id="cust-1", scopes=tuple(Scope), revoked=True),
            key_record("wrongsec0001", "hd_wrongsec0001_another", account_id="cust-1", scopes=tuple(Scope)),
        )
    finally:
        await nc.close()
    credentials = {
        "none": None,
        "another key": jwt.encode({"sub": "cust-1", "exp": FAR}, "another-installations-secret-0123456789"),
        "alg none": none_token("cust-1"),
        "expired": jwt.encode({"sub": "cust-1", "exp": int(time.time()) - 5}, SECRET),
        "not yet valid": jwt.encode({"sub": "cust-1", "exp": FAR, "nbf": FAR - 60}, SECRET),
        "no directory id": jwt.encode({"sub": "cust.1", "exp": FAR}, SECRET),
        "unknown principal": jwt.encode({"sub": "nobody-1", "exp": FAR}, SECRET),
        "disabled principal": jwt.encode({"sub": "gone-1", "exp": FAR}, SECRET),
        "revoked key": revoked_key,
        "unknown key": "hd_unknown0001_s3cret",
        "wrong secret": wrong_key,
    }

    for service in ROUTES:
        for name, credential in credentials.items():
            response = await call(running, service, credential)
            assert response.status_code == 401, f"{service}, {name}: {response.status_code} {response.text}"
            assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, f"{service}, {name}"

    assert await commands_recorded(running) == 0


async def test_a_key_without_the_scope_a_route_needs_is_a_403_and_a_disabled_account_is_refused_at_once(
    running: Running,
) -> None:
    tenant = running.tenant
    reader = Actor(account_id="billing-1", tenant=tenant, role=Role.CUSTOMER)
    read_key, write_key = "hd_readonly0001_s3cret", "hd_writeonly001_s3cret"
    nc = await nats.connect(running.nats_url)
    try:
        js = nc.jetstream()
        await seed_bucket(
            js,
            running.subjects,
            reader,
            key_record("readonly0001", read_key, account_id="billing-1", scopes=(Scope.TICKETS_READ,)),
            key_record("writeonly001", write_key, account_id="billing-1", scopes=(Scope.TICKETS_WRITE,)),
        )
        readers = {service: await call(running, service, read_key) for service in ("query", "tickets", "notify")}
        writers = {service: await call(running, service, write_key) for service in ("query", "tickets", "notify")}
        write_with_read_key = await call(running, "intake", read_key)
        opened = await call(running, "intake", write_key)
        assert opened.status_code == 201, opened.text

        account = principal_records(reader)[-1]
        await seed_bucket(js, running.subjects, account.model_copy(update={"disabled": True, "version": 2}))

        async def refused_everywhere() -> bool:
            answers = [await call(running, service, read_key) for service in ("query", "tickets", "notify")]
            return all(answer.status_code == 401 for answer in answers)

        await eventually(refused_everywhere, within=10, what="the disabled account refused by every service")
    finally:
        await nc.close()

    assert {service: answer.status_code for service, answer in readers.items()} == {
        "query": 200,
        "tickets": 404,  # no such ticket, but the caller was let in
        "notify": 404,  # the requesting side does not see the delivery log
    }
    assert {service: answer.status_code for service, answer in writers.items()} == dict.fromkeys(writers, 403)
    assert write_with_read_key.status_code == 403
    assert write_with_read_key.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert await commands_recorded(running) == 1
