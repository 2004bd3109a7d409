"""The read model's plans, explained on the installation's own data (``entrypoints.explain``)."""

from __future__ import annotations

import asyncio

import pytest
from hostdesk_contracts.base import Role
from hostdesk_devtools.stories import account
from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.entrypoints.explain import main

from tests.integration.query.conftest import SCHEMA, degraded_raid


async def test_each_read_is_explained_with_its_buffers_and_the_tables_are_sized(
    read_model: PostgresReadModel,
    tenant: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story = await degraded_raid(read_model, customer, agent)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("QUERY_DB_SCHEMA", SCHEMA)

    arguments = [f"--tenant={tenant}", f"--staff={agent.account_id}", f"--customer={customer.account_id}"]
    await asyncio.to_thread(
        main, [*arguments, f"--ticket={story.ticket_id}", "--email=nobody@example.com", "--number=#1"]
    )

    out = capsys.readouterr().out
    reads = [line for line in out.splitlines() if line.startswith("## ")]
    assert reads[:5] == [
        "## list, first page (staff)",
        "## list, filtered and sorted (staff)",
        "## my tickets (customer)",
        "## counts, not archived (staff)",
        "## staff home",
    ]
    assert "## search, a rarer word" in reads
    assert "## a ticket's timeline (200 entries)" in reads
    assert reads[-1] == f"## The read model's size on disk (schema {SCHEMA})"
    assert out.count("Execution Time:") >= len(reads) - 1  # every read ran at least one statement, explained
    assert "Buffers:" in out
    assert "| tickets | table | " in out
    assert "| ticket_words_by_word | index | " in out
