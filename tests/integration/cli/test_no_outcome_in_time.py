"""A command that gets no outcome in time (the tickets service is down) is durable: ``hostdesk`` says so, exits 2
and names the command; run again once the service is back, it is the same command, applied once."""

from __future__ import annotations

import asyncio
import re

from hostdesk_contracts.directory import AccountRecord
from hostdesk_contracts.subjects import Subjects
from hostdesk_tickets.runtime import start
from hostdesk_tickets.settings import Settings

from .conftest import Bucket, Hostdesk, delete_directory_bucket


async def test_a_command_without_outcome_is_applied_once_the_service_is_back(
    declared_streams: Subjects,
    tickets_settings: Settings,
    hostdesk: Hostdesk,
    bucket: Bucket,
    provider: str,
    nats_url: str,
) -> None:
    args = ("accounts", "put", provider, "--kind", "provider", "--name", "Host Co")

    try:
        waited = await hostdesk("--wait", "1", *args)
        runtime = await start(tickets_settings)
        try:
            again = await hostdesk(*args)
            retried = await hostdesk(*args, "--command-id", _command_id(waited.stderr))
            record = await bucket.wait_for(f"principal.{provider}", version=1)
            events = await asyncio.to_thread(runtime.tickets.recorder.max_notification_id)
        finally:
            await runtime.stop()
    finally:
        await delete_directory_bucket(nats_url, declared_streams)

    assert waited.exit_code == 2, waited.output
    assert "may still be" in waited.stderr
    assert again.exit_code == 0, again.output
    # The same command (its outcome says created) or, once the bucket has the record, a put of what it is.
    assert re.search(r"Created principal\.|nothing changed \(version 1\)", again.stdout), again.stdout
    assert retried.exit_code == 0, retried.output
    assert isinstance(record, AccountRecord)
    assert events == 1  # one event: the three runs were one command


def _command_id(said: str) -> str:
    found = re.search(r"--command-id ([A-Za-z0-9_-]+)$", said.strip())
    assert found is not None, said
    return found.group(1)
