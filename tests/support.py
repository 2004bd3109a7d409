"""Helpers every test suite shares: waiting with a deadline instead of sleeping; the relay's key; the callers,
their directory records (in a unit test's directory, or in the bucket as the tickets service keeps it) and their
bearer tokens."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.directory import (
    AccountKind,
    AccountRecord,
    Category,
    Configuration,
    Department,
    Record,
    StaffRecord,
    StaffRole,
    record_key,
)
from hostdesk_contracts.runtime.auth import issue_token
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_contracts.runtime.nats import directory_bucket
from hostdesk_contracts.signing import EventSigner
from hostdesk_contracts.subjects import Subjects
from nats.js import JetStreamContext
from nats.js.errors import KeyWrongLastSequenceError

# ``HOSTDESK_EVENT_KEY`` of every service the tests start; tests that publish events as the relay sign with it.
EVENT_KEY = "test-event-key-0123456789abcdefghijklmnop"
RELAY_SIGNER = EventSigner(EVENT_KEY)


async def eventually(
    condition: Callable[[], Awaitable[bool]],
    *,
    within: float = 30.0,
    every: float = 0.05,
    what: str | Callable[[], str] = "condition met",
) -> None:
    """Wait until ``condition()`` is true; fail the test if it is not within ``within`` seconds, saying ``what``
    was awaited (a callable tells what it saw last)."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"not within {within:.0f}s: {said}")
        await asyncio.sleep(every)


# -- callers: directory records and bearer tokens ---------------------------------------------------------------

# What the tests' tickets name: every organisation a caller's records make is configured with these.
DEPARTMENTS = ("Technical Support", "Billing", "Sales")
CATEGORIES = ("Domains", "Installs", "Invoices", "Mail")


def configuration_of(organisation_id: str) -> Configuration:
    """The configuration the tests' organisations have: the departments and categories their tickets name."""
    return Configuration(
        organisation_id=organisation_id,
        departments=tuple(Department(name=name) for name in DEPARTMENTS),
        categories=tuple(Category(name=name) for name in CATEGORIES),
    )


def principal_records(actor: Actor) -> tuple[Record, ...]:
    """The directory records that make the directory name ``actor`` exactly, as the tickets service would keep
    them: the provider of its tenant (whose id is the tenant) with its configuration (``configuration_of``), and
    the account or staff member itself (a reseller or a customer under the provider, a subaccount under a customer
    of its own, staff of the provider or of the reseller ``actor.organisation_id`` names, configured likewise)."""
    provider = AccountRecord(id=actor.tenant, kind=AccountKind.PROVIDER, display_name=f"Provider {actor.tenant}")
    configured = configuration_of(actor.tenant)
    name = actor.display_name or ""
    if actor.role is Role.PROVIDER:
        if actor.account_id != actor.tenant:
            raise ValueError(f"a provider's id is its tenant: {actor.account_id!r} is not {actor.tenant!r}")
        named = provider.model_copy(update={"display_name": name or provider.display_name, "email": actor.email})
        return named, configured
    if actor.role.is_staff:
        organisation = actor.organisation_id or actor.tenant
        staff = StaffRecord(
            id=actor.account_id,
            organisation_id=organisation,
            role=StaffRole(actor.role.value),
            display_name=name,
            email=actor.email,
        )
        if organisation == actor.tenant:
            return provider, configured, staff
        reseller = AccountRecord(
            id=organisation, kind=AccountKind.RESELLER, parent_id=actor.tenant, display_name=f"Reseller {organisation}"
        )
        return provider, configured, reseller, configuration_of(organisation), staff
    if actor.role is Role.SYSTEM:
        raise ValueError("nobody calls as the system: the directory has no such principal")
    parent: tuple[AccountRecord, ...] = ()
    if actor.role is Role.SUBACCOUNT:
        owner = f"owner-of-{actor.account_id}"[:100]
        parent = (AccountRecord(id=owner, kind=AccountKind.CUSTOMER, parent_id=actor.tenant, display_name=owner),)
    account = AccountRecord(
        id=actor.account_id,
        kind=AccountKind(actor.role.value),
        parent_id=parent[0].id if parent else actor.tenant,
        display_name=name,
        email=actor.email,
    )
    return provider, configured, *parent, account


