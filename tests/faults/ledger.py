"""Counting, after a fault, what every request of a load left behind: in the event log, in the read model and at
the mail sink.

A command is the set of requests sent with one account and one key. It is *accepted* when one of them got 201,
or 202 and then committed; *rejected* when every answer was a 4xx or a 5xx from an attempt that cannot have
been half-received; *unanswered* otherwise.

Accepted: each event it must record (``effects_of``) exactly once in the log under its command id; at that
event's version, exactly one timeline entry in the read model, of the event's kind and as the request asked
(the post whose ``post_id`` is the command id, the status and label set, the category, the tags, the staff
member assigned); for a staff reply, one mail to each address of the requesting side. Rejected: no trace of it
(its marker, or for an assignment its ticket, who assigned and whom) in the log or the read model. Unanswered:
each of its events at most once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hostdesk_contracts.base import Role

from tests.faults.harness import Deployment
from tests.faults.load import ASSIGNING, Kind, Load, Request, Sent
from tests.support import eventually

MARKER = re.compile(r"m\d{5}x[0-9a-f]{6}")
SETTLE_WITHIN = 120.0

# The events the load's requests record, and the kind of timeline entry query makes of each.
ENTRY_KINDS = {
    "Opened": "opened",
    "ReplyPosted": "post",
    "StatusChanged": "status_changed",
    "CategoryChanged": "category_changed",
    "TagsChanged": "tags_changed",
    "Assigned": "assigned",
}
UPDATED_FIELDS = {"category": "CategoryChanged", "tags": "TagsChanged"}
# Where an event or an entry of each kind carries the marker of the request that made it.
MARKED_IN_EVENT = {"Opened": "body", "ReplyPosted": "body", "StatusChanged": "reason", "CategoryChanged": "to_category"}
MARKED_IN_ENTRY = {"opened": "body", "post": "body", "status_changed": "reason", "category_changed": "to_value"}
# How the report names each kind of request.
KIND_NAMES: dict[Kind, str] = {
    "open": "opens",
    "customer_reply": "customer replies",
    "staff_reply": "staff replies",
    "update": "staff updates",
    "status_change": "status changes",
    "pickup": "pick-ups",
    "assignment": "assignments",
    "unassignment": "unassignments",
}


def effects_of(request: Request) -> tuple[str, ...]:
    """The events an accepted ``request`` records, one of each."""
    match request.kind:
        case "open":
            return ("Opened",)
        case "customer_reply" | "staff_reply":
            return ("ReplyPosted",)
        case "update":
            assert request.payload is not None
            return tuple(UPDATED_FIELDS[name] for name in request.payload)
        case "status_change":
            return ("StatusChanged",)
    return ("Assigned",)


def assignment_trace(ticket_id: str, by: str, to: str | None) -> str:
    return f"{ticket_id}: {by} assigned {to or 'nobody'}"


def trace_of(request: Request) -> str:
    """By what the request's events and entries are known: its marker, or who it assigned to whom."""
    if request.kind in ASSIGNING:
        assert request.ticket is not None
        return assignment_trace(request.ticket.ticket_id, request.account.account_id, request.assignee)
    return request.marker


def _marker_in(text: str | None) -> str:
    found = MARKER.findall(text or "")
    return found[0] if found else ""


def _event_trace(ticket_id: str, effect: str, state: dict[str, Any]) -> str:
    if effect == "Assigned":
        assignee = state["assignee"]
        return assignment_trace(ticket_id, state["actor"]["account_id"], assignee and assignee["account_id"])
    if effect == "TagsChanged":
        return _marker_in(" ".join(state["tags"]))
    return _marker_in(state.get(MARKED_IN_EVENT[effect]))


def _entry_trace(ticket_id: str, entry: dict[str, Any]) -> str:
    kind = entry["kind"]
    if kind == "assigned":
        return assignment_trace(ticket_id, entry["actor"]["account_id"], entry["to_value"])
    if kind == "tags_changed":
        return _marker_in(" ".join(entry["to_values"] or ()))
    return _marker_in(entry.get(MARKED_IN_ENTRY.get(kind, "body")))


