"""``hostdesk`` against the real tickets service: puts decided and kept in the bucket, listed in tree order,
departments changed at the version read (a concurrent change refused as stale), API keys made and revoked,
the demo twice the same, and an installation out of reach said so."""

from __future__ import annotations

import asyncio
import hashlib
import re

from hostdesk_cli.demo import demo_plan
from hostdesk_contracts.directory import AccountRecord, ApiKeyRecord, Configuration, StaffRecord, record_key
from hostdesk_tickets.runtime import Runtime

from .conftest import Bucket, Hostdesk


async def events_in(tickets: Runtime) -> int | None:
    """The tickets service's last log position: a command that records nothing leaves it where it was."""
    return await asyncio.to_thread(tickets.tickets.recorder.max_notification_id)


async def put_tree(hostdesk: Hostdesk, provider: str) -> None:
    """A provider, a reseller under it, a customer under the reseller and a subaccount under the customer."""
    puts = [
        ("accounts", "put", provider, "--kind", "provider", "--name", "Host Co", "--email", "ops@host.example"),
        ("accounts", "put", f"{provider}-res", "--kind", "reseller", "--parent", provider, "--name", "Reseller"),
        (
            "accounts",
            "put",
            f"{provider}-cust",
            "--kind",
            "customer",
            "--parent",
            f"{provider}-res",
            "--name",
            "Cust",
            "--service",
            "vps-1=VPS One",
        ),
        ("accounts", "put", f"{provider}-ftp", "--kind", "subaccount", "--parent", f"{provider}-cust", "--name", "FTP"),
    ]
    for args in puts:
        ran = await hostdesk(*args)
        assert ran.exit_code == 0, ran.output
        assert "Created principal." in ran.stdout


async def test_accounts_and_staff_put_are_kept_and_listed_in_tree_order(
    tickets: Runtime, hostdesk: Hostdesk, bucket: Bucket, provider: str
) -> None:
    await put_tree(hostdesk, provider)
    staff = await hostdesk(
        "staff",
        "put",
        f"{provider}-sam",
        "--organisation",
        provider,
        "--role",
        "agent",
        "--name",
        "Sam",
        "--email",
        "sam@host.example",
    )

    assert staff.exit_code == 0, staff.output
    customer = await bucket.wait_for(f"principal.{provider}-cust", version=1)
    assert isinstance(customer, AccountRecord)
    assert customer.parent_id == f"{provider}-res"
    assert [(each.id, each.label) for each in customer.services] == [("vps-1", "VPS One")]
    member = await bucket.wait_for(f"principal.{provider}-sam", version=1)
    assert isinstance(member, StaffRecord)
    await bucket.wait_for(f"principal.{provider}-ftp", version=1)

    listed = await hostdesk("accounts", "list")
    staff_listed = await hostdesk("staff", "list")

    assert listed.exit_code == 0, listed.output
    order = re.findall(rf"{provider}[-a-z]*", listed.stdout)
    assert order == [provider, f"{provider}-res", f"{provider}-cust", f"{provider}-ftp"]
    assert f"{provider}-sam" in staff_listed.stdout


async def test_the_same_put_again_changes_nothing(
    tickets: Runtime, hostdesk: Hostdesk, bucket: Bucket, provider: str
) -> None:
    await put_tree(hostdesk, provider)
    args = ("accounts", "put", f"{provider}-res", "--kind", "reseller", "--parent", provider, "--name", "Reseller")
    events = await events_in(tickets)

    again = await hostdesk(*args)

    assert again.exit_code == 0, again.output
    assert "nothing changed (version 1)" in again.stdout
    assert await events_in(tickets) == events


async def test_a_refused_put_prints_the_detail_and_field_and_records_nothing(
    tickets: Runtime, hostdesk: Hostdesk, provider: str
) -> None:
    await put_tree(hostdesk, provider)
    events = await events_in(tickets)

    moved = await hostdesk(
        "accounts", "put", f"{provider}-res", "--kind", "customer", "--parent", provider, "--name", "Reseller"
    )

    assert moved.exit_code == 1, moved.output
    assert "[field: kind]" in moved.stderr
    assert await events_in(tickets) == events


