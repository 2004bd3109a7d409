"""When a mail that failed to send is tried again, and when it is given up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 2.0  # seconds before the second attempt; doubles after each failure
    max_delay: float = 600.0

    def next_attempt_at(self, *, attempts: int, now: datetime) -> datetime | None:
        """After ``attempts`` failed sends: when to try again, or None when the mail is dead."""
        if attempts >= self.max_attempts:
            return None
        delay = min(self.base_delay * 2 ** max(attempts - 1, 0), self.max_delay)
        return now + timedelta(seconds=delay)
