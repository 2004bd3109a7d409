from collections.abc import AsyncIterator

import asyncpg
import pytest
from hostdesk_query.adapters.notices import notify_channel
from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.adapters.schema import ensure_schema

SCHEMA = "query"


@pytest.fixture
async def query_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=6, server_settings={"search_path": SCHEMA})
    assert pool is not None
    await ensure_schema(pool, SCHEMA)
    yield pool
    await pool.close()


@pytest.fixture
def read_model(query_pool: asyncpg.Pool) -> PostgresReadModel:
    return PostgresReadModel(query_pool, notify_channel=notify_channel(SCHEMA))
