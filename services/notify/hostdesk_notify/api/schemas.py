"""The HTTP shapes of notify's answers."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from hostdesk_notify.adapters.ports import DeliveryStatus


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: str
    recipient: str
    subject: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class DeliveriesOut(BaseModel):
    ticket_id: UUID
    deliveries: list[DeliveryOut]
