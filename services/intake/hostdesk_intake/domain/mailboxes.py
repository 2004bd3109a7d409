"""Support mailboxes that intake polls: each one's status, which staff see, and the rule by which one replica at a
time polls it. Pure rules.

A mailbox's status is also its lease: the replica that wrote it last (``holder``) polls it until it stops writing.
Another replica takes it over once the status is older than ``stale_after`` its interval (the holder stopped, was
killed, or lost NATS): two replicas may then both fetch a message at the turn, which costs a fetch and makes one
post, since what follows a message received is exactly once however often it is.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from hostdesk_contracts.directory import MailboxProtocol
from pydantic import AwareDatetime, BaseModel, Field

STALE_INTERVALS = 3  # a status not written for this many intervals ...
STALE_GRACE = timedelta(seconds=60)  # ... and this long on top is a lease any replica may take over
BATCH = 100  # messages a session fetches at most before it ends (and its deletions take effect)


class MailboxStatus(BaseModel):
    """What the latest poll of a mailbox did (``error`` is why it failed), and who polls it."""

    address: str
    protocol: MailboxProtocol
    holder: str = Field(description="The intake replica that polls it.")
    polled_at: AwareDatetime = Field(description="When the latest poll started.")
    succeeded_at: AwareDatetime | None = Field(default=None, description="When a poll last ended well.")
    error: str | None = Field(default=None, description="Why the latest poll failed; None when it ended well.")
    received: int = Field(default=0, ge=0, description="Messages stored (and then deleted) by the latest poll.")
    waiting: int = Field(default=0, ge=0, description="Messages still in the mailbox after the latest poll.")
    too_large: int = Field(
        default=0, ge=0, description="Of those, messages over the size limit, left in the mailbox for staff to fetch."
    )


# Where a delivery agent (or the sender) names the address a message was delivered to: the per-ticket reply address
# (``support+t482913@``) of a mailbox's support address is found there, since the envelope is not in the mailbox.
RECIPIENT_FIELDS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")


def recipients_in(raw: bytes, address: str, *, max_bytes: int = 64 * 1024) -> list[str]:
    """``address``, and each tagged form of it (``support+t482913@example.com`` of ``support@example.com``) the
    message's headers name as a recipient, lower-cased. The tag only says which ticket a reply is meant for: who
    may post there is decided by the sender, as for any mail."""
    local, _, domain = address.lower().rpartition("@")
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:max_bytes])
    found = [address.lower()]
    for field in RECIPIENT_FIELDS:
        values = [str(each) for each in headers.get_all(field, [])]
        for _, named in getaddresses(values):
            named_local, at, named_domain = named.strip().lower().rpartition("@")
            if at and named_domain == domain and named_local.startswith(f"{local}+") and named not in found:
                found.append(named.strip().lower())
    return found


def status_key(address: str) -> str:
    """The mailbox's key in the rates bucket, beside the counters (an address may hold characters no key may)."""
    return f"mailbox.{hashlib.sha256(address.strip().lower().encode()).hexdigest()[:40]}"


def may_poll(status: MailboxStatus | None, *, me: str, now: datetime, interval_seconds: int) -> bool:
    """Whether replica ``me`` may poll the mailbox now: nobody polls it, ``me`` does, or its holder went quiet."""
    if status is None or status.holder == me:
        return True
    return now - status.polled_at > STALE_INTERVALS * timedelta(seconds=interval_seconds) + STALE_GRACE
