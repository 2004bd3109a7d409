"""The query service's settings: ``QUERY_*`` on top of the installation-wide ones."""

from __future__ import annotations

from hostdesk_contracts.runtime.settings import CommonSettings, ConsumerSettings, EventKeySettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

CONSUMER_NAME = "query"


class Settings(CommonSettings, ConsumerSettings, EventKeySettings):
    model_config = SettingsConfigDict(env_prefix="QUERY_")

    port: int = Field(default=8004, ge=1, le=65_535)
    db_schema: str = Field(default="query", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    pool_min_size: int = Field(default=1, ge=1)
    pool_max_size: int = Field(default=10, ge=1)
    statement_timeout_seconds: float = Field(default=10.0, gt=0)

    consumer_name: str = Field(default=CONSUMER_NAME, pattern=r"^[A-Za-z0-9_-]+$")
    fetch_batch: int = Field(default=256, ge=1, le=1_000)

    read_your_writes_timeout_seconds: float = Field(default=2.0, ge=0, le=30)
    # Without a notification, a reader waiting for a version looks again this often.
    read_your_writes_poll_seconds: float = Field(default=0.25, gt=0)

    # QUERY_READS_PER_MINUTE and QUERY_READ_BURST: a limit per account (tenant and id) on this API's reads,
    # generous enough for a staff console refreshing often; 429 with Retry-After past it.
    reads_per_minute: float = Field(
        default=12_000, gt=0, description="Each account's steady rate of requests to this API, per replica."
    )
    read_burst: int = Field(default=600, ge=1, description="Requests an account may send at once, above its rate.")

    # QUERY_ATTACHMENT_TIMEOUT_SECONDS: how long the attachment store may take to answer (a file's bytes get eight
    # times as long); 503 past it.
    attachment_timeout_seconds: float = Field(default=2.0, gt=0, le=60)

    # Live updates (``GET /v1/stream``): the latest changes each replica keeps for clients that reconnect, the
    # changes that may wait for one slow client before its stream ends, the streams a caller may hold open on a
    # replica, how long a change waits for the read model to hold it, and how often an idle stream is pinged.
    live_buffer_events: int = Field(default=10_000, ge=1, le=1_000_000)
    live_queue_events: int = Field(default=1_000, ge=1, le=100_000)
    live_streams_per_caller: int = Field(default=5, ge=1, le=1_000)
    live_wait_seconds: float = Field(default=2.0, ge=0, le=30)
    live_ping_seconds: float = Field(default=15.0, gt=0, le=300)
