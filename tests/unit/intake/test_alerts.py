"""Alertmanager's webhook through intake's HTTP API over an in-memory bus, whose tickets play the rules the alerts
rely on: one ticket per alert fingerprint, each firing and each resolution posted once, a re-fire after a close
reopening the ticket, and bad notifications refused naming the field."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
import pytest
from hostdesk_contracts.base import Channel, Priority, Status
from hostdesk_contracts.commands import OpenTicket, PostReply, UpdateTicket
from hostdesk_contracts.directory import ApiKeyRecord, Scope
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_intake.adapters.fake_bus import FakeCommandBus
from hostdesk_intake.domain.commands import SentCommand

from tests.support import bearer

from .serving import CALLERS, serving, token_for

MONITORING = "mon-7001"
FINGERPRINT = "3d1c8e4f5a6b7c80"
FIRST_START = "2026-03-14T08:58:07.123456789Z"
NO_END = "0001-01-01T00:00:00Z"


def api_key(key_id: str, *scopes: Scope) -> dict[str, str]:
    """The header of an API key of the monitoring account, with ``scopes``."""
    token_for(MONITORING)  # the key's account, in the directory
    key = f"hd_{key_id}_" + "k" * 43
    CALLERS.directory.put(
        ApiKeyRecord(
            id=key_id,
            account_id=MONITORING,
            label="Prometheus",
            scopes=scopes,
            secret_sha256=hashlib.sha256(key.encode()).hexdigest(),
        )
    )
    return bearer(key)


KEY = api_key("alerting01", Scope.TICKETS_WRITE)


def alert(
    fingerprint: str = FINGERPRINT,
    *,
    status: str = "firing",
    starts_at: str = FIRST_START,
    ends_at: str = NO_END,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": labels
        if labels is not None
        else {"alertname": "HighLoad", "instance": "web1.example.net:9100", "severity": "critical"},
        "annotations": annotations if annotations is not None else {"summary": "Load above 20 on web1"},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus.example.net:9090/graph?g0.expr=node_load1+%3E+20",
        "fingerprint": fingerprint,
    }


def notification(*alerts: dict[str, Any]) -> dict[str, Any]:
    """Alertmanager's payload, as its webhook sends it."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighLoad"}',
        "truncatedAlerts": 0,
        "status": alerts[0]["status"] if alerts else "firing",
        "receiver": "hostdesk",
        "groupLabels": {"alertname": "HighLoad"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.net:9093",
        "alerts": list(alerts),
    }


@dataclass
class Ticket:
    number: int
    status: Status = Status.OPEN
    version: int = 1
    applied: dict[str, int] = field(default_factory=dict)
    posts: list[str] = field(default_factory=list)


class Tickets:
    """The tickets service as far as the alerts rely on it: an open of a ticket that exists answers its first
    decision; a command id is applied once; a requester's post to a closed ticket reopens it as open, to another
    marks it customer_reply; an update expecting another version is refused as stale, naming the ticket's status
    and version."""

    def __init__(self) -> None:
        self.tickets: dict[UUID, Ticket] = {}

    def __call__(self, command: SentCommand) -> CommandOutcome:
        assert isinstance(command, OpenTicket | PostReply | UpdateTicket), "alerts send no other command"
        if isinstance(command, OpenTicket):
            ticket = self.tickets.setdefault(command.ticket_id, Ticket(number=100_000 + len(self.tickets)))
            if not ticket.applied:
                ticket.applied[command.command_id] = 1
                ticket.posts.append(command.body)
            return self._committed(command, ticket)
        ticket = self.tickets[command.ticket_id]
        if isinstance(command, UpdateTicket) and command.expected_version != ticket.version:
            return CommandOutcome.of(
                command,
                ticket_id=command.ticket_id,
                result="refused",
                refusal=Refusal.STALE,
                current_status=ticket.status,
                current_version=ticket.version,
            )
        if isinstance(command, PostReply) and command.command_id not in ticket.applied:
            if ticket.status is Status.CLOSED:
                ticket.status, ticket.version = Status.OPEN, ticket.version + 1
            elif ticket.status is not Status.CUSTOMER_REPLY:
                ticket.status, ticket.version = Status.CUSTOMER_REPLY, ticket.version + 1
            ticket.version += 1
            ticket.posts.append(command.body)
            ticket.applied[command.command_id] = ticket.version
        return self._committed(command, ticket)

    def close(self, ticket_id: str) -> None:
        ticket = self.tickets[UUID(ticket_id)]
        ticket.status, ticket.version = Status.CLOSED, ticket.version + 1

    def resolve(self, ticket_id: str) -> None:
        ticket = self.tickets[UUID(ticket_id)]
        ticket.status, ticket.version = Status.RESOLVED, ticket.version + 1

    def of(self, ticket_id: str) -> Ticket:
        return self.tickets[UUID(ticket_id)]

    @staticmethod
    def _committed(command: OpenTicket | PostReply | UpdateTicket, ticket: Ticket) -> CommandOutcome:
        version = ticket.applied.get(command.command_id, ticket.version)
        return CommandOutcome.of(
            command, ticket_id=command.ticket_id, result="committed", version=version, number=ticket.number
        )


