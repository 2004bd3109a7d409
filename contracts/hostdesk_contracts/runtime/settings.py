"""Settings every service reads, whatever its own prefix: where PostgreSQL and NATS are, the token key."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from hostdesk_contracts.subjects import Subjects

LOCAL_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_NATS_URL = "nats://127.0.0.1:4222"


class CommonSettings(BaseSettings):
    """Unprefixed on purpose: one ``DATABASE_URL``, ``NATS_URL`` and token key for the whole installation."""

    database_url: str = Field(default=LOCAL_DATABASE_URL, validation_alias="DATABASE_URL")
    nats_url: str = Field(default=LOCAL_NATS_URL, validation_alias="NATS_URL")
    jwt_secret: SecretStr = Field(validation_alias="HOSTDESK_JWT_SECRET", min_length=32)
    subject_root: str = Field(default="tickets", validation_alias="HOSTDESK_SUBJECT_ROOT", pattern=r"^[a-z0-9_]+$")
    host: str = "127.0.0.1"
    instance: str = Field(default="", description="This replica's name; a random one when empty.")

    @property
    def subjects(self) -> Subjects:
        return Subjects(root=self.subject_root)
