"""Everything intake runs on while it is up: the command bus to the tickets service, the directory its callers
are looked up in, its clocks, the rate limiter of each replica, the limits of opens and replies that every replica
shares, and the providers' status labels."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hostdesk_contracts.runtime.blobs import BlobStore, MemoryBlobStore, NatsBlobStore
from hostdesk_contracts.runtime.clock import Clock, utc_now
from hostdesk_contracts.runtime.directory import Directory, KvDirectory
from hostdesk_contracts.runtime.health import Readiness
from hostdesk_contracts.runtime.nats import connect
from hostdesk_contracts.runtime.rate_limit import RateLimiter
from nats.aio.client import Client

from hostdesk_intake.adapters.command_bus import CommandBus
from hostdesk_intake.adapters.memory_counters import MemoryRateCounters
from hostdesk_intake.adapters.nats_bus import NatsCommandBus, inbox_token
from hostdesk_intake.adapters.rate_counters import KvRateCounters, RateCounters
from hostdesk_intake.adapters.uploads import KvUploads, MemoryUploads, Uploads
from hostdesk_intake.domain.attachments import UploadBounds
from hostdesk_intake.domain.status_labels import StatusLabels
from hostdesk_intake.service_layer.limits import Limiter
from hostdesk_intake.settings import Settings


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
    ) -> Runtime:
        """Intake over ``bus`` and ``directory`` (unit tests pass fakes), its rate limit metered by ``monotonic``,
        its limits of opens and replies counted in ``counters`` by ``clock``, its files in ``blobs`` and
        ``uploads`` (each in memory when none is given)."""
        limiter = RateLimiter(
            rate=settings.rate_limit_per_second,
            burst=settings.rate_limit_burst,
            clock=monotonic,
            max_keys=settings.rate_limit_accounts,
        )
        return cls(
            bus=bus,
            directory=directory,
            clock=clock,
            rate_limiter=limiter,
            limiter=Limiter(counters or MemoryRateCounters(), settings.quotas(), clock=clock),
            status_labels=StatusLabels(settings.status_labels),
            blobs=blobs or MemoryBlobStore(),
            uploads=uploads or MemoryUploads(),
            upload_bounds=UploadBounds(max_file_bytes=settings.attachment_max_bytes),
        )

    async def readiness(self) -> Readiness:
        """Intake has no database: ready means commands can be sent and callers looked up."""
        reasons = [] if self.bus.ready else ["NATS is not reachable"]
        if not self.directory.ready:
            reasons.append("the directory is not loaded yet")
        return Readiness(reasons=reasons)

    async def stop(self) -> None:
        """Called once the server has finished its requests: drain the bus, stop watching the directory."""
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
    return Runtime.over(
        bus,
        settings,
        directory=directory,
        clock=clock,
        monotonic=monotonic,
        counters=counters,
        blobs=NatsBlobStore(lambda: bus.connection, subjects=settings.subjects, timeout=timeout),
        uploads=KvUploads(lambda: bus.connection, bucket=settings.subjects.uploads_bucket, timeout=timeout),
    )
