"""Settings every service reads, whatever its own prefix: where PostgreSQL and NATS are, the token keys."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings

from hostdesk_contracts.runtime.auth import TokenKeys
from hostdesk_contracts.runtime.consumer import DurableConsumer, Redelivery
from hostdesk_contracts.signing import EventSigner
from hostdesk_contracts.subjects import Subjects

LOCAL_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_NATS_URL = "nats://127.0.0.1:4222"


class CommonSettings(BaseSettings):
    """Unprefixed on purpose: one ``DATABASE_URL``, ``NATS_URL`` and token secret for the whole installation.

    Bearer tokens are checked with the shared secret (HS256), with the keys of an issuer's JWKS (RS256, ES256;
    ``<SERVICE>_JWKS_URL``, read with each service's prefix), or both; at least one must be set.
    """

    database_url: str = Field(default=LOCAL_DATABASE_URL, validation_alias="DATABASE_URL")
    nats_url: str = Field(default=LOCAL_NATS_URL, validation_alias="NATS_URL")
    jwt_secret: Annotated[SecretStr, Field(min_length=32)] | None = Field(
        default=None, validation_alias="HOSTDESK_JWT_SECRET"
    )
    jwks_url: str = Field(
        default="",
        pattern=r"^(https?://\S+)?$",
        description="The token issuer's JSON Web Key Set (RS256 and ES256 keys, each with its kid); empty: none.",
    )
    jwks_cache_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long the key set, and a token checked with one of its keys, is trusted before the key "
        "set is fetched again: a withdrawn key's tokens are refused after at most this long.",
    )
    jwks_cooldown_seconds: float = Field(
        default=10.0,
        ge=0,
        description="The least time between two fetches of the key set for a kid it does not hold (a new key).",
    )
    subject_root: str = Field(default="tickets", validation_alias="HOSTDESK_SUBJECT_ROOT", pattern=r"^[a-z0-9_]+$")
    host: str = "127.0.0.1"
    # Read with each service's prefix (``INTAKE_PORT``, ``INTAKE_REUSE_PORT``...); each sets its own port.
    port: int = Field(default=8000, ge=1, le=65_535)
    reuse_port: bool = Field(
        default=False,
        description="Let several processes of the service listen on the same port (SO_REUSEPORT); the kernel "
        "spreads the connections among them. One process per core lifts a service's ceiling on one machine.",
    )
    instance: str = Field(default="", description="This replica's name; a random one when empty.")
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="The largest request body the service reads; a larger one is a 413."
    )

    # Each service's own NATS user (``TICKETS_NATS_USER``, ``TICKETS_NATS_PASSWORD``...); see ``nats_auth`` for
    # what each may do. Empty: connect without credentials (a NATS server without authorisation).
    nats_user: str = Field(default="", max_length=200)
    nats_password: SecretStr = SecretStr("")

    @model_validator(mode="after")
    def _some_token_key(self) -> Self:
        if self.jwt_secret is None and not self.jwks_url:
            raise ValueError("set HOSTDESK_JWT_SECRET, the service's JWKS_URL, or both: bearer tokens need a key")
        return self

    @property
    def subjects(self) -> Subjects:
        return Subjects(root=self.subject_root)

    def token_keys(self) -> TokenKeys:
        """What the service checks bearer tokens with (``app.state.token_keys``)."""
        return TokenKeys(
            secret=self.jwt_secret.get_secret_value() if self.jwt_secret is not None else None,
            jwks_url=self.jwks_url or None,
            jwks_cache_seconds=self.jwks_cache_seconds,
            jwks_cooldown_seconds=self.jwks_cooldown_seconds,
        )

    def nats_credentials(self) -> dict[str, str]:
        """The keyword arguments of ``runtime.nats.connect`` that log this service in."""
        return {"user": self.nats_user, "password": self.nats_password.get_secret_value()}

    def shutdown_grace_seconds(self) -> int:
        """How long ``serve`` lets requests in flight finish on SIGTERM; a service whose requests wait longer
        says so by overriding this."""
        return 30


class EventKeySettings(BaseSettings):
    """The key of the relay's signature on every event (``HOSTDESK_EVENT_KEY``, unprefixed: the tickets service
    signs with it, query and notify check it). See ``hostdesk_contracts.signing``."""

    event_key: SecretStr = Field(validation_alias="HOSTDESK_EVENT_KEY", min_length=32)

    def event_signer(self) -> EventSigner:
        return EventSigner(self.event_key.get_secret_value())


class ConsumerSettings(BaseSettings):
    """How a service reads a stream, under its own prefix (``NOTIFY_MAX_DELIVER``, ``QUERY_ACK_WAIT_SECONDS``...).

    A message not ready yet (an event ahead of an earlier one of its ticket) comes back after
    ``gap_retry_seconds``, doubled at each delivery up to ``gap_retry_max_seconds``, and is dead-lettered at its
    ``max_deliver``-th delivery; all those waits together must outlast two ``ack_wait_seconds`` (see
    ``DurableConsumer``), which the defaults do with room to spare (92 s against 60 s).
    """

    fetch_batch: int = Field(default=100, ge=1, le=1_000)
    fetch_timeout_seconds: float = Field(default=1.0, gt=0)
    max_deliver: int = Field(default=10, ge=2, le=100)
    # How long a delivered message stays with this replica before JetStream hands it to another (a replica that
    # died mid-batch).
    ack_wait_seconds: float = Field(default=30.0, gt=0)
    gap_retry_seconds: float = Field(default=0.25, gt=0)
    gap_retry_max_seconds: float = Field(default=30.0, gt=0)

    def durable(
        self, *, stream: str, name: str, filter_subject: str, max_ack_pending: int | None = None
    ) -> DurableConsumer:
        return DurableConsumer(
            stream=stream,
            name=name,
            filter_subject=filter_subject,
            ack_wait=self.ack_wait_seconds,
            max_ack_pending=max_ack_pending or self.fetch_batch * 8,
            redelivery=self.redelivery,
        )

    @property
    def redelivery(self) -> Redelivery:
        return Redelivery(
            max_deliver=self.max_deliver, first_delay=self.gap_retry_seconds, max_delay=self.gap_retry_max_seconds
        )

    @model_validator(mode="after")
    def _redelivery_outlasts_the_ack_wait(self) -> Self:
        DurableConsumer(
            stream="-", name="-", filter_subject="-", ack_wait=self.ack_wait_seconds, redelivery=self.redelivery
        )
        return self
