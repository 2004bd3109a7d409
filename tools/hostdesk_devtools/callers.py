"""Who the tools speak as: accounts and staff recorded in the directory bucket as the tickets service records
them (the JSON of each record under its key), so that the services know the callers the tools make tokens for."""

from __future__ import annotations

import nats
from hostdesk_contracts.directory import AccountKind, AccountRecord, Record, StaffRecord, StaffRole, record_key
from hostdesk_contracts.runtime.nats import directory_bucket
from hostdesk_contracts.subjects import Subjects


def provider(tenant: str, *, name: str | None = None) -> AccountRecord:
    """The provider at the top of ``tenant``'s tree: its id is the tenant."""
    return AccountRecord(id=tenant, kind=AccountKind.PROVIDER, display_name=name or f"Provider {tenant}")


def customer(tenant: str, account_id: str, *, name: str, email: str | None = None) -> AccountRecord:
    return AccountRecord(id=account_id, kind=AccountKind.CUSTOMER, parent_id=tenant, display_name=name, email=email)


def agent(tenant: str, account_id: str, *, name: str, email: str | None = None) -> StaffRecord:
    """An agent of the provider's own organisation."""
    return StaffRecord(id=account_id, organisation_id=tenant, role=StaffRole.AGENT, display_name=name, email=email)


async def record(nats_url: str, subjects: Subjects, records: list[Record]) -> None:
    """Put ``records`` in the installation's directory bucket (declared when it is not yet), over ``nats_url``,
    which must be allowed to write it (the admin user)."""
    client = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=2)
    try:
        bucket = await directory_bucket(client.jetstream(), subjects)
        for each in records:
            await bucket.put(record_key(each), each.model_dump_json().encode())
    finally:
        await client.close()
