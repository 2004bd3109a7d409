"""The directory's aggregates: one per record, in the same log as the tickets (the rules are in ``directory``).

Each aggregate keeps its record as last put, in the shape of its public contract less the ``version``, which is
the aggregate's own: the record's version is the number of changes it has had. Its id is
``aggregate_id_for(record_key(record))``, so an account and a member of staff of one id are one aggregate id
(they share the ``principal.<id>`` key), and the store itself refuses a second record under it.

A recorded body only records: it never raises, reads the clock or makes an id. Every event names the command
that caused it, and applying it (live and on replay) remembers that command as applied, so a command delivered
again records nothing; only the last ``APPLIED_KEPT`` are remembered, which outlasts any redelivery.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Self
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from hostdesk_contracts.directory import (
    AccountKind,
    AccountRecord,
    ApiKeyRecord,
    Configuration,
    Department,
    DirectoryCommand,
    Record,
    StaffRecord,
    StaffRole,
    SupportAddressRecord,
    aggregate_id_for,
)

from hostdesk_tickets.domain.ticket import ActorState, actor_state

RecordState = dict[str, Any]
APPLIED_KEPT = 100


def record_state(record: Record) -> RecordState:
    """A record as its aggregate keeps it: the contract's JSON, without the version (the aggregate's)."""
    state: RecordState = record.model_dump(mode="json", exclude={"version"})
    return state


class DirectoryEntry(Aggregate):
    """What every record's aggregate has: its tenant, its record as last put, the commands it applied."""

    record_type: ClassVar[type[Record]]

    if TYPE_CHECKING:
        tenant: str
        record: RecordState
        applied: dict[str, int]
        _replaced: Callable[..., None]  # each kind records its own ``Replaced`` event

    class Event(Aggregate.Event):
        """Every event of a record: applying it marks its command applied at the version it gives."""

        if TYPE_CHECKING:
            command_id: str

        def apply(self, aggregate: Any) -> None:
            applied: dict[str, int] = aggregate.applied
            applied[self.command_id] = self.originator_version
            while len(applied) > APPLIED_KEPT:
                del applied[next(iter(applied))]
            super().apply(aggregate)

    @staticmethod
    def create_id(key: str) -> UUID:
        return aggregate_id_for(key)

    @property
    def record_id(self) -> str:
        """The record's own id (for a configuration, its organisation's)."""
        value: str = self.record.get("id") or self.record["organisation_id"]
        return value

    @property
    def current(self) -> Record:
        """The record, with its version."""
        return self.record_type.model_validate({**self.record, "version": self.version})

    def same_as(self, record: Record) -> bool:
        return self.record == record_state(record)

    def version_given_by(self, command: DirectoryCommand) -> int:
        """The version ``command`` gave the record: the current one unless it was applied before."""
        return self.applied.get(command.command_id, self.version)

    @classmethod
    def register(cls, command: DirectoryCommand, record: Record, *, tenant: str) -> Self:
        """The record's aggregate, created by ``command`` (each kind's ``Registered`` event)."""
        fields: dict[str, Any] = {
            "key": command.key,
            "tenant": tenant,
            "record": record_state(record),
            "actor": actor_state(command.actor),
            "command_id": command.command_id,
        }
        return cls(**fields)

    def replace(self, command: DirectoryCommand, record: Record) -> None:
        """Record ``record`` as put by ``command`` (each kind's ``Replaced`` event)."""
        self._replaced(
            tenant=self.tenant,
            record=record_state(record),
            actor=actor_state(command.actor),
            command_id=command.command_id,
        )


class Account(DirectoryEntry):
    """A provider, reseller, customer or subaccount."""

    class_version = 1
    record_type = AccountRecord

    class Registered(Aggregate.Created):
        key: str
        tenant: str
        record: RecordState
        actor: ActorState
        command_id: str
        class_version = 1

    @event(Registered)
    def __init__(self, *, key: str, tenant: str, record: RecordState, actor: ActorState, command_id: str) -> None:
        self.tenant = tenant
        self.record = record
        self.applied = {}

    class Replaced(Aggregate.Event):
        tenant: str
        record: RecordState
        from_parent_id: str | None  # set when the account moved to another parent
        actor: ActorState
        command_id: str
        class_version = 1

    @event(Replaced)
    def _replaced(
        self, *, tenant: str, record: RecordState, from_parent_id: str | None, actor: ActorState, command_id: str
    ) -> None:
        self.record = record

    def replace(self, command: DirectoryCommand, record: Record) -> None:
        assert isinstance(record, AccountRecord)
        moved_from = self.parent_id if record.parent_id != self.parent_id else None
        self._replaced(
            tenant=self.tenant,
            record=record_state(record),
            from_parent_id=moved_from,
            actor=actor_state(command.actor),
            command_id=command.command_id,
        )

    @property
    def kind(self) -> AccountKind:
        return AccountKind(self.record["kind"])

    @property
    def parent_id(self) -> str | None:
        value: str | None = self.record.get("parent_id")
        return value

    @property
    def disabled(self) -> bool:
        return bool(self.record.get("disabled"))


