"""Intake's settings: the shared ones (``DATABASE_URL``, ``NATS_URL``...) plus its own, prefixed ``INTAKE_``."""

from __future__ import annotations

import math
import ssl
from typing import Annotated

from hostdesk_contracts.base import Status
from hostdesk_contracts.commands import POST_BODY_MAX_CHARS
from hostdesk_contracts.runtime.sealing import Sealer
from hostdesk_contracts.runtime.settings import CommonSettings
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from hostdesk_intake.domain.limits import Quotas
from hostdesk_intake.domain.mail import MailLimits
from hostdesk_intake.domain.mail_routing import MailPolicy
from hostdesk_intake.domain.status_labels import PLANETHOSTER_LABELS, StatusLabels

MIB = 1024 * 1024


class Settings(CommonSettings):
    # hide_input_in_errors: a mistyped mailbox key must not be printed whole in the start-up error.
    model_config = SettingsConfigDict(env_prefix="INTAKE_", populate_by_name=True, hide_input_in_errors=True)

    port: int = Field(default=8001, ge=1, le=65_535)
    commit_wait_seconds: float = Field(
        default=5.0, ge=0, le=60, description="How long a request waits for the tickets service before a 202."
    )
    publish_timeout_seconds: float = Field(
        default=2.0, gt=0, le=30, description="How long a publish waits for JetStream's acknowledgement."
    )
    startup_wait_seconds: float = Field(
        default=5.0, ge=0, description="How long start-up waits for NATS; requests answer 503 until it is reached."
    )
    max_body_bytes: int = Field(default=MIB, ge=1024)  # a ticket's body may be long
    attachment_max_bytes: int = Field(
        default=20 * MIB, ge=1024, le=100 * MIB, description="The largest file one attachment may be (413 past it)."
    )
    upload_max_bytes: int = Field(
        default=60 * MIB,
        ge=1024,
        le=1024 * MIB,
        description="The largest upload request (its files together, multipart framing included; 413 past it).",
    )
    smtp_port: int = Field(
        default=0,
        ge=0,
        le=65_535,
        description="The SMTP listener's port for support mail (0: no listener; make run and deploy/ use 2525).",
    )
    smtp_host: str = Field(default="127.0.0.1", description="Where the SMTP listener listens (the MTA forwards to it).")
    smtp_max_bytes: int = Field(
        default=64 * MIB, ge=1024, description="The largest message the SMTP listener takes (552 past it)."
    )
    mailbox_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        default=(),
        description="Fernet keys (comma-separated) that seal support mailboxes' passwords; the first seals, any opens "
        "(hostdesk mailbox-key makes one). Empty: no mailbox can be configured or polled.",
    )
    mailbox_polling: bool = Field(default=True, description="Poll the support mailboxes (IMAP, POP3) configured.")
    mailbox_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="How long a mailbox server may take to answer one command."
    )
    mailbox_ca_file: str = Field(
        default="", description="Authorities (PEM) trusted for mailbox servers' TLS, beside the system's; empty: none."
    )
    mail_per_sender_per_hour: int = Field(
        default=30, ge=1, description="Mails one sender may send a tenant in an hour; the next are screened."
    )
    system_addresses: tuple[str, ...] = Field(
        default=("noreply@hostdesk.localhost",),  # notify's From by default
        description="The product's own sender addresses (notify's From): mail from them is a loop, and screened.",
    )
    max_waiting_commands: int = Field(
        default=10_000, ge=1, description="Requests waiting for an outcome at once, beyond which intake answers 503."
    )
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    rate_limit_accounts: int = Field(
        default=100_000, ge=1, description="Accounts whose rate is tracked at once; the least recent are forgotten."
    )
    opens_per_account_per_hour: int = Field(
        default=30, ge=1, description="Tickets a token's account may open in an hour, over every replica."
    )
    opens_per_key_per_hour: int = Field(
        default=600, ge=1, description="Tickets an API key may open in an hour (monitoring opens many)."
    )
    replies_per_account_per_minute: int = Field(
        default=20, ge=1, description="Replies a token's account may post in a minute, over every replica."
    )
    replies_per_key_per_minute: int = Field(default=300, ge=1, description="Replies an API key may post in a minute.")
    status_labels: dict[str, dict[str, Status]] = Field(
        default=PLANETHOSTER_LABELS,
        validation_alias="HOSTDESK_STATUS_LABELS",
        description='Providers\' own status labels, JSON: {"<tenant>" or "*": {"<label>": "<canonical status>"}}.',
    )

    @field_validator("status_labels")
    @classmethod
    def _valid_labels(cls, labels: dict[str, dict[str, Status]]) -> dict[str, dict[str, Status]]:
        StatusLabels(labels)  # raises ValueError naming what is wrong, so a bad configuration stops start-up
        return labels

    @field_validator("mailbox_keys", mode="before")
    @classmethod
    def _split_keys(cls, keys: object) -> object:
        return tuple(each for each in keys.split(",") if each.strip()) if isinstance(keys, str) else keys

    @field_validator("mailbox_keys")
    @classmethod
    def _valid_keys(cls, keys: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        Sealer([each.get_secret_value() for each in keys])  # raises ValueError naming the bad key
        return keys

    def sealer(self) -> Sealer:
        return Sealer([each.get_secret_value() for each in self.mailbox_keys])

    def mailbox_tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.mailbox_ca_file or None)

    def mail_policy(self) -> MailPolicy:
        return MailPolicy(
            limits=MailLimits(max_attachment_bytes=self.attachment_max_bytes, max_body_chars=POST_BODY_MAX_CHARS),
            per_sender_per_hour=self.mail_per_sender_per_hour,
            system_addresses=frozenset(address.strip().lower() for address in self.system_addresses),
        )

    def quotas(self) -> Quotas:
        return Quotas(
            opens_per_account=self.opens_per_account_per_hour,
            opens_per_key=self.opens_per_key_per_hour,
            replies_per_account=self.replies_per_account_per_minute,
            replies_per_key=self.replies_per_key_per_minute,
        )

    def shutdown_grace_seconds(self) -> int:
        # A request in flight waits at most this long for its outcome (a commit wait after its publish's retries).
        return math.ceil(self.commit_wait_seconds + 3 * self.publish_timeout_seconds) + 1
