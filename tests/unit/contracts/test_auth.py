"""Who calls: a token names the account, the directory decides the rest; API keys act for their account with their
scopes; whatever is wrong with a credential is a 401 problem (a missing scope a 403), never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import warnings
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from fastapi import FastAPI
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.directory import AccountKind, AccountRecord, ApiKeyRecord, Scope, StaffRecord, StaffRole
from hostdesk_contracts.problems import PROBLEM_MEDIA_TYPE
from hostdesk_contracts.runtime import auth
from hostdesk_contracts.runtime.auth import ActorDep, DirectoryWriterDep, TicketsReaderDep, TokenKeys, issue_token
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_contracts.runtime.problems import install_problem_handlers

from tests.support import bearer, seed

SECRET = "unit-secret-0123456789abcdefghijklmnop"
FAR = int(time.time()) + 86_400
CUSTOMER = Actor(account_id="cust-1", tenant="acme", role=Role.CUSTOMER, display_name="Ada", email="ada@example.net")
AGENT = Actor(account_id="agent-1", tenant="acme", role=Role.AGENT, display_name="Sam", organisation_id="acme")
KEY_ID = "k3yid0000001"
KEY = f"hd_{KEY_ID}_s3cret-with_underscores-and-dashes"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def app_over(directory: MemoryDirectory, keys: TokenKeys) -> FastAPI:
    app = FastAPI()
    app.state.directory = directory
    app.state.token_keys = keys
    install_problem_handlers(app)

    @app.get("/me")
    async def me(actor: ActorDep) -> dict[str, object]:
        return actor.model_dump(mode="json")

    @app.get("/tickets")
    async def tickets(actor: TicketsReaderDep) -> dict[str, object]:
        return actor.model_dump(mode="json")

    @app.put("/directory")
    async def directory_write(actor: DirectoryWriterDep) -> dict[str, object]:
        return actor.model_dump(mode="json")

    return app


@pytest.fixture
def directory() -> MemoryDirectory:
    directory = MemoryDirectory()
    seed(directory, CUSTOMER, AGENT)
    directory.put(
        ApiKeyRecord(
            id=KEY_ID,
            account_id=CUSTOMER.account_id,
            label="monitoring",
            scopes=(Scope.TICKETS_READ,),
            secret_sha256=hashlib.sha256(KEY.encode()).hexdigest(),
        )
    )
    return directory


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(directory: MemoryDirectory, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    app = app_over(directory, TokenKeys(secret=SECRET, clock=clock))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://auth") as client:
        yield client


def signed(**claims: object) -> str:
    """A token signed with the installation's key, whatever its claims: what a careless issuer might sign."""
    return jwt.encode({"sub": "cust-1", "exp": FAR} | claims, SECRET)


def token_of(account_id: str) -> dict[str, str]:
    return bearer(issue_token(secret=SECRET, account_id=account_id))


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_names_its_account_and_the_directory_says_who_it_is(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers=token_of("cust-1"))

    assert response.status_code == 200
    assert Actor.model_validate(response.json()) == CUSTOMER


async def test_a_tokens_tenant_role_and_name_are_ignored(client: httpx.AsyncClient) -> None:
    forged = signed(tenant="other", role="system", name="The System", email="root@example.net")

    response = await client.get("/me", headers=bearer(forged))

    assert Actor.model_validate(response.json()) == CUSTOMER


async def test_staff_act_as_their_role_for_their_organisation(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers=token_of("agent-1"))

    assert Actor.model_validate(response.json()) == AGENT


async def test_staff_of_a_reseller_act_in_its_providers_tenant(
    client: httpx.AsyncClient, directory: MemoryDirectory
) -> None:
    directory.put(
        AccountRecord(id="resell-1", kind=AccountKind.RESELLER, parent_id="acme", display_name="Resell"),
        StaffRecord(id="agent-r", organisation_id="resell-1", role=StaffRole.SUPERVISOR, display_name="Rita"),
    )

    actor = Actor.model_validate((await client.get("/me", headers=token_of("agent-r"))).json())

    assert (actor.tenant, actor.role, actor.organisation_id) == ("acme", Role.SUPERVISOR, "resell-1")


