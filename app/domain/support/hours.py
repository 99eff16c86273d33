"""Business hours: the instants a support team works, and time counted only inside them.

Hours are wall-clock windows per weekday in the team's time zone (a weekday may have several, such as
a lunch break between two, or none); a closing time of midnight means the end of that day. A day is
worked unless it is a public holiday of the team's country (and subdivision) from the ``holidays``
library or one of the team's own closed dates. Each local window is turned into two UTC instants, so
across a DST change a window is as long as the clocks on the wall say it was: 09:00-17:00 on the
night the clocks go forward is still 8 hours, and a window that spans a change is an hour shorter
or longer.
A wall-clock time the clocks skip is read with the offset before the change (02:30 on the night New
York springs forward is 03:30 EDT), one they repeat as its first occurrence; a window that would then
overlap the one before it starts where that one ends.

``add`` and ``elapsed`` walk the same windows, which are cached per local date, so measuring what was
added gives it back exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from app.domain.support.model import InvalidSupportSetting

MIDNIGHT = time(0)
ONE_DAY = timedelta(days=1)
NOTHING = timedelta(0)
# Hours with at least one window per week can only be blocked by closures and holidays; ten years of
# them means a setting went wrong, not that a deadline is that far away.
_SEARCH_LIMIT_DAYS = 3660

Window = tuple[datetime, datetime]
Gap = tuple[datetime, datetime | None]  # from, until (None: still going on)


@cache
def _countries() -> dict[str, frozenset[str]]:
    return {country: frozenset(subdivisions) for country, subdivisions in holidays.list_supported_countries().items()}


@cache
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError; a malformed key is a ValueError
        raise InvalidSupportSetting("time_zone", f"{name!r} is not an IANA time zone") from None


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """When a support team works. ``weekly`` maps weekdays (0 = Monday) to their (opens, closes) windows."""

    time_zone: str
    weekly: Mapping[int, tuple[tuple[time, time], ...]]
    country: str | None = None
    subdivision: str | None = None
    closed_dates: frozenset[date] = field(default_factory=frozenset)
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _windows: dict[int, tuple[Window, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", _zone(self.time_zone))
        object.__setattr__(self, "_windows", {})
        if self.country is not None:
            subdivisions = _countries().get(self.country)
            if subdivisions is None:
                raise InvalidSupportSetting("country", f"{self.country!r} is not a country the holiday calendars know")
            if self.subdivision is not None and self.subdivision not in subdivisions:
                raise InvalidSupportSetting("subdivision", f"{self.country} has no subdivision {self.subdivision!r}")
        elif self.subdivision is not None:
            raise InvalidSupportSetting("subdivision", "a subdivision needs its country")
        for weekday, windows in self.weekly.items():
            if weekday not in range(7):
                raise InvalidSupportSetting("weekly", f"weekdays are 0 (Monday) to 6 (Sunday), not {weekday!r}")
            previous_close: time | None = None
            for opens, closes in windows:
                if opens.tzinfo is not None or closes.tzinfo is not None:
                    raise InvalidSupportSetting("weekly", f"hours are local times of day, not {opens}-{closes}")
                if closes != MIDNIGHT and closes <= opens:
                    raise InvalidSupportSetting(
                        "weekly", f"weekday {weekday}: {opens:%H:%M} does not open before {closes:%H:%M}"
                    )
                if previous_close is not None and (previous_close == MIDNIGHT or opens < previous_close):
                    raise InvalidSupportSetting("weekly", f"weekday {weekday}: windows overlap or are out of order")
                previous_close = closes
        if not any(self.weekly.values()):
            raise InvalidSupportSetting("weekly", "at least one weekday needs opening hours")

    @classmethod
    def always(cls) -> BusinessHours:
        """Calendar hours: every minute of every day counts (an SLA target not in business hours)."""
        return cls("UTC", dict.fromkeys(range(7), ((MIDNIGHT, MIDNIGHT),)))

    def with_closed_dates(self, days: Iterable[date]) -> BusinessHours:
        return BusinessHours(
            self.time_zone, self.weekly, self.country, self.subdivision, self.closed_dates | frozenset(days)
        )

    def is_working_day(self, day: date) -> bool:
        return (
            bool(self.weekly.get(day.weekday()))
            and day not in self.closed_dates
            and (self.country is None or day not in _public_holidays(self.country, self.subdivision, day.year))
        )

    def windows_on(self, day: date) -> tuple[Window, ...]:
        """The day's working windows as UTC instants, empty on a day off."""
        return self._windows_of(day.toordinal())

    def _windows_of(self, ordinal: int) -> tuple[Window, ...]:
        windows = self._windows.get(ordinal)
        if windows is None:
            day = date.fromordinal(ordinal)
            windows = self._instants(day) if self.is_working_day(day) else ()
            self._windows[ordinal] = windows
        return windows

    def _instants(self, day: date) -> tuple[Window, ...]:
        windows: list[Window] = []
        for opens, closes in self.weekly[day.weekday()]:
            begin = datetime.combine(day, opens, self.zone).astimezone(UTC)
            finish = datetime.combine(day + ONE_DAY if closes == MIDNIGHT else day, closes, self.zone).astimezone(UTC)
            if windows:
                begin = max(begin, windows[-1][1])
            if begin < finish:
                windows.append((begin, finish))
        return tuple(windows)

    def _local_ordinal(self, instant: datetime) -> int:
        if instant.tzinfo is None:
            raise ValueError(f"business time is counted between aware instants, not {instant!r}")
        return instant.astimezone(self.zone).toordinal()

    # ``add`` and ``elapsed`` run for every clock of every ticket an inbox shows: their loops stay plain.

    def add(self, start: datetime, business_time: timedelta) -> datetime:
        """The instant (in UTC) ``business_time`` of working time after ``start``. With nothing to add, ``start``
        itself (even outside the hours); otherwise the instant always falls inside a window (its end included)."""
        deadline = self.add_around(start, business_time, ())
        assert deadline is not None, "only an open gap leaves no deadline"
        return deadline

    def add_around(self, start: datetime, business_time: timedelta, gaps: Sequence[Gap]) -> datetime | None:
        """Like ``add``, with the working time inside ``gaps`` (ordered, not overlapping; the last may have no end)
        not counting; None when an open gap begins before the time is used up. A deadline on the instant a gap
        begins is reached before it."""
        if business_time < NOTHING:
            raise ValueError(f"cannot add a negative business time ({business_time})")
        if start.tzinfo is not UTC:
            if start.tzinfo is None:
                raise ValueError(f"business time is counted between aware instants, not {start!r}")
            start = start.astimezone(UTC)
        # The local date is at most a day either side of the UTC one, and windows close by their local midnight:
        # starting a day before the UTC date visits at most two days whose windows have all closed, which is
        # cheaper than converting to the team's zone.
        first = start.toordinal() - 1
        gap_count, index = len(gaps), 0
        if not business_time:
            moment: datetime | None = start
            for since, until in gaps:
                if moment is not None and since < moment and (until is None or until > moment):
                    moment = None if until is None else until.astimezone(UTC)
            return moment
        while index < gap_count and (until := gaps[index][1]) is not None and until <= start:
            index += 1  # over before the start
        remaining = business_time
        cached = self._windows
        for ordinal in range(first, first + _SEARCH_LIMIT_DAYS):
            windows = cached.get(ordinal)
            if windows is None:
                windows = self._windows_of(ordinal)
            for opens, closes in windows:
                if closes <= start:
                    continue
                begin = opens if opens > start else start
                if index == gap_count:  # no gap ahead (most clocks, most of the way): the window counts whole
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
                    continue
                while begin < closes:
                    while index < gap_count and (until := gaps[index][1]) is not None and until <= begin:
                        index += 1
                    stop = closes
                    if index < gap_count:
                        since, until = gaps[index]
                        if since <= begin:  # inside the gap, or at its start with time still to add
                            if until is None:
                                return None
                            begin = until.astimezone(UTC)
                            continue
                        stop = since if since < closes else closes
                    available = stop - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
                    begin = stop
        raise InvalidSupportSetting("weekly", f"no working hours within {_SEARCH_LIMIT_DAYS} days of {start}")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants; nothing when ``end`` is not after ``start``."""
        if end <= start:
            return NOTHING
        total = NOTHING
        cached = self._windows
        for ordinal in range(self._local_ordinal(start), self._local_ordinal(end) + 1):
            windows = cached.get(ordinal)
            if windows is None:
                windows = self._windows_of(ordinal)
            for opens, closes in windows:
                overlap = (closes if closes < end else end) - (opens if opens > start else start)
                if overlap > NOTHING:
                    total += overlap
        return total

    def is_open(self, instant: datetime) -> bool:
        """True inside a window, its opening instant included and its closing excluded."""
        return any(opens <= instant < closes for opens, closes in self._windows_of(self._local_ordinal(instant)))
