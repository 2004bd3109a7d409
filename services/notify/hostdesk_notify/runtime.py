"""Everything notify runs while it is up: its pool, its NATS connection, the directory its callers are looked up
in, the consumer and the sender."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.blobs import NatsBlobStore
from hostdesk_contracts.runtime.clock import Clock, utc_now
from hostdesk_contracts.runtime.consumer import PullConsumer
from hostdesk_contracts.runtime.directory import Directory, KvDirectory
from hostdesk_contracts.runtime.health import Readiness
from hostdesk_contracts.runtime.nats import connect, wait_for_streams
from hostdesk_contracts.signing import EventSigner
from nats.aio.client import Client

from hostdesk_notify.adapters.ports import CONSUMER, Mailer, NotifyStore
from hostdesk_notify.adapters.postgres import PostgresStore, create_pool
from hostdesk_notify.adapters.schema import migrate
from hostdesk_notify.adapters.smtp import SmtpMailer
from hostdesk_notify.domain.bounds import MailBounds
from hostdesk_notify.domain.mail import Envelope
from hostdesk_notify.domain.retry import RetryPolicy
from hostdesk_notify.entrypoints.events import TicketEvents
from hostdesk_notify.entrypoints.outbox import SendLoop
from hostdesk_notify.service_layer.handlers import EventHandler, Handled, MailSettings, handle_event
from hostdesk_notify.service_layer.replay import Replayer
from hostdesk_notify.service_layer.sender import FilePolicy, OutboxSender
from hostdesk_notify.settings import Settings

log = logging.getLogger(__name__)

DIRECTORY_WAIT_SECONDS = 5.0  # at start-up, for the directory's records (not ready until they are in)


@dataclass
class Runtime:
    pool: asyncpg.Pool
    nats: Client
    store: NotifyStore
    directory: Directory
    consumer: PullConsumer
    send_loop: SendLoop
    mailer: Mailer
    tasks: tuple[asyncio.Task[None], ...]
    handle: EventHandler  # an event, handled as the consumer does: for replaying a dead letter
    signer: EventSigner

    async def readiness(self) -> Readiness:
        """Ready while NATS is connected, PostgreSQL answers, the directory is loaded, and the consumer and the
        sender run."""
        reasons = []
        if not self.nats.is_connected:
            reasons.append("NATS is not connected")
        if not self.directory.ready:
            reasons.append("the directory is not loaded yet")
        try:
            async with asyncio.timeout(1.0):
                await self.pool.fetchval("SELECT 1")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            reasons.append("PostgreSQL does not answer")
        reasons.extend(f"the {t.get_name()} has stopped" for t in self.tasks if t.done())
        return Readiness(reasons=reasons)

    async def stop(self) -> None:
        """Stop fetching and sending, finish what is in hand, drain NATS, close the pool."""
        self.consumer.stop()
        self.send_loop.stop()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.mailer.close()
        await self.directory.stop()
        await self.nats.drain()
        await self.pool.close()


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("the %s stopped", task.get_name(), exc_info=error)


def _mailer(settings: Settings) -> SmtpMailer:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpMailer(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        timeout=settings.smtp_timeout,
        start_tls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=password,
        connections=settings.send_concurrency,
    )


def _retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.max_send_attempts,
        base_delay=settings.retry_base_seconds,
        max_delay=settings.retry_max_seconds,
    )


async def _connect(settings: Settings) -> tuple[asyncpg.Pool, Client]:
    pool = await create_pool(settings.database_url, schema=settings.db_schema, max_size=settings.db_pool_size)
    client: Client | None = None
    try:
        await migrate(pool, schema=settings.db_schema)
        name = f"hostdesk-notify {settings.instance}".strip()
        client = await connect(settings.nats_url, name=name, **settings.nats_credentials())
        await wait_for_streams(client.jetstream(), [settings.subjects.events_stream])
    except BaseException:
        if client is not None:
            await client.close()
        await pool.close()
        raise
    return pool, client


async def start(settings: Settings, *, clock: Clock = utc_now) -> Runtime:
    """Connect, migrate, and start the event consumer and the outbox sender; ``clock`` dates the mail."""
    pool, client = await _connect(settings)
    store = PostgresStore(pool)
    directory = KvDirectory.on(client, subjects=settings.subjects)
    await directory.start(wait=DIRECTORY_WAIT_SECONDS)
    envelope = Envelope(from_address=settings.from_address, reply_to=settings.support_address)
    bounds = MailBounds(
        per_ticket=settings.mail_per_ticket_per_hour, per_requester=settings.mail_per_requester_per_hour
    )
    mail_settings = MailSettings(
        default_language=settings.default_language,
        domain=envelope.domain,
        bounds=bounds,
        support_address=settings.support_address,
    )

    async def handle(event: TicketEvent) -> Handled:
        return await handle_event(event, store=store, directory=directory, settings=mail_settings, now=clock())

    mailer = _mailer(settings)
    sender = OutboxSender(
        store=store,
        mailer=mailer,
        envelope=envelope,
        retry=_retry_policy(settings),
        clock=clock,
        blobs=NatsBlobStore(lambda: client, subjects=settings.subjects, timeout=settings.attachment_timeout_seconds),
        files=FilePolicy(max_bytes=settings.attach_max_bytes, link=settings.file_link),
    )
    send_loop = SendLoop(sender, sweep_interval=settings.sweep_interval, concurrency=settings.send_concurrency)
    stopping = asyncio.Event()
    events = TicketEvents(
        store=store,
        handle=handle,
        on_queued=send_loop.wake,
        redelivery=settings.redelivery,
        signer=settings.event_signer(),
        stopping=stopping,
    )
    consumer = PullConsumer(
        client.jetstream(),
        spec=settings.durable(
            stream=settings.subjects.events_stream,
            name=CONSUMER,
            filter_subject=settings.subjects.all_events,
            max_ack_pending=1000,
        ),
        handle=events.handle_batch,
        batch=settings.fetch_batch,
        fetch_wait=settings.fetch_timeout_seconds,
        stopping=stopping,
    )
    replayer = Replayer(
        store, handle, signer=settings.event_signer(), on_queued=send_loop.wake, every=2.0, stopping=stopping
    )
    tasks = (
        asyncio.create_task(consumer.run(), name="event consumer"),
        asyncio.create_task(send_loop.run(), name="outbox sender"),
        asyncio.create_task(replayer.run(), name="dead letters' replayer"),
    )
    for task in tasks:
        task.add_done_callback(_log_crash)
    return Runtime(
        pool=pool,
        nats=client,
        store=store,
        directory=directory,
        consumer=consumer,
        send_loop=send_loop,
        mailer=mailer,
        tasks=tasks,
        handle=handle,
        signer=settings.event_signer(),
    )