@dataclass(frozen=True)
class LogEvent:
    ticket_id: str
    version: int
    effect: str  # the event's name, e.g. "ReplyPosted"
    command_id: str
    trace: str  # see ``trace_of``; empty when the event carries none (the status change a reply makes)


@dataclass
class LogEvents:
    events: list[LogEvent] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)

    def by_effect(self) -> dict[tuple[str, str], list[LogEvent]]:
        """(command id, event name) -> the events of that name the command recorded."""
        index: dict[tuple[str, str], list[LogEvent]] = defaultdict(list)
        for event in self.events:
            index[(event.command_id, event.effect)].append(event)
        return index


async def read_event_log(deployment: Deployment) -> LogEvents:
    connection = await deployment.connect()
    try:
        rows = await connection.fetch(
            "SELECT originator_id, originator_version, topic, state FROM tickets.tickets_events"
        )
    finally:
        await connection.close()
    log = LogEvents()
    for row in rows:
        ticket_id, version = str(row["originator_id"]), row["originator_version"]
        log.versions[ticket_id] = max(log.versions.get(ticket_id, 0), version)
        effect = row["topic"].rpartition(".")[2]
        if effect in ENTRY_KINDS:
            state = json.loads(bytes(row["state"]))
            trace = _event_trace(ticket_id, effect, state)
            log.events.append(LogEvent(ticket_id, version, effect, state["command_id"], trace))
    return log


async def settle_pending(deployment: Deployment, load: Load) -> None:
    """Poll the outcome of every 202 until it is decided: its status becomes the poll's answer."""
    pending = [sent for sent in load.sent if sent.status == 202]
    async with deployment.client("intake") as intake:

        async def settle(sent: Sent) -> bool:
            response = await intake.get(
                f"/v1/commands/{sent.answer['command_id']}",
                headers={"Authorization": f"Bearer {sent.request.account.token}"},
            )
            if response.status_code == 202:
                return False
            sent.status, sent.pending = response.status_code, True
            sent.answer = {**sent.answer, **response.json()}
            return True

        await asyncio.gather(*(eventually(lambda s=s: settle(s), within=SETTLE_WITHIN, every=0.5) for s in pending))


async def read_model(deployment: Deployment, versions: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Every ticket of the log as query serves it, once it has caught up with the log's version."""
    views: dict[str, dict[str, Any]] = {}
    limit = asyncio.Semaphore(16)
    async with deployment.client("query", deployment.token("auditor", Role.AGENT)) as query:

        async def caught_up(ticket_id: str) -> bool:
            async with limit:
                response = await query.get(f"/v1/tickets/{ticket_id}")
            if response.status_code != 200 or response.json()["version"] < versions[ticket_id]:
                return False
            views[ticket_id] = response.json()
            return True

        await asyncio.gather(
            *(eventually(lambda t=ticket_id: caught_up(t), within=SETTLE_WITHIN, every=0.5) for ticket_id in versions)
        )
    return views


@dataclass
class Command:
    requests: list[Sent]

    @property
    def first(self) -> Sent:
        return self.requests[0]

    @property
    def request(self) -> Request:
        return self.first.request

    @property
    def command_id(self) -> str | None:
        return next((sent.answer["command_id"] for sent in self.requests if "command_id" in sent.answer), None)

    @property
    def accepted(self) -> bool:
        return any(sent.status in (200, 201) and sent.answer.get("version") for sent in self.requests)

    @property
    def rejected(self) -> bool:
        return all(sent.status is not None and sent.status >= 400 and not sent.ambiguous for sent in self.requests)


def commands_of(load: Load) -> list[Command]:
    grouped: dict[tuple[str, str], list[Sent]] = defaultdict(list)
    for sent in load.sent:
        grouped[sent.command].append(sent)
    return [Command(requests) for requests in grouped.values()]


@dataclass
class Report:
    """The counts after one fault, printed whole and then asserted."""

    fault: str
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)

    def problem(self, count: int, what: str, examples: list[str]) -> None:
        if count:
            self.problems.append(f"{count} {what}, e.g. {', '.join(examples[:3])}")

    def __str__(self) -> str:
        verdict = "all effects exactly once" if not self.problems else "PROBLEMS:\n    " + "\n    ".join(self.problems)
        return "\n".join([f"\n== {self.fault}", *(f"   {line}" for line in self.lines), f"   {verdict}"])


