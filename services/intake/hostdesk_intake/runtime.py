"""Everything intake runs on while it is up: the command bus to the tickets service, the directory its callers
are looked up in, its clocks, the rate limiter of each replica, the limits of opens and replies that every replica
shares, the providers' status labels, and support mail: the SMTP listener, the mailbox poller, the mail store and
stream, and the consumer that makes each mail received into a post."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hostdesk_contracts.runtime.blobs import BlobStore, MemoryBlobStore, NatsBlobStore
from hostdesk_contracts.runtime.clock import Clock, utc_now
from hostdesk_contracts.runtime.directory import Directory, KvDirectory
from hostdesk_contracts.runtime.health import Readiness
from hostdesk_contracts.runtime.nats import connect
from hostdesk_contracts.runtime.rate_limit import RateLimiter
from hostdesk_contracts.runtime.sealing import Sealer
from nats.aio.client import Client

from hostdesk_intake.adapters.command_bus import CommandBus
from hostdesk_intake.adapters.mail_stream import MailStream, MemoryMailStream, NatsMailStream
from hostdesk_intake.adapters.mailbox_status import KvMailboxStatuses, MailboxStatuses, MemoryMailboxStatuses
from hostdesk_intake.adapters.mailboxes import MailboxClient, NetworkMailboxes
from hostdesk_intake.adapters.memory_counters import MemoryRateCounters
from hostdesk_intake.adapters.nats_bus import NatsCommandBus, inbox_token
from hostdesk_intake.adapters.rate_counters import KvRateCounters, RateCounters
from hostdesk_intake.adapters.threads import KvThreads, MemoryThreads, Threads
from hostdesk_intake.adapters.uploads import KvUploads, MemoryUploads, Uploads
from hostdesk_intake.domain.attachments import UploadBounds
from hostdesk_intake.domain.status_labels import StatusLabels
from hostdesk_intake.entrypoints.mail_consumer import MailConsumer
from hostdesk_intake.entrypoints.mailbox_poller import MailboxPolling
from hostdesk_intake.entrypoints.smtp import start_smtp
from hostdesk_intake.service_layer.limits import Limiter
from hostdesk_intake.service_layer.mail_processing import MailProcessor
from hostdesk_intake.service_layer.mail_receiving import MailReceiver
from hostdesk_intake.service_layer.mailbox_polling import MailboxPoller
from hostdesk_intake.settings import Settings

log = logging.getLogger(__name__)

MAIL_STOP_SECONDS = 10.0  # the mail consumer's message in hand, at most, before intake stops


@dataclass
class Runtime:
    bus: CommandBus
    directory: Directory
    clock: Clock  # stamps every command
    rate_limiter: RateLimiter
    limiter: Limiter  # opens and replies, counted over every replica
    status_labels: StatusLabels
    blobs: BlobStore  # attachments' bytes
    uploads: Uploads  # files uploaded, not attached yet
    upload_bounds: UploadBounds
    mail_receiver: MailReceiver  # support mail in: stored, then published on the mail stream
    mail_processor: MailProcessor  # each mail received made into a post, screened or quarantined
    raw_mail: BlobStore  # support mail's raw bytes
    mail_stream: MailStream  # mail received, and the log of what became of it
    sealer: Sealer  # opens (and seals) support mailboxes' passwords
    mailbox_statuses: MailboxStatuses  # each polled mailbox's status, and which replica polls it
    mailbox_polling: MailboxPolling  # support mailboxes polled (IMAP, POP3) into the mail received
    _background: list[asyncio.Task[None]] = field(default_factory=list)
    _smtp: asyncio.Server | None = None
    _mail_consumer: MailConsumer | None = None

    @classmethod
    def over(
        cls,
        bus: CommandBus,
        settings: Settings,
        *,
        directory: Directory,
        clock: Clock = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        counters: RateCounters | None = None,
        blobs: BlobStore | None = None,
        uploads: Uploads | None = None,
        raw_mail: BlobStore | None = None,
        mail_stream: MailStream | None = None,
        threads: Threads | None = None,
        mailboxes: MailboxClient | None = None,
        mailbox_statuses: MailboxStatuses | None = None,
    ) -> Runtime:
        """Intake over ``bus`` and ``directory`` (unit tests pass fakes), its rate limit metered by ``monotonic``,
        its limits of opens and replies counted in ``counters`` by ``clock``, its files in ``blobs`` and
        ``uploads``, support mail in ``raw_mail`` and ``mail_stream``, ticket numbers in ``threads``, mailboxes'
        statuses in ``mailbox_statuses`` (each in memory when none is given), support mailboxes read through
        ``mailboxes`` (the network by default)."""
        limiter = RateLimiter(
            rate=settings.rate_limit_per_second,
            burst=settings.rate_limit_burst,
            clock=monotonic,
            max_keys=settings.rate_limit_accounts,
        )
        counters = counters or MemoryRateCounters()
        blobs = blobs or MemoryBlobStore()
        raw_mail = raw_mail or MemoryBlobStore()
        mail_stream = mail_stream or MemoryMailStream()
        receiver = MailReceiver(directory=directory, store=raw_mail, stream=mail_stream, clock=clock)
        sealer = settings.sealer()
        mailbox_statuses = mailbox_statuses or MemoryMailboxStatuses()
        poller = MailboxPoller(
            receiver=receiver,
            client=mailboxes or NetworkMailboxes(timeout=settings.mailbox_timeout_seconds, tls=settings.mailbox_tls()),
            statuses=mailbox_statuses,
            sealer=sealer,
            clock=clock,
            instance=settings.instance or socket.gethostname(),
            max_bytes=settings.smtp_max_bytes,
        )
        return cls(
            bus=bus,
            directory=directory,
            clock=clock,
            rate_limiter=limiter,
            limiter=Limiter(counters, settings.quotas(), clock=clock),
            status_labels=StatusLabels(settings.status_labels),
            blobs=blobs,
            uploads=uploads or MemoryUploads(),
            upload_bounds=UploadBounds(max_file_bytes=settings.attachment_max_bytes),
            mail_receiver=receiver,
            mail_processor=MailProcessor(
                directory=directory,
                raw_store=raw_mail,
                attachments=blobs,
                bus=bus,
                counters=counters,
                threads=threads or MemoryThreads(),
                stream=mail_stream,
                clock=clock,
                policy=settings.mail_policy(),
            ),
            raw_mail=raw_mail,
            mail_stream=mail_stream,
            sealer=sealer,
            mailbox_statuses=mailbox_statuses,
            mailbox_polling=MailboxPolling(poller, directory, monotonic=monotonic),
        )

    async def readiness(self) -> Readiness:
        """Intake has no database: ready means commands can be sent and callers looked up."""
        reasons = [] if self.bus.ready else ["NATS is not reachable"]
        if not self.directory.ready:
            reasons.append("the directory is not loaded yet")
        return Readiness(reasons=reasons)

    async def start_mail(self, settings: Settings, connection: Callable[[], Client | None]) -> None:
        """Listen for support mail (SMTP) and consume the mail received, once NATS is linked."""
        if settings.smtp_port:
            self._smtp = await start_smtp(
                self.mail_receiver,
                host=settings.smtp_host,
                port=settings.smtp_port,
                max_bytes=settings.smtp_max_bytes,
                reuse_port=settings.reuse_port,
            )
        self._background.append(asyncio.create_task(self._consume_mail(settings, connection), name="mail"))
        if settings.mailbox_polling:
            self._background.append(asyncio.create_task(self.mailbox_polling.run(), name="mailboxes"))

    async def _consume_mail(self, settings: Settings, connection: Callable[[], Client | None]) -> None:
        while True:  # the bus links in its own time; the consumer starts on its connection once there is one
            if (client := connection()) is not None:
                break
            await asyncio.sleep(0.5)
        self._mail_consumer = MailConsumer(
            js=client.jetstream(), subjects=settings.subjects, processor=self.mail_processor
        )
        await self._mail_consumer.run()

    async def stop(self) -> None:
        """Called once the server has finished its requests: stop taking mail, drain the bus, stop watching the
        directory."""
        if self._smtp is not None:
            self._smtp.close()
        self.mailbox_polling.stop()  # after the polls in hand
        if self._mail_consumer is not None:
            self._mail_consumer.stop()  # after the message in hand
        if self._background:
            _, waiting = await asyncio.wait(self._background, timeout=MAIL_STOP_SECONDS)
            for task in waiting:  # still linking to NATS, or a message taking too long
                task.cancel()
            if waiting:
                await asyncio.wait(waiting, timeout=MAIL_STOP_SECONDS)
        await self.bus.stop()
        await self.directory.stop()


async def start(
    settings: Settings, *, clock: Clock = utc_now, monotonic: Callable[[], float] = time.monotonic
) -> Runtime:
    """Intake over NATS, linked or still linking after ``startup_wait_seconds``: it serves 503s until linked."""
    bus = NatsCommandBus(
        url=settings.nats_url,
        credentials=settings.nats_credentials(),
        subjects=settings.subjects,
        inbox=inbox_token(settings.instance),
        commit_wait=settings.commit_wait_seconds,
        timeout=settings.publish_timeout_seconds,
        max_waiting=settings.max_waiting_commands,
    )
    await bus.start(wait=settings.startup_wait_seconds)

    async def directory_connection() -> Client:
        """The directory's own connection: the bus keeps its own to itself, and links in its own time."""
        name = f"hostdesk-intake-directory {settings.instance}".strip()
        return await connect(settings.nats_url, name=name, **settings.nats_credentials())

    directory = KvDirectory.connecting(directory_connection, subjects=settings.subjects)
    await directory.start(wait=settings.startup_wait_seconds)
    counters = KvRateCounters(
        lambda: bus.connection, bucket=settings.subjects.rates_bucket, timeout=settings.publish_timeout_seconds
    )
    timeout = settings.publish_timeout_seconds
    subjects = settings.subjects
    runtime = Runtime.over(
        bus,
        settings,
        directory=directory,
        clock=clock,
        monotonic=monotonic,
        counters=counters,
        blobs=NatsBlobStore(lambda: bus.connection, subjects=subjects, timeout=timeout),
        uploads=KvUploads(lambda: bus.connection, bucket=subjects.uploads_bucket, timeout=timeout),
        raw_mail=NatsBlobStore(lambda: bus.connection, subjects=subjects, timeout=timeout, bucket=subjects.mail_bucket),
        mail_stream=NatsMailStream(lambda: bus.connection, subjects=subjects, timeout=timeout),
        threads=KvThreads(lambda: bus.connection, bucket=subjects.threads_bucket, timeout=timeout),
        mailbox_statuses=KvMailboxStatuses(lambda: bus.connection, bucket=subjects.rates_bucket, timeout=timeout),
    )
    await runtime.start_mail(settings, lambda: bus.connection)
    return runtime
