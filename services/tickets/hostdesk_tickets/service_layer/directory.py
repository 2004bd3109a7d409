"""Putting a directory record: the records its decision reads, loaded from the store as it is now, and what
became of the command. The tickets application runs it (``TicketsApplication.handle_directory``), within the
same conflict retry as a ticket command: a record changed meanwhile is decided again on its fresh state."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from hostdesk_contracts.directory import (
    AccountRecord,
    AnyDirectoryCommand,
    ApiKeyRecord,
    Configuration,
    aggregate_id_for,
    record_key,
    support_address_key,
)
from hostdesk_contracts.outcomes import CommandOutcome

from hostdesk_tickets.domain.directory_records import (
    Account,
    ApiKey,
    DirectoryEntry,
    OrganisationConfiguration,
    Staff,
    SupportAddress,
)
from hostdesk_tickets.domain.errors import DirectoryRefusal

E = TypeVar("E", bound=DirectoryEntry)


class StoredDirectory:
    """The ``Directory`` a decision reads: each record loaded once from the repository, when first asked for.

    Ancestors, organisations, configurations and the staff a configuration names are read as the decision
    needs them; only the record put is saved, so a change of one of them meanwhile is not a conflict (a
    parent disabled at the same moment as a child is put: either order is one the control panel could have
    sent)."""

    def __init__(self, repository: Repository[UUID]) -> None:
        self._repository = repository
        self._loaded: dict[str, DirectoryEntry | None] = {}

    def principal(self, principal_id: str) -> Account | Staff | None:
        entry = self._load(record_key(AccountRecord, principal_id))
        return entry if isinstance(entry, Account | Staff) else None

    def configuration(self, organisation_id: str) -> OrganisationConfiguration | None:
        return self._typed(self._load(record_key(Configuration, organisation_id)), OrganisationConfiguration)

    def api_key(self, key_id: str) -> ApiKey | None:
        return self._typed(self._load(record_key(ApiKeyRecord, key_id)), ApiKey)

    def support_address(self, address: str) -> SupportAddress | None:
        return self._typed(self._load(support_address_key(address)), SupportAddress)

    def _load(self, key: str) -> DirectoryEntry | None:
        if key not in self._loaded:
            entry: object
            try:
                entry = self._repository.get(aggregate_id_for(key))
            except AggregateNotFoundError:
                entry = None
            self._loaded[key] = entry if isinstance(entry, DirectoryEntry) else None
        return self._loaded[key]

    @staticmethod
    def _typed(entry: DirectoryEntry | None, kind: type[E]) -> E | None:
        return entry if isinstance(entry, kind) else None


def committed(command: AnyDirectoryCommand, entry: DirectoryEntry) -> CommandOutcome:
    return CommandOutcome.of(command, result="committed", version=entry.version_given_by(command))


def refused(command: AnyDirectoryCommand, refusal: DirectoryRefusal) -> CommandOutcome:
    return CommandOutcome.of(
        command,
        result="refused",
        refusal=refusal.refusal,
        detail=refusal.detail,
        current_version=refusal.current_version,
        field=refusal.field,
    )
