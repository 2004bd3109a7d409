"""The words of each ticket, for search: one ``tsvector`` per ticket in ``ticket_words``, kept by triggers.

- Two text search configurations in the read model's schema, ``hostdesk_en`` and ``hostdesk_fr``: PostgreSQL's
  English and French, with accents folded (``unaccent``) before stemming, so that "hébergement", "hebergement"
  and "Hébergements" are one word.
- A ticket's words are stemmed in its own language (``tickets.language``, ``domain.language``) and weighted by
  where they stand: its subject A, its public posts B, its internal notes D. A search for the requesting side
  asks only for A and B, so that an internal note never finds, ranks or highlights a ticket for it.
- Triggers keep them in the transaction of every write, on either path (the live batch's INSERT, the
  catch-up's COPY): a ticket's insert brings its subject, a timeline insert its posts' bodies (one statement's
  posts of a ticket joined into one text). A ticket's words stop growing at about half a megabyte of lexemes
  (PostgreSQL's limit for one is a megabyte): what it says after that is not searched.
- A table made now is filled from the tickets and timeline already there, and so is it at the end of a catch-up,
  whose own writes the triggers leave alone (``adapters.catching_up``).

``unaccent`` is a trusted extension: the read model's role creates it (in ``public``, unless the database has it
already) when it may create in the database, else an administrator must have created it first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

from hostdesk_query.adapters.catching_up import IN_CATCH_UP
from hostdesk_query.domain.language import Language

if TYPE_CHECKING:
    Connection = asyncpg.pool.PoolConnectionProxy[asyncpg.Record] | asyncpg.Connection[asyncpg.Record]

# The configuration of each language, by name in the read model's schema (its connections' search_path).
CONFIGS = {Language.EN: "hostdesk_en", Language.FR: "hostdesk_fr"}
_BASE = {Language.EN: "english", Language.FR: "french"}
PUBLIC_WEIGHTS = "AB"  # the subject and the public posts
_GROWS_UNTIL_BYTES = 500_000
_UPGRADE_TIMEOUT_SECONDS = 3_600.0
_INDEX = "ticket_words_by_word"
_INDEX_DDL = "CREATE INDEX IF NOT EXISTS " + _INDEX + " ON {schema}.ticket_words USING gin (words)"
_INDEX_MEMORY = "256MB"  # building the index once, in memory rather than in runs on disk


def config_of(language_column: str, schema: str | None = None) -> str:
    """SQL: the configuration for the language in ``language_column``, in ``schema`` (None: the search_path's)."""
    at = "" if schema is None else f"{schema}."
    return (
        f"(CASE {language_column} WHEN '{Language.FR.value}' THEN '{at}{CONFIGS[Language.FR]}'"
        f" ELSE '{at}{CONFIGS[Language.EN]}' END)::regconfig"
    )


def _posts(schema: str, entries: str) -> str:
    """SQL: the words of the posts in ``entries`` (rows of the timeline with the ticket's ``language``), grouped
    by ticket."""
    config = config_of("language", schema)
    public = "string_agg(body, E'\\n' ORDER BY version, part) FILTER (WHERE visibility IS DISTINCT FROM 'internal')"
    internal = "string_agg(body, E'\\n' ORDER BY version, part) FILTER (WHERE visibility = 'internal')"
    return (
        f"SELECT ticket_id, setweight(to_tsvector({config}, coalesce({public}, '')), 'B')"
        f" || setweight(to_tsvector({config}, coalesce({internal}, '')), 'D') AS words"
        f" FROM {entries} WHERE body IS NOT NULL GROUP BY ticket_id, language"
    )


_DDL = """
CREATE TABLE IF NOT EXISTS {schema}.ticket_words (
    ticket_id uuid PRIMARY KEY,
    words     tsvector NOT NULL
);
{index};

CREATE OR REPLACE FUNCTION {schema}.words_of_tickets() RETURNS trigger LANGUAGE plpgsql AS $words$
BEGIN
    IF {catching_up} THEN
        RETURN NULL;  -- filled all at once at its end (``adapters.catching_up``)
    END IF;
    INSERT INTO {schema}.ticket_words AS w (ticket_id, words)
    SELECT ticket_id, setweight(to_tsvector({subject_config}, subject), 'A') FROM added ORDER BY ticket_id
    ON CONFLICT (ticket_id) DO UPDATE SET words = EXCLUDED.words || w.words;
    RETURN NULL;
END
$words$;

CREATE OR REPLACE FUNCTION {schema}.words_of_posts() RETURNS trigger LANGUAGE plpgsql AS $words$
BEGIN
    IF {catching_up} THEN
        RETURN NULL;
    END IF;
    INSERT INTO {schema}.ticket_words AS w (ticket_id, words)
    SELECT * FROM ({posts}) AS posts ORDER BY ticket_id
    ON CONFLICT (ticket_id) DO UPDATE SET words = CASE
        WHEN pg_column_size(w.words) > {grows_until} THEN w.words ELSE w.words || EXCLUDED.words END;
    RETURN NULL;
END
$words$;

-- A ticket's words, post after post, growing as the triggers let them (``refill_words``).
CREATE OR REPLACE FUNCTION {schema}.words_grown(words tsvector, more tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $grown$ SELECT CASE WHEN pg_column_size(words) > {grows_until} THEN words ELSE words || more END $grown$;
CREATE OR REPLACE AGGREGATE {schema}.words_of(tsvector) (
    SFUNC = {schema}.words_grown, STYPE = tsvector, INITCOND = ''
);
"""
_TRIGGERS = {
    "tickets_words_on_insert": (
        "AFTER INSERT ON {schema}.tickets REFERENCING NEW TABLE AS added",
        "words_of_tickets",
    ),
    "timeline_words_on_insert": (
        "AFTER INSERT ON {schema}.timeline REFERENCING NEW TABLE AS added",
        "words_of_posts",
    ),
}


async def keep_words(connection: Connection, schema: str, name: str) -> None:
    """``schema`` quoted, ``name`` as it is."""
    fresh = await connection.fetchval("SELECT to_regclass($1) IS NULL", f"{schema}.ticket_words")
    unaccent = await _unaccent(connection)
    for language, config in CONFIGS.items():
        exists = await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace"
            " WHERE n.nspname = $1 AND c.cfgname = $2)",
            name,
            config,
        )
        if not exists:
            await connection.execute(
                f"CREATE TEXT SEARCH CONFIGURATION {schema}.{config} (COPY = pg_catalog.{_BASE[language]});"
                f" ALTER TEXT SEARCH CONFIGURATION {schema}.{config}"
                f" ALTER MAPPING FOR hword, hword_part, word WITH {unaccent}, {_BASE[language]}_stem"
            )
    entries = "(SELECT a.*, t.language FROM added AS a JOIN {schema}.tickets AS t USING (ticket_id)) AS entries"
    await connection.execute(
        _DDL.format(
            schema=schema,
            subject_config=config_of("language", schema),
            posts=_posts(schema, entries.format(schema=schema)),
            grows_until=_GROWS_UNTIL_BYTES,
            catching_up=IN_CATCH_UP,
            index=_INDEX_DDL.format(schema=schema),
        )
    )
    for trigger, (event, function) in _TRIGGERS.items():
        table = event.split(" ON ")[1].split(" ")[0].format(schema=schema)
        await connection.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        await connection.execute(
            f"CREATE TRIGGER {trigger} {event.format(schema=schema)}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{function}()"
        )
    if fresh:
        await refill_words(connection, schema)


