"""A monitoring alert (Prometheus Alertmanager's) as a ticket: which ticket it is, what each of its notifications
posts there, and under which command ids. Pure rules.

An alert is known by its fingerprint, which Alertmanager derives from its labels: one ticket per fingerprint of
one account in one tenant, whose open's command id derives from the three, so every notification of the alert
names the same ticket. A firing is known by its fingerprint and the moment it started (``startsAt``): Alertmanager
repeats a firing's notification while it lasts, and a new firing of the same alert starts at another moment. So
every post of an alert has a command id derived from its firing (its reply, its resolution), and the tickets
service applies a command id once: a notification sent again posts nothing twice, however long after.

The ids are hashed as JSON arrays under a namespace of their own: no alert's command is ever another request's
(``domain.commands`` hashes Idempotency-Keys under another), and no two (tenant, account, fingerprint, start)
share one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID, uuid5

from hostdesk_contracts.base import Actor, Channel, Priority
from hostdesk_contracts.commands import POST_BODY_MAX_CHARS, OpenTicket, PostReply, UpdateTicket, ticket_id_for

ALERT_NAMESPACE = UUID("b6a4f0de-2c71-4e55-9f3a-7d18c2e9a604")
SUBJECT_MAX_CHARS = 200  # the bound of a ticket's subject (``hostdesk_contracts.commands.Subject``)
# A version no ticket reaches (a ticket holds at most 1,000 posts): a look expecting it is always refused as stale.
UNREACHED_VERSION = 2**62
CUT = "\n\n[The rest of the alert is longer than a post holds.]"

PRIORITY_BY_SEVERITY = {"critical": Priority.URGENT, "warning": Priority.HIGH, "info": Priority.LOW}


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Alert:
    """One alert of a notification, as Alertmanager sends it. ``ends_at`` is ``None`` while it fires (Alertmanager
    sends the zero time, or the moment it will consider the alert resolved unless it fires again)."""

    fingerprint: str
    status: AlertStatus
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime | None = None
    generator_url: str | None = None

    @property
    def firing(self) -> str:
        """The firing this notification is about: its start, to the microsecond, in UTC."""
        return self.starts_at.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class AlertCommands:
    """The commands one notification of ``alert`` may send about its ticket, as ``actor`` at ``issued_at``."""

    alert: Alert
    actor: Actor
    issued_at: datetime

    @property
    def ticket_id(self) -> UUID:
        return ticket_id_for(self.opening_id)

    @property
    def opening_id(self) -> str:
        return self._id("open")

    @property
    def firing_digest(self) -> str:
        """What intake records the open as asked by: the firing, so that the open sent for another firing of the
        alert is told apart (the ticket was opened by that one) while intake keeps its record, a day."""
        return _digest(["alert firing", self.alert.fingerprint, self.alert.firing])

    def opening(self) -> OpenTicket:
        """The open of the alert's ticket, its first post what the alert says."""
        return OpenTicket(
            command_id=self.opening_id,
            ticket_id=self.ticket_id,
            actor=self.actor,
            issued_at=self.issued_at,
            subject=subject_of(self.alert),
            body=opening_body(self.alert),
            priority=priority_of(self.alert),
            channel=Channel.ALERT,
        )

    def firing_reply(self) -> PostReply:
        """The public reply of a firing after the one that opened the ticket."""
        return self._reply(self._id("firing", self.alert.firing), firing_body(self.alert))

    def resolution(self) -> PostReply:
        """The public reply of the firing's end."""
        return self._reply(self._id("resolved", self.alert.firing), resolution_body(self.alert))

    def look(self) -> UpdateTicket:
        """An update that changes nothing and expects a version no ticket is at: the tickets service refuses it as
        stale, and its refusal names the ticket's status and version. Intake sees a ticket only through the
        outcomes of its commands; this is how an alert reads its own. One look a notification (its firing, and
        whether it fires or is resolved), so a notification sent again is decided as the first was."""
        return UpdateTicket(
            command_id=self._id("look", self.alert.firing, self.alert.status.value),
            ticket_id=self.ticket_id,
            actor=self.actor,
            issued_at=self.issued_at,
            expected_version=UNREACHED_VERSION,
        )

    def _reply(self, command_id: str, body: str) -> PostReply:
        return PostReply(
            command_id=command_id, ticket_id=self.ticket_id, actor=self.actor, issued_at=self.issued_at, body=body
        )

    def _id(self, kind: str, *parts: str) -> str:
        named = [kind, self.actor.tenant, self.actor.account_id, self.alert.fingerprint, *parts]
        return str(uuid5(ALERT_NAMESPACE, json.dumps(named)))


