"""Invariants of business time over arbitrary weekly hours, zones with DST changes, holidays and pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.support.hours import ONE_DAY, BusinessHours
from app.domain.support.sla import Pause, sla_deadline

ZONES = ("UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata")


def clock_time(minute: int) -> time:
    return time(0) if minute == 1440 else time(minute // 60, minute % 60)


@st.composite
def day_windows(draw: st.DrawFn) -> tuple[tuple[time, time], ...]:
    """0-2 windows on 15-minute boundaries, in order and not overlapping; 24:00 closes at midnight."""
    boundaries = sorted(draw(st.sets(st.integers(0, 96), max_size=4)))
    if len(boundaries) % 2:
        boundaries = boundaries[:-1]
    return tuple(
        (clock_time(opens * 15), clock_time(closes * 15))
        for opens, closes in zip(boundaries[::2], boundaries[1::2], strict=True)
    )


@st.composite
def business_hours(draw: st.DrawFn) -> BusinessHours:
    weekly = {weekday: draw(day_windows()) for weekday in range(7)}
    if not any(weekly.values()):
        weekly[draw(st.integers(0, 6))] = ((time(9), time(17)),)
    country = draw(st.sampled_from((None, "US", "DE")))
    closed = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=5))
    return BusinessHours(draw(st.sampled_from(ZONES)), weekly, country, closed_dates=closed)


instants = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds and applies the zone
    max_value=datetime(2027, 6, 30),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda moment: moment.replace(microsecond=0))
business_minutes = st.integers(0, 6000).map(lambda minutes: timedelta(minutes=minutes))


def inside_a_window(hours: BusinessHours, instant: datetime) -> bool:
    local_day = instant.astimezone(hours.zone).date()
    return any(
        opens < instant <= closes for day in (local_day - ONE_DAY, local_day) for opens, closes in hours.windows_on(day)
    )


@st.composite
def pauses(draw: st.DrawFn, start: datetime) -> list[Pause]:
    """Up to three ordered, non-overlapping pauses after ``start``, the last maybe still open."""
    offsets = sorted(draw(st.sets(st.integers(0, 20 * 24 * 60), min_size=0, max_size=6)))
    result: list[Pause] = []
    for since, until in zip(offsets[::2], offsets[1::2], strict=False):
        result.append((start + timedelta(minutes=since), start + timedelta(minutes=until)))
    if len(offsets) % 2 and draw(st.booleans()):
        result.append((start + timedelta(minutes=offsets[-1]), None))
    return result


@settings(deadline=None)
@given(business_hours(), instants, business_minutes)
def test_measuring_what_was_added_gives_it_back(hours: BusinessHours, start: datetime, amount: timedelta) -> None:
    assert hours.elapsed(start, hours.add(start, amount)) == amount


@settings(deadline=None)
@given(business_hours(), instants, business_minutes)
def test_a_deadline_falls_inside_business_hours_unless_nothing_was_added(
    hours: BusinessHours, start: datetime, amount: timedelta
) -> None:
    deadline = hours.add(start, amount)
    if amount:
        assert inside_a_window(hours, deadline)
    else:
        assert deadline == start


@settings(deadline=None)
@given(business_hours(), instants, business_minutes, business_minutes)
def test_more_time_is_never_an_earlier_deadline(
    hours: BusinessHours, start: datetime, amount: timedelta, more: timedelta
) -> None:
    assert hours.add(start, amount) <= hours.add(start, amount + more)


@settings(deadline=None)
@given(st.data(), business_hours(), instants, business_minutes)
def test_pausing_never_makes_a_deadline_earlier(
    data: st.DataObject, hours: BusinessHours, start: datetime, target: timedelta
) -> None:
    paused = data.draw(pauses(start))
    unpaused = sla_deadline(hours, start, target)
    with_pauses = sla_deadline(hours, start, target, paused)
    assert unpaused is not None
    if with_pauses is not None:
        assert with_pauses >= unpaused
    fewer = sla_deadline(hours, start, target, paused[:-1])
    if fewer is not None and with_pauses is not None:
        assert with_pauses >= fewer
