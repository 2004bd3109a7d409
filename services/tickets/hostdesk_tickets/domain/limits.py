"""How much one ticket takes, and how fast: the bounds that keep a requester from flooding a ticket.

- A ticket holds at most ``POSTS_MAX`` posts (its own and those merged into it): a conversation longer than
  that is a new ticket's, and a ticket's timeline stays one that staff can read and a page can show.
- The requesting side posts at most ``REQUESTER_BURST_MAX`` public replies to one ticket within
  ``REQUESTER_BURST_WINDOW`` while the handling side says nothing: ten follow-ups in a minute is already more
  than anyone types, and a reply from staff starts the count afresh, so a live exchange is never cut short.
  The count is made from the times the ticket's own events were recorded, so every replica decides alike.
- A ticket holds at most ``ATTACHMENTS_MAX`` files (the first post's, its replies' and notes', and those merged
  into it), each post at most ``hostdesk_contracts.attachments.MAX_ATTACHMENTS_PER_POST``. Posts alone would let
  a ticket gather 10,000 files (1,000 posts of 10): 200 is more than a support conversation ever needs (logs,
  screenshots, a config or two per exchange), keeps what one ticket may hold in the attachment store under 4 GiB
  (200 files of at most 20 MiB), and keeps the records a timeline page shows and a merge carries (each about
  250 bytes) to a few dozen kilobytes. A conversation that needs more files is a transfer, not a ticket.
- A post's body is bounded by the command itself (``hostdesk_contracts.commands.POST_BODY_MAX_CHARS``), and so
  are the CC recipients each side may set (``CC_MAX_BY_HANDLER``, ``CC_MAX_BY_REQUESTER``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

POSTS_MAX = 1_000
ATTACHMENTS_MAX = 200
REQUESTER_BURST_MAX = 10
REQUESTER_BURST_WINDOW = timedelta(minutes=1)


def burst_after(burst: Sequence[datetime], posted_at: datetime) -> list[datetime]:
    """The requesting side's recent post times once it posted at ``posted_at``: only the last few count."""
    return [*burst, posted_at][-REQUESTER_BURST_MAX:]


def seconds_until_requester_may_post(burst: Sequence[datetime], *, now: datetime) -> int | None:
    """How long the requesting side waits before it may post again, in whole seconds, or None: it may post now.

    ``burst`` holds the times of its posts since the handling side last posted publicly, oldest first."""
    if len(burst) < REQUESTER_BURST_MAX:
        return None
    wait = burst[-REQUESTER_BURST_MAX] + REQUESTER_BURST_WINDOW - now
    if wait <= timedelta(0):
        return None
    return max(1, math.ceil(wait.total_seconds()))
