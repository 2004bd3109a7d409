"""The commands consumer answers a command delivered again with its first answer."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from eventsourcing.persistence import PersistenceError
from hostdesk_contracts.base import Rating
from hostdesk_contracts.commands import CommandBase, RateTicket
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.subjects import Subjects
from hostdesk_tickets.entrypoints.commands import CommandConsumer
from hostdesk_tickets.settings import Settings
from nats.js.errors import KeyNotFoundError

from .builders import CUSTOMER, DIRECTORY, command, opened_ticket


class Message:
    """A delivered command, as much of nats-py's Msg as the consumer reads."""

    def __init__(self, command: CommandBase, *, deliveries: int) -> None:
        self.subject = Subjects("unit").command(command)
        self.data = command.model_dump_json().encode()
        self.headers: dict[str, str] = {}
        self.metadata = SimpleNamespace(num_delivered=deliveries, sequence=SimpleNamespace(stream=1))
        self.acked = False
        self.progress = 0

    async def ack(self) -> None:
        self.acked = True

    async def in_progress(self) -> None:
        self.progress += 1


class Outcomes:
    def __init__(self, stored: dict[str, CommandOutcome]) -> None:
        self.stored = {key: outcome.model_dump_json().encode() for key, outcome in stored.items()}

    async def get(self, key: str) -> Any:
        if key not in self.stored:
            raise KeyNotFoundError
        return SimpleNamespace(value=self.stored[key])

    async def put(self, key: str, value: bytes) -> int:
        self.stored[key] = value
        return 1


class DecidingApp:
    def __init__(self) -> None:
        self.decided: list[str] = []

    def handle_batch(self, commands: list[Any], facts: Any) -> list[CommandOutcome]:
        self.decided.extend(command.command_id for command in commands)
        return [
            CommandOutcome(
                command_id=command.command_id,
                account_id=command.actor.account_id,
                ticket_id=command.ticket_id,
                result="committed",
                version=2,
            )
            for command in commands
        ]


async def test_a_refused_command_delivered_again_gets_its_first_answer_and_is_not_decided_again() -> None:
    rating = command(RateTicket, opened_ticket(), CUSTOMER, rating=Rating.SATISFIED)
    first_answer = CommandOutcome(
        command_id=rating.command_id,
        account_id=CUSTOMER.account_id,
        ticket_id=rating.ticket_id,
        result="refused",
        refusal=Refusal.CONFLICT,
        detail="Ticket #482913 is open; rate it once it is resolved.",
    )
    fresh = command(RateTicket, opened_ticket(), CUSTOMER, rating=Rating.NEUTRAL)
    app, outcomes = DecidingApp(), Outcomes({rating.command_id: first_answer})
    consumer = CommandConsumer(
        app=app,  # type: ignore[arg-type]
        nc=None,  # type: ignore[arg-type]
        js=None,  # type: ignore[arg-type]
        outcomes=outcomes,  # type: ignore[arg-type]
        directory=DIRECTORY,
        subjects=Subjects("unit"),
        settings=Settings(HOSTDESK_JWT_SECRET="unit-secret-0123456789abcdefghijklmnop"),
    )
    again, new = Message(rating, deliveries=2), Message(fresh, deliveries=2)

    await consumer.handle_batch([again, new])  # type: ignore[list-item]

    assert app.decided == [fresh.command_id]  # no stored outcome: decided
    assert CommandOutcome.model_validate_json(outcomes.stored[rating.command_id]) == first_answer
    assert (again.acked, new.acked) == (True, True)


class AwayThenBack(DecidingApp):
    """The event store away for the first ``failures`` batches."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def handle_batch(self, commands: list[Any], facts: Any) -> list[CommandOutcome]:
        if self.failures:
            self.failures -= 1
            raise PersistenceError("connection refused")
        return super().handle_batch(commands, facts)


async def test_commands_are_held_while_the_event_store_is_away_and_decided_once_it_is_back() -> None:
    rating = command(RateTicket, opened_ticket(), CUSTOMER, rating=Rating.SATISFIED)
    app = AwayThenBack(failures=2)
    consumer = CommandConsumer(
        app=app,  # type: ignore[arg-type]
        nc=None,  # type: ignore[arg-type]
        js=None,  # type: ignore[arg-type]
        outcomes=Outcomes({}),  # type: ignore[arg-type]
        directory=DIRECTORY,
        subjects=Subjects("unit"),
        settings=Settings(HOSTDESK_JWT_SECRET="unit-secret-0123456789abcdefghijklmnop"),
    )
    message = Message(rating, deliveries=1)

    await consumer.handle_batch([message])  # type: ignore[list-item]

    assert (app.decided, message.acked, message.progress) == ([rating.command_id], True, 2)
