"""Reading the directory: who a caller is, looked up in the records the tickets service keeps.

The tickets service owns the directory and keeps the latest record of every account, staff member, organisation
configuration and API key in the key-value bucket ``<ROOT>_DIRECTORY`` (``hostdesk_contracts.directory``). Every
service reads it through the port ``Directory``:

- ``KvDirectory`` watches the bucket (its current values, then every change) and answers from memory, so a
  look-up on every request is a dict look-up and a change (an account disabled) counts at once. It is ready once
  the bucket's current values are in. A record it has not seen (an account created a moment ago, whose change
  is still on its way) is read from the bucket once before it answers "unknown". An organisation without a
  configuration of its own (most of them) is asked about on every request: its configuration, once read and found
  absent, is not read again for ``ABSENT_SECONDS``, unless it arrives through the watch first. (Accounts, staff
  and keys are read on each miss: a record written a moment ago is seen at once, and an unknown caller is rare.)
- ``MemoryDirectory`` holds the records it is given: for unit tests.

A record's version never goes back: a value older than the one held (a direct read racing the watch) is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue
from pydantic import TypeAdapter, ValidationError

from hostdesk_contracts.base import TENANT_PATTERN
from hostdesk_contracts.directory import (
    ID_PATTERN,
    SUPPORT_ADDRESS_KIND,
    AccountKind,
    AccountRecord,
    ApiKeyRecord,
    Configuration,
    Record,
    StaffRecord,
    SupportAddressRecord,
    record_key,
    support_address_key,
)
from hostdesk_contracts.runtime.problems import Unavailable
from hostdesk_contracts.subjects import Subjects

log = logging.getLogger(__name__)

Principal = AccountRecord | StaffRecord
MAX_ANCESTORS = 3  # provider > reseller > customer > subaccount: a tree at most four deep
ABSENT_SECONDS = 1.0  # a configuration found absent is so from memory this long (or until it arrives)
MAX_ABSENT = 10_000  # configurations remembered as absent, the oldest forgotten first
_REMEMBERED_ABSENT = record_key(Configuration, "").partition(".")[0]  # the kind of key whose absence is remembered
_PRINCIPAL: TypeAdapter[Principal] = TypeAdapter(Principal)


class DirectoryUnavailable(Unavailable):
    """The directory cannot answer now (its bucket not reached yet, NATS away): the caller should retry later.
    Raised through a route, it is that route's 503 problem, whichever look-up met it."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The directory cannot be read now ({reason}), so nothing was done; try again shortly.")
        self.reason = reason


class Directory(Protocol):
    """The directory as every service reads it. Every look-up may raise ``DirectoryUnavailable``."""

    @property
    def ready(self) -> bool:
        """Whether the directory holds the bucket's records (part of each service's readiness)."""
        ...

    async def principal(self, principal_id: str) -> AccountRecord | StaffRecord | None:
        """The account or staff member of that id (one id space), ``None`` for an unknown one."""
        ...

    async def configuration(self, organisation_id: str) -> Configuration | None: ...

    async def api_key(self, key_id: str) -> ApiKeyRecord | None: ...

    async def support_address(self, address: str) -> SupportAddressRecord | None:
        """The support address record of ``address`` (any case), retired or not; None when no organisation has it."""
        ...

    async def principals_with_email(self, address: str) -> tuple[AccountRecord | StaffRecord, ...]:
        """The accounts and staff whose address is ``address`` (any case), in id order: who a mail's sender is.
        From memory only, as ``staff_of``."""
        ...

    async def support_addresses_of(self, organisation_id: str) -> tuple[SupportAddressRecord, ...]:
        """The organisation's support addresses, retired or not, by address: where its customers' answers go. From
        memory only, as ``staff_of``."""
        ...

    async def mailboxes(self) -> tuple[SupportAddressRecord, ...]:
        """The support addresses that are not retired and have a mailbox to poll, by address. From memory only, as
        ``staff_of``."""
        ...

    async def ancestors(self, account_id: str) -> tuple[AccountRecord, ...]:
        """The account's parent first, up to the provider at the top of its tree; fewer when the tree is broken
        (a parent unknown, a cycle, deeper than a tree may be), which ``tenant_of`` then refuses."""
        ...

    async def children_of(self, account_id: str) -> tuple[AccountRecord, ...]:
        """The accounts whose parent is ``account_id`` (a customer's subaccounts, a reseller's customers)."""
        ...

    async def staff_of(self, organisation_id: str) -> tuple[StaffRecord, ...]:
        """The staff members of an organisation that the directory holds, by id (a ticket's round-robin turn
        goes through them in that order)."""
        ...

    async def tenant_of(self, record: AccountRecord | StaffRecord) -> str | None:
        """A provider's own id; anyone else's, their provider's (staff: their organisation's). ``None`` when the
        tree does not lead to a provider, or the provider's id cannot be a tenant (a subject token)."""
        ...

    async def stop(self) -> None:
        """Stop following the directory (once no request reads it any more)."""
        ...