def _tally(counts: Counter[str], keys: list[str]) -> tuple[list[str], list[str], list[str]]:
    once = [key for key in keys if counts[key] == 1]
    missing = [key for key in keys if counts[key] == 0]
    doubled = [key for key in keys if counts[key] > 1]
    return once, missing, doubled


async def audit(deployment: Deployment, load: Load, *, fault: str, mail_resends_possible: bool) -> Report:
    """Settle every 202, wait for the read model and the mail to catch up, then count."""
    report = Report(fault)
    sent = load.sent
    report.add(
        f"requests {len(sent)} ({sum(s.resend for s in sent)} sent again with their key): "
        f"{_kinds(s.request for s in sent if not s.resend)}"
    )
    report.add(f"answers: {_statuses(sent)}")
    await settle_pending(deployment, load)
    polled = [s for s in sent if s.pending]
    report.add(
        f"202s polled until decided {len(polled)} ({_statuses(polled)}); "
        f"requests sent again after a connection error {_retried(sent)}"
    )
    refused = [f"{s.marker} {s.kind} {s.status}" for s in sent if s.status is not None and 400 <= s.status < 500]
    report.problem(len(refused), "valid requests refused with a 4xx (at once or after a 202)", refused)

    commands = commands_of(load)
    accepted = [c for c in commands if c.accepted and c.command_id]
    rejected = [c for c in commands if not c.accepted and c.rejected]
    unanswered = [c for c in commands if not c.accepted and not c.rejected]
    log = await read_event_log(deployment)
    views = await read_model(deployment, log.versions)

    # Each event an accepted command must record, named "<marker> <event>".
    expected = {f"{c.request.marker} {effect}": (c, effect) for c in accepted for effect in effects_of(c.request)}
    recorded = log.by_effect()
    in_log = Counter({name: len(recorded[(c.command_id or "", effect)]) for name, (c, effect) in expected.items()})
    once, missing, doubled = _tally(in_log, list(expected))
    report.add(f"commands accepted {len(accepted)} (201, or 202 then committed): {_kinds(c.request for c in accepted)}")
    report.add(
        f"their {len(expected)} events in the event log: exactly once {len(once)}, missing {len(missing)}, "
        f"more than once {len(doubled)}"
    )
    report.problem(len(missing), "events of accepted commands missing from the event log", missing)
    report.problem(len(doubled), "events of accepted commands more than once in the event log", doubled)

    _count_read_model(views, log, expected, recorded, report)
    await _count_mail(deployment, accepted, rejected, report, mail_resends_possible=mail_resends_possible)
    _count_strays(views, log, accepted, rejected, unanswered, report)
    return report


def _count_read_model(
    views: dict[str, dict[str, Any]],
    log: LogEvents,
    expected: dict[str, tuple[Command, str]],
    recorded: dict[tuple[str, str], list[LogEvent]],
    report: Report,
) -> None:
    """Each expected event's entry, found at the event's version in the read model, exactly once and as sent."""
    at: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for ticket_id, view in views.items():
        # In time order; one entry a version while nothing is merged.
        positions = sorted((entry["version"], entry["part"]) for entry in view["timeline"])
        if positions != [(version, 0) for version in range(1, log.versions[ticket_id] + 1)]:
            report.problem(1, "read-model timelines that are not the log's versions", [ticket_id])
        for entry in view["timeline"]:
            at[(ticket_id, entry["version"])].append(entry)

    in_model: Counter[str] = Counter()
    unlike: list[str] = []
    for name, (command, effect) in expected.items():
        for event in recorded[(command.command_id or "", effect)]:
            entries = [e for e in at[(event.ticket_id, event.version)] if e["kind"] == ENTRY_KINDS[effect]]
            like = [e for e in entries if _as_sent(e, command.request, event.command_id)]
            in_model[name] += len(like)
            if len(like) < len(entries):
                unlike.append(name)
    once, missing, doubled = _tally(in_model, list(expected))
    report.add(
        f"in the read model ({len(views)} tickets caught up with the log): exactly once {len(once)}, "
        f"missing {len(missing)}, more than once {len(doubled)}, not as the request asked {len(unlike)}"
    )
    report.problem(len(missing), "events of accepted commands missing from the read model", missing)
    report.problem(len(doubled), "events of accepted commands more than once in the read model", doubled)
    report.problem(len(unlike), "read-model entries unlike what their request asked", unlike)


