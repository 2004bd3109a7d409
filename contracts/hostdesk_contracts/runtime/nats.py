"""Connecting to NATS and declaring the streams, the same way in every service."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    KeyValueConfig,
    ObjectStoreConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import APIError, BadRequestError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from hostdesk_contracts.runtime.nats_auth import inbox_prefix
from hostdesk_contracts.subjects import Subjects

log = logging.getLogger(__name__)

# JetStream drops a message whose Nats-Msg-Id it saw within this window: retries of a publish are harmless.
DUPLICATE_WINDOW_SECONDS = 600.0
WEEK_SECONDS = 7 * 86_400.0
# Support mail received, and what became of it, is kept this long: the mail log staff read, and the raw bytes of
# a message in quarantine, to replay it. (Mail made into a post is in the ticket: its files, its text.)
MAIL_KEPT_SECONDS = 90 * 86_400.0


async def connect(url: str, *, name: str, user: str = "", password: str = "") -> Client:
    """A connection that reconnects for ever: a NATS restart is a pause, never the end of a service.

    With a ``user`` (each service's own, see ``nats_auth``), replies and deliveries come to that user's own
    inbox prefix, the only one its permissions let it subscribe to.
    """

    async def on_error(error: Exception) -> None:
        log.warning("nats error: %s", error)

    options: dict[str, Any] = {
        "servers": [url],
        "name": name,
        "connect_timeout": 2,
        "reconnect_time_wait": 0.5,
        "max_reconnect_attempts": -1,
        "drain_timeout": 5,
        "error_cb": on_error,
    }
    if user:
        options |= {"user": user, "password": password, "inbox_prefix": inbox_prefix(user)}
    client = _Client()
    await client.connect(**options)
    return client


class _JetStream(JetStreamContext):
    """JetStream whose ``publish_async`` futures fail with the server's error, as they should.

    nats-py 2.16 raises that error inside its reply handler instead (nats-io/nats.py#985): the future never
    resolved, and the relay, fenced on the stream's last sequence, waited its whole publish timeout whenever a
    message of someone else's came in between (the "10 s stall")."""

    async def _handle_async_reply(self, msg: Msg) -> None:
        future = self._publish_async_futures.get(msg.subject[len(self._nc._inbox_prefix) + 22 + 2 :])
        # Only an answer naming an error is parsed here: every other ack is parsed once, by nats-py.
        if future is not None and not future.done() and b'"error"' in msg.data:
            with contextlib.suppress(ValueError):
                answer = json.loads(msg.data)
                if isinstance(answer, dict) and "error" in answer:
                    try:
                        APIError.from_error(answer["error"])
                    except APIError as error:
                        future.set_exception(error)
                        return
        await super()._handle_async_reply(msg)


class _Client(Client):
    def jetstream(self, **options: Any) -> JetStreamContext:
        return _JetStream(self, **options)


def without_password(url: str) -> str:
    """``url`` fit for a log: a password in it replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def stream_configs(subjects: Subjects) -> list[StreamConfig]:
    return [
        StreamConfig(
            name=subjects.commands_stream,
            subjects=[subjects.all_commands],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=WEEK_SECONDS,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            discard=DiscardPolicy.OLD,
        ),
        StreamConfig(
            name=subjects.mail_stream,
            subjects=[subjects.all_mail],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=MAIL_KEPT_SECONDS,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            discard=DiscardPolicy.OLD,
        ),
        StreamConfig(
            name=subjects.events_stream,
            subjects=[subjects.all_events],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            discard=DiscardPolicy.OLD,
        ),
    ]


async def fetch_batch(subscription: JetStreamContext.PullSubscription, *, batch: int, wait: float) -> list[Msg]:
    """Up to ``batch`` messages from a pull subscription; an empty list when none came within ``wait`` seconds.

    nats-py signals "nothing came" with its own TimeoutError or, on some paths, asyncio's plain one; a
    consumer that caught only the first died silently on an idle stream. Every consumer fetches through here.
    """
    try:
        messages: list[Msg] = await subscription.fetch(batch=batch, timeout=wait)
    except TimeoutError:
        return []
    return messages


async def ensure_streams(js: JetStreamContext, subjects: Subjects) -> None:
    """Declare the streams, the directory, rates and uploads buckets and the attachments' object store; every
    replica may do this at start-up, in any order.

    The buckets are declared with the streams so that whoever waits for them finds them too (a service that reads
    callers in the directory may also wait for its stream, ``kv_stream(subjects.directory_bucket)``)."""
    for config in stream_configs(subjects):
        try:
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)
    await directory_bucket(js, subjects)
    await rates_bucket(js, subjects)
    await uploads_bucket(js, subjects)
    await attachments_bucket(js, subjects)
    await mail_bucket(js, subjects)
    await threads_bucket(js, subjects)


def kv_stream(bucket: str) -> str:
    """The stream behind a key-value bucket: what ``wait_for_streams`` waits for to find the bucket declared."""
    return f"KV_{bucket}"


async def wait_for_streams(js: JetStreamContext, names: list[str], *, poll_seconds: float = 0.5) -> None:
    """Wait until the tickets service (the only one allowed to) has declared the streams named; say so every
    ``_WAIT_REPORT_EVERY`` looks."""
    for name in names:
        looks = 0
        while True:
            try:
                await js.stream_info(name)
                break
            except (NotFoundError, TimeoutError, nats.errors.TimeoutError):
                if looks % _WAIT_REPORT_EVERY == 0:
                    log.info("waiting for the tickets service to declare the stream %s", name)
                looks += 1
                await asyncio.sleep(poll_seconds)


_WAIT_REPORT_EVERY = 20


OUTCOME_TTL_SECONDS = 86_400.0
# Intake's longest rate window is an hour. A counter must outlive its window (forgotten sooner, it would let more
# through), so it is kept two: the second covers the clocks of replicas that disagree on when a window ends.
RATE_COUNTERS_TTL_SECONDS = 2 * 3_600.0


async def _key_value(js: JetStreamContext, bucket: str, *, ttl: float | None = None) -> KeyValue:
    """The bucket, declared first when it is not yet: one value a key, each kept ``ttl`` seconds (or for ever)."""
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        return await js.create_key_value(KeyValueConfig(bucket=bucket, history=1, ttl=ttl))


async def directory_bucket(js: JetStreamContext, subjects: Subjects) -> KeyValue:
    """The key-value bucket of the directory's latest records (key: ``directory.record_key``), kept for ever,
    one value a key: the tickets service's directory projector writes it, every service reads callers there."""
    return await _key_value(js, subjects.directory_bucket)


async def outcomes_bucket(js: JetStreamContext, subjects: Subjects) -> KeyValue:
    """The key-value bucket of command outcomes (key: command id), kept a day for callers that come back."""
    return await _key_value(js, subjects.outcomes_bucket, ttl=OUTCOME_TTL_SECONDS)


async def rates_bucket(js: JetStreamContext, subjects: Subjects) -> KeyValue:
    """The key-value bucket of intake's rate counters (one key per caller, action and window), shared by its
    replicas: one value a key, each forgotten ``RATE_COUNTERS_TTL_SECONDS`` after its last write."""
    return await _key_value(js, subjects.rates_bucket, ttl=RATE_COUNTERS_TTL_SECONDS)


UPLOADS_TTL_SECONDS = 86_400.0  # a file uploaded and never attached is forgotten after a day


async def uploads_bucket(js: JetStreamContext, subjects: Subjects) -> KeyValue:
    """The key-value bucket of intake's uploads not attached yet (key: ``upload.<attachment id>``): who uploaded
    each and what it is, kept ``UPLOADS_TTL_SECONDS``."""
    return await _key_value(js, subjects.uploads_bucket, ttl=UPLOADS_TTL_SECONDS)


async def attachments_bucket(js: JetStreamContext, subjects: Subjects) -> ObjectStore:
    """The object store of attachments' bytes, kept for ever on disk (``runtime.blobs``)."""
    return await _object_store(js, subjects.attachments_bucket)


async def threads_bucket(js: JetStreamContext, subjects: Subjects) -> KeyValue:
    """The key-value bucket of the ticket each number names, kept for ever: the tickets service's threads projector
    writes it, intake reads it to thread mail that names a number."""
    return await _key_value(js, subjects.threads_bucket)


async def mail_bucket(js: JetStreamContext, subjects: Subjects) -> ObjectStore:
    """The object store of support mail's raw bytes, kept ``MAIL_KEPT_SECONDS`` (as the mail log)."""
    return await _object_store(js, subjects.mail_bucket, ttl=MAIL_KEPT_SECONDS)


async def _object_store(js: JetStreamContext, bucket: str, *, ttl: float | None = None) -> ObjectStore:
    try:
        return await js.object_store(bucket)
    except (BucketNotFoundError, NotFoundError):
        config = ObjectStoreConfig(bucket=bucket, storage=StorageType.FILE, ttl=ttl)
        return await js.create_object_store(bucket, config=config)