class Staff(DirectoryEntry):
    """A support account of a provider's or a reseller's organisation."""

    class_version = 1
    record_type = StaffRecord

    class Registered(Aggregate.Created):
        key: str
        tenant: str
        record: RecordState
        actor: ActorState
        command_id: str
        class_version = 1

    @event(Registered)
    def __init__(self, *, key: str, tenant: str, record: RecordState, actor: ActorState, command_id: str) -> None:
        self.tenant = tenant
        self.record = record
        self.applied = {}

    class Replaced(Aggregate.Event):
        tenant: str
        record: RecordState
        actor: ActorState
        command_id: str
        class_version = 1

    @event(Replaced)
    def _replaced(self, *, tenant: str, record: RecordState, actor: ActorState, command_id: str) -> None:
        self.record = record

    @property
    def organisation_id(self) -> str:
        value: str = self.record["organisation_id"]
        return value

    @property
    def role(self) -> StaffRole:
        return StaffRole(self.record["role"])

    @property
    def departments(self) -> tuple[str, ...]:
        return tuple(self.record.get("departments", ()))

    @property
    def disabled(self) -> bool:
        return bool(self.record.get("disabled"))


class OrganisationConfiguration(DirectoryEntry):
    """How one organisation runs its support: departments, categories, labels, canned responses, settings."""

    class_version = 1
    record_type = Configuration

    class Registered(Aggregate.Created):
        key: str
        tenant: str
        record: RecordState
        actor: ActorState
        command_id: str
        class_version = 1

    @event(Registered)
    def __init__(self, *, key: str, tenant: str, record: RecordState, actor: ActorState, command_id: str) -> None:
        self.tenant = tenant
        self.record = record
        self.applied = {}

    class Replaced(Aggregate.Event):
        tenant: str
        record: RecordState
        actor: ActorState
        command_id: str
        class_version = 1

    @event(Replaced)
    def _replaced(self, *, tenant: str, record: RecordState, actor: ActorState, command_id: str) -> None:
        self.record = record

    @property
    def organisation_id(self) -> str:
        value: str = self.record["organisation_id"]
        return value

    @property
    def departments(self) -> tuple[Department, ...]:
        return tuple(Department.model_validate(department) for department in self.record.get("departments", ()))


class ApiKey(DirectoryEntry):
    """A key a system calls with, for one account; only the SHA-256 of the key is kept."""

    class_version = 1
    record_type = ApiKeyRecord

    class Registered(Aggregate.Created):
        key: str
        tenant: str
        record: RecordState
        actor: ActorState
        command_id: str
        class_version = 1

    @event(Registered)
    def __init__(self, *, key: str, tenant: str, record: RecordState, actor: ActorState, command_id: str) -> None:
        self.tenant = tenant
        self.record = record
        self.applied = {}

    class Replaced(Aggregate.Event):
        tenant: str
        record: RecordState
        actor: ActorState
        command_id: str
        class_version = 1

    @event(Replaced)
    def _replaced(self, *, tenant: str, record: RecordState, actor: ActorState, command_id: str) -> None:
        self.record = record

    @property
    def account_id(self) -> str:
        value: str = self.record["account_id"]
        return value

    @property
    def secret_sha256(self) -> str:
        value: str = self.record["secret_sha256"]
        return value

    @property
    def revoked(self) -> bool:
        return bool(self.record.get("revoked"))


class SupportAddress(DirectoryEntry):
    """An address an organisation receives support mail at; it stays that organisation's for ever."""

    class_version = 1
    record_type = SupportAddressRecord

    class Registered(Aggregate.Created):
        key: str
        tenant: str
        record: RecordState
        actor: ActorState
        command_id: str
        class_version = 1

    @event(Registered)
    def __init__(self, *, key: str, tenant: str, record: RecordState, actor: ActorState, command_id: str) -> None:
        self.tenant = tenant
        self.record = record
        self.applied = {}

    class Replaced(Aggregate.Event):
        tenant: str
        record: RecordState
        actor: ActorState
        command_id: str
        class_version = 1

    @event(Replaced)
    def _replaced(self, *, tenant: str, record: RecordState, actor: ActorState, command_id: str) -> None:
        self.record = record

    @property
    def record_id(self) -> str:
        value: str = self.record["address"]
        return value

    @property
    def organisation_id(self) -> str:
        value: str = self.record["organisation_id"]
        return value


DIRECTORY_AGGREGATES: tuple[type[DirectoryEntry], ...] = (
    Account,
    Staff,
    OrganisationConfiguration,
    ApiKey,
    SupportAddress,
)
