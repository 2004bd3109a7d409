"""The messages query and notify set aside (their ``dead_letters`` tables in PostgreSQL), and their replay.

The two tables differ (query keeps the delivery count, notify the consumer); both are read into one shape, newest
first. A table not there yet (the service never ran against this database or schema) is said, not an error.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import asyncpg
from hostdesk_contracts import read_model_versions as versions
from hostdesk_contracts.read_model_versions import State
from hostdesk_contracts.runtime.dead_letters import headers_of
from hostdesk_contracts.subjects import EVENT_TYPE, TICKET_ID

SCHEMA_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")  # as the services' ``db_schema``
CONNECT_SECONDS = 5.0


class Service(StrEnum):
    QUERY = "query"
    NOTIFY = "notify"


_SELECT = {
    Service.QUERY: "SELECT id, received_at, subject, stream_seq, deliveries, NULL::text AS consumer, headers, error,"
    " octet_length(data) AS size FROM {table} ORDER BY received_at DESC, id DESC LIMIT $1",
    Service.NOTIFY: "SELECT id, received_at, subject, stream_seq, NULL::integer AS deliveries, consumer, headers,"
    " error, octet_length(payload) AS size FROM {table} ORDER BY received_at DESC, id DESC LIMIT $1",
}


@dataclass(frozen=True)
class DeadLetter:
    service: Service
    id: int
    received_at: datetime
    subject: str
    stream_seq: int | None
    deliveries: int | None
    consumer: str | None
    event_type: str | None
    ticket_id: str | None
    error: str
    size: int


@dataclass(frozen=True)
class Found:
    letters: list[DeadLetter]
    missing: list[str]  # the tables looked for and not found


async def read(database_url: str, schemas: dict[Service, str], *, limit: int) -> Found:
    """The newest ``limit`` dead letters of each service in ``schemas`` (service -> its schema), newest first."""
    for schema in schemas.values():
        if not SCHEMA_PATTERN.fullmatch(schema):
            raise ValueError(f"{schema!r} is no schema name")
    connection = await asyncpg.connect(database_url, timeout=CONNECT_SECONDS)
    try:
        letters: list[DeadLetter] = []
        missing: list[str] = []
        async with connection.transaction(readonly=True):
            for service, named in schemas.items():
                schema = await _serving(connection, named) if service is Service.QUERY else named
                table = f'"{schema}".dead_letters'
                if await connection.fetchval("SELECT to_regclass($1)", table) is None:
                    missing.append(f"{schema}.dead_letters ({service.value})")
                    continue
                rows = await connection.fetch(_SELECT[service].format(table=table), limit)
                letters += [_letter(service, row) for row in rows]
    finally:
        await connection.close()
    letters.sort(key=lambda letter: letter.received_at, reverse=True)
    return Found(letters=letters[:limit], missing=missing)


async def _serving(connection: asyncpg.Connection, base: str) -> str:
    """The schema of the version of query's read model serving (``hostdesk_contracts.read_model_versions``):
    the base schema itself until a rebuild."""
    if await connection.fetchval("SELECT to_regclass($1)", f'"{versions.control_schema(base)}".versions') is None:
        return base
    serving = await connection.fetchval(
        f"SELECT schema_name FROM ({versions.select_versions(base)}) AS listed WHERE state = $1", State.SERVING.value
    )
    return base if serving is None else str(serving)


def _letter(service: Service, row: asyncpg.Record) -> DeadLetter:
    headers = headers_of(row["headers"])
    return DeadLetter(
        service=service,
        id=row["id"],
        received_at=row["received_at"],
        subject=row["subject"],
        stream_seq=row["stream_seq"],
        deliveries=row["deliveries"],
        consumer=row["consumer"],
        event_type=headers.get(EVENT_TYPE),
        ticket_id=headers.get(TICKET_ID),
        error=row["error"],
        size=row["size"],
    )


@dataclass(frozen=True)
class Replay:
    replayed: bool  # applied (or found applied already): no longer kept
    error: str | None  # why it is kept still; None with ``replayed`` false: no answer in time


async def replay(
    database_url: str, service: Service, schema: str, letter_id: int, *, within: float, every: float = 0.25
) -> Replay:
    """Ask ``service`` (its tables in ``schema``) to replay its dead letter ``letter_id`` (it looks for such
    requests every few seconds) and wait for the outcome. ``LookupError`` when there is no such letter."""
    if not SCHEMA_PATTERN.fullmatch(schema):
        raise ValueError(f"{schema!r} is no schema name")
    connection = await asyncpg.connect(database_url, timeout=CONNECT_SECONDS)
    try:
        kept_in = await _serving(connection, schema) if service is Service.QUERY else schema
        table = f'"{kept_in}".dead_letters'
        replays = await connection.fetchval(
            f"UPDATE {table} SET replay_requested_at = now() WHERE id = $1 RETURNING replays", letter_id
        )
        if replays is None:
            raise LookupError(f"{service.value} keeps no dead letter {letter_id}")
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(every)
            row = await connection.fetchrow(f"SELECT replays, error FROM {table} WHERE id = $1", letter_id)
            if row is None:
                return Replay(replayed=True, error=None)
            if row["replays"] > replays:
                return Replay(replayed=False, error=row["error"])
        return Replay(replayed=False, error=None)
    finally:
        await connection.close()
