"""Token buckets that keep one sender from flooding a public endpoint.

Kept in the process's memory: each web process counts on its own, so N replicas admit up to N times
the rate, and a restart forgets the counts. The app has no shared cache (Redis) to count across
processes; a per-process bound still stops one client hammering one process, which is what it is for.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``burst`` at once, refilled by one every ``every_seconds``."""

    burst: int
    every_seconds: float

    def __post_init__(self) -> None:
        if self.burst < 1 or self.every_seconds <= 0:
            raise ValueError(f"a rate needs a burst of at least 1 and a positive refill, not {self}")


class TokenBuckets:
    """One bucket per key. Only the ``max_keys`` most recently used keys are remembered: a key forgotten
    starts again with a full bucket, so the bound trades a little leniency for bounded memory."""

    def __init__(self, rate: Rate, *, monotonic: Callable[[], float], max_keys: int = 100_000) -> None:
        self._rate = rate
        self._monotonic = monotonic
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, at)

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self._rate.burst), now))
        return min(float(self._rate.burst), tokens + (now - at) / self._rate.every_seconds)

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may go again; 0 when it may go now."""
        missing = 1 - self._tokens(key, self._monotonic())
        return max(0.0, missing * self._rate.every_seconds)

    def take(self, key: str) -> None:
        now = self._monotonic()
        self._buckets[key] = (self._tokens(key, now) - 1, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)


class SenderLimits:
    """A customer request goes ahead only when both its sender's address (IP) and its e-mail have a token
    left; one refused takes no token from either."""

    def __init__(self, per_ip: Rate, per_email: Rate, *, monotonic: Callable[[], float]) -> None:
        self._ips = TokenBuckets(per_ip, monotonic=monotonic)
        self._emails = TokenBuckets(per_email, monotonic=monotonic)

    def admit(self, ip: str, email: str) -> float:
        """0 and both tokens taken when the request may go ahead; otherwise the seconds to wait."""
        email = email.strip().casefold()
        wait = max(self._ips.wait(ip), self._emails.wait(email))
        if wait == 0:
            self._ips.take(ip)
            self._emails.take(email)
        return wait


def customer_request_limits(monotonic: Callable[[], float] = time.monotonic) -> SenderLimits:
    """Support requests from the storefront: a sender address (a shop's office may share one) may send 10 at
    once, then one a minute; an e-mail 5 at once, then one every 5 minutes (enough for a customer with
    several orders, too few to guess order numbers)."""
    return SenderLimits(Rate(10, 60), Rate(5, 300), monotonic=monotonic)
