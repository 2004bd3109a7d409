"""Counting, after a fault, what every request of a load left behind: in the event log, in the read model and at
the mail sink.

A command is the set of requests sent with one account and one key. It is *accepted* when one of them got 201,
or 202 and then committed; *rejected* when every answer was a 4xx or a 5xx from an attempt that cannot have
been half-received; *unanswered* otherwise. Accepted: exactly one event in the log (``TicketOpened`` or
``ReplyPosted`` with its command id), exactly one timeline entry in the read model (the ``opened`` entry or the
post whose ``post_id`` is the command id), and for a staff reply one mail to each address of the requesting
side. Rejected: no trace anywhere. Unanswered: at most one event.
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
from tests.faults.load import Load, Sent
from tests.support import eventually

MARKER = re.compile(r"m\d{5}x[0-9a-f]{6}")
EFFECTS = (":Ticket.Opened", ":Ticket.ReplyPosted")
SETTLE_WITHIN = 120.0


@dataclass
class LogEvents:
    by_command: Counter[str] = field(default_factory=Counter)
    by_marker: Counter[str] = field(default_factory=Counter)
    versions: dict[str, int] = field(default_factory=dict)


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
        ticket_id = str(row["originator_id"])
        log.versions[ticket_id] = max(log.versions.get(ticket_id, 0), row["originator_version"])
        if row["topic"].endswith(EFFECTS):
            state = json.loads(bytes(row["state"]))
            log.by_command[state["command_id"]] += 1
            log.by_marker.update(MARKER.findall(state.get("body", "")))
    return log


async def settle_pending(deployment: Deployment, load: Load) -> None:
    """Poll the outcome of every 202 until it is decided: its status becomes the poll's answer."""
    pending = [sent for sent in load.sent if sent.status == 202]
    async with deployment.client("intake") as intake:

        async def settle(sent: Sent) -> bool:
            response = await intake.get(
                f"/v1/commands/{sent.answer['command_id']}",
                headers={"Authorization": f"Bearer {sent.account.token}"},
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
    kinds = Counter(s.kind for s in sent if not s.resend)
    report.add(
        f"requests {len(sent)}: opens {kinds['open']}, customer replies {kinds['customer_reply']}, "
        f"staff replies {kinds['staff_reply']}, sent again with their key {sum(s.resend for s in sent)}"
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
    accepted = [c for c in commands if c.accepted]
    rejected = [c for c in commands if not c.accepted and c.rejected]
    unanswered = [c for c in commands if not c.accepted and not c.rejected]
    log = await read_event_log(deployment)
    views = await read_model(deployment, log.versions)

    ids = [c.command_id for c in accepted if c.command_id]
    once, missing, doubled = _tally(log.by_command, ids)
    report.add(
        f"commands accepted {len(accepted)} (201, or 202 then committed): in the event log exactly once "
        f"{len(once)}, missing {len(missing)}, more than once {len(doubled)}"
    )
    report.problem(len(missing), "accepted commands missing from the event log", missing)
    report.problem(len(doubled), "accepted commands more than once in the event log", doubled)

    entries: Counter[str] = Counter()
    model_markers: Counter[str] = Counter()
    for ticket_id, view in views.items():
        versions = [entry["version"] for entry in view["timeline"]]
        if versions != list(range(1, log.versions[ticket_id] + 1)):
            report.problem(1, "read-model timelines that are not the log's versions", [ticket_id])
        for entry in view["timeline"]:
            if entry["kind"] in ("opened", "post") and entry.get("post_id"):
                entries[entry["post_id"]] += 1
                model_markers.update(MARKER.findall(entry.get("body") or ""))
    once, missing, doubled = _tally(entries, ids)
    report.add(
        f"read model ({len(views)} tickets caught up with the log): exactly once {len(once)}, "
        f"missing {len(missing)}, more than once {len(doubled)}"
    )
    report.problem(len(missing), "accepted commands missing from the read model", missing)
    report.problem(len(doubled), "accepted commands more than once in the read model", doubled)

    await _count_mail(deployment, load, accepted, rejected, report, mail_resends_possible=mail_resends_possible)

    markers = [c.first.marker for c in rejected]
    in_log = [m for m in markers if log.by_marker[m]]
    in_model = [m for m in markers if model_markers[m]]
    report.add(
        f"rejected {len(rejected)} ({_statuses(c.requests[-1] for c in rejected)}): "
        f"traces in the event log {len(in_log)}, in the read model {len(in_model)}"
    )
    report.problem(len(in_log), "rejected requests applied anyway (event log)", in_log)
    report.problem(len(in_model), "rejected requests applied anyway (read model)", in_model)
    doubled_unanswered = [c.first.marker for c in unanswered if log.by_marker[c.first.marker] > 1]
    report.add(f"unanswered {len(unanswered)}: more than once in the event log {len(doubled_unanswered)}")
    report.problem(len(doubled_unanswered), "unanswered requests applied more than once", doubled_unanswered)
    return report


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


async def _count_mail(
    deployment: Deployment,
    load: Load,
    accepted: list[Command],
    rejected: list[Command],
    report: Report,
    *,
    mail_resends_possible: bool,
) -> None:
    tickets = {ticket.ticket_id: ticket for ticket in load.tickets}
    expected: set[tuple[str, str]] = set()
    for command in accepted:
        if command.first.kind == "staff_reply":
            ticket = tickets[command.first.path.split("/")[3]]
            assert ticket.owner.email is not None
            expected |= {(command.first.marker, ticket.owner.email), (command.first.marker, ticket.cc)}
    replies = {marker for marker, _ in expected}
    refused = {c.first.marker for c in rejected if c.first.kind == "staff_reply"}

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
    report.problem(len(missing), "mails never received", missing)
    report.problem(len(several), "recipients mailed more than once for one event", several)
    report.problem(len(unexpected), "mails to unexpected addresses", unexpected)
    report.problem(len(refused_mailed), "mails for rejected requests", refused_mailed)
    if not mail_resends_possible:
        report.problem(len(resent), "mails sent twice although notify never lost its database or its process", resent)
