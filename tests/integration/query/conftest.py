from collections.abc import AsyncIterator

import asyncpg
import pytest
from hostdesk_contracts.base import Actor, Visibility
from hostdesk_devtools.stories import TicketStory
from hostdesk_query.adapters.notices import notify_channel
from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.adapters.schema import ensure_schema
from hostdesk_query.domain.projection import change_of

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


async def degraded_raid(read_model: PostgresReadModel, customer: Actor, agent: Actor) -> TicketStory:
    """A customer's ticket about a failed disk: its opening, an internal note, a public answer."""
    story = TicketStory(customer)
    events = [
        story.opened(subject="The RAID array is degraded", body="Disk 2 failed on the server."),
        story.reply(agent, "Swapping the disk tonight.", visibility=Visibility.INTERNAL),
        story.reply(agent, "Done: the array is rebuilding."),
    ]
    await read_model.apply([change_of(event) for event in events])  # type: ignore[arg-type]
    return story