def seed(directory: MemoryDirectory, *actors: Actor) -> None:
    """Put each actor's records in ``directory`` (a unit test's)."""
    for actor in actors:
        directory.put(*principal_records(actor))


async def seed_bucket(js: JetStreamContext, subjects: Subjects, *entries: Actor | Record) -> None:
    """Put each actor's records (or each record) in the installation's directory bucket, as the tickets service
    records them: the JSON of the record under its ``record_key``. The bucket is declared when it is not yet. An
    actor's organisation keeps the configuration it has (a test may have configured it since): only a record
    given itself replaces one."""
    bucket = await directory_bucket(js, subjects)
    for entry in entries:
        for record in principal_records(entry) if isinstance(entry, Actor) else (entry,):
            value = record.model_dump_json().encode()
            if isinstance(entry, Actor) and isinstance(record, Configuration):
                with contextlib.suppress(KeyWrongLastSequenceError):
                    await bucket.create(record_key(record), value)
                continue
            await bucket.put(record_key(record), value)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Callers:
    """Bearer tokens of a unit test's callers, each seeded in the directory its app reads (``directory``)."""

    secret: str
    directory: MemoryDirectory = field(default_factory=MemoryDirectory)

    def token(self, actor: Actor, *, ttl_seconds: int = 86_400) -> str:
        seed(self.directory, actor)
        return issue_token(secret=self.secret, account_id=actor.account_id, ttl_seconds=ttl_seconds)

    def bearer(self, actor: Actor) -> dict[str, str]:
        return bearer(self.token(actor))


def actor(account_id: str, role: Role, *, tenant: str, email: str | None = None, name: str | None = None) -> Actor:
    """An actor as the directory would name it (the tests' shorthand)."""
    return Actor(account_id=account_id, tenant=tenant, role=role, display_name=name, email=email)


@dataclass
class BucketCallers:
    """Bearer tokens of an integration or end-to-end test's callers, each first recorded in the installation's
    directory bucket as the tickets service records it (the ``callers`` fixture)."""

    js: JetStreamContext
    subjects: Subjects

    async def token(self, actor: Actor, *, secret: str, ttl_seconds: int = 86_400) -> str:
        await seed_bucket(self.js, self.subjects, actor)
        return issue_token(secret=secret, account_id=actor.account_id, ttl_seconds=ttl_seconds)

    async def bearer(self, actor: Actor, *, secret: str) -> dict[str, str]:
        return bearer(await self.token(actor, secret=secret))


async def words(pool: asyncpg.Pool, schema: str) -> list[tuple[object, ...]]:
    """Each ticket's words with the weights they stand at (``adapters.words_schema``), their positions apart."""
    rows = await pool.fetch(
        f"SELECT DISTINCT w.ticket_id, u.lexeme, weight FROM {schema}.ticket_words AS w,"
        " unnest(w.words) AS u, unnest(u.weights) AS weight ORDER BY 1, 2, 3"
    )
    return [tuple(row) for row in rows]


async def tallies(pool: asyncpg.Pool, schema: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The running tallies of the schema's tickets (``adapters.schema``), and the same counted afresh."""
    key = "tenant, handler, department, status, priority, archived, assigned"
    kept = await pool.fetch(f"SELECT {key}, n FROM {schema}.ticket_counts WHERE n <> 0 ORDER BY {key}")
    recounted = await pool.fetch(
        f"SELECT tenant, COALESCE(handling_organisation_id, tenant) AS handler, COALESCE(department, '') AS department,"
        f" status, priority, archived, assignee_id IS NOT NULL AS assigned, count(*) AS n FROM {schema}.tickets"
        f" GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY {key}"
    )
    return [tuple(row) for row in kept], [tuple(row) for row in recounted]
