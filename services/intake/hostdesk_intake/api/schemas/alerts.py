"""A notification of Prometheus Alertmanager's webhook (its version 4), and what intake answers about each alert.

The notification is read as Alertmanager sends it, its fields named as it names them; fields it adds later, and
those intake has no use for (the group's labels, the receiver, the external URL), are ignored. What intake keeps
is bounded, so a bad field is a 422 naming it (``alerts.3.labels``), never a 500: at most 100 alerts a
notification, each fingerprint once; at most 50 labels and 50 annotations an alert, their names at most 100
characters, a label's value at most 1,000 and an annotation's 5,000 (what is longer than a post holds is cut
in the post, saying so).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from hostdesk_contracts.runtime.text import refuse_unstorable
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from hostdesk_intake.api.schemas.fields import Readable
from hostdesk_intake.domain.alerts import Alert, AlertStatus
from hostdesk_intake.service_layer.alerts import AlertAction, Received

MAX_ALERTS = 100
MAX_ENTRIES = 50
# Alertmanager's zero time: an alert that fires has no end yet.
NO_END_BEFORE_YEAR = 2


# A name is never blank; a value may be empty. Neither may hold what PostgreSQL cannot store.
Name = Annotated[str, StringConstraints(min_length=1, max_length=100), Readable]
LabelValue = Annotated[str, Field(max_length=1_000), AfterValidator(refuse_unstorable)]
AnnotationValue = Annotated[str, Field(max_length=5_000), AfterValidator(refuse_unstorable)]


class Incoming(BaseModel):
    """Alertmanager's fields as it names them; any other is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class IncomingAlert(Incoming):
    status: AlertStatus
    labels: dict[Name, LabelValue] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    annotations: dict[Name, AnnotationValue] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    generator_url: Annotated[str, Field(max_length=2_000), AfterValidator(refuse_unstorable)] | None = Field(
        default=None, alias="generatorURL"
    )
    fingerprint: str = Field(pattern=r"^[0-9a-fA-F]{1,64}$", description="Alertmanager's hash of the labels.")

    def to_alert(self) -> Alert:
        ends_at: datetime | None = self.ends_at
        if ends_at is not None and ends_at.year < NO_END_BEFORE_YEAR:
            ends_at = None
        return Alert(
            fingerprint=self.fingerprint,
            status=self.status,
            labels=dict(self.labels),
            annotations=dict(self.annotations),
            starts_at=self.starts_at,
            ends_at=ends_at,
            generator_url=self.generator_url or None,
        )


class AlertNotification(Incoming):
    version: Literal["4"] = Field(description="The version of Alertmanager's webhook payload.")
    alerts: list[IncomingAlert] = Field(min_length=1, max_length=MAX_ALERTS)

    @field_validator("alerts")
    @classmethod
    def _each_fingerprint_once(cls, alerts: list[IncomingAlert]) -> list[IncomingAlert]:
        fingerprints = [alert.fingerprint for alert in alerts]
        if len(set(fingerprints)) != len(fingerprints):
            raise ValueError("each alert's fingerprint may come once in a notification")
        return alerts

    def to_alerts(self) -> list[Alert]:
        return [alert.to_alert() for alert in self.alerts]


class AlertResult(BaseModel):
    """What became of one alert: ``opened`` its ticket, ``appended`` a firing's reply, ``resolved`` (the
    resolution's reply), ``unchanged`` (sent before, or a resolution of a ticket resolved or closed already),
    ``pending`` (not decided in time: the command is stored, and is applied), ``refused`` (with why)."""

    fingerprint: str
    ticket_id: UUID
    number: int | None = Field(description="The ticket's number, once known.")
    version: int | None = Field(description="The ticket's version once the action applied, when known.")
    action: AlertAction
    command_id: str = Field(description="The command of that action: GET /v1/commands/{command_id} tells of it.")
    detail: str | None = None

    @classmethod
    def of(cls, received: Received) -> AlertResult:
        return cls(
            fingerprint=received.fingerprint,
            ticket_id=received.ticket_id,
            number=received.number,
            version=received.version,
            action=received.action,
            command_id=received.command_id,
            detail=received.detail,
        )


class AlertsAnswer(BaseModel):
    results: list[AlertResult] = Field(description="One an alert, in the order of the notification.")

    @classmethod
    def of(cls, received: list[Received]) -> AlertsAnswer:
        return cls(results=[AlertResult.of(each) for each in received])
