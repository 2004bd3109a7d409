"""A generated provider's read model copied many times over in SQL, to look at the read side at a size the
generator takes hours to reach on a small machine.

``hostdesk generate`` goes through the commands stream, the tickets service and the event log, a few hundred
commands a second on two cores: a million tickets is most of a day. The read side's speed depends on what the
read model holds, not on how it got there, so the bench may instead generate a provider of some thousands of
tickets and copy them here, ``copies`` times: each copy a ticket of its own (a new id derived from the original's
and the copy's number, its number moved past every earlier one, its dates moved back a day per copy, so that the
copies are older than the tickets the generator made), with its timeline and its words copied as they are (no
stemming again). The read model's triggers keep its tallies as they do for any insert; the timeline's words
trigger is told to step aside (``hostdesk.catching_up``, as in query's catch-up) since the words are copied whole.

What it does not copy: the event log. The copies exist in the read model only, so a rebuild, the live stream's
replay and read-your-writes know nothing of them; they are for reading, and the bench reads them.
"""

from __future__ import annotations

import asyncpg

_NUMBER_STRIDE = 10_000_000  # a copy's numbers start past every number the generator drew
_MAP = "md5({column}::text || ':' || k)::uuid"
_SHIFT = "{column} - k * interval '1 day'"
_ORIGINALS = "copied_tickets"


async def _columns(connection: asyncpg.Connection, schema: str, table: str) -> list[str]:
    rows = await connection.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2"
        " AND is_generated = 'NEVER' ORDER BY ordinal_position",
        schema,
        table,
    )
    return [row["column_name"] for row in rows]


_SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = $1 AND t.relname = $2
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
"""


def _copied(columns: list[str], changed: dict[str, str]) -> tuple[str, str]:
    """The column list and the SELECT list that copies them, ``changed`` ones by their expression."""
    chosen = [changed.get(column, column).format(column=column) for column in columns]
    return ", ".join(columns), ", ".join(chosen)


async def copy_read_model(database_url: str, schema: str, *, copies: int) -> int:
    """Copy every ticket of ``schema`` ``copies`` times (``copies`` >= 1: 1 copies nothing); the tickets there
    after."""
    connection = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        if copies <= 1:
            return int(await connection.fetchval("SELECT count(*) FROM tickets"))
        tickets = dict.fromkeys(("ticket_id", "merged_into_ticket_id"), _MAP) | {
            "number": f"number + k * {_NUMBER_STRIDE}",
            **dict.fromkeys(("created_at", "updated_at", "last_post_at"), _SHIFT),
        }
        timeline = dict.fromkeys(("ticket_id", "related_ticket_id"), _MAP) | {"occurred_at": _SHIFT}
        words = {"ticket_id": _MAP}
        series = f"generate_series(1, {copies - 1}) AS k"
        async with connection.transaction():
            await connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
            # The tickets there now: what each table copies (the subjects' words the tickets' trigger adds for
            # the copies are rows of the words' table as well, not to be copied again).
            await connection.execute(
                f"CREATE TEMPORARY TABLE {_ORIGINALS} ON COMMIT DROP AS SELECT ticket_id FROM tickets"
            )
            for table, changed in (("tickets", tickets), ("timeline", timeline), ("ticket_words", words)):
                # The tickets' triggers count them and find their subjects' words; the timeline's would stem
                # every post again, and the words copied whole then take the place of the subjects'.
                setting = "off" if table == "tickets" else "on"
                await connection.execute(f"SET LOCAL hostdesk.catching_up = {setting}")
                # Its secondary indexes are built again once it is filled: faster than row by row (GIN above all).
                indexes = await connection.fetch(_SECONDARY_INDEXES, schema, table)
                for index in indexes:
                    await connection.execute(f"DROP INDEX {index['name']}")
                into, chosen = _copied(await _columns(connection, schema, table), changed)
                upsert = (
                    " ON CONFLICT (ticket_id) DO UPDATE SET words = EXCLUDED.words" if table == "ticket_words" else ""
                )
                await connection.execute(
                    f"INSERT INTO {table} ({into}) SELECT {chosen} FROM ONLY {table} CROSS JOIN {series}"
                    f" WHERE {table}.ticket_id IN (SELECT ticket_id FROM {_ORIGINALS}){upsert}",
                    timeout=None,
                )
                for index in indexes:
                    await connection.execute(index["definition"], timeout=None)
        await connection.execute("VACUUM ANALYZE", timeout=None)
        return int(await connection.fetchval("SELECT count(*) FROM tickets"))
    finally:
        await connection.close()
