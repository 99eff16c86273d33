import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.pipeline import RetryPolicy

START = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def always(value: float) -> Callable[[], float]:
    """A jitter that always draws ``value``: the edges of full jitter."""
    return lambda: value


def _wait(policy: RetryPolicy, attempts: int, draw: float, retry_after: timedelta | None = None) -> timedelta:
    due = policy.next_attempt(
        attempts=attempts, first_attempt_at=START, now=START, draw=always(draw), retry_after=retry_after
    )
    assert due is not None
    return due - START


def test_the_ceiling_doubles_with_each_attempt_until_the_cap() -> None:
    policy = RetryPolicy(base=timedelta(seconds=2), cap=timedelta(minutes=30))
    ceilings = [_wait(policy, attempts, 1.0) for attempts in range(1, 13)]
    assert ceilings[:4] == [timedelta(seconds=s) for s in (2, 4, 8, 16)]
    assert ceilings[-1] == timedelta(minutes=30)
    assert ceilings == sorted(ceilings)


def test_full_jitter_draws_anywhere_between_now_and_the_ceiling() -> None:
    policy = RetryPolicy()
    assert _wait(policy, 5, 0.0) == timedelta(0)
    rng = random.Random(11)
    waits = [policy.next_attempt(attempts=5, first_attempt_at=START, now=START, draw=rng.random) for _ in range(200)]
    spread = {wait - START for wait in waits if wait is not None}
    assert len(spread) > 150  # spread out, not all at once
    assert all(timedelta(0) <= wait <= timedelta(seconds=32) for wait in spread)


def test_retry_after_is_a_floor() -> None:
    policy = RetryPolicy()
    assert _wait(policy, 1, 0.5, retry_after=timedelta(seconds=120)) == timedelta(seconds=120)
    assert _wait(policy, 12, 1.0, retry_after=timedelta(seconds=1)) == timedelta(minutes=30)


def test_attempts_stop_once_the_window_since_the_first_has_passed() -> None:
    policy = RetryPolicy(window=timedelta(hours=24))
    late = START + timedelta(hours=23, minutes=59)
    assert policy.next_attempt(attempts=60, first_attempt_at=START, now=late, draw=always(0.0)) == late
    assert policy.next_attempt(attempts=60, first_attempt_at=START, now=late, draw=always(1.0)) is None


def test_retries_last_at_least_a_day_before_giving_up() -> None:
    policy = RetryPolicy()
    now, attempts = START, 0
    while due := policy.next_attempt(attempts=attempts + 1, first_attempt_at=START, now=now, draw=always(1.0)):
        now, attempts = due, attempts + 1
    assert now - START > timedelta(hours=23)
    assert attempts > 40


@pytest.mark.parametrize(("base", "cap"), [(0, 10), (10, 5), (-1, 5)])
def test_a_policy_that_cannot_wait_is_refused(base: int, cap: int) -> None:
    with pytest.raises(ValueError, match="base"):
        RetryPolicy(base=timedelta(seconds=base), cap=timedelta(seconds=cap))