@pytest.fixture
def tickets() -> Tickets:
    return Tickets()


@pytest.fixture
def bus(tickets: Tickets) -> FakeCommandBus:
    return FakeCommandBus(tickets)


@pytest.fixture
async def client(bus: FakeCommandBus) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(bus) as client:
        yield client


async def post(client: httpx.AsyncClient, *alerts: dict[str, Any]) -> list[dict[str, Any]]:
    """The results of a notification of ``alerts``, which must be answered 200."""
    response = await client.post("/v1/alerts", json=notification(*alerts), headers=KEY)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def a_day_passes(bus: FakeCommandBus) -> None:
    """Intake's records of its commands, and their outcomes, are kept a day; the tickets keep every post."""
    bus.sent.clear()
    bus.outcomes.clear()
    bus.records.clear()


async def test_a_firing_alert_opens_its_ticket_on_the_alert_channel_with_what_the_alert_says(
    client: httpx.AsyncClient, bus: FakeCommandBus, tickets: Tickets
) -> None:
    [result] = await post(client, alert())

    opens = [command for command in bus.sent if isinstance(command, OpenTicket)]
    [opening] = opens
    assert result["action"] == "opened"
    assert result["fingerprint"] == FINGERPRINT
    assert (result["ticket_id"], result["number"]) == (str(opening.ticket_id), 100_000)
    assert (result["command_id"], result["version"]) == (opening.command_id, 1)
    assert (opening.channel, opening.priority) == (Channel.ALERT, Priority.URGENT)
    assert opening.subject == "Load above 20 on web1 on web1.example.net:9100"
    assert opening.actor.account_id == MONITORING
    for shown in ("Firing since 2026-03-14 08:58:07 UTC.", "alertname: HighLoad", "summary: Load above 20 on web1"):
        assert shown in opening.body
    assert "Source: http://prometheus.example.net:9090/graph" in opening.body
    assert "Started: 2026-03-14T08:58:07.123456+00:00" in opening.body
    assert tickets.of(result["ticket_id"]).posts == [opening.body]


async def test_the_same_notification_sent_again_changes_nothing_and_sends_nothing(
    client: httpx.AsyncClient, bus: FakeCommandBus, tickets: Tickets
) -> None:
    [first] = await post(client, alert())
    sent = len(bus.sent)

    [again] = await post(client, alert())

    assert again["action"] == "unchanged"
    assert (again["ticket_id"], again["number"]) == (first["ticket_id"], first["number"])
    assert len(bus.sent) == sent
    assert len(tickets.of(first["ticket_id"]).posts) == 1


async def test_a_new_firing_of_the_alert_appends_one_reply_to_its_ticket(
    client: httpx.AsyncClient, tickets: Tickets
) -> None:
    [opened] = await post(client, alert())

    [refired] = await post(client, alert(starts_at="2026-03-14T11:02:00Z"))
    [again] = await post(client, alert(starts_at="2026-03-14T11:02:00Z"))

    assert (refired["action"], again["action"]) == ("appended", "unchanged")
    assert again["version"] == refired["version"] == tickets.of(opened["ticket_id"]).version
    assert refired["ticket_id"] == again["ticket_id"] == opened["ticket_id"]
    posts = tickets.of(opened["ticket_id"]).posts
    assert len(posts) == 2
    assert posts[1].startswith("Firing since 2026-03-14 11:02:00 UTC.")


