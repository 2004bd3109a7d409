"""The deadlines of answered tickets, a projection of the event log kept in the tickets schema.

``auto_close_deadlines`` holds a row per ticket waiting for its requester; ``auto_close_position`` the log
position applied last. Both are written in one transaction, so the table is always the log folded up to that
position, and a restart resumes after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from hostdesk_tickets.domain.deadlines import Deadline, DeadlineChange, Lifted, Renewed

TRACKING_NAME = "deadlines"


class DeadlineTable:
    """The deadlines and the position of the log they reflect, in the tickets schema."""

    def __init__(self, schema: str) -> None:
        self.deadlines = f'"{schema}".auto_close_deadlines'
        self.tracking = f'"{schema}".auto_close_position'

    async def create(self, connection: asyncpg.Connection) -> None:
        async with connection.transaction():
            # The lock the event store takes for its own schema work: replicas starting at once wait in turn.
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext('hostdesk-tickets-schema'))")
            await connection.execute(
                f"""CREATE TABLE IF NOT EXISTS {self.deadlines} (
                        ticket_id uuid PRIMARY KEY,
                        tenant text NOT NULL,
                        answered_version integer NOT NULL,
                        due_at timestamptz NOT NULL)"""
            )
            await connection.execute(
                f"CREATE INDEX IF NOT EXISTS auto_close_deadlines_due_at ON {self.deadlines} (due_at, ticket_id)"
            )
            await connection.execute(
                f"CREATE TABLE IF NOT EXISTS {self.tracking} (name text PRIMARY KEY, position bigint NOT NULL)"
            )
            await connection.execute(
                f"INSERT INTO {self.tracking} (name, position) VALUES ($1, 0) ON CONFLICT DO NOTHING", TRACKING_NAME
            )

    async def locked_position(self, connection: asyncpg.Connection) -> int:
        """The position applied last, locked until the transaction ends: two followers never apply one batch."""
        position: int = await connection.fetchval(
            f"SELECT position FROM {self.tracking} WHERE name = $1 FOR UPDATE", TRACKING_NAME
        )
        return position

    async def apply(self, connection: asyncpg.Connection, changes: Sequence[DeadlineChange], *, position: int) -> None:
        """Write ``changes`` and the position they bring the table to (in the caller's transaction)."""
        deadlines = [c for c in changes if isinstance(c, Deadline)]
        renewed = [c for c in changes if isinstance(c, Renewed)]
        lifted = [c for c in changes if isinstance(c, Lifted)]
        if deadlines:
            await connection.executemany(
                f"""INSERT INTO {self.deadlines} (ticket_id, tenant, answered_version, due_at)
                    VALUES ($1, $2, $3, $4)
                    ON CONFLICT (ticket_id) DO UPDATE SET tenant = excluded.tenant,
                        answered_version = excluded.answered_version, due_at = excluded.due_at""",
                [(d.ticket_id, d.tenant, d.answered_version, d.due_at) for d in deadlines],
            )
        if renewed:
            await connection.executemany(
                f"UPDATE {self.deadlines} SET answered_version = $2, due_at = $3 WHERE ticket_id = $1",
                [(r.ticket_id, r.answered_version, r.due_at) for r in renewed],
            )
        if lifted:
            await connection.executemany(
                f"DELETE FROM {self.deadlines} WHERE ticket_id = $1", [(gone.ticket_id,) for gone in lifted]
            )
        await connection.execute(f"UPDATE {self.tracking} SET position = $2 WHERE name = $1", TRACKING_NAME, position)

    async def due(
        self, connection: asyncpg.Connection, *, now: datetime, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[Deadline]:
        """The deadlines passed at ``now``, the earliest first, from after the (due_at, ticket_id) ``after``."""
        start = after or (datetime.min.replace(tzinfo=UTC), UUID(int=0))
        rows = await connection.fetch(
            f"""SELECT ticket_id, tenant, answered_version, due_at FROM {self.deadlines}
                WHERE due_at <= $1 AND (due_at, ticket_id) > ($2, $3)
                ORDER BY due_at, ticket_id LIMIT $4""",
            now,
            *start,
            limit,
        )
        return [Deadline(**dict(row)) for row in rows]

    async def remove(self, connection: asyncpg.Connection, deadline: Deadline) -> None:
        """Remove ``deadline``, unless the log has replaced it meanwhile."""
        await connection.execute(
            f"DELETE FROM {self.deadlines} WHERE ticket_id = $1 AND answered_version = $2 AND due_at = $3",
            deadline.ticket_id,
            deadline.answered_version,
            deadline.due_at,
        )
