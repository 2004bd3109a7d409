"""The pull-consumer loop every service runs: it keeps fetching whatever a fetch or a batch throws at it."""

from __future__ import annotations

import asyncio
from typing import Any

import nats.errors
import pytest
from hostdesk_contracts.runtime.consumer import DurableConsumer, PullConsumer, Redelivery, hold

SPEC = DurableConsumer(stream="S", name="c", filter_subject="s.>")


class ScriptedSubscription:
    """Answers each fetch with the next item of a script: an exception to raise, or messages to return; then
    tells the consumer to stop."""

    def __init__(self, stopping: asyncio.Event, script: list[Any]) -> None:
        self.stopping, self.script = stopping, script

    async def fetch(self, batch: int, timeout: float) -> list[Any]:  # noqa: ASYNC109 - nats-py's signature
        if not self.script:
            self.stopping.set()
            return []
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return list(step)


class Message:
    def __init__(self, name: str) -> None:
        self.name, self.answers, self.progress = name, list[str](), 0

    async def nak(self, delay: float | None = None) -> None:
        self.answers.append(f"nak {delay}")

    async def in_progress(self) -> None:
        self.progress += 1


@pytest.mark.parametrize("failure", [nats.errors.TimeoutError(), TimeoutError()], ids=["nats", "asyncio"])
async def test_a_fetch_that_times_out_in_any_flavour_is_followed_by_the_next_fetch(failure: BaseException) -> None:
    handled: list[str] = []
    stopping = asyncio.Event()

    async def handle(messages: list[Any]) -> None:
        handled.extend(messages)

    consumer = PullConsumer(None, spec=SPEC, handle=handle, batch=10, stopping=stopping)  # type: ignore[arg-type]

    await consumer._pump(ScriptedSubscription(stopping, [failure, ["first"], failure, ["second"]]))  # type: ignore[arg-type]

    assert handled == ["first", "second"]


async def test_a_batch_whose_handling_fails_is_handed_back_and_the_next_batch_is_handled() -> None:
    stopping, failing, later = asyncio.Event(), Message("failing"), Message("later")
    handled: list[str] = []

    async def handle(messages: list[Any]) -> None:
        if messages[0] is failing:
            raise RuntimeError("a bug")
        handled.extend(message.name for message in messages)

    consumer = PullConsumer(None, spec=SPEC, handle=handle, batch=10, stopping=stopping)  # type: ignore[arg-type]

    await consumer._pump(ScriptedSubscription(stopping, [[failing], [later]]))  # type: ignore[arg-type]

    assert (failing.answers, handled) == (["nak 2.0"], ["later"])


def test_each_delivery_of_a_message_not_ready_waits_twice_as_long_up_to_the_longest_wait() -> None:
    redelivery = Redelivery(max_deliver=6, first_delay=0.5, max_delay=3.0)

    assert [redelivery.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert redelivery.patience == 9.5
    assert (redelivery.exhausted(5), redelivery.exhausted(6)) == (False, True)


async def test_held_messages_are_kept_in_progress_until_the_dependency_answers() -> None:
    messages, attempts = [Message("a"), Message("b")], [0]

    async def attempt() -> str:
        attempts[0] += 1
        if attempts[0] < 3:
            raise ConnectionRefusedError
        return "stored"

    result = await hold(attempt, held=messages, unavailable=(OSError,), stopping=asyncio.Event(), max_delay=0.01)

    assert (result, [m.progress for m in messages]) == ("stored", [2, 2])


async def test_a_hold_asked_to_stop_gives_up_with_the_dependency_s_error() -> None:
    stopping = asyncio.Event()
    stopping.set()

    async def attempt() -> str:
        raise ConnectionRefusedError

    with pytest.raises(ConnectionRefusedError):
        await hold(attempt, held=[], unavailable=(OSError,), stopping=stopping)