def _as_sent(entry: dict[str, Any], request: Request, command_id: str) -> bool:
    """The timeline ``entry`` shows what ``request`` asked."""
    asked = request.payload or {}
    match entry["kind"]:
        case "opened" | "post":
            return bool(entry["post_id"] == command_id and request.marker in (entry["body"] or ""))
        case "status_changed":
            return bool(
                request.status is not None
                and entry["to_status"] == request.status.value
                and entry["status_label"] == request.label
                and request.marker in (entry["reason"] or "")
            )
        case "category_changed":
            return bool(entry["to_value"] == asked["category"])
        case "tags_changed":
            return bool(list(entry["to_values"] or ()) == asked["tags"])
        case "assigned":
            return bool(
                entry["to_value"] == request.assignee and entry["actor"]["account_id"] == request.account.account_id
            )
    return False


def _count_strays(
    views: dict[str, dict[str, Any]],
    log: LogEvents,
    accepted: list[Command],
    rejected: list[Command],
    unanswered: list[Command],
    report: Report,
) -> None:
    """What no accepted command recorded: none of it from a rejected command, at most once from an unanswered."""
    accepted_ids = {c.command_id for c in accepted}
    in_log = Counter((event.trace, event.effect) for event in log.events if event.command_id not in accepted_ids)
    theirs = {(event.ticket_id, event.version) for event in log.events if event.command_id in accepted_ids}
    in_model = Counter(
        _entry_trace(ticket_id, entry)
        for ticket_id, view in views.items()
        for entry in view["timeline"]
        if (ticket_id, entry["version"]) not in theirs
    )

    def left_in_log(command: Command) -> int:
        return max(in_log[(trace_of(command.request), effect)] for effect in effects_of(command.request))

    logged = [trace_of(c.request) for c in rejected if left_in_log(c)]
    shown = [trace_of(c.request) for c in rejected if in_model[trace_of(c.request)]]
    report.add(
        f"rejected {len(rejected)} ({_statuses(c.requests[-1] for c in rejected)}): "
        f"traces in the event log {len(logged)}, in the read model {len(shown)}"
    )
    report.problem(len(logged), "rejected requests applied anyway (event log)", logged)
    report.problem(len(shown), "rejected requests applied anyway (read model)", shown)
    doubled = [trace_of(c.request) for c in unanswered if left_in_log(c) > 1]
    report.add(f"unanswered {len(unanswered)}: more than once in the event log {len(doubled)}")
    report.problem(len(doubled), "unanswered requests applied more than once", doubled)


def _kinds(requests: Iterable[Request]) -> str:
    counts = Counter(request.kind for request in requests)
    return ", ".join(f"{name} {counts[kind]}" for kind, name in KIND_NAMES.items())


def _statuses(sent: Iterable[Sent]) -> str:
    answers = Counter("no answer" if s.status is None else str(s.status) for s in sent)
    return ", ".join(f"{status} x{count}" for status, count in sorted(answers.items())) or "none"


def _retried(sent: list[Sent]) -> int:
    return sum(s.attempts > 1 for s in sent)


def _mails_by_marker(deployment: Deployment, markers: set[str]) -> dict[tuple[str, str], list[str]]:
    """(marker, recipient) -> the Message-ID of every mail received for it, a resend included."""
    index: dict[tuple[str, str], list[str]] = defaultdict(list)
    for mail in deployment.sink.mailbox.all():
        for marker in set(MARKER.findall(mail.body)) & markers:
            for recipient in mail.rcpt_tos:
                index[(marker, recipient.lower())].append(str(mail.message["Message-ID"]))
    return index