async def test_a_resolved_alert_appends_its_resolution_once(client: httpx.AsyncClient, tickets: Tickets) -> None:
    [opened] = await post(client, alert())
    resolved = alert(status="resolved", ends_at="2026-03-14T09:40:00Z")

    [first] = await post(client, resolved)
    [again] = await post(client, resolved)

    assert (first["action"], again["action"]) == ("resolved", "unchanged")
    posts = tickets.of(opened["ticket_id"]).posts
    assert posts[1:] == ["Resolved at 2026-03-14 09:40:00 UTC (firing since 2026-03-14 08:58:07 UTC)."]


async def test_a_firing_after_the_ticket_was_closed_reopens_it_with_one_reply(
    client: httpx.AsyncClient, tickets: Tickets
) -> None:
    [opened] = await post(client, alert())
    tickets.close(opened["ticket_id"])

    [refired] = await post(client, alert(starts_at="2026-03-15T02:00:00Z"))

    assert refired["action"] == "appended"
    ticket = tickets.of(opened["ticket_id"])
    assert ticket.status is Status.OPEN
    assert len(ticket.posts) == 2


@pytest.mark.parametrize("settle", [Tickets.close, Tickets.resolve])
async def test_a_resolution_of_a_ticket_settled_already_is_not_posted(
    client: httpx.AsyncClient, tickets: Tickets, settle: Any
) -> None:
    [opened] = await post(client, alert())
    settle(tickets, opened["ticket_id"])
    status = tickets.of(opened["ticket_id"]).status

    [resolved] = await post(client, alert(status="resolved", ends_at="2026-03-14T09:40:00Z"))

    assert resolved["action"] == "unchanged"
    assert f"The ticket is {status.value}" in resolved["detail"]
    assert tickets.of(opened["ticket_id"]).status is status
    assert len(tickets.of(opened["ticket_id"]).posts) == 1


async def test_a_new_firing_more_than_a_day_after_the_open_still_appends_one_reply(
    client: httpx.AsyncClient, bus: FakeCommandBus, tickets: Tickets
) -> None:
    [opened] = await post(client, alert())
    await post(client, alert(status="resolved", ends_at="2026-03-14T09:40:00Z"))
    a_day_passes(bus)

    [refired] = await post(client, alert(starts_at="2026-03-17T10:00:00Z"))

    assert refired["action"] == "appended"
    assert len(tickets.of(opened["ticket_id"]).posts) == 3


async def test_a_firing_repeated_more_than_a_day_later_on_an_untouched_ticket_posts_nothing_more(
    client: httpx.AsyncClient, bus: FakeCommandBus, tickets: Tickets
) -> None:
    [opened] = await post(client, alert())
    a_day_passes(bus)

    [repeated] = await post(client, alert())

    assert repeated["ticket_id"] == opened["ticket_id"]
    assert len(tickets.of(opened["ticket_id"]).posts) == 1


async def test_an_alert_first_heard_of_as_resolved_opens_its_ticket_and_notes_the_resolution(
    client: httpx.AsyncClient, tickets: Tickets
) -> None:
    [result] = await post(client, alert(status="resolved", ends_at="2026-03-14T09:40:00Z"))

    assert result["action"] == "resolved"
    opening, resolution = tickets.of(result["ticket_id"]).posts
    assert opening.startswith("Resolved at 2026-03-14 09:40:00 UTC")
    assert "Ended: 2026-03-14T09:40:00+00:00" in opening
    assert resolution.startswith("Resolved at")


async def test_each_alert_of_a_notification_has_its_own_ticket_and_its_result_in_order(
    client: httpx.AsyncClient,
) -> None:
    await post(client, alert("00000000000000a1"))

    results = await post(client, alert("00000000000000b2"), alert("00000000000000a1", starts_at="2026-03-14T12:00:00Z"))

    assert [(r["fingerprint"], r["action"]) for r in results] == [
        ("00000000000000b2", "opened"),
        ("00000000000000a1", "appended"),
    ]
    assert results[0]["ticket_id"] != results[1]["ticket_id"]


async def test_the_same_fingerprint_of_another_account_is_another_ticket(client: httpx.AsyncClient) -> None:
    [ours] = await post(client, alert())

    response = await client.post("/v1/alerts", json=notification(alert()), headers=token_for("cust-7002"))

    assert response.status_code == 200, response.text
    [theirs] = response.json()["results"]
    assert theirs["action"] == "opened"
    assert theirs["ticket_id"] != ours["ticket_id"]


