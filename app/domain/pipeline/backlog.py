"""The pipeline's backlog as people see it: stored deliveries and effects that are not done yet.

A person asks of each one: is it still to be tried, is it being tried again after a failure, or
has the app given up on it (and so must someone retry it)? ``Progress`` answers that from the
stored status and the attempts counted so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.ids import SaleorId
from app.domain.pipeline import Status


class Progress(StrEnum):
    WAITING = "waiting"  # not tried yet
    RETRYING = "retrying"  # tried and failed; tried again at its next attempt
    SENDING = "sending"  # an effect on its way to Saleor now
    FAILED = "failed"  # the app gave up: a person looks and may retry
    DONE = "done"


def progress(status: str, attempts: int) -> Progress:
    if status == Status.PENDING:
        return Progress.RETRYING if attempts > 0 else Progress.WAITING
    return Progress(status)


@dataclass(frozen=True, slots=True)
class BacklogItem:
    """A delivery (``what`` is its event) or an effect (``what`` is its kind) that is not done.

    ``attempts`` counts those made: for a waiting, retrying or failed item, all of them failed; for
    an effect being sent, the last one is the one under way.
    """

    id: int
    what: str
    order_id: SaleorId
    order_number: str | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    since: datetime  # when the delivery was received, or the effect decided

    @property
    def progress(self) -> Progress:
        return progress(self.status, self.attempts)


@dataclass(frozen=True, slots=True)
class BacklogCounts:
    """How many of a store's deliveries or effects stand where; ``done`` counts a recent window only."""

    waiting: int = 0
    retrying: int = 0
    sending: int = 0
    failed: int = 0
    done: int = 0

    @property
    def not_done(self) -> int:
        return self.waiting + self.retrying + self.sending + self.failed
