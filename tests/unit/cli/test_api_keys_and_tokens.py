"""``hostdesk api-keys`` and ``hostdesk token``: keys made here and sent as their hash only; tokens naming
their subject and lifetime only."""

from __future__ import annotations

import hashlib
import re

import jwt
import pytest
from hostdesk_cli.keys import KEY_PATTERN, key_hash, new_key
from hostdesk_cli.outcomes import REFUSED
from hostdesk_cli.tokens import mint
from hostdesk_contracts.directory import ApiKeyRecord, PutApiKey, Scope
from hostdesk_contracts.runtime.auth import TokenKeys

from .builders import SECRET, TENANT, lines_with, run, staff, tree
from .fake import FakeDirectory


@pytest.fixture
def directory() -> FakeDirectory:
    found = FakeDirectory()
    found.put(*tree(), staff("sam"))
    return found


def test_a_key_is_hd_then_a_12_character_id_then_32_random_bytes() -> None:
    keys = [new_key() for _ in range(50)]

    for made in keys:
        matched = KEY_PATTERN.fullmatch(made.key)
        assert matched is not None, made.key
        assert matched.group(1) == made.id
        assert re.fullmatch(r"[a-z0-9]{12}", made.id)
    assert len({made.key for made in keys}) == 50


def test_what_is_kept_of_a_key_is_the_sha256_of_the_whole_key() -> None:
    made = new_key()

    assert made.sha256 == key_hash(made.key) == hashlib.sha256(made.key.encode()).hexdigest()


def test_a_created_key_is_printed_once_and_only_its_hash_sent(directory: FakeDirectory) -> None:
    result = run(
        directory,
        "api-keys",
        "create",
        f"{TENANT}-client",
        "--scope",
        "tickets:write",
        "--scope",
        "tickets:read",
        "--label",
        "Monitoring",
    )

    assert result.exit_code == 0, result.output
    [command] = directory.sent
    assert isinstance(command, PutApiKey)
    [key] = [word for word in result.output.split() if word.startswith("hd_")]
    assert command.api_key.secret_sha256 == key_hash(key)
    assert key not in command.model_dump_json()
    assert command.api_key.scopes == (Scope.TICKETS_WRITE, Scope.TICKETS_READ)
    assert result.output.count(key) == 1


def test_an_unknown_scope_is_a_usage_error(directory: FakeDirectory) -> None:
    result = run(directory, "api-keys", "create", TENANT, "--scope", "everything", "--label", "L")

    assert result.exit_code == 2
    assert directory.sent == []


def test_a_revoked_key_is_put_back_revoked_and_the_list_shows_no_hash(directory: FakeDirectory) -> None:
    assert run(directory, "api-keys", "create", TENANT, "--scope", "tickets:read", "--label", "Billing").exit_code == 0
    [created] = [record for record in directory.stored.values() if isinstance(record, ApiKeyRecord)]

    revoked = run(directory, "api-keys", "revoke", created.id)
    listed = run(directory, "api-keys", "list", "--account", TENANT)

    assert revoked.exit_code == 0, revoked.output
    stored = directory.stored[f"api_key.{created.id}"]
    assert isinstance(stored, ApiKeyRecord)
    assert stored.revoked
    assert stored.version == 2
    assert lines_with(listed.output, created.id, "Billing", "revoked")
    assert created.secret_sha256 not in listed.output


def test_revoking_an_unknown_key_sends_nothing(directory: FakeDirectory) -> None:
    result = run(directory, "api-keys", "revoke", "nosuchkey000")

    assert result.exit_code == REFUSED
    assert directory.sent == []


def test_a_token_names_its_subject_and_lifetime_only() -> None:
    token = mint("sam", secret=SECRET, ttl_seconds=600)

    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert set(claims) == {"sub", "iat", "exp"}
    assert claims["sub"] == "sam"
    assert claims["exp"] - claims["iat"] == 600


async def test_a_minted_token_is_one_the_services_accept() -> None:
    token = mint("sam", secret=SECRET)

    assert await TokenKeys(secret=SECRET).subject(token) == "sam"


def test_the_token_command_mints_for_a_known_staff_member(directory: FakeDirectory) -> None:
    result = run(directory, "token", "sam", "--ttl", "3600", env={"HOSTDESK_JWT_SECRET": SECRET})

    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip(), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "sam"
    assert claims["exp"] - claims["iat"] == 3600


def test_a_token_for_an_unknown_id_is_refused_unless_unchecked(directory: FakeDirectory) -> None:
    refused = run(directory, "token", "nobody", env={"HOSTDESK_JWT_SECRET": SECRET})
    unchecked = run(directory, "token", "nobody", "--no-check", env={"HOSTDESK_JWT_SECRET": SECRET})

    assert refused.exit_code == REFUSED
    assert "No account or staff member 'nobody'" in refused.output
    assert unchecked.exit_code == 0
    assert jwt.decode(unchecked.output.strip(), SECRET, algorithms=["HS256"])["sub"] == "nobody"


@pytest.mark.parametrize("secret", [None, "too-short"])
def test_a_token_needs_the_installations_key(directory: FakeDirectory, secret: str | None) -> None:
    result = run(directory, "token", "sam", env={"HOSTDESK_JWT_SECRET": secret} if secret else {})

    assert result.exit_code == REFUSED
    assert "HOSTDESK_JWT_SECRET" in result.output
