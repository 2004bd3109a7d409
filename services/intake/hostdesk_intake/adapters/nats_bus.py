"""The command bus over NATS: commands to JetStream, outcomes back on this instance's core NATS inbox.

The protocol with the tickets service:
1. Each command is published to the commands stream with ``Nats-Msg-Id`` = its command id (so a retried
   publish is dropped as a duplicate) and ``Outcome-Reply-To`` = ``<root>.outcomes.<inbox>.<command id>``.
   The waiting future is registered before the publish, so an answer cannot arrive before it is awaited.
2. Once JetStream acknowledged it, the command is durable. The tickets service applies it, puts the
   outcome in the outcomes bucket (key = command id) and publishes it to the ``Outcome-Reply-To`` subject.
3. A duplicate acknowledgement means an earlier publish of the same command is in the stream, and its
   outcome goes to the inbox named in that earlier message, maybe another instance's. So this request
   looks for the outcome in the bucket while it waits.

The outcomes bucket also holds intake's record of each command, under ``record.<command id>`` (an outcome's
key is the bare command id), so that the record is kept exactly as long as outcomes are. It is written before
the command's publish, with a create that fails when the key exists, so two requests racing with one key are
told apart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
from dataclasses import dataclass

from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.runtime.nats import connect, without_password
from hostdesk_contracts.subjects import MSG_ID, REPLY_TO, Subjects
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import InvalidKeyError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from hostdesk_intake.adapters.command_bus import BusUnavailable
from hostdesk_intake.adapters.waiting import OutcomeWaiters
from hostdesk_intake.domain.commands import SentCommand
from hostdesk_intake.domain.idempotency import KeyRecord

log = logging.getLogger(__name__)

FIRST_LOOK_PAUSE = 0.05  # seconds between looks in the bucket, doubling up to the next
LAST_LOOK_PAUSE = 0.5
SETUP_RETRY_PAUSE = 1.0


def record_key(command_id: str) -> str:
    """Where the record of a command is kept in the outcomes bucket."""
    return f"record.{command_id}"


def inbox_token(instance: str) -> str:
    """This process's inbox: its instance name made a safe subject token, or a random one, and its process id,
    so that processes sharing a name (several on one port) never receive each other's outcomes."""
    token = re.sub(r"[^A-Za-z0-9_-]", "_", instance) or secrets.token_hex(8)
    return f"{token}_{os.getpid()}"


@dataclass(frozen=True)
class _Link:
    nc: Client
    js: JetStreamContext
    outcomes: KeyValue


