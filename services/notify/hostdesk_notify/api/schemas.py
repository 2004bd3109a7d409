"""The HTTP shapes of notify's answers."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hostdesk_notify.adapters.ports import DeliveryStatus


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: str
    recipient: str = Field(description="The address mailed; empty for a mail nobody could be sent (``suppressed``).")
    subject: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    suppressed_reason: str | None = Field(
        default=None,
        description="Why a ``suppressed`` mail is never sent: a bound on mail, or nobody on the handling side with "
        "an address to mail.",
    )
    language: str | None = Field(
        default=None, description="The language the mail is written in: its reader's (None for older mail)."
    )


class DeliveriesOut(BaseModel):
    ticket_id: UUID
    deliveries: list[DeliveryOut]