async def test_departments_are_added_and_retired_and_a_concurrent_change_is_stale(
    tickets: Runtime, hostdesk: Hostdesk, bucket: Bucket, provider: str
) -> None:
    await put_tree(hostdesk, provider)

    added = await hostdesk("departments", "add", provider, "Technical Support", "--round-robin")
    await bucket.wait_for(f"configuration.{provider}", version=1)
    billing = await hostdesk("departments", "add", provider, "Billing")
    await bucket.wait_for(f"configuration.{provider}", version=2)
    retired = await hostdesk("departments", "retire", provider, "Billing")
    configuration = await bucket.wait_for(f"configuration.{provider}", version=3)
    stale = await hostdesk("departments", "add", provider, "Sales", "--expected-version", "2")
    listed = await hostdesk("departments", "list", provider)

    for ran in (added, billing, retired):
        assert ran.exit_code == 0, ran.output
    assert isinstance(configuration, Configuration)
    assert [(each.name, each.round_robin, each.retired) for each in configuration.departments] == [
        ("Technical Support", True, False),
        ("Billing", False, True),
    ]
    assert stale.exit_code == 1, stale.output
    assert "stale" in stale.stderr
    assert "Sales" not in listed.stdout
    assert re.search(r"Billing\s*│\s*retired", listed.stdout), listed.stdout


async def test_an_api_key_is_made_kept_as_its_hash_and_revoked(
    tickets: Runtime, hostdesk: Hostdesk, bucket: Bucket, provider: str
) -> None:
    await put_tree(hostdesk, provider)

    created = await hostdesk(
        "api-keys", "create", f"{provider}-cust", "--scope", "tickets:write", "--label", "Monitoring"
    )

    assert created.exit_code == 0, created.output
    [key] = re.findall(r"hd_[a-z0-9]{12}_[A-Za-z0-9_-]{43}", created.stdout)
    key_id = key.split("_")[1]
    record = await bucket.wait_for(f"api_key.{key_id}", version=1)
    assert isinstance(record, ApiKeyRecord)
    assert record.secret_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(await bucket.entries())

    revoked = await hostdesk("api-keys", "revoke", key_id)
    record = await bucket.wait_for(f"api_key.{key_id}", version=2)
    listed = await hostdesk("api-keys", "list")

    assert revoked.exit_code == 0, revoked.output
    assert isinstance(record, ApiKeyRecord)
    assert record.revoked
    assert re.search(rf"{key_id}.*revoked", listed.stdout), listed.stdout
    assert record.secret_sha256 not in listed.output


async def test_the_demo_twice_gives_the_same_bucket(
    tickets: Runtime, hostdesk: Hostdesk, bucket: Bucket, provider: str
) -> None:
    plan = demo_plan(provider)
    first = await hostdesk("demo")
    for record in plan.records:
        await bucket.wait_for(record_key(record), version=1)
    before = await bucket.entries()
    events = await events_in(tickets)

    second = await hostdesk("demo")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert second.stdout.count("nothing changed") == len(plan.records)
    assert await events_in(tickets) == events  # nothing recorded, so nothing to project
    assert await bucket.entries() == before
    assert "STAFF_TOKEN" in second.stdout


async def test_an_installation_out_of_reach_is_said_and_nothing_sent(hostdesk: Hostdesk, provider: str) -> None:
    down = Hostdesk(env={**hostdesk.env, "HOSTDESK_NATS_URL": "nats://127.0.0.1:9"})

    ran = await down("accounts", "put", provider, "--kind", "provider", "--name", "Host Co")

    assert ran.exit_code == 3, ran.output
    assert "Nothing was sent" in ran.stderr