class _Records:
    """What both directories share: records by key, kept at their latest version, and the walk up the tree."""

    def __init__(self) -> None:
        self._records: dict[str, Record] = {}
        # Staff ids by organisation: a round-robin turn or a console's colleagues without a walk of every record.
        self._staff: dict[str, set[str]] = {}
        # Principal ids by their lower-cased address: the sender of a mail, without a walk of every record.
        self._by_email: dict[str, set[str]] = {}
        # Support addresses by organisation: the address a ticket's mail is answered at.
        self._addresses: dict[str, set[str]] = {}
        # Support addresses with a mailbox to poll, retired or not.
        self._mailboxes: set[str] = set()
        # Account ids by their parent's: an organisation's tickets are its own and its subaccounts'.
        self._children: dict[str, set[str]] = {}

    def _keep(self, key: str, record: Record) -> bool:
        """Hold ``record`` unless an at least as new one is held; say whether it was kept."""
        held = self._records.get(key)
        if held is not None and held.version > record.version:
            return False
        self._forget(key)
        self._records[key] = record
        if isinstance(record, StaffRecord):
            self._staff.setdefault(record.organisation_id, set()).add(record.id)
        if isinstance(record, AccountRecord) and record.parent_id is not None:
            self._children.setdefault(record.parent_id, set()).add(record.id)
        if isinstance(record, AccountRecord | StaffRecord) and record.email:
            self._by_email.setdefault(record.email.lower(), set()).add(record.id)
        if isinstance(record, SupportAddressRecord):
            self._addresses.setdefault(record.organisation_id, set()).add(record.address)
            if record.mailbox is not None:
                self._mailboxes.add(record.address)
        return True

    def _forget(self, key: str) -> None:
        held = self._records.pop(key, None)
        if isinstance(held, StaffRecord):
            self._staff.get(held.organisation_id, set()).discard(held.id)
        if isinstance(held, AccountRecord) and held.parent_id is not None:
            self._children.get(held.parent_id, set()).discard(held.id)
        if isinstance(held, AccountRecord | StaffRecord) and held.email:
            ids = self._by_email.get(held.email.lower(), set())
            ids.discard(held.id)
            if not ids:
                self._by_email.pop(held.email.lower(), None)
        if isinstance(held, SupportAddressRecord):
            self._addresses.get(held.organisation_id, set()).discard(held.address)
            self._mailboxes.discard(held.address)

    async def _lookup(self, key: str) -> Record | None:
        return self._records.get(key)

    async def principal(self, principal_id: str) -> AccountRecord | StaffRecord | None:
        if not ID_PATTERN.fullmatch(principal_id):
            return None  # not an id at all: no look-up, and nothing that could reach into another key
        record = await self._lookup(record_key(AccountRecord, principal_id))
        return record if isinstance(record, AccountRecord | StaffRecord) else None

    async def configuration(self, organisation_id: str) -> Configuration | None:
        if not ID_PATTERN.fullmatch(organisation_id):
            return None
        record = await self._lookup(record_key(Configuration, organisation_id))
        return record if isinstance(record, Configuration) else None

    async def api_key(self, key_id: str) -> ApiKeyRecord | None:
        if not ID_PATTERN.fullmatch(key_id):
            return None
        record = await self._lookup(record_key(ApiKeyRecord, key_id))
        return record if isinstance(record, ApiKeyRecord) else None

    async def support_address(self, address: str) -> SupportAddressRecord | None:
        record = await self._lookup(support_address_key(address))
        return record if isinstance(record, SupportAddressRecord) else None

    async def principals_with_email(self, address: str) -> tuple[AccountRecord | StaffRecord, ...]:
        held = (
            self._records.get(record_key(AccountRecord, each))
            for each in sorted(self._by_email.get(address.lower(), ()))
        )
        return tuple(record for record in held if isinstance(record, AccountRecord | StaffRecord))

    async def support_addresses_of(self, organisation_id: str) -> tuple[SupportAddressRecord, ...]:
        held = (
            self._records.get(support_address_key(each)) for each in sorted(self._addresses.get(organisation_id, ()))
        )
        return tuple(record for record in held if isinstance(record, SupportAddressRecord))

    async def mailboxes(self) -> tuple[SupportAddressRecord, ...]:
        held = (self._records.get(support_address_key(each)) for each in sorted(self._mailboxes))
        return tuple(
            record
            for record in held
            if isinstance(record, SupportAddressRecord) and record.mailbox is not None and not record.retired
        )

    async def ancestors(self, account_id: str) -> tuple[AccountRecord, ...]:
        chain: list[AccountRecord] = []
        seen = {account_id}
        record = await self.principal(account_id)
        while isinstance(record, AccountRecord) and record.parent_id is not None and len(chain) < MAX_ANCESTORS:
            if record.parent_id in seen:
                break  # a cycle: the records are wrong, and the walk stops rather than going round
            seen.add(record.parent_id)
            parent = await self.principal(record.parent_id)
            if not isinstance(parent, AccountRecord):
                break
            chain.append(parent)
            record = parent
        return tuple(chain)

    async def children_of(self, account_id: str) -> tuple[AccountRecord, ...]:
        held = (
            self._records.get(record_key(AccountRecord, each)) for each in sorted(self._children.get(account_id, ()))
        )
        return tuple(record for record in held if isinstance(record, AccountRecord))

    async def staff_of(self, organisation_id: str) -> tuple[StaffRecord, ...]:
        # Read from memory only: the records held are the bucket's (watched), and a member of staff created a
        # moment ago joins the turns once its change arrives, within milliseconds.
        held = (
            self._records.get(record_key(StaffRecord, each)) for each in sorted(self._staff.get(organisation_id, ()))
        )
        return tuple(record for record in held if isinstance(record, StaffRecord))

    async def tenant_of(self, record: AccountRecord | StaffRecord) -> str | None:
        if isinstance(record, StaffRecord):
            organisation = await self.principal(record.organisation_id)
            if not isinstance(organisation, AccountRecord) or not organisation.kind.has_staff:
                return None
            record = organisation
        if record.kind is AccountKind.PROVIDER:
            top = record
        else:
            chain = await self.ancestors(record.id)
            if not chain:
                return None
            top = chain[-1]
        if top.kind is not AccountKind.PROVIDER or top.parent_id is not None:
            return None
        return top.id if TENANT_PATTERN.fullmatch(top.id) else None