async def _unaccent(connection: Connection) -> str:
    """The ``unaccent`` dictionary, qualified by the schema its extension lives in (made in ``public`` if none)."""
    # One database-wide extension, which read models of several schemas may make at once: one at a time.
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext('hostdesk-query-unaccent'))")
    await connection.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
    home = await connection.fetchval(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'unaccent'"
    )
    return f'"{home}".unaccent'


async def refill_words(connection: Connection, schema: str) -> None:
    """Every ticket's words anew (``schema`` quoted), in the caller's transaction: its subject, then each post in
    its order, read off the timeline's key, the index built after."""
    subject = f"setweight(to_tsvector({config_of('t.language', schema)}, t.subject), 'A')"
    weight = "(CASE WHEN e.visibility = 'internal' THEN 'D' ELSE 'B' END)::\"char\""
    post = f"setweight(to_tsvector({config_of('t.language', schema)}, e.body), {weight})"
    await connection.execute(f"TRUNCATE {schema}.ticket_words")
    await connection.execute(f"DROP INDEX IF EXISTS {schema}.{_INDEX}")
    await connection.execute(
        f"INSERT INTO {schema}.ticket_words (ticket_id, words)"
        f" SELECT t.ticket_id, {schema}.words_grown({subject}, coalesce(p.words, ''))"
        f" FROM {schema}.tickets AS t LEFT JOIN LATERAL ("
        f" SELECT {schema}.words_of({post} ORDER BY e.version, e.part) AS words FROM {schema}.timeline AS e"
        " WHERE e.ticket_id = t.ticket_id AND e.body IS NOT NULL) AS p ON true",
        timeout=_UPGRADE_TIMEOUT_SECONDS,
    )
    await connection.execute(f"SET LOCAL maintenance_work_mem = '{_INDEX_MEMORY}'")
    await connection.execute(_INDEX_DDL.format(schema=schema), timeout=_UPGRADE_TIMEOUT_SECONDS)
