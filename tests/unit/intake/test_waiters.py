"""Requests waiting for outcomes: shared per command id, bounded, and forgotten when they leave."""

from __future__ import annotations

import pytest
from hostdesk_intake.adapters.command_bus import BusUnavailable
from hostdesk_intake.adapters.waiting import OutcomeWaiters

from .builders import committed, open_command


async def test_an_outcome_resolves_every_request_waiting_for_its_command() -> None:
    waiters = OutcomeWaiters(limit=10)
    command = open_command()

    with waiters.waiting_for(command.command_id) as first, waiters.waiting_for(command.command_id) as second:
        resolved = waiters.resolve(committed(command))

        assert resolved
        assert first is second
        assert first.result().command_id == command.command_id


async def test_an_outcome_nobody_waits_for_is_dropped() -> None:
    waiters = OutcomeWaiters(limit=10)

    assert not waiters.resolve(committed(open_command()))


async def test_a_request_that_stopped_waiting_is_forgotten() -> None:
    waiters = OutcomeWaiters(limit=10)
    command = open_command()
    with waiters.waiting_for(command.command_id):
        pass

    assert len(waiters) == 0
    assert not waiters.resolve(committed(command))


async def test_past_the_limit_a_new_request_is_refused() -> None:
    waiters = OutcomeWaiters(limit=1)

    with waiters.waiting_for(open_command().command_id), pytest.raises(BusUnavailable):
        waiters.waiting_for(open_command().command_id).__enter__()