class NatsCommandBus:
    def __init__(
        self,
        *,
        url: str,
        credentials: dict[str, str],
        subjects: Subjects,
        inbox: str,
        commit_wait: float,
        timeout: float,
        max_waiting: int,
    ) -> None:
        self._url = url
        self._credentials = credentials
        self._subjects = subjects
        self._inbox = inbox
        self._commit_wait = commit_wait
        self._timeout = timeout
        self._waiters = OutcomeWaiters(limit=max_waiting)
        self._nc: Client | None = None
        self._link: _Link | None = None
        self._linking: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        return self._link is not None and self._link.nc.is_connected

    @property
    def connection(self) -> Client | None:
        """The connection once linked (the tickets service's declarations found), for intake's rate counters."""
        return self._link.nc if self._link is not None else None

    async def start(self, *, wait: float) -> None:
        """Reach NATS in the background, waiting up to ``wait`` seconds: intake serves (503s) without it."""
        self._linking = asyncio.create_task(self._establish(), name="intake-nats-link")
        self._linking.add_done_callback(_log_failure)
        await asyncio.wait({self._linking}, timeout=wait)
        if self._link is None:
            log.warning("NATS at %s is not reachable yet; commands answer 503 until it is", without_password(self._url))

    async def stop(self) -> None:
        """Called once the server has finished its requests: stop linking, drain the connection."""
        if self._linking is not None and not self._linking.done():
            self._linking.cancel()
            await asyncio.wait({self._linking})
        if self._nc is None or self._nc.is_closed:
            return
        try:
            await self._nc.drain()
        except (NatsError, TimeoutError) as error:
            log.warning("draining the NATS connection failed (%s); closing it", error)
            await self._nc.close()

    async def send(self, command: SentCommand) -> CommandOutcome | None:
        link = self._connected()
        with self._waiters.waiting_for(command.command_id) as answer:
            ack = await self._publish(link, command)
            if ack.duplicate:
                return await self._await_duplicate(link, answer, command.command_id)
            done, _ = await asyncio.wait({answer}, timeout=self._commit_wait)
            if done:
                return answer.result()
            # Core NATS delivers at most once: an answer sent while this instance was reconnecting is lost,
            # but it is in the bucket.
            return await self._look(link, command.command_id)

    async def outcome(self, command_id: str) -> CommandOutcome | None:
        link = self._connected()
        try:
            return await self._stored(link, command_id)
        except (NatsError, TimeoutError) as error:
            raise BusUnavailable(f"the outcomes bucket cannot be read ({type(error).__name__})") from error

    async def claim(self, command_id: str, record: KeyRecord) -> KeyRecord | None:
        link = self._connected()
        try:
            async with asyncio.timeout(self._timeout):
                try:
                    await link.outcomes.create(record_key(command_id), record.to_json())
                    return None
                except KeyWrongLastSequenceError:
                    entry = await link.outcomes.get(record_key(command_id))
        except (NatsError, TimeoutError) as error:
            raise BusUnavailable(f"the command could not be recorded ({type(error).__name__})") from error
        # A record that cannot be read is someone's: no request may take its id over.
        return KeyRecord.from_json(entry.value or b"") or KeyRecord(tenant="", account_id="")

    async def record(self, command_id: str) -> KeyRecord | None:
        link = self._connected()
        try:
            async with asyncio.timeout(self._timeout):
                entry = await link.outcomes.get(record_key(command_id))
        except (KeyNotFoundError, InvalidKeyError):
            return None
        except (NatsError, TimeoutError) as error:
            raise BusUnavailable(f"the command records cannot be read ({type(error).__name__})") from error
        return KeyRecord.from_json(entry.value or b"")

    async def _establish(self) -> None:
        # Tries until NATS answers.
        self._nc = nc = await connect(self._url, name=f"intake-{self._inbox}", **self._credentials)
        js = nc.jetstream(timeout=self._timeout)
        while True:
            try:
                # The tickets service declares both; intake may only look them up.
                await js.stream_info(self._subjects.commands_stream)
                outcomes = await js.key_value(self._subjects.outcomes_bucket)
                await nc.subscribe(self._subjects.outcome_inbox(self._inbox), cb=self._on_outcome)
                break
            except (NatsError, TimeoutError) as error:
                log.warning(
                    "no commands stream or outcomes bucket yet (%s): is the tickets service up? retrying", error
                )
                await asyncio.sleep(SETUP_RETRY_PAUSE)
        self._link = _Link(nc=nc, js=js, outcomes=outcomes)
        log.info("intake linked to NATS; outcomes arrive on %s", self._subjects.outcome_inbox(self._inbox))

    async def _on_outcome(self, message: Msg) -> None:
        try:
            outcome = CommandOutcome.model_validate_json(message.data)
        except ValidationError as error:
            log.warning("ignored a malformed outcome on %s: %s", message.subject, error)
            return
        self._waiters.resolve(outcome)

    def _connected(self) -> _Link:
        if self._link is None or not self._link.nc.is_connected:
            raise BusUnavailable("NATS is not reachable")
        return self._link

    async def _publish(self, link: _Link, command: SentCommand) -> PubAck:
        headers = {MSG_ID: command.command_id, REPLY_TO: self._subjects.outcome(self._inbox, command.command_id)}
        try:
            ack: PubAck = await link.js.publish(
                self._subjects.command(command),
                command.model_dump_json().encode(),
                timeout=self._timeout,
                headers=headers,
            )
        except (NatsError, TimeoutError) as error:
            raise BusUnavailable(f"JetStream did not acknowledge the command ({type(error).__name__})") from error
        return ack

    async def _await_duplicate(
        self, link: _Link, answer: asyncio.Future[CommandOutcome], command_id: str
    ) -> CommandOutcome | None:
        """Look in the bucket, then wait on the inbox a little longer each time, until the commit wait is up."""
        log.debug("command %s was already in the stream; looking for its outcome in the bucket", command_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._commit_wait
        pause = FIRST_LOOK_PAUSE
        while True:
            stored = await self._look(link, command_id)
            remaining = deadline - loop.time()
            if stored is not None or remaining <= 0:
                return stored
            done, _ = await asyncio.wait({answer}, timeout=min(pause, remaining))
            if done:
                return answer.result()
            pause = min(pause * 2, LAST_LOOK_PAUSE)

    async def _look(self, link: _Link, command_id: str) -> CommandOutcome | None:
        """A look in the bucket while the command is known to be durable: failing to look means pending."""
        try:
            return await self._stored(link, command_id)
        except (NatsError, TimeoutError) as error:
            log.warning("could not read the outcome of %s (%s)", command_id, error)
            return None

    async def _stored(self, link: _Link, command_id: str) -> CommandOutcome | None:
        try:
            async with asyncio.timeout(self._timeout):
                entry = await link.outcomes.get(command_id)
        except (KeyNotFoundError, InvalidKeyError):
            return None
        if not entry.value:
            return None
        try:
            return CommandOutcome.model_validate_json(entry.value)
        except ValidationError as error:
            log.error("the stored outcome of %s is malformed: %s", command_id, error)
            return None


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("linking to NATS failed for good", exc_info=task.exception())