async def test_a_subaccount_acts_in_the_tenant_at_the_top_of_its_tree(
    client: httpx.AsyncClient, directory: MemoryDirectory
) -> None:
    directory.put(
        AccountRecord(id="resell-2", kind=AccountKind.RESELLER, parent_id="acme", display_name="R"),
        AccountRecord(id="cust-2", kind=AccountKind.CUSTOMER, parent_id="resell-2", display_name="C"),
        AccountRecord(id="ftp-2", kind=AccountKind.SUBACCOUNT, parent_id="cust-2", display_name="F"),
    )

    actor = Actor.model_validate((await client.get("/me", headers=token_of("ftp-2"))).json())

    assert (actor.tenant, actor.role) == ("acme", Role.SUBACCOUNT)
    assert [each.id for each in await directory.ancestors("ftp-2")] == ["cust-2", "resell-2", "acme"]


def _none_token() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(f'{{"sub":"cust-1","exp":{FAR}}}'.encode()).rstrip(b"=").decode()
    return f"{header}.{payload}."


def _tampered() -> str:
    header, _, signature = signed().split(".")
    payload = base64.urlsafe_b64encode(f'{{"sub":"agent-1","exp":{FAR}}}'.encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def _not_an_object() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    payload = base64.urlsafe_b64encode(b"[1, 2]").rstrip(b"=")
    signing_input = header + b"." + payload
    signature = base64.urlsafe_b64encode(hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature.rstrip(b"=")).decode()


def _hs384() -> str:
    """Signed with the installation's secret, but not with HS256 (PyJWT warns the secret is short for HS384)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode({"sub": "cust-1", "exp": FAR}, SECRET, algorithm="HS384")


BAD_TOKENS = {
    "signed with another key": jwt.encode({"sub": "cust-1", "exp": FAR}, "another-secret-0123456789abcdefghijkl"),
    "alg none": _none_token(),
    "tampered": _tampered(),
    "expired": signed(exp=int(time.time()) - 5),
    "not valid yet": signed(nbf=FAR - 3600),
    "HS384": _hs384(),
    "no exp": jwt.encode({"sub": "cust-1"}, SECRET),
    "no sub": jwt.encode({"exp": FAR}, SECRET),
    "payload not an object": _not_an_object(),
    "not a token": "this-is-no-token",
    "longer than the bound": signed(comment="x" * auth.MAX_TOKEN_LENGTH),
}


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
async def test_a_bad_token_is_a_401_problem(client: httpx.AsyncClient, token: str) -> None:
    assert_refused(await client.get("/me", headers=bearer(token)))


@pytest.mark.parametrize("subject", ["cust.1", "cust-*", ">", "cust 1", "", "\ud800", "c" * 101, "-cust"])
async def test_a_token_whose_subject_is_no_directory_id_is_refused_naming_sub(
    client: httpx.AsyncClient, subject: str
) -> None:
    response = await client.get("/me", headers=bearer(signed(sub=subject)))

    assert_refused(response)
    assert "sub" in response.json()["detail"]


async def test_no_credential_is_a_401_problem(client: httpx.AsyncClient) -> None:
    assert_refused(await client.get("/me"))


async def test_an_unknown_or_disabled_principal_is_refused_with_one_message(
    client: httpx.AsyncClient, directory: MemoryDirectory
) -> None:
    directory.put(
        AccountRecord(id="gone-1", kind=AccountKind.CUSTOMER, parent_id="acme", display_name="G", disabled=True),
        AccountRecord(id="closed-org", kind=AccountKind.RESELLER, parent_id="acme", display_name="R", disabled=True),
        StaffRecord(id="agent-c", organisation_id="closed-org", role=StaffRole.AGENT, display_name="C"),
        StaffRecord(id="agent-d", organisation_id="acme", role=StaffRole.AGENT, display_name="D", disabled=True),
        AccountRecord(id="orphan-1", kind=AccountKind.CUSTOMER, parent_id="nobody", display_name="O"),
    )

    answers = [await client.get("/me", headers=token_of(each)) for each in ("nobody-1", "gone-1", "agent-c", "agent-d")]
    answers.append(await client.get("/me", headers=token_of("orphan-1")))

    for answer in answers:
        assert_refused(answer)
    assert len({answer.json()["detail"] for answer in answers}) == 1


async def test_a_disabled_account_is_refused_at_once_though_its_token_was_seen(
    client: httpx.AsyncClient, directory: MemoryDirectory
) -> None:
    assert (await client.get("/me", headers=token_of("cust-1"))).status_code == 200

    directory.put(
        AccountRecord(id="cust-1", kind=AccountKind.CUSTOMER, parent_id="acme", display_name="Ada", disabled=True,
                      version=2)
    )  # fmt: skip

    assert_refused(await client.get("/me", headers=token_of("cust-1")))


async def test_an_older_record_arriving_late_changes_nothing(directory: MemoryDirectory) -> None:
    directory.put(AccountRecord(id="cust-9", kind=AccountKind.CUSTOMER, parent_id="acme", display_name="B", version=3))

    directory.put(AccountRecord(id="cust-9", kind=AccountKind.CUSTOMER, parent_id="acme", display_name="A", version=2))

    principal = await directory.principal("cust-9")
    assert principal is not None
    assert principal.display_name == "B"


async def test_a_cycle_in_the_tree_ends_the_walk(client: httpx.AsyncClient, directory: MemoryDirectory) -> None:
    directory.put(
        AccountRecord(id="loop-a", kind=AccountKind.CUSTOMER, parent_id="loop-b", display_name="A"),
        AccountRecord(id="loop-b", kind=AccountKind.RESELLER, parent_id="loop-a", display_name="B"),
    )

    assert [each.id for each in await directory.ancestors("loop-a")] == ["loop-b"]
    assert_refused(await client.get("/me", headers=token_of("loop-a")))


async def test_a_remembered_token_is_refused_once_it_expires(client: httpx.AsyncClient, clock: Clock) -> None:
    token = bearer(issue_token(secret=SECRET, account_id="cust-1", ttl_seconds=60))
    assert (await client.get("/me", headers=token)).status_code == 200

    clock.now += 61

    assert_refused(await client.get("/me", headers=token))


async def test_remembered_tokens_are_bounded() -> None:
    keys = TokenKeys(secret=SECRET, max_cached=2)

    for account in ("cust-1", "cust-2", "cust-3"):
        assert await keys.subject(issue_token(secret=SECRET, account_id=account)) == account

    assert len(keys._checked) == 2


async def test_an_api_key_acts_for_its_account_with_its_scopes(client: httpx.AsyncClient) -> None:
    response = await client.get("/tickets", headers=bearer(KEY))

    assert response.status_code == 200
    assert Actor.model_validate(response.json()) == CUSTOMER


async def test_an_api_key_without_the_scope_a_route_needs_is_a_403_problem(client: httpx.AsyncClient) -> None:
    response = await client.put("/directory", headers=bearer(KEY))

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert "directory:write" in response.json()["detail"]


async def test_a_token_has_every_scope(client: httpx.AsyncClient) -> None:
    assert (await client.put("/directory", headers=token_of("cust-1"))).status_code == 200


@pytest.mark.parametrize(
    "key",
    [
        f"hd_{KEY_ID}_wrong-secret",
        "hd_unknownkey01_s3cret",
        f"hd_{KEY_ID}",
        "hd_",
        "hd_bad.id_secret",
        f"hd_{KEY_ID}_" + "x" * auth.MAX_TOKEN_LENGTH,
    ],
)
async def test_a_wrong_or_unknown_api_key_is_a_401_problem(client: httpx.AsyncClient, key: str) -> None:
    assert_refused(await client.get("/tickets", headers=bearer(key)))


async def test_a_revoked_api_key_or_one_of_a_disabled_account_is_refused(
    client: httpx.AsyncClient, directory: MemoryDirectory
) -> None:
    record = await directory.api_key(KEY_ID)
    assert record is not None
    directory.put(record.model_copy(update={"revoked": True, "version": 2}))

    revoked = await client.get("/tickets", headers=bearer(KEY))

    directory.put(record.model_copy(update={"version": 3}))
    directory.put(
        AccountRecord(id="cust-1", kind=AccountKind.CUSTOMER, parent_id="acme", display_name="A", disabled=True,
                      version=2)
    )  # fmt: skip
    disabled = await client.get("/tickets", headers=bearer(KEY))

    assert_refused(revoked)
    assert_refused(disabled)
    assert revoked.json()["detail"] == disabled.json()["detail"]


def test_tokens_need_a_secret_or_a_key_set() -> None:
    with pytest.raises(ValueError, match="secret"):
        TokenKeys(secret=None)