def asked(command_id: str) -> str:
    """What intake records an alert's reply or look as asked by: its id says all it asks, so the same id sent again
    is a retry of it, not counted again."""
    return _digest(["alert command", command_id])


def subject_of(alert: Alert) -> str:
    """The summary, else the alert's name, else its fingerprint; with the instance it is about, on one line."""
    name = _text(alert.annotations.get("summary")) or _text(alert.labels.get("alertname"))
    name = name or f"Alert {alert.fingerprint}"
    instance = _text(alert.labels.get("instance"))
    subject = f"{name} on {instance}" if instance and instance not in name else name
    return subject[:SUBJECT_MAX_CHARS].rstrip()


def priority_of(alert: Alert) -> Priority:
    """From the ``severity`` label: critical is urgent, warning high, info low, anything else normal."""
    severity = alert.labels.get("severity", "").strip().lower()
    return PRIORITY_BY_SEVERITY.get(severity, Priority.NORMAL)


def opening_body(alert: Alert) -> str:
    """The first post: how the alert stands, its annotations and labels, when it started, where it comes from."""
    lines = [_headline(alert), ""]
    lines += _listed("Annotations", alert.annotations)
    lines += _listed("Labels", alert.labels)
    lines.append(f"Started: {alert.firing}")
    if alert.ends_at is not None and alert.status is AlertStatus.RESOLVED:
        lines.append(f"Ended: {alert.ends_at.astimezone(UTC).isoformat()}")
    if alert.generator_url:
        lines.append(f"Source: {alert.generator_url}")
    lines.append(f"Fingerprint: {alert.fingerprint}")
    return _bounded("\n".join(lines))


def firing_body(alert: Alert) -> str:
    """A later firing: when it started, and what its annotations say now."""
    lines = [f"Firing since {_moment(alert.starts_at)}.", ""]
    lines += _listed("Annotations", alert.annotations)
    if alert.generator_url:
        lines.append(f"Source: {alert.generator_url}")
    return _bounded("\n".join(lines).rstrip())


def resolution_body(alert: Alert) -> str:
    ended = f"Resolved at {_moment(alert.ends_at)}" if alert.ends_at is not None else "Resolved"
    return f"{ended} (firing since {_moment(alert.starts_at)})."


def _headline(alert: Alert) -> str:
    if alert.status is AlertStatus.FIRING:
        return f"Firing since {_moment(alert.starts_at)}."
    return resolution_body(alert)


def _listed(title: str, values: Mapping[str, str]) -> list[str]:
    """``title`` and each of ``values`` on its own line, sorted by name, a value's further lines indented."""
    if not values:
        return []
    lines = [f"{title}:"]
    for name in sorted(values):
        value = "\n    ".join(values[name].splitlines()) or '""'
        lines.append(f"  {name}: {value}")
    lines.append("")
    return lines


def _moment(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _text(value: str | None) -> str:
    """``value`` on one line, its runs of white space one space each."""
    return " ".join((value or "").split())


def _bounded(body: str) -> str:
    if len(body) <= POST_BODY_MAX_CHARS:
        return body
    return body[: POST_BODY_MAX_CHARS - len(CUT)] + CUT


def _digest(parts: list[str]) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()
