"""The directory's records as the bucket holds them, and the tree they make.

The bucket keeps one JSON record under each ``record_key``; accounts and staff share the ``principal.`` keys (one
id space), told apart by what they hold (an account has a ``kind``). A record carries its parent only, so the
tree, and the tenant each record belongs to, is worked out here from all the accounts at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from hostdesk_contracts.directory import (
    AccountKind,
    AccountRecord,
    ApiKeyRecord,
    Configuration,
    Record,
    StaffRecord,
    SupportAddressRecord,
)
from pydantic import ValidationError

MAX_DEPTH = 8  # the tree is at most four deep; a deeper walk is a cycle left by a bad record


class RecordKind(StrEnum):
    """The first token of a bucket key."""

    PRINCIPAL = "principal"
    CONFIGURATION = "configuration"
    API_KEY = "api_key"
    SUPPORT_ADDRESS = "support_address"


def parse_record(key: str, value: bytes) -> Record | None:
    """The record stored under ``key``, or None when the value is no record of that key (never a crash)."""
    try:
        payload = json.loads(value)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    kind = key.partition(".")[0]
    try:
        if kind == RecordKind.PRINCIPAL:
            if "kind" in payload:
                return AccountRecord.model_validate(payload)
            return StaffRecord.model_validate(payload)
        if kind == RecordKind.CONFIGURATION:
            return Configuration.model_validate(payload)
        if kind == RecordKind.API_KEY:
            return ApiKeyRecord.model_validate(payload)
        if kind == RecordKind.SUPPORT_ADDRESS:
            return SupportAddressRecord.model_validate(payload)
    except ValidationError:
        return None
    return None


@dataclass(frozen=True)
class Placed:
    """An account at its place in the tree: how deep it is (the provider 0)."""

    depth: int
    account: AccountRecord


class Tree:
    """Every account of the bucket, by id, with their children: tenants, subtrees and tree order."""

    def __init__(self, accounts: Iterable[AccountRecord]) -> None:
        self.accounts = {account.id: account for account in accounts}
        self._children: dict[str | None, list[AccountRecord]] = {}
        for account in sorted(self.accounts.values(), key=lambda each: each.id):
            parent = account.parent_id if account.parent_id in self.accounts else None
            self._children.setdefault(parent, []).append(account)

    @classmethod
    def of(cls, records: Iterable[Record]) -> Tree:
        return cls(record for record in records if isinstance(record, AccountRecord))

    def ancestors(self, account_id: str) -> list[AccountRecord]:
        """Parent first, up to the provider; a cycle or a missing parent ends the walk."""
        found: list[AccountRecord] = []
        current = self.accounts.get(account_id)
        while current is not None and current.parent_id is not None and len(found) < MAX_DEPTH:
            current = self.accounts.get(current.parent_id)
            if current is None or current.id == account_id:
                break
            found.append(current)
        return found

    def tenant_of(self, account_id: str) -> str | None:
        """The id of the provider at the top of the account's tree (None: no provider above it)."""
        account = self.accounts.get(account_id)
        if account is None:
            return None
        top = ([account, *self.ancestors(account_id)])[-1]
        return top.id if top.kind is AccountKind.PROVIDER else None

    def children(self, account_id: str) -> list[AccountRecord]:
        return list(self._children.get(account_id, []))

    def ordered(self, *, under: str | None = None, tenant: str | None = None) -> list[Placed]:
        """The accounts in tree order (each one before its children, siblings by id): the descendants of
        ``under`` when given, else every tree (only ``tenant``'s, when given)."""
        if under is not None:
            return list(self._walk(self.children(under), depth=len(self.ancestors(under)) + 1))
        roots = self._children.get(None, [])
        if tenant is not None:
            roots = [root for root in roots if root.id == tenant]
        return list(self._walk(roots, depth=0))

    def _walk(self, accounts: list[AccountRecord], *, depth: int) -> Iterator[Placed]:
        for account in accounts:
            yield Placed(depth=depth, account=account)
            if depth < MAX_DEPTH:
                yield from self._walk(self.children(account.id), depth=depth + 1)


def in_tenant(record: Record, tree: Tree, tenant: str) -> bool:
    """Whether ``record`` belongs to ``tenant``: an account by its tree, anything else by the account it is of."""
    if isinstance(record, AccountRecord):
        return tree.tenant_of(record.id) == tenant
    if isinstance(record, StaffRecord):
        return tree.tenant_of(record.organisation_id) == tenant
    if isinstance(record, Configuration | SupportAddressRecord):
        return tree.tenant_of(record.organisation_id) == tenant
    return tree.tenant_of(record.account_id) == tenant