class MemoryDirectory(_Records):
    """The directory of the records put in it, for unit tests; always ready."""

    ready = True

    async def stop(self) -> None:
        """Nothing to stop: the records are in memory."""

    def put(self, *records: Record) -> None:
        """Hold each record, as the bucket would once the tickets service recorded it (an older version of a
        record held is ignored)."""
        for record in records:
            self._keep(record_key(record), record)


class KvDirectory(_Records):
    """The directory bucket, watched and held in memory. ``start`` it, and ``stop`` it at the end.

    Built on a connection of the service's own (``on``), or on one it makes and keeps trying to make
    (``connecting``: intake serves while NATS is away, and so must its directory).
    """

    def __init__(
        self,
        link: Callable[[], Awaitable[Client]],
        *,
        subjects: Subjects,
        owns_connection: bool,
        retry_seconds: float = 0.5,
        get_timeout_seconds: float = 2.0,
    ) -> None:
        super().__init__()
        self._link = link
        self._bucket_name = subjects.directory_bucket
        self._owns_connection = owns_connection
        self._retry_seconds = retry_seconds
        self._get_timeout = get_timeout_seconds
        self._client: Client | None = None
        self._kv: KeyValue | None = None
        self._loaded = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._absent: OrderedDict[str, float] = OrderedDict()  # key: when it was read and found absent

    @classmethod
    def on(cls, client: Client, *, subjects: Subjects) -> KvDirectory:
        async def given() -> Client:
            return client

        return cls(given, subjects=subjects, owns_connection=False)

    @classmethod
    def connecting(cls, connect: Callable[[], Awaitable[Client]], *, subjects: Subjects) -> KvDirectory:
        """A directory on a connection of its own, made by ``connect`` (tried again until it succeeds)."""
        return cls(connect, subjects=subjects, owns_connection=True)

    @property
    def ready(self) -> bool:
        return self._loaded.is_set()

    async def start(self, *, wait: float) -> None:
        """Start watching; wait up to ``wait`` seconds for the bucket's current values (then go on loading in
        the background: the service is not ready until they are in)."""
        self._task = asyncio.create_task(self._watch(), name="directory")
        self._task.add_done_callback(_log_end)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._loaded.wait()
        if not self.ready:
            log.warning("the directory bucket %s is not loaded yet; callers are refused until it is", self._bucket_name)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait({self._task})
        if self._owns_connection and self._client is not None and not self._client.is_closed:
            with contextlib.suppress(NatsError, TimeoutError):
                await self._client.drain()

    async def _watch(self) -> None:
        """Watch the bucket for ever: its current values (then ``None``, the end of them), then each change."""
        while True:
            try:
                kv = await self._bucket()
                watcher = await kv.watchall()
                try:
                    async for entry in watcher:
                        if entry is None:
                            self._loaded.set()
                        else:
                            self._apply(entry)
                finally:
                    with contextlib.suppress(NatsError, TimeoutError):
                        await watcher.stop()  # type: ignore[no-untyped-call]
                return  # the watcher ends only when stopped
            except (BucketNotFoundError, NatsError, TimeoutError, OSError) as error:
                log.info("waiting for the directory bucket %s (%s)", self._bucket_name, type(error).__name__)
                await asyncio.sleep(self._retry_seconds)

    async def _bucket(self) -> KeyValue:
        if self._client is None:
            self._client = await self._link()
        self._kv = await self._client.jetstream().key_value(self._bucket_name)
        return self._kv

    async def _bucket_now(self) -> KeyValue:
        """The bucket, looked up at once (the watch may be between two looks for it)."""
        if self._client is None:
            raise DirectoryUnavailable(f"the directory bucket {self._bucket_name} is not reached yet")
        return await self._client.jetstream().key_value(self._bucket_name)

    def _apply(self, entry: KeyValue.Entry) -> None:
        self._absent.pop(entry.key, None)
        if entry.operation in (KV_DEL, KV_PURGE):
            self._forget(entry.key)
            return
        record = _parsed(entry.key, entry.value or b"")
        if record is not None:
            self._keep(entry.key, record)

    async def _lookup(self, key: str) -> Record | None:
        held = self._records.get(key)
        if held is not None:
            return held
        found_absent = self._absent.get(key)
        if found_absent is not None and time.monotonic() - found_absent < ABSENT_SECONDS:
            return None
        record = await self._read(key)
        if record is None and key.partition(".")[0] == _REMEMBERED_ABSENT:
            self._absent[key] = time.monotonic()
            self._absent.move_to_end(key)
            while len(self._absent) > MAX_ABSENT:
                self._absent.popitem(last=False)
        return record

    async def _read(self, key: str) -> Record | None:
        """The record under ``key`` read from the bucket itself: one round trip, for a record not seen yet."""
        try:
            async with asyncio.timeout(self._get_timeout):
                kv = self._kv or await self._bucket_now()
                entry = await kv.get(key)
        except (KeyNotFoundError, BucketNotFoundError):
            return None
        except (NatsError, TimeoutError) as error:
            raise DirectoryUnavailable(f"the directory bucket cannot be read ({type(error).__name__})") from error
        record = _parsed(key, entry.value or b"")
        if record is None or not self._keep(key, record):
            return self._records.get(key)
        return record


def _parsed(key: str, value: bytes) -> Record | None:
    """The record a bucket value holds, by its key's kind; ``None`` (and a warning) for a value that is no
    record, or the record of another key."""
    kind = key.partition(".")[0]
    record: Record
    try:
        if kind == "principal":
            record = _PRINCIPAL.validate_json(value)
        elif kind == "configuration":
            record = Configuration.model_validate_json(value)
        elif kind == "api_key":
            record = ApiKeyRecord.model_validate_json(value)
        elif kind == SUPPORT_ADDRESS_KIND:
            record = SupportAddressRecord.model_validate_json(value)
        else:
            log.warning("the directory holds a key of no known kind: %s", key)
            return None
    except ValidationError as error:
        log.warning("the directory's %s is not a record it can read (%d errors)", key, error.error_count())
        return None
    if record_key(record) != key:
        log.warning("the directory's %s holds the record of %s; ignored", key, record_key(record))
        return None
    return record


def _log_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("the directory's watch stopped", exc_info=error)
