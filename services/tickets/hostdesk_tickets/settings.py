"""The tickets service's settings (prefix ``TICKETS_``), built once in ``__main__`` and passed down."""

from __future__ import annotations

from hostdesk_contracts.runtime.settings import CommonSettings, EventKeySettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class Settings(CommonSettings, EventKeySettings):
    model_config = SettingsConfigDict(env_prefix="TICKETS_")

    port: int = 8002
    db_schema: str = Field(default="tickets", pattern=r"^[a-z_][a-z0-9_]*$")
    pool_size: int = Field(default=4, ge=1)
    command_batch: int = Field(default=64, ge=1, le=1000)
    command_max_deliver: int = Field(default=20, ge=2)
    missing_ticket_retries: int = Field(
        default=5, ge=0, description="How often a command for a ticket not yet stored is retried before refusal."
    )
    relay_batch: int = Field(default=500, ge=1, le=10_000)
    relay_idle_poll_seconds: float = Field(default=0.2, gt=0)
    relay_lock_key: int = Field(default=0x7469636B, description="The advisory lock that elects the relay leader.")
    auto_close_after_seconds: int = Field(
        default=7 * 86_400,
        ge=60,
        description="How long an answered ticket waits for its requester before it closes by itself.",
    )
    auto_close_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often a replica (one at a time) looks for idle answered tickets to close."
    )
    auto_close_lock_key: int = Field(
        default=0x636C6F73, description="The advisory lock that lets one replica at a time close idle answered tickets."
    )

    # TICKETS_READS_PER_MINUTE and TICKETS_READ_BURST: a limit per account (tenant and id) on this API's reads,
    # generous enough for a staff console refreshing often; 429 with Retry-After past it.
    reads_per_minute: float = Field(
        default=12_000, gt=0, description="Each account's steady rate of requests to this API, per replica."
    )
    read_burst: int = Field(default=600, ge=1, description="Requests an account may send at once, above its rate.")