async def _where_missing_mail_is(deployment: Deployment, missing: list[str]) -> list[str]:
    """Each missing mail with what notify has of it: its outbox row (state, attempts, last error) or, without
    one, whether its event is in notify's inbox, dead-lettered (and why), or never handled."""
    connection = await deployment.connect()
    try:
        explained = []
        for line in missing:
            marker, _, recipient = line.partition(" to ")
            outbox = await connection.fetchrow(
                "SELECT event_id, status, attempts, last_error FROM notify.outbox"
                " WHERE recipient = $1 AND strpos(body, $2) > 0",
                recipient,
                marker,
            )
            if outbox is not None:
                where = (
                    f"outbox {outbox['event_id']}: {outbox['status']} after {outbox['attempts']} attempts"
                    f" ({outbox['last_error']})"
                )
            else:
                letters = await connection.fetch(
                    "SELECT stream_seq, error FROM notify.dead_letters WHERE position($1::bytea in payload) > 0",
                    marker.encode(),
                )
                handled = await connection.fetchval(
                    "SELECT count(*) FROM notify.inbox i JOIN tickets.tickets_events e"
                    " ON i.event_id = e.originator_id::text || ':' || e.originator_version"
                    " WHERE strpos(convert_from(e.state, 'UTF8'), $1) > 0",
                    marker,
                )
                dead = "; ".join(f"dead-lettered at stream seq {r['stream_seq']}: {r['error']}" for r in letters)
                where = dead or ("in the inbox with no outbox row" if handled else "never handled by notify")
            explained.append(f"{line}: {where}")
        return explained
    finally:
        await connection.close()


async def _count_mail(
    deployment: Deployment,
    accepted: list[Command],
    rejected: list[Command],
    report: Report,
    *,
    mail_resends_possible: bool,
) -> None:
    expected: set[tuple[str, str]] = set()
    for command in accepted:
        ticket = command.request.ticket
        if command.request.kind == "staff_reply" and ticket is not None:
            assert ticket.owner.email is not None
            expected |= {(command.request.marker, ticket.owner.email), (command.request.marker, ticket.cc)}
    replies = {marker for marker, _ in expected}
    refused = {c.request.marker for c in rejected if c.request.kind == "staff_reply"}

    async def all_arrived() -> bool:
        return expected <= _mails_by_marker(deployment, replies).keys()

    with contextlib.suppress(AssertionError):  # what is missing is counted below
        await eventually(all_arrived, within=SETTLE_WITHIN, every=0.5)
    received = _mails_by_marker(deployment, replies | refused)
    missing = sorted(f"{m} to {r}" for m, r in expected - received.keys())
    unexpected = sorted(f"{m} to {r}" for m, r in received.keys() - expected if m in replies)
    several = [f"{m} to {r}" for (m, r), ids in received.items() if m in replies and len(set(ids)) > 1]
    resent = [f"{m} to {r}" for (m, r), ids in received.items() if len(set(ids)) == 1 and len(ids) > 1]
    refused_mailed = sorted(f"{m} to {r}" for m, r in received if m in refused)
    once = sum(len(ids) == 1 for key, ids in received.items() if key in expected)
    report.add(
        f"mails expected {len(expected)} ({len(replies)} accepted staff replies x requester and CC): exactly one "
        f"{once}, missing {len(missing)}, several distinct {len(several)}, sent again with the same Message-ID "
        f"{len(resent)}, to an address not of the requesting side {len(unexpected)}, for rejected requests "
        f"{len(refused_mailed)}"
    )
    report.problem(len(missing), "mails never received", await _where_missing_mail_is(deployment, missing))
    report.problem(len(several), "recipients mailed more than once for one event", several)
    report.problem(len(unexpected), "mails to unexpected addresses", unexpected)
    report.problem(len(refused_mailed), "mails for rejected requests", refused_mailed)
    if not mail_resends_possible:
        report.problem(len(resent), "mails sent twice although notify never lost its database or its process", resent)
