"""Support mail polled from an IMAP mailbox, end to end, beside a bare IMAP client's rate in the same run.

Both read the same number of the same kind of messages from a Dovecot of the bench's own (``hostdesk_devtools
.dovecot``), each from a mailbox of its own filled beforehand (the filling is not timed). The bare client is the
standard library's ``imaplib`` in one session: search, then each message fetched and flagged deleted, then expunged
(the ceiling of this server and of a Python client on this machine). Intake's poller is given its mailbox as an
operator gives it (``hostdesk support-addresses put --mailbox``), and timed from that command's commit (the poller
sees it through the directory's watch, within its tick of a second) to the last message's ticket in query's read
model.
"""

from __future__ import annotations

import asyncio
import imaplib
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hostdesk_devtools.bench.mail_in import support_mails, watch_query
from hostdesk_devtools.dovecot import OwnDovecot


@dataclass(frozen=True)
class MailboxPolling:
    count: int
    bare_seconds: float
    intake_seconds: float  # from the mailbox's command committed to the last ticket seen (or the wait's end)
    visible: int  # tickets seen in query
    left: int  # messages still in intake's mailbox at the end

    @property
    def bare_rate(self) -> float:
        return self.count / self.bare_seconds if self.bare_seconds else 0.0

    @property
    def intake_rate(self) -> float:
        return self.visible / self.intake_seconds if self.intake_seconds else 0.0


def bare_poll(dovecot: OwnDovecot, username: str, password: str) -> int:
    """Every message of the user's inbox fetched and deleted in one session, as a poller does: how many."""
    client = imaplib.IMAP4("127.0.0.1", dovecot.imap_port, timeout=60)
    try:
        client.login(username, password)
        client.select("INBOX")
        _, found = client.uid("SEARCH", "UNDELETED")
        uids = found[0].split() if found and isinstance(found[0], bytes) else []
        for uid in uids:
            client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            client.uid("STORE", uid.decode(), "+FLAGS.SILENT", r"(\Deleted)")
        client.expunge()
    except BaseException:
        client.shutdown()
        raise
    client.logout()  # which closes the connection
    return len(uids)


async def mailbox_polling(
    *,
    stamp: str,
    database_url: str,
    tenant: str,
    address: str,
    count: int,
    wait: float,
    give_mailbox: Callable[[str, Path], None],
) -> MailboxPolling:
    """``give_mailbox(url, password_file)`` configures ``address`` with the mailbox (the operator's CLI)."""
    dovecot = OwnDovecot().start()
    try:
        bare_user, bare_password = f"bare-{stamp}@bench.example", secrets.token_urlsafe(12)
        dovecot.add_user(bare_user, bare_password)
        dovecot.add_user(address, secrets.token_urlsafe(12))
        password = dovecot.password_of(address)
        bare_mails = support_mails(f"{stamp}i", count=count, to=bare_user)
        mails = support_mails(f"{stamp}m", count=count, to=address)
        await asyncio.to_thread(dovecot.deliver, bare_user, *(mail.data for mail in bare_mails))
        await asyncio.to_thread(dovecot.deliver, address, *(mail.data for mail in mails))

        started = time.monotonic()
        fetched = await asyncio.to_thread(bare_poll, dovecot, bare_user, bare_password)
        bare_seconds = time.monotonic() - started
        if fetched != count:
            raise RuntimeError(f"the bare client fetched {fetched} of {count} messages")

        with tempfile.TemporaryDirectory() as folder:
            secret = Path(folder) / "password"
            secret.write_text(password, encoding="utf-8")
            done = asyncio.Event()
            since = datetime.now(UTC) - timedelta(seconds=5)
            watcher = asyncio.create_task(
                watch_query(
                    database_url,
                    tenant=tenant,
                    keys={mail.key for mail in mails},
                    prefix=f"Mail bench {stamp}m ",
                    since=since,
                    until=done,
                    wait=wait,
                )
            )
            url = f"imap://{address.replace('@', '%40')}@127.0.0.1:{dovecot.imap_port}/INBOX"
            await asyncio.to_thread(give_mailbox, url, secret)
            started = time.monotonic()  # the mailbox is the directory's: the poller's work starts
            done.set()
            seen = await watcher
        last = max(seen.values()) if seen else time.monotonic()
        left = await asyncio.to_thread(dovecot.count, address)
        return MailboxPolling(
            count=count, bare_seconds=bare_seconds, intake_seconds=last - started, visible=len(seen), left=left
        )
    finally:
        dovecot.remove()
