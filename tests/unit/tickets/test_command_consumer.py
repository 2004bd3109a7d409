"""The commands consumer keeps consuming whatever a fetch throws at it."""

from __future__ import annotations

from typing import Any

import nats.errors
import pytest
from hostdesk_contracts.subjects import Subjects
from hostdesk_tickets.adapters.commands import CommandConsumer
from hostdesk_tickets.settings import Settings


class ScriptedSubscription:
    """Answers each fetch with the next item of a script: an exception to raise, or messages to return."""

    def __init__(self, consumer: list[CommandConsumer], script: list[Any]) -> None:
        self.consumer = consumer
        self.script = script

    async def fetch(self, batch: int, timeout: float) -> list[Any]:  # noqa: ASYNC109 - nats-py's signature
        if not self.script:
            self.consumer[0].stop()
            return []
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return list(step)


@pytest.mark.parametrize("failure", [nats.errors.TimeoutError(), TimeoutError()], ids=["nats", "asyncio"])
async def test_a_fetch_that_times_out_in_any_flavour_is_followed_by_the_next_fetch(failure: BaseException) -> None:
    handled: list[str] = []
    holder: list[CommandConsumer] = []
    consumer = CommandConsumer(
        app=None,  # type: ignore[arg-type]
        nc=None,  # type: ignore[arg-type]
        js=None,  # type: ignore[arg-type]
        outcomes=None,  # type: ignore[arg-type]
        subjects=Subjects("unit"),
        settings=Settings(HOSTDESK_JWT_SECRET="unit-secret-0123456789abcdefghijklmnop"),
    )
    holder.append(consumer)

    async def handle_batch(messages: list[Any]) -> None:
        handled.extend(messages)

    consumer.handle_batch = handle_batch  # type: ignore[method-assign]

    await consumer._consume(ScriptedSubscription(holder, [failure, ["first"], failure, ["second"]]))  # type: ignore[arg-type]

    assert handled == ["first", "second"]
