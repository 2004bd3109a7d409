"""What a notification of monitoring alerts does: each alert opens its ticket, or posts to it, once.

Every alert's commands go through ``dispatch``, as an HTTP route's do: intake records each before it is sent, and a
command recorded already is answered with its outcome without being sent again. Each alert's ids
(``domain.alerts``) derive from its fingerprint and its firing, and the tickets service applies an id once, so
the same notification sent again (Alertmanager repeats a firing while it lasts, and retries a failed delivery)
changes nothing the second time, however long after.

A firing alert sends the open of its ticket first. The tickets service answers an open whose ticket exists with
the outcome of its first decision, alike whether it made the ticket now or long ago, so the open alone does not
say whether this firing is the one that opened it:
- intake records the open as asked by the firing that sent it first, for a day: a later firing's open within the
  day is known to be another firing's (``AnotherRequestsOutcome``), and that firing posts its reply;
- otherwise the alert looks at its ticket (``AlertCommands.look``): a ticket still at the version its open gave it
  is the one this firing opened, and nothing more is posted; a ticket that moved since was opened earlier, and
  this firing posts its reply. So a firing that lasts longer than a day, on a ticket that moved meanwhile, is
  told once more ("Firing since"); a new firing more than a day after the open, of a ticket nothing happened to
  since (no resolution, no staff), posts nothing and leaves the ticket waiting for staff as it was.
A reply from the requester (the monitoring system's account) to a closed or archived ticket reopens it, as the
ticket's rules do for any requester's post: a firing after the ticket was closed reopens it.

A resolved alert sends its open too, so that an alert first heard of as resolved still has its ticket, then looks
at it: the resolution is posted ("Resolved at") unless the ticket is resolved or closed already, since a
requester's post would take it back to the support team (a resolved ticket) or reopen it (a closed one).

Opens are counted against the caller's limit of opens (an API key's own, apart from its account's people: the
limit is there for a monitoring system opening many tickets), posts against its limit of replies, each once: a
notification sent again under the ids recorded is not counted again. Past a limit, the notification is refused as
a whole (``OverLimit``); what was recorded before stands, and the notification sent again applies the rest. A look
is counted against neither.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from hostdesk_contracts.base import Status
from hostdesk_contracts.commands import CommandBase
from hostdesk_contracts.outcomes import CommandOutcome, Refusal

from hostdesk_intake.adapters.command_bus import CommandBus
from hostdesk_intake.domain.alerts import Alert, AlertCommands, AlertStatus, asked
from hostdesk_intake.domain.commands import Envelope
from hostdesk_intake.service_layer.dispatch import AnotherRequestsOutcome, dispatch
from hostdesk_intake.service_layer.limits import Admission

AlertAction = Literal["opened", "appended", "resolved", "unchanged", "pending", "refused"]
# A ticket the support team has settled: a requester's post would take it back from them.
SETTLED = frozenset({Status.RESOLVED, Status.CLOSED})


@dataclass(frozen=True)
class Received:
    """What became of one alert: its ticket, what its notification did there, and the command that did it (or
    that is not decided yet, or that was refused, and why)."""

    fingerprint: str
    ticket_id: UUID
    action: AlertAction
    command_id: str
    number: int | None = None
    version: int | None = None
    detail: str | None = None


@dataclass(frozen=True)
class AlertIntake:
    """What the alerts of one notification are sent with: the bus, the envelope of the request (its caller and
    time), and what an open and a post count as."""

    bus: CommandBus
    envelope: Envelope
    opens: Admission | None = None
    posts: Admission | None = None


@dataclass(frozen=True)
class _Opened:
    """The alert's ticket once its open is decided: the open's outcome (``None`` when another firing's open is
    not decided yet), whether this firing opened it, and whether its open was recorded before this request."""

    outcome: CommandOutcome | None
    by_this_firing: bool
    recorded_before: bool

    @property
    def number(self) -> int | None:
        return self.outcome.number if self.outcome is not None else None


@dataclass(frozen=True)
class _Looked:
    status: Status
    version: int


async def receive(alerts: Sequence[Alert], *, intake: AlertIntake) -> list[Received]:
    """Each alert's commands, the alerts at once; what became of each, in the order given. Raises
    ``BusUnavailable`` or ``OverLimit`` once every alert is through: sent again, the notification applies what
    was not."""
    done = await asyncio.gather(*(_received(alert, intake) for alert in alerts), return_exceptions=True)
    received: list[Received] = []
    for result in done:
        if isinstance(result, BaseException):
            raise result
        received.append(result)
    return received


async def _received(alert: Alert, intake: AlertIntake) -> Received:
    commands = AlertCommands(alert=alert, actor=intake.envelope.actor, issued_at=intake.envelope.issued_at)
    opened = await _opened(commands, intake)
    if isinstance(opened, Received):
        return opened
    if alert.status is AlertStatus.FIRING:
        return await _fired(commands, opened, intake)
    return await _resolved(commands, opened, intake)


async def _fired(commands: AlertCommands, opened: _Opened, intake: AlertIntake) -> Received:
    if opened.by_this_firing and opened.outcome is not None:
        looked = await _looked(commands, intake)
        if isinstance(looked, Received):
            return looked
        if looked.version == opened.outcome.version:  # nothing happened since it opened: this firing opened it
            action: AlertAction = "unchanged" if opened.recorded_before else "opened"
            return _result(commands, action, opened.outcome)
    return await _posted(commands, commands.firing_reply(), intake, action="appended")


async def _resolved(commands: AlertCommands, opened: _Opened, intake: AlertIntake) -> Received:
    looked = await _looked(commands, intake)
    if isinstance(looked, Received):
        return looked
    if looked.status in SETTLED:
        return Received(
            fingerprint=commands.alert.fingerprint,
            ticket_id=commands.ticket_id,
            action="unchanged",
            command_id=commands.opening_id,
            number=opened.number,
            version=looked.version,
            detail=f"The ticket is {looked.status.value}: the resolution is not posted, which would reopen it.",
        )
    return await _posted(commands, commands.resolution(), intake, action="resolved")


async def _opened(commands: AlertCommands, intake: AlertIntake) -> _Opened | Received:
    """The alert's ticket once its open is decided, or what became of an alert whose open is not decided yet or
    was refused."""
    bus, opening = intake.bus, commands.opening()
    recorded_before = await bus.record(opening.command_id) is not None
    try:
        outcome = await dispatch(bus, opening, digest=commands.firing_digest, admission=intake.opens)
    except AnotherRequestsOutcome:  # another firing of the alert opened the ticket
        return _Opened(outcome=await bus.outcome(opening.command_id), by_this_firing=False, recorded_before=True)
    if outcome is None or outcome.result == "refused":
        return _undecided(commands, opening, outcome)
    return _Opened(outcome=outcome, by_this_firing=True, recorded_before=recorded_before)


async def _looked(commands: AlertCommands, intake: AlertIntake) -> _Looked | Received:
    look = commands.look()
    outcome = await dispatch(intake.bus, look, digest=asked(look.command_id))
    if outcome is None:
        return _undecided(commands, look, None)
    stale = outcome.refusal is Refusal.STALE
    if stale and outcome.current_status is not None and outcome.current_version is not None:
        return _Looked(status=outcome.current_status, version=outcome.current_version)
    return _undecided(commands, look, outcome)


async def _posted(commands: AlertCommands, post: CommandBase, intake: AlertIntake, *, action: AlertAction) -> Received:
    recorded_before = await intake.bus.record(post.command_id) is not None
    outcome = await dispatch(intake.bus, post, digest=asked(post.command_id), admission=intake.posts)
    if outcome is None or outcome.result == "refused":
        return _undecided(commands, post, outcome)
    return _result(commands, "unchanged" if recorded_before else action, outcome)


def _result(commands: AlertCommands, action: AlertAction, outcome: CommandOutcome) -> Received:
    return Received(
        fingerprint=commands.alert.fingerprint,
        ticket_id=commands.ticket_id,
        action=action,
        command_id=outcome.command_id,
        number=outcome.number,
        version=outcome.version,
    )


def _undecided(commands: AlertCommands, command: CommandBase, outcome: CommandOutcome | None) -> Received:
    """An alert whose ``command`` is not decided yet (``outcome`` is ``None``), or was refused: why."""
    pending = outcome is None
    detail = None if outcome is None else outcome.detail or (outcome.refusal or "refused")
    return Received(
        fingerprint=commands.alert.fingerprint,
        ticket_id=commands.ticket_id,
        action="pending" if pending else "refused",
        command_id=command.command_id,
        detail=detail,
    )
