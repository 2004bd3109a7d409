"""Quick search in PostgreSQL (``domain.search``), within the caller's reach and the list's filter.

Each of the caller's disjoint clauses (``ticket_sql.sided``: the tickets it requested, read as their requester,
and those it handles) is searched apart, so that the requesting side's query asks only for the words of subjects
and public posts (``words_schema.PUBLIC_WEIGHTS``) and its passages come from public posts only. Words are
looked for in both languages' stemming at once (a French ticket's words were stemmed in French, an English one's
in English; the query is stemmed both ways), accents folded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
from hostdesk_contracts.access import Reach
from hostdesk_contracts.base import Side

from hostdesk_query.adapters.rows import TICKET_COLUMNS, TICKET_FIELDS, ticket_of
from hostdesk_query.adapters.ticket_sql import narrowed, sided
from hostdesk_query.adapters.words_schema import CONFIGS, PUBLIC_WEIGHTS, config_of
from hostdesk_query.domain.language import Language
from hostdesk_query.domain.listing import TicketFilter
from hostdesk_query.domain.model import TicketRecord
from hostdesk_query.domain.search import (
    MARK_END,
    MARK_START,
    RANKED_AMONG,
    Search,
    SearchHit,
    SearchKind,
    SearchResult,
    Words,
    marked_html,
)
from hostdesk_query.domain.visibility import listed

if TYPE_CHECKING:
    Connection = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]

_T_COLUMNS = ", ".join(f"t.{name}" for name in TICKET_FIELDS)
_NEWEST = "updated_at DESC, ticket_id DESC"
_T_NEWEST = "t.updated_at DESC, t.ticket_id DESC"
# A passage is looked for among a ticket's newest posts only: a ticket of thousands stays as quick as another.
_PASSAGE_AMONG = 50
_HEADLINE = f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords=30, MinWords=15, ShortWord=3'


def _query(placeholder: str) -> str:
    """SQL: the words of ``to_tsquery`` text ``placeholder`` in both languages."""
    return " || ".join(f"to_tsquery('{CONFIGS[language]}', {placeholder})" for language in Language)


async def search_tickets(
    connection: Connection, reach: Reach, search: Search, *, filters: TicketFilter, limit: int
) -> SearchResult:
    if search.kind is SearchKind.NUMBER:
        assert search.number is not None
        found = await _by_number(connection, reach, search.number, filters)
        if found or search.words is None:
            return SearchResult(SearchKind.NUMBER, tuple(SearchHit(ticket) for ticket in found), more=False)
        return await _by_words(connection, reach, search.words, filters, limit)
    if search.kind is SearchKind.EMAIL:
        assert search.email is not None
        return await _by_address(connection, reach, search.email, filters, limit)
    assert search.words is not None
    return await _by_words(connection, reach, search.words, filters, limit)


async def _by_number(connection: Connection, reach: Reach, number: int, filters: TicketFilter) -> list[TicketRecord]:
    rows = await connection.fetch(
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE tenant = $1 AND number = $2", reach.tenant, number
    )
    return [ticket for ticket in map(ticket_of, rows) if listed(reach, filters, ticket)]


async def _by_address(
    connection: Connection, reach: Reach, address: str, filters: TicketFilter, limit: int
) -> SearchResult:
    # $1 and $2: the address as ``tickets_by_requester_email`` and ``tickets_by_folded_cc`` index it (case folded,
    # ``adapters.schema``). Each is a page of its own, read from its index: an OR of the two would walk the
    # caller's whole list instead.
    args: list[object] = [address.lower(), [address.lower()]]
    pages = []
    for _, where in sided(reach, args, handled_only=filters.handled_only):
        narrowed(where, filters)
        for matching in ("lower(requester_email) = $1", "folded_addresses(cc) @> $2::text[]"):
            pages.append(
                f"(SELECT {TICKET_COLUMNS} FROM tickets WHERE {where.sql} AND {matching}"
                f" ORDER BY {_NEWEST} LIMIT {limit + 1})"
            )
    if not pages:
        return SearchResult(SearchKind.EMAIL, (), more=False)
    rows = await connection.fetch(  # UNION: a ticket both requested and copied by the address once
        f"SELECT * FROM ({' UNION '.join(pages)}) AS found ORDER BY {_NEWEST} LIMIT {limit + 1}", *args
    )
    tickets = [ticket_of(row) for row in rows]
    return SearchResult(SearchKind.EMAIL, tuple(SearchHit(t) for t in tickets[:limit]), more=len(tickets) > limit)


async def _by_words(
    connection: Connection, reach: Reach, words: Words, filters: TicketFilter, limit: int
) -> SearchResult:
    args: list[object] = []
    pages = []
    for side, where in sided(reach, args, handled_only=filters.handled_only):
        narrowed(where, filters)
        args.append(words.tsquery(PUBLIC_WEIGHTS if side is Side.REQUESTER else ""))
        query = _query(f"${len(args)}")
        pages.append(
            f"(SELECT found.*, ts_rank(found.words, {query}) AS rank, {side is Side.REQUESTER} AS public_only"
            f" FROM (SELECT {_T_COLUMNS}, w.words FROM tickets AS t JOIN ticket_words AS w USING (ticket_id)"
            f" WHERE {where.sql} AND w.words @@ ({query}) ORDER BY {_T_NEWEST}"
            f" LIMIT {RANKED_AMONG}) AS found)"
        )
    if not pages:
        return SearchResult(SearchKind.WORDS, (), more=False)
    rows = await connection.fetch(
        f"SELECT {TICKET_COLUMNS}, public_only FROM ({' UNION ALL '.join(pages)}) AS ranked"
        f" ORDER BY rank DESC, {_NEWEST} LIMIT {limit + 1}",
        *args,
    )
    chosen = rows[:limit]
    passages = await _passages(connection, chosen, words.tsquery())
    hits = tuple(SearchHit(ticket_of(row), *passages.get(row["ticket_id"], (None, None))) for row in chosen)
    return SearchResult(SearchKind.WORDS, hits, more=len(rows) > limit)


async def _passages(
    connection: Connection, rows: list[asyncpg.Record], query_text: str
) -> dict[object, tuple[str | None, str | None]]:
    """Each ticket's subject with its words marked, and a passage of its newest post (a public one, for the
    requesting side) that holds them."""
    if not rows:
        return {}
    config = config_of("h.language")
    found = await connection.fetch(
        f"""
        SELECT h.ticket_id,
            ts_headline({config}, translate(h.subject, $7, ''), q.query, $5) AS subject,
            (SELECT ts_headline({config}, translate(p.body, $7, ''), q.query, $5)
             FROM (SELECT e.body FROM timeline AS e
                   WHERE e.ticket_id = h.ticket_id AND e.body IS NOT NULL
                     AND (NOT h.public_only OR e.visibility IS DISTINCT FROM 'internal')
                   ORDER BY e.version DESC, e.part DESC LIMIT {_PASSAGE_AMONG}) AS p
             WHERE to_tsvector({config}, p.body) @@ q.query LIMIT 1) AS snippet
        FROM unnest($1::uuid[], $2::text[], $3::text[], $4::boolean[]) AS h(ticket_id, subject, language, public_only)
        CROSS JOIN (SELECT {_query("$6")} AS query) AS q
        """,
        [row["ticket_id"] for row in rows],
        [row["subject"] for row in rows],
        [row["language"] for row in rows],
        [row["public_only"] for row in rows],
        _HEADLINE,
        query_text,
        MARK_START + MARK_END,
    )
    return {
        row["ticket_id"]: (
            marked_html(row["subject"]),
            None if row["snippet"] is None else marked_html(row["snippet"]),
        )
        for row in found
    }
