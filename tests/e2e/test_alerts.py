"""Monitoring alerts through the whole system: the reseller R1's monitoring key sends Alertmanager's notifications
to intake; the alert opens one ticket addressed to the provider, a repeated notification changes nothing, a new
firing and the resolution are posted once each, and a firing after the provider's agent closed the ticket reopens
it. The ticket is read back through query, as its requester and its handling side see it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.conftest import Running
from tests.e2e.directory_tree import PA, Tree, build_tree
from tests.e2e.test_journey import read_ticket

FIRST_START = "2026-03-14T08:58:07.123456789Z"
SECOND_START = "2026-03-14T11:02:00Z"
THIRD_START = "2026-03-15T02:00:00Z"


def alert(
    fingerprint: str, *, starts_at: str, status: str = "firing", ends_at: str = "0001-01-01T00:00:00Z"
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "DiskFull", "instance": "db1.example.net:9100", "severity": "warning"},
        "annotations": {"summary": "Disk /var above 95% on db1", "description": "97% used"},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus.example.net:9090/graph?g0.expr=disk_used",
        "fingerprint": fingerprint,
    }


def notification(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        "status": alerts[0]["status"],
        "receiver": "hostdesk",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.net:9093",
        "alerts": list(alerts),
    }


async def sent(monitoring: httpx.AsyncClient, *alerts: dict[str, Any]) -> dict[str, Any]:
    """The result of a notification of one alert, decided (never pending: the system is up)."""
    response = await monitoring.post("/v1/alerts", json=notification(*alerts))
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["action"] != "pending", result
    return dict(result)


def posts_of(ticket: dict[str, Any]) -> list[str]:
    """The bodies of the ticket's posts (its opening's first), oldest first."""
    return [entry["body"] for entry in ticket["timeline"] if entry["kind"] in ("opened", "post")]


def client(running: Running, service: str, tree: Tree, caller: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=running.system.config.url(service), headers=tree.headers(caller), timeout=30)


async def test_an_alert_opens_one_ticket_its_firings_and_resolution_post_once_and_a_refire_reopens_it(
    running: Running,
) -> None:
    tree = await build_tree(running)
    fingerprint = uuid.uuid4().hex[:16]
    async with (
        client(running, "intake", tree, "KEY") as monitoring,
        client(running, "query", tree, "KEY") as monitoring_reads,
        client(running, "intake", tree, "PA") as agent,
        client(running, "query", tree, "PA") as agent_reads,
    ):
        opened = await sent(monitoring, alert(fingerprint, starts_at=FIRST_START))
        repeated = await sent(monitoring, alert(fingerprint, starts_at=FIRST_START))
        refired = await sent(monitoring, alert(fingerprint, starts_at=SECOND_START))
        resolution = alert(fingerprint, starts_at=SECOND_START, status="resolved", ends_at="2026-03-14T11:30:00Z")
        resolved = await sent(monitoring, resolution)
        resolved_again = await sent(monitoring, resolution)
        ticket_id = opened["ticket_id"]
        before_close = await read_ticket(monitoring_reads, ticket_id, min_version=resolved["version"])

        closed = await agent.post(f"/v1/tickets/{ticket_id}/close", json={"reason": "Disk cleaned up."})
        assert closed.status_code == 200, closed.text
        after_close = await sent(monitoring, alert(fingerprint, starts_at=THIRD_START))
        reopened = await read_ticket(agent_reads, ticket_id, min_version=after_close["version"])

    assert [r["action"] for r in (opened, repeated, refired, resolved, resolved_again, after_close)] == [
        "opened",
        "unchanged",
        "appended",
        "resolved",
        "unchanged",
        "appended",
    ]
    assert {r["ticket_id"] for r in (repeated, refired, resolved, resolved_again, after_close)} == {ticket_id}
    assert {r["number"] for r in (repeated, refired, resolved, after_close)} == {opened["number"]}

    assert before_close["subject"] == "Disk /var above 95% on db1 on db1.example.net:9100"
    assert (before_close["channel"], before_close["priority"]) == ("alert", "high")
    assert before_close["requester"]["account_id"] == "r1"
    assert before_close["handling_organisation_id"] == tree.provider
    first, second, third = posts_of(before_close)
    assert first.startswith("Firing since 2026-03-14 08:58:07 UTC.")
    assert "instance: db1.example.net:9100" in first
    assert second.startswith("Firing since 2026-03-14 11:02:00 UTC.")
    assert third == "Resolved at 2026-03-14 11:30:00 UTC (firing since 2026-03-14 11:02:00 UTC)."

    assert reopened["status"] == "open"
    assert len(posts_of(reopened)) == 4
    assert posts_of(reopened)[-1].startswith("Firing since 2026-03-15 02:00:00 UTC.")
    kinds = [entry["kind"] for entry in reopened["timeline"]]
    assert kinds.index("closed") < kinds.index("reopened")
    assert PA in {entry["actor"]["account_id"] for entry in reopened["timeline"] if entry["kind"] == "closed"}
