"""Notify's settings: the common ones (unprefixed) and its own, read from ``NOTIFY_*``."""

from __future__ import annotations

from typing import Literal

from hostdesk_contracts.runtime.settings import CommonSettings, ConsumerSettings, EventKeySettings
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict


class Settings(CommonSettings, ConsumerSettings, EventKeySettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_")

    port: int = 8003
    db_schema: str = Field(default="notify", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    db_pool_size: int = Field(default=10, ge=2, le=100)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_timeout: float = Field(default=10.0, gt=0)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # Mails sent at once (each on an SMTP connection kept for the next). A reader's mails of one ticket still go
    # one after the other, in order. Each mail being sent holds a database connection: keep it under the pool.
    # The files of a post go with its mail up to this many bytes in all; the others are named, with a link when
    # NOTIFY_FILE_LINK is set: a URL with {ticket_id} and {attachment_id} in it, where a reader downloads the file
    # once signed in (the portal's page of the file, or query's route /v1/tickets/{ticket_id}/attachments/...).
    attach_max_bytes: int = Field(default=10 * 2**20, ge=0)
    file_link: str | None = None
    attachment_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    send_concurrency: int = Field(default=4, ge=1, le=32)
    from_address: str = "HostDesk <noreply@hostdesk.localhost>"
    support_address: str = "support@hostdesk.localhost"
    default_language: Literal["en", "fr"] = "en"
    # Mail to the requesting side (requester and CC recipients) an hour, at most: per ticket, and per requester
    # over all its tickets. Over them, a mail is kept as suppressed, with its reason, and never sent.
    mail_per_ticket_per_hour: int = Field(default=60, ge=1)
    mail_per_requester_per_hour: int = Field(default=300, ge=1)

    max_send_attempts: int = Field(default=8, ge=1, le=100)
    retry_base_seconds: float = Field(default=2.0, gt=0, description="Pause after the first failed send; doubles.")
    retry_max_seconds: float = Field(default=600.0, gt=0)
    sweep_interval: float = Field(default=5.0, gt=0, description="How often pending mail is looked for.")

    # NOTIFY_READS_PER_MINUTE and NOTIFY_READ_BURST: a limit per account (tenant and id) on this API's reads,
    # generous enough for a staff console refreshing often; 429 with Retry-After past it.
    reads_per_minute: float = Field(
        default=12_000, gt=0, description="Each account's steady rate of requests to this API, per replica."
    )
    read_burst: int = Field(default=600, ge=1, description="Requests an account may send at once, above its rate.")

    @field_validator("file_link")
    @classmethod
    def _a_link_of_a_file(cls, link: str | None) -> str | None:
        """Refused at start, not at the first mail: a link naming anything but the ticket and the file."""
        if link is not None:
            try:
                link.format(ticket_id="t", attachment_id="a")
            except (KeyError, IndexError, ValueError) as error:
                raise ValueError("NOTIFY_FILE_LINK may name only {ticket_id} and {attachment_id}") from error
        return link
