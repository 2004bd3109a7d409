"""The versions of the read model in PostgreSQL, from the query side (``hostdesk_contracts.read_model_versions``):
the control tables made at start-up, read, and this replica's record of the version it serves."""

from __future__ import annotations

import asyncpg
from hostdesk_contracts import read_model_versions as versions
from hostdesk_contracts.read_model_versions import State, Version


async def ensure_versions(pool: asyncpg.Pool, base: str, consumer: str) -> None:
    """The control tables, and version 1 serving when there is none yet."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", versions.lock_key(base))
        await connection.execute(versions.ddl(base))
        await connection.execute(versions.insert_version(base), 1, base, consumer, State.SERVING.value)


async def read_versions(pool: asyncpg.Pool, base: str) -> list[Version]:
    rows = await pool.fetch(versions.select_versions(base))
    return [Version(row["version"], row["schema_name"], row["consumer"], State(row["state"])) for row in rows]


async def record_replica(pool: asyncpg.Pool, base: str, *, instance: str, serving: int) -> None:
    await pool.execute(versions.record_replica(base), instance, serving)


async def forget_replica(pool: asyncpg.Pool, base: str, *, instance: str) -> None:
    await pool.execute(versions.forget_replica(base), instance)
