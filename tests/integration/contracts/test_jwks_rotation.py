"""Tokens of the issuer's own keys (RS256, ES256) through its JWKS, served by a key server on a real socket that
rotates its keys during the test: a new key works without a restart, a withdrawn one stops once the cache
lifetime has passed; and a token's algorithm must match its key's source."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.runtime.auth import ActorDep, TokenKeys
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_contracts.runtime.problems import install_problem_handlers

from tests.support import bearer, eventually, seed

CUSTOMER = Actor(account_id="cust-1", tenant="acme", role=Role.CUSTOMER)
CACHE_SECONDS = 1.0


class KeyServer:
    """A JWKS endpoint on 127.0.0.1 whose key set the test replaces at will."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> KeyServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._http.shutdown()
        self._http.server_close()


class Signer:
    """A private key of the issuer, its public half as a JWK, and the tokens it signs."""

    def __init__(self, kid: str, algorithm: str) -> None:
        self.kid, self.algorithm = kid, algorithm
        if algorithm == "RS256":
            self.private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk = jwk | {"kid": kid, "use": "sig", "alg": algorithm}

    def token(self, subject: str = "cust-1") -> str:
        claims = {"sub": subject, "exp": int(time.time()) + 3600}
        return jwt.encode(claims, self.private, algorithm=self.algorithm, headers={"kid": self.kid})

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def hs256_by_hand(claims: dict[str, Any], *, key: bytes, kid: str) -> str:
    """An HS256 token signed with ``key`` whatever it is (PyJWT refuses to sign with a public key's PEM)."""

    def part(value: bytes) -> bytes:
        return base64.urlsafe_b64encode(value).rstrip(b"=")

    signing_input = (
        part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + b"." + part(json.dumps(claims).encode())
    )
    return (signing_input + b"." + part(hmac.new(key, signing_input, hashlib.sha256).digest())).decode()


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    with KeyServer() as server:
        yield server


async def client_for(keys: TokenKeys) -> AsyncIterator[httpx.AsyncClient]:
    directory = MemoryDirectory()
    seed(directory, CUSTOMER)
    app = FastAPI()
    app.state.directory, app.state.token_keys = directory, keys
    install_problem_handlers(app)

    @app.get("/me")
    async def me(actor: ActorDep) -> dict[str, object]:
        return actor.model_dump(mode="json")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://auth") as client:
        yield client


@pytest.fixture
async def client(key_server: KeyServer) -> AsyncIterator[httpx.AsyncClient]:
    keys = TokenKeys(
        secret="the-shared-secret-0123456789abcdefghij",
        jwks_url=key_server.url,
        jwks_cache_seconds=CACHE_SECONDS,
        jwks_cooldown_seconds=0,
    )
    async for each in client_for(keys):
        yield each


async def status(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/me", headers=bearer(token))).status_code


async def test_rs256_and_es256_tokens_of_the_key_set_name_their_account(
    client: httpx.AsyncClient, key_server: KeyServer
) -> None:
    rsa_key, ec_key = Signer("rsa-1", "RS256"), Signer("ec-1", "ES256")
    key_server.keys = [rsa_key.jwk, ec_key.jwk]

    answers = [await client.get("/me", headers=bearer(signer.token())) for signer in (rsa_key, ec_key)]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert {Actor.model_validate(answer.json()) for answer in answers} == {CUSTOMER}


async def test_keys_rotate_without_a_restart_and_a_withdrawn_keys_tokens_stop_after_the_cache_lifetime(
    client: httpx.AsyncClient, key_server: KeyServer
) -> None:
    old, new = Signer("2026-01", "RS256"), Signer("2026-02", "ES256")
    key_server.keys = [old.jwk]
    old_token = old.token()
    assert await status(client, old_token) == 200

    key_server.keys = [old.jwk, new.jwk]  # the issuer publishes its next key
    assert await status(client, new.token()) == 200  # an unknown kid fetches the key set again
    assert await status(client, old_token) == 200

    key_server.keys = [new.jwk]  # and withdraws the old one

    async def old_token_refused() -> bool:
        return await status(client, old_token) == 401

    await eventually(old_token_refused, within=10 * CACHE_SECONDS, what="the withdrawn key's token refused")
    assert await status(client, new.token()) == 200


async def test_an_unknown_kid_is_a_401_and_each_algorithm_needs_its_own_key_source(
    client: httpx.AsyncClient, key_server: KeyServer
) -> None:
    published, stranger = Signer("rsa-1", "RS256"), Signer("rsa-x", "RS256")
    key_server.keys = [published.jwk]
    # The classic confusion: an HS256 token whose "secret" is the published public key.
    confused = hs256_by_hand({"sub": "cust-1", "exp": int(time.time()) + 60}, key=published.public_pem(), kid="rsa-1")
    relabelled = Signer("rsa-1", "ES256")  # an EC signature under the RSA key's kid

    assert await status(client, stranger.token()) == 401
    assert await status(client, confused) == 401
    assert await status(client, relabelled.token()) == 401


async def test_without_a_key_set_an_rs256_token_is_refused(key_server: KeyServer) -> None:
    signer = Signer("rsa-1", "RS256")
    key_server.keys = [signer.jwk]
    async for client in client_for(TokenKeys(secret="the-shared-secret-0123456789abcdefghij")):
        assert await status(client, signer.token()) == 401


async def test_an_unreachable_key_server_is_a_503_problem() -> None:
    keys = TokenKeys(secret=None, jwks_url="http://127.0.0.1:9/jwks.json", jwks_cooldown_seconds=0)
    async for client in client_for(keys):
        response = await client.get("/me", headers=bearer(Signer("rsa-1", "RS256").token()))

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
