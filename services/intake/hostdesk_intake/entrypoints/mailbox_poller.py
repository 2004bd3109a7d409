"""Intake's mailbox poller: every support address with a mailbox (``Directory.mailboxes``) is polled every
``interval_seconds`` of its own, by one replica at a time (``domain.mailboxes``), at most ``concurrency`` at once in
a replica, and at once again while messages wait. ``poll_now`` polls one at once (staff's "check now").

A mailbox failing (its server away, a password refused) is retried at its interval and says why in its status; it
holds up no other mailbox. The poller itself stops only with intake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from hostdesk_contracts.directory import SupportAddressRecord
from hostdesk_contracts.runtime.directory import Directory, DirectoryUnavailable

from hostdesk_intake.adapters.mailbox_status import StatusUnavailable
from hostdesk_intake.domain.mailboxes import MailboxStatus
from hostdesk_intake.service_layer.mailbox_polling import MailboxPoller

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0  # how often the poller looks for mailboxes due
CONCURRENCY = 8  # mailboxes polled at once by one replica


class MailboxPolling:
    def __init__(
        self,
        poller: MailboxPoller,
        directory: Directory,
        *,
        concurrency: int = CONCURRENCY,
        tick: float = TICK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._poller = poller
        self._directory = directory
        self._slots = asyncio.Semaphore(concurrency)
        self._tick = tick
        self._monotonic = monotonic
        self._due: dict[str, float] = {}  # address -> when its next poll is due (monotonic)
        self._polling: dict[str, asyncio.Task[MailboxStatus | None]] = {}
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                mailboxes = await self._directory.mailboxes()
            except DirectoryUnavailable:
                mailboxes = ()
            now = self._monotonic()
            for address in mailboxes:
                if address.address not in self._polling and self._due.get(address.address, 0.0) <= now:
                    self._start(address)
            known = {each.address for each in mailboxes}
            for gone in [each for each in self._due if each not in known]:
                del self._due[gone]  # removed, retired, or its mailbox dropped
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._tick)
        if self._polling:
            await asyncio.wait(list(self._polling.values()))

    def stop(self) -> None:
        """Stop after the polls in hand (each ends its session, so its deletions take effect)."""
        self._stopping.set()

    async def poll_now(self, address: SupportAddressRecord) -> MailboxStatus | None:
        """Poll the mailbox at once (or wait for the poll in hand): its status then, ``None`` when another replica
        polls it."""
        task = self._polling.get(address.address) or self._start(address)
        return await asyncio.shield(task)

    def _start(self, address: SupportAddressRecord) -> asyncio.Task[MailboxStatus | None]:
        task = asyncio.create_task(self._poll(address), name=f"mailbox {address.address}")
        self._polling[address.address] = task
        task.add_done_callback(lambda _: self._polling.pop(address.address, None))
        return task

    async def _poll(self, address: SupportAddressRecord) -> MailboxStatus | None:
        assert address.mailbox is not None
        interval = address.mailbox.interval_seconds
        async with self._slots:
            try:
                poll = await self._poller.poll(address)
            except StatusUnavailable as error:
                log.warning("mailbox %s not polled: %s", address.address, error)
                self._due[address.address] = self._monotonic() + min(interval, 10)
                return None
            except Exception:  # a bug: this mailbox waits its interval, the others go on
                log.exception("polling mailbox %s failed", address.address)
                self._due[address.address] = self._monotonic() + interval
                return None
        self._due[address.address] = self._monotonic() + (0.0 if poll.more else interval)
        return poll.status
