"""The order pipeline's rules, with no I/O: when a failed attempt is tried again, and when it stops.

A delivery that could not be processed and an effect that could not reach Saleor are both retried
with exponential backoff and full jitter (AWS's "Exponential Backoff and Jitter"): the n-th wait is
a random time up to ``base · 2ⁿ``, capped, so that many failures at once spread out instead of coming
back together. A server's ``Retry-After`` is a floor. Attempts stop once the first one is older than
the retry window (at least 24 hours), and the item is kept as failed, for a person to see and retry.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    """Where a stored delivery or effect is on its way."""

    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # an effect a dispatcher has claimed and is delivering
    DONE = "done"
    FAILED = "failed"  # retries gave out, or the error cannot pass by waiting: a person decides


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=30)
    window: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("a retry policy needs 0 < base <= cap")

    def next_attempt(
        self,
        *,
        attempts: int,
        first_attempt_at: datetime,
        now: datetime,
        retry_after: timedelta | None = None,
        draw: Callable[[], float] = random.random,
    ) -> datetime | None:
        """When to try again after ``attempts`` failed attempts; None when the window has passed.
        ``draw`` gives the jitter, a number in [0, 1)."""
        ceiling = min(self.cap, self.base * (2 ** min(attempts - 1, 30)))
        wait = ceiling * draw()
        if retry_after is not None:
            wait = max(wait, retry_after)
        due = now + wait
        return None if due - first_attempt_at > self.window else due
