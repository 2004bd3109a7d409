"""``python -m hostdesk_query.entrypoints.explain``: how PostgreSQL runs the reads staff and customers make most,
on this installation's own data.

Each read goes through the read model's own code (the list, its counts, the staff home, quick search, a ticket's
timeline), as the caller named on the command line; every statement it sends is run first under
``EXPLAIN (ANALYZE, BUFFERS)``, then for real. Each read is made twice and the second one's plans are printed
(the first warms the cache, as a console's reads do each other's), then the size on disk of every table and
index of the serving version of the read model. It reads ``DATABASE_URL`` and ``QUERY_DB_SCHEMA`` as the
service does (or ``--database-url`` and ``--schema``); ``make bench-read`` runs it over the provider it generated.

The callers' reach is given as it is (``--tenant``, ``--staff`` with ``--handles`` and ``--departments``,
``--customer``): this is a look at plans, not at access, and it needs no NATS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
from hostdesk_contracts.access import Reach
from hostdesk_contracts.base import Status
from hostdesk_contracts.read_model_versions import State
from hostdesk_contracts.runtime.settings import LOCAL_DATABASE_URL

from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.adapters.versions import read_versions
from hostdesk_query.domain.listing import ListOrder, TicketFilter
from hostdesk_query.domain.paging import TimelineWindow
from hostdesk_query.domain.search import search_of
from hostdesk_query.service_layer.home import staff_home

_EXPLAIN = "EXPLAIN (ANALYZE, BUFFERS) "
_SIZES = """
SELECT c.relname, c.relkind::text AS relkind, pg_relation_size(c.oid) AS bytes, pg_total_relation_size(c.oid) AS total
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'i')
ORDER BY pg_total_relation_size(c.oid) DESC, c.relname
"""
# The plans of the statements run on the connections of the pool below, in order (one read at a time).
_plans: list[tuple[str, str]] = []


class ExplainingConnection(asyncpg.Connection):
    """A connection that explains each read (a statement that returns rows) before running it."""

    async def _explain(self, query: str, args: tuple[Any, ...]) -> None:
        if query.lstrip().startswith(("SELECT", "WITH", "(")):
            rows = await super().fetch(_EXPLAIN + query, *args)
            _plans.append((query, "\n".join(row[0] for row in rows)))

    async def fetch(self, query: str, *args: Any, **options: Any) -> Any:
        await self._explain(query, args)
        return await super().fetch(query, *args, **options)

    async def fetchrow(self, query: str, *args: Any, **options: Any) -> Any:
        await self._explain(query, args)
        return await super().fetchrow(query, *args, **options)

    async def fetchval(self, query: str, *args: Any, **options: Any) -> Any:
        await self._explain(query, args)
        return await super().fetchval(query, *args, **options)


def _reads(arguments: argparse.Namespace, read_model: PostgresReadModel) -> dict[str, Callable[[], Awaitable[object]]]:
    departments = frozenset(arguments.departments.split(",")) if arguments.departments else None
    staff = Reach(arguments.tenant, arguments.staff, arguments.handles or arguments.tenant, departments)
    customer = Reach(arguments.tenant, arguments.customer, arguments.customer)
    filtered = TicketFilter(statuses=frozenset({Status.CUSTOMER_REPLY}), departments=frozenset({arguments.department}))
    everyone = TicketFilter()
    reads: dict[str, Callable[[], Awaitable[object]]] = {
        "list, first page (staff)": lambda: read_model.list_tickets(staff, filters=everyone, limit=26),
        "list, filtered and sorted (staff)": lambda: read_model.list_tickets(
            staff, filters=filtered, order=ListOrder.PRIORITY, limit=26
        ),
        "my tickets (customer)": lambda: read_model.list_tickets(customer, filters=everyone, limit=26),
        "counts, not archived (staff)": lambda: read_model.count_tickets(staff, filters=TicketFilter(archived=False)),
        "staff home": lambda: staff_home(read_model, staff, limit=10),
    }

    def search(text: str) -> Callable[[], Awaitable[object]]:
        return lambda: read_model.search_tickets(staff, search_of(text), filters=everyone, limit=20)

    for label, text in (
        ("a common word", arguments.word),
        ("a rarer word", arguments.rare_word),
        ("an e-mail address", arguments.email),
        ("a number", arguments.number),
        ("French", arguments.french_word),
    ):
        if text:
            reads[f"search, {label}"] = search(text)
    if arguments.ticket:
        ticket_id = UUID(arguments.ticket)
        reads["a ticket's timeline (200 entries)"] = lambda: read_model.ticket_view(
            staff, ticket_id, newest_first=True, window=TimelineWindow(limit=200)
        )
    return reads


async def explain(arguments: argparse.Namespace) -> None:
    control = await asyncpg.create_pool(arguments.database_url, min_size=1, max_size=1)
    assert control is not None
    try:
        schema = await _serving_schema(control, arguments.schema)
        if await control.fetchval("SELECT to_regclass($1) IS NULL", f'"{schema}".tickets'):
            raise SystemExit(f"no read model in schema {schema} of {arguments.database_url}")
        sizes = await control.fetch(_SIZES, schema)
    finally:
        await control.close()
    pool = await asyncpg.create_pool(
        arguments.database_url,
        min_size=1,
        max_size=2,
        connection_class=ExplainingConnection,
        server_settings={"search_path": schema, "plan_cache_mode": "force_custom_plan"},
    )
    assert pool is not None
    try:
        read_model = PostgresReadModel(pool, notify_channel=f"{schema}_explain")
        for read, run in _reads(arguments, read_model).items():
            await run()
            _plans.clear()
            await run()
            print(f"## {read}\n")
            for query, plan in _plans:
                print("```sql\n" + " ".join(query.split()) + "\n```\n```\n" + plan + "\n```\n")
    finally:
        await pool.close()
    print(f"## The read model's size on disk (schema {schema})\n")
    print("| relation | kind | own size | with its indexes and TOAST |\n|---|---|---:|---:|")
    for row in sizes:
        kind = "table" if row["relkind"] == "r" else "index"
        print(f"| {row['relname']} | {kind} | {_megabytes(row['bytes'])} | {_megabytes(row['total'])} |")


async def _serving_schema(pool: asyncpg.Pool, base: str) -> str:
    """The schema of the version readers are served; ``base`` itself where versions were never recorded."""
    try:
        listed = await read_versions(pool, base)
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
        return base
    serving = [version for version in listed if version.state is State.SERVING]
    return serving[0].schema if serving else base


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:,.1f} MB"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hostdesk_query.entrypoints.explain", description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL))
    parser.add_argument("--schema", default=os.environ.get("QUERY_DB_SCHEMA", "query"), help="the read model's")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--staff", required=True, help="a staff member's account id")
    parser.add_argument("--handles", help="the organisation the staff member works for (the tenant's provider)")
    parser.add_argument("--departments", help="comma-separated: the staff member's departments (all, if absent)")
    parser.add_argument("--department", default="Technical Support", help="the filtered list's department")
    parser.add_argument("--customer", required=True, help="a customer's account id")
    parser.add_argument("--word", default="server")
    parser.add_argument("--rare-word", default="raid")
    parser.add_argument("--email")
    parser.add_argument("--number")
    parser.add_argument("--french-word", default="hébergement")
    parser.add_argument("--ticket", help="a ticket's id, for its timeline")
    asyncio.run(explain(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
