"""The versions of query's read model: which one readers are served from, which are being built (SPEC: rebuild
without downtime). Shared by the query service, which builds, follows and serves them, and the command line,
which starts a rebuild, watches it and switches readers over.

A version is a schema (its tables, built from the events stream) and the durable consumer that keeps it up to
date. They are listed in ``<base>_control.versions`` (``base``: ``QUERY_DB_SCHEMA``); version 1 is the base
schema itself, under ``QUERY_CONSUMER_NAME``, so an installation from before versions simply carries on. A
rebuild adds a version ``building``; every replica builds and follows it beside the one it serves; the switch,
one transaction, makes it ``serving`` and the one before ``retired``, and tells every replica (``NOTIFY`` on
``versions_channel``), which then reads from it. Replicas record in ``<base>_control.replicas`` which version
each serves, so that the rebuild drops the retired one only once no replica reads it any more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

SCHEMA_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,52}$")  # a base schema: room left for "_control" and "_v<n>"


class State(StrEnum):
    BUILDING = "building"  # built and followed beside the serving one
    SERVING = "serving"  # readers read it: exactly one version is
    RETIRED = "retired"  # served before the last switch: dropped once no replica reads it
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class Version:
    version: int
    schema: str
    consumer: str
    state: State


def control_schema(base: str) -> str:
    return f"{base}_control"


def versions_channel(base: str) -> str:
    """The channel a switch, or a new version, is told on."""
    return f"{base}_versions"


def version_names(base: str, consumer: str, version: int) -> tuple[str, str]:
    """The schema and the durable consumer of ``version``."""
    if version == 1:
        return base, consumer
    return f"{base}_v{version}", f"{consumer}_v{version}"


def _control(base: str) -> str:
    return '"' + control_schema(base) + '"'


def ddl(base: str) -> str:
    control = _control(base)
    return f"""
CREATE SCHEMA IF NOT EXISTS {control};
CREATE TABLE IF NOT EXISTS {control}.versions (
    version     integer PRIMARY KEY,
    schema_name text NOT NULL UNIQUE,
    consumer    text NOT NULL,
    state       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    switched_at timestamptz,
    dropped_at  timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS one_serving ON {control}.versions ((true)) WHERE state = 'serving';
CREATE TABLE IF NOT EXISTS {control}.replicas (
    instance text PRIMARY KEY,
    serving  integer NOT NULL,
    seen_at  timestamptz NOT NULL
);
"""


def lock_key(base: str) -> str:
    """The transaction-level advisory lock (``hashtext``) every change of the versions takes."""
    return f"hostdesk-query-versions:{base}"


def select_versions(base: str) -> str:
    return f"SELECT version, schema_name, consumer, state FROM {_control(base)}.versions ORDER BY version"


def insert_version(base: str) -> str:
    """$1 version, $2 schema, $3 consumer, $4 state."""
    return (
        f"INSERT INTO {_control(base)}.versions (version, schema_name, consumer, state) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (version) DO NOTHING"
    )


def record_replica(base: str) -> str:
    """$1 instance, $2 the version it serves."""
    return (
        f"INSERT INTO {_control(base)}.replicas (instance, serving, seen_at) VALUES ($1, $2, now())"
        " ON CONFLICT (instance) DO UPDATE SET serving = EXCLUDED.serving, seen_at = EXCLUDED.seen_at"
    )


def forget_replica(base: str) -> str:
    return f"DELETE FROM {_control(base)}.replicas WHERE instance = $1"


def select_replicas(base: str) -> str:
    """The replicas seen within $1 seconds, and the version each serves."""
    return (
        f"SELECT instance, serving, seen_at FROM {_control(base)}.replicas"
        " WHERE seen_at > now() - make_interval(secs => $1) ORDER BY instance"
    )


def switch(base: str) -> tuple[str, str]:
    """The two statements of a switch to version $1: the serving one retired, then $1 serving."""
    control = _control(base)
    return (
        f"UPDATE {control}.versions SET state = 'retired' WHERE state = 'serving'",
        f"UPDATE {control}.versions SET state = 'serving', switched_at = now()"
        " WHERE version = $1 AND state = 'building'",
    )


def mark_dropped(base: str) -> str:
    return f"UPDATE {_control(base)}.versions SET state = 'dropped', dropped_at = now() WHERE version = $1"
