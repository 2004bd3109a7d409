"""Intake's use cases: hand a request's commands to the tickets service and learn what became of them.

A command is durable once ``dispatch`` returns; its outcome comes with it or later, through ``outcome_of``.
Before it is sent, its record is claimed (``domain.idempotency``): the same Idempotency-Key makes the same
command id, and a second request under an id recorded for another request is refused, whenever it comes; a
retry of the same request whose outcome is stored gets it without sending anything again.

Opening a ticket and posting a reply are counted against their caller's limit (``service_layer.limits``) before
anything is recorded: a request refused for its limit leaves no record and no command. A retry of a request
accepted before (its Idempotency-Key's record is there, and is this request's) was counted then and is not
counted again; a key recorded for another request is refused (422) before it counts. Two copies of one request
sent at once, before either is recorded, are each counted: the count errs towards the limit, never past it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hostdesk_contracts.base import Actor
from hostdesk_contracts.outcomes import CommandOutcome

from hostdesk_intake.adapters.command_bus import CommandBus
from hostdesk_intake.domain.commands import SentCommand, is_outcome_of
from hostdesk_intake.domain.idempotency import KeyRecord
from hostdesk_intake.service_layer.limits import Admission


class AnotherRequestsOutcome(Exception):
    """The command's id was first used (by the same Idempotency-Key) for another request, whose outcome is not
    this request's."""

    def __init__(self, command_id: str) -> None:
        super().__init__(f"the id {command_id} is another request's")
        self.command_id = command_id


class NotYourCommand(Exception):
    """The command is not the caller's (another account's, another tenant's, or none): to the caller it does not
    exist."""

    def __init__(self, command_id: str) -> None:
        super().__init__(f"command {command_id} is not the caller's")
        self.command_id = command_id


async def dispatch(
    bus: CommandBus, command: SentCommand, *, digest: str | None = None, admission: Admission | None = None
) -> CommandOutcome | None:
    """Make the command durable and wait a while for its outcome: ``None`` when it is not decided in time.

    ``digest`` is that of the request, when it came with an Idempotency-Key; ``admission``, what it is counted
    as, when it is limited. Raises ``BusUnavailable`` when the command was not stored (or, for a limited one, its
    count could not be kept), ``AnotherRequestsOutcome`` when its id is another request's, ``OverLimit`` when
    the caller's limit refuses it.
    """
    record = KeyRecord.of(command.actor, digest)
    if admission is not None and not await _accepted_before(bus, command.command_id, record):
        await admission.admit()
    retried = await _claim(bus, command.command_id, record)
    outcome = await bus.outcome(command.command_id) if retried else None
    if outcome is None:
        outcome = await bus.send(command)
    if outcome is not None and not is_outcome_of(outcome, command):
        raise AnotherRequestsOutcome(command.command_id)
    return outcome


async def dispatch_all(
    bus: CommandBus, commands: Sequence[SentCommand], *, request_id: str, actor: Actor, digest: str | None = None
) -> list[CommandOutcome | None]:
    """Send the commands of one request at once; their outcomes in the same order, ``None`` for those not decided
    in time.

    The request's own id is claimed first, so a key used again with other tickets is refused before anything
    is recorded or sent; then each command's, so that its caller may poll it. Raises ``BusUnavailable`` when
    any could not be stored: those stored are applied, and the same commands sent again (the same ids) apply
    the others without repeating them.
    """
    record = KeyRecord.of(actor, digest)
    await _claim(bus, request_id, record)
    await asyncio.gather(*(_claim(bus, command.command_id, record) for command in commands))
    sent = await asyncio.gather(*(bus.send(command) for command in commands), return_exceptions=True)
    outcomes: list[CommandOutcome | None] = []
    for result in sent:
        if isinstance(result, BaseException):
            raise result
        outcomes.append(result)
    return outcomes


async def outcome_of(bus: CommandBus, command_id: str, *, caller: Actor) -> CommandOutcome | None:
    """The outcome of one of the caller's commands, ``None`` while undecided.

    A command is the caller's when intake recorded it as their account's in their tenant. Raises
    ``BusUnavailable`` when outcomes cannot be read, ``NotYourCommand`` for any other id: another account's or
    another tenant's command, or one never sent, alike, so that an answer never tells that an id exists.
    """
    record = await bus.record(command_id)
    if record is None or not record.belongs_to(caller):
        raise NotYourCommand(command_id)
    outcome = await bus.outcome(command_id)
    if outcome is not None and outcome.account_id != caller.account_id:
        raise NotYourCommand(command_id)
    return outcome


async def _accepted_before(bus: CommandBus, command_id: str, record: KeyRecord) -> bool:
    """Whether the request is a retry of one recorded under its id, which was counted then.

    A request without an Idempotency-Key has a fresh id, under which nothing is recorded: it is not looked up.
    Raises ``AnotherRequestsOutcome`` when the id was recorded for another request.
    """
    if record.digest is None:
        return False
    earlier = await bus.record(command_id)
    if earlier is None:
        return False
    if not earlier.allows(record):
        raise AnotherRequestsOutcome(command_id)
    return True


async def _claim(bus: CommandBus, command_id: str, record: KeyRecord) -> bool:
    """Claim the id for ``record``: ``False`` when claimed now, ``True`` for a retry of the request recorded.

    Raises ``AnotherRequestsOutcome`` when the id was recorded for another request.
    """
    earlier = await bus.claim(command_id, record)
    if earlier is None:
        return False
    if not earlier.allows(record):
        raise AnotherRequestsOutcome(command_id)
    return True
