"""The directory over NATS, as the tickets service expects its commands (see intake's command bus, which this
follows without sharing its code):

1. Subscribe to this run's inbox (``<root>.outcomes.<inbox>.*``) before anything is sent.
2. Publish the command to JetStream on ``Subjects.directory_command`` with ``Nats-Msg-Id`` = its command id (a
   second publish within the duplicate window is dropped) and ``Outcome-Reply-To`` = this run's inbox subject.
3. Wait for the outcome on the inbox, looking in the outcomes bucket (key: the command id) now and then: core
   NATS delivers at most once, and a duplicate's outcome went to the inbox of the run that sent it first.

The records are read from the directory bucket, which the tickets service fills from its events.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from hostdesk_contracts.commands import ImportTicket
from hostdesk_contracts.directory import AnyDirectoryCommand, Record
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.runtime.nats import without_password
from hostdesk_contracts.runtime.nats_auth import inbox_prefix
from hostdesk_contracts.subjects import MSG_ID, REPLY_TO, Subjects
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, InvalidKeyError, KeyNotFoundError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from hostdesk_cli.connection import Connection
from hostdesk_cli.directory import Directory, Unreachable
from hostdesk_cli.records import RecordKind, parse_record

CONNECT_SECONDS = 5.0
REQUEST_SECONDS = 5.0  # each publish, get and watch
FIRST_LOOK_PAUSE = 0.05  # seconds between looks in the outcomes bucket, doubling up to the last
LAST_LOOK_PAUSE = 0.5


class NatsDirectory:
    def __init__(self, *, nc: Client, subjects: Subjects, records: KeyValue, outcomes: KeyValue, wait: float) -> None:
        self._nc, self._js = nc, nc.jetstream(timeout=REQUEST_SECONDS)
        self._subjects = subjects
        self._records, self._outcomes = records, outcomes
        self._wait = wait
        self._inbox = f"cli_{secrets.token_hex(8)}"
        self._answers: dict[str, asyncio.Future[CommandOutcome]] = {}

    async def listen(self) -> None:
        await self._nc.subscribe(self._subjects.outcome_inbox(self._inbox), cb=self._on_outcome)

    async def get(self, key: str) -> Record | None:
        try:
            entry = await self._records.get(key)
        except (KeyNotFoundError, InvalidKeyError):
            return None
        except (NatsError, TimeoutError) as error:
            raise Unreachable(f"the directory bucket cannot be read ({type(error).__name__})") from error
        return parse_record(key, entry.value) if entry.value else None

    async def records(self, kind: RecordKind) -> list[Record]:
        found: list[Record] = []
        try:
            watcher = await self._records.watch(f"{kind.value}.*", ignore_deletes=True)
            try:
                while (entry := await watcher.updates(timeout=REQUEST_SECONDS)) is not None:  # type: ignore[no-untyped-call]
                    if entry.value and (record := parse_record(entry.key, entry.value)) is not None:
                        found.append(record)
            finally:
                await watcher.stop()  # type: ignore[no-untyped-call]
        except (NatsError, TimeoutError) as error:
            raise Unreachable(f"the directory bucket cannot be read ({type(error).__name__})") from error
        return found

    async def send(self, command: AnyDirectoryCommand | ImportTicket) -> CommandOutcome | None:
        answer = asyncio.get_running_loop().create_future()
        self._answers[command.command_id] = answer
        try:
            await self._publish(command)
            return await self._outcome_of(command.command_id, answer)
        finally:
            del self._answers[command.command_id]

    async def _publish(self, command: AnyDirectoryCommand | ImportTicket) -> None:
        headers = {MSG_ID: command.command_id, REPLY_TO: self._subjects.outcome(self._inbox, command.command_id)}
        try:
            await self._js.publish(self._subjects.command(command), command.model_dump_json().encode(), headers=headers)
        except (NatsError, TimeoutError) as error:
            raise Unreachable(f"JetStream did not take the command ({type(error).__name__})") from error

    async def _outcome_of(self, command_id: str, answer: asyncio.Future[CommandOutcome]) -> CommandOutcome | None:
        """The answer on the inbox, or the outcome in the bucket, whichever comes first within the wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        pause = FIRST_LOOK_PAUSE
        while True:
            remaining = deadline - loop.time()
            done, _ = await asyncio.wait({answer}, timeout=max(0.0, min(pause, remaining)))
            if done:
                return answer.result()
            stored = await self._stored(command_id)
            if stored is not None or loop.time() >= deadline:
                return stored
            pause = min(pause * 2, LAST_LOOK_PAUSE)

    async def _stored(self, command_id: str) -> CommandOutcome | None:
        try:
            entry = await self._outcomes.get(command_id)
        except (KeyNotFoundError, InvalidKeyError):
            return None
        except (NatsError, TimeoutError):
            return None  # the command is durable; failing to look only means no outcome yet
        return _outcome(entry.value or b"")

    async def _on_outcome(self, message: Msg) -> None:
        outcome = _outcome(message.data)
        if outcome is not None and (answer := self._answers.get(outcome.command_id)) and not answer.done():
            answer.set_result(outcome)


def _outcome(data: bytes) -> CommandOutcome | None:
    try:
        return CommandOutcome.model_validate_json(data)
    except ValidationError:
        return None


@asynccontextmanager
async def nats_directory(connection: Connection) -> AsyncIterator[Directory]:
    """The installation's directory, for one run of the command line: connected, or ``Unreachable``."""
    nc = await connect_nats(connection)
    try:
        js = nc.jetstream(timeout=REQUEST_SECONDS)
        directory = NatsDirectory(
            nc=nc,
            subjects=connection.subjects,
            records=await _bucket(js, connection.subjects.directory_bucket),
            outcomes=await _bucket(js, connection.subjects.outcomes_bucket),
            wait=connection.wait_seconds,
        )
        await directory.listen()
        yield directory
    finally:
        await nc.close()


async def connect_nats(connection: Connection) -> Client:
    async def quiet(error: Exception) -> None:
        """Connection errors surface as the exception below, once; nats-py would also log each."""

    credentials = connection.credentials()
    options: dict[str, object] = {}
    if credentials:
        options = {**credentials, "inbox_prefix": inbox_prefix(credentials["user"])}
    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            client: Client = await nats.connect(
                servers=[connection.nats_url],
                name="hostdesk-cli",
                connect_timeout=2,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                error_cb=quiet,
                **options,
            )
    except (NatsError, OSError, TimeoutError) as error:
        where = without_password(connection.nats_url)
        raise Unreachable(f"NATS at {where} cannot be reached ({type(error).__name__}: {error})") from error
    return client


async def _bucket(js: JetStreamContext, name: str) -> KeyValue:
    try:
        return await js.key_value(name)
    except BucketNotFoundError as error:
        raise Unreachable(f"no bucket {name}: is the tickets service of this subject root running?") from error
    except (NatsError, TimeoutError) as error:
        raise Unreachable(f"the bucket {name} cannot be opened ({type(error).__name__})") from error