async def test_an_alert_not_decided_in_time_is_pending_with_its_command_to_ask_about() -> None:
    bus = FakeCommandBus(lambda command: None)
    async with serving(bus) as client:
        [result] = await post(client, alert())
        asked = await client.get(f"/v1/commands/{result['command_id']}", headers=KEY)

    [opening] = bus.sent
    assert (result["action"], result["command_id"], result["number"]) == ("pending", opening.command_id, None)
    assert asked.status_code == 202


async def test_a_refused_open_is_told_with_why(tickets: Tickets) -> None:
    def refusing(command: SentCommand) -> CommandOutcome:
        assert isinstance(command, OpenTicket)
        return CommandOutcome.of(
            command,
            ticket_id=command.ticket_id,
            result="refused",
            refusal=Refusal.INVALID,
            field="handling_organisation_id",
            detail="'mon-7001' takes no tickets.",
        )

    async with serving(FakeCommandBus(refusing)) as client:
        [result] = await post(client, alert())

    assert (result["action"], result["detail"]) == ("refused", "'mon-7001' takes no tickets.")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": "3"}, "version"),
        ({"alerts": []}, "alerts"),
        ({"alerts": [alert(f"{n:016x}") for n in range(101)]}, "alerts"),
        ({"alerts": [alert(), alert()]}, "alerts"),
        ({"alerts": [alert("not-a-fingerprint")]}, "alerts.0.fingerprint"),
        ({"alerts": [{**alert(), "startsAt": "yesterday"}]}, "alerts.0.startsAt"),
        ({"alerts": [{**alert(), "startsAt": "2026-03-14T08:58:07"}]}, "alerts.0.startsAt"),
        ({"alerts": [{**alert(), "status": "silenced"}]}, "alerts.0.status"),
        ({"alerts": [alert(labels={"instance": "x" * 1_001})]}, "alerts.0.labels.instance"),
        ({"alerts": [alert(annotations={"description": "bad\x00byte"})]}, "alerts.0.annotations.description"),
        ({"alerts": [alert(labels={f"l{n}": "v" for n in range(51)})]}, "alerts.0.labels"),
    ],
)
async def test_a_bad_notification_is_422_naming_the_field_and_sends_nothing(
    client: httpx.AsyncClient, bus: FakeCommandBus, change: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/alerts", json=notification(alert()) | change, headers=KEY)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {param["name"] for param in response.json()["invalid-params"]}
    assert bus.sent == []


async def test_a_body_that_is_not_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/alerts", content=b"{not json", headers=KEY | {"Content-Type": "application/json"})

    assert response.status_code == 422


async def test_fields_alertmanager_adds_are_ignored(client: httpx.AsyncClient) -> None:
    body = notification({**alert(), "silenceURL": "http://alertmanager/#/silences/new"}) | {"newField": 1}

    response = await client.post(
        "/v1/alerts", content=json.dumps(body), headers=KEY | {"Content-Type": "application/json"}
    )

    assert response.status_code == 200, response.text


async def test_an_api_key_without_tickets_write_is_403_and_sends_nothing(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    reader = api_key("alerting02", Scope.TICKETS_READ)

    response = await client.post("/v1/alerts", json=notification(alert()), headers=reader)

    assert response.status_code == 403, response.text
    assert bus.sent == []


async def test_no_credentials_is_401(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    response = await client.post("/v1/alerts", json=notification(alert()))

    assert response.status_code == 401
    assert bus.sent == []


async def test_opens_count_against_the_keys_limit_once_and_past_it_the_notification_is_429(
    tickets: Tickets,
) -> None:
    bus = FakeCommandBus(tickets)
    async with serving(bus, opens_per_key_per_hour=1) as client:
        first = await client.post("/v1/alerts", json=notification(alert()), headers=KEY)
        again = await client.post("/v1/alerts", json=notification(alert()), headers=KEY)
        another = await client.post("/v1/alerts", json=notification(alert("00000000000000c3")), headers=KEY)

    assert (first.status_code, again.status_code, another.status_code) == (200, 200, 429)
    assert "Retry-After" in another.headers
    assert another.json()["limit"] == 1
    assert len(tickets.tickets) == 1
