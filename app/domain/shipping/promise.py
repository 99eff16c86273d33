"""Promise dates: when an order ships from a warehouse and when it arrives (DOMAIN.md §3, Google's
``DeliveryTime`` model).

An order placed before its warehouse's cut-off, on a day the warehouse works and has a cut-off, starts
handling that day; otherwise on the warehouse's next business day. Handling takes a number of business
days in the origin's calendar (its country's holidays and the merchant's closures), and the parcel
goes out on a day with a cut-off. Transit is counted in business days on the carrier's delivery days
and the destination country's holidays. Unknown transit gives no delivery dates, never "0 days".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_interval, format_skeleton

from app.domain.shipping.calendar import ONE_DAY, BusinessCalendar
from app.domain.shipping.model import DeliveryWindow, InvalidSetting, Level


def _check_day_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSetting(name, f"a whole number of days is needed, not {value!r}")
    if value < 0:
        raise InvalidSetting(name, f"days cannot be negative ({value})")


def _check_days(name: str, minimum: int, maximum: int) -> None:
    _check_day_count(f"{name}_min", minimum)
    _check_day_count(f"{name}_max", maximum)
    if minimum > maximum:
        raise InvalidSetting(f"{name}_max", f"the maximum ({maximum}) is below the minimum ({minimum})")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError; a malformed key is a ValueError
        raise InvalidSetting("time_zone", f"{name!r} is not an IANA time zone") from None


@dataclass(frozen=True, slots=True)
class Warehouse:
    """Where and when parcels leave: the local cut-off per weekday (0 = Monday; a weekday without one
    dispatches nothing) and the business days handling takes."""

    time_zone: str
    cutoffs: Mapping[int, time]
    calendar: BusinessCalendar
    handling_days_min: int = 0
    handling_days_max: int = 0
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", _zone(self.time_zone))
        for weekday, cutoff in self.cutoffs.items():
            if weekday not in range(7):
                raise InvalidSetting("cutoffs", f"weekdays are 0 (Monday) to 6 (Sunday), not {weekday!r}")
            if not isinstance(cutoff, time) or cutoff.tzinfo is not None:
                raise InvalidSetting("cutoffs", f"a cut-off is a local time of day, not {cutoff!r}")
        if not self.calendar.weekdays & self.cutoffs.keys():
            raise InvalidSetting("cutoffs", "no working weekday has a cut-off, so nothing would ever ship")
        _check_days("handling_days", self.handling_days_min, self.handling_days_max)

    def dispatches_on(self, day: date) -> bool:
        return day.weekday() in self.cutoffs and self.calendar.is_business_day(day)

    def handling_starts(self, ordered_at: datetime) -> date:
        """The business day handling starts: the order's local day when it came before that day's cut-off."""
        if ordered_at.utcoffset() is None:
            raise ValueError(f"the order time must be time-zone aware, not {ordered_at!r}")
        day = ordered_at.astimezone(self.zone).date()
        cutoff = self.cutoffs.get(day.weekday())
        # Compared as instants, so a cut-off in the hour a DST change repeats is still passed only once.
        if cutoff is not None and self.dispatches_on(day) and ordered_at < datetime.combine(day, cutoff, self.zone):
            return day
        return self.calendar.on_or_after(day + ONE_DAY)

    def ships_on(self, handling_starts: date, handling_days: int) -> date:
        day = self.calendar.add(handling_starts, handling_days)
        while not self.dispatches_on(day):
            day += ONE_DAY
        return day


@dataclass(frozen=True, slots=True)
class Transit:
    """A carrier service's business days in transit; the destination's calendar works its delivery days."""

    days_min: int
    days_max: int

    def __post_init__(self) -> None:
        _check_days("transit_days", self.days_min, self.days_max)


@dataclass(frozen=True, slots=True)
class Estimate:
    """When an order ships (first and last likely day) and arrives; ``delivery`` is None when transit is unknown."""

    ships_earliest: date
    ships_latest: date
    delivery: DeliveryWindow | None


def estimate(
    ordered_at: datetime, warehouse: Warehouse, transit: Transit | None, destination: BusinessCalendar
) -> Estimate:
    start = warehouse.handling_starts(ordered_at)
    ships_earliest = warehouse.ships_on(start, warehouse.handling_days_min)
    ships_latest = warehouse.ships_on(start, warehouse.handling_days_max)
    if transit is None:
        return Estimate(ships_earliest, ships_latest, None)
    return Estimate(ships_earliest, ships_latest, delivery_window(ships_earliest, ships_latest, transit, destination))


# Every rate of a warehouse's orders of one day shares its ship dates: selection asks this again and again.
@lru_cache(maxsize=65_536)
def delivery_window(
    ships_earliest: date, ships_latest: date, transit: Transit, destination: BusinessCalendar
) -> DeliveryWindow:
    """When a parcel shipped between the two dates arrives; for many services of one order, whose ship dates
    (``estimate`` with no transit) are the same."""
    return DeliveryWindow(
        destination.add(ships_earliest, transit.days_min), destination.add(ships_latest, transit.days_max)
    )


@dataclass(frozen=True, slots=True)
class ChannelPromise:
    """What a channel promises per level, in business days from the day handling starts (e.g. standard 5,
    expedited 3, overnight 1); a level the channel does not promise is missing."""

    business_days: Mapping[Level, int]

    def __post_init__(self) -> None:
        for level, days in self.business_days.items():
            if not isinstance(level, Level):
                raise InvalidSetting("level", f"{level!r} is not a service level")
            _check_day_count(f"{level.value}_promise_days", days)

    def promised_by(
        self, level: Level, ordered_at: datetime, warehouse: Warehouse, destination: BusinessCalendar
    ) -> date | None:
        return self.promised_from(level, warehouse.handling_starts(ordered_at), destination)

    def promised_from(self, level: Level, handling_starts: date, destination: BusinessCalendar) -> date | None:
        """``promised_by`` for an order whose handling starts on ``handling_starts``: checkout asks it of
        every level for one order."""
        days = self.business_days.get(level)
        if days is None:
            return None
        return destination.add(handling_starts, days)


def arrival_text(window: DeliveryWindow, locale: str) -> str:
    """ "Tue 9 Dec" for one day, "9–11 Dec" for a range, in the locale's own words and order."""
    if window.earliest == window.latest:
        return format_skeleton("MMMEd", window.earliest, locale=locale)
    return format_interval(window.earliest, window.latest, "MMMd", locale=locale)


def checkout_label(level: Level, window: DeliveryWindow, locale: str) -> str:
    """The option's name at checkout; only the dates are localised, the app has no translations yet."""
    return f"{level.value.capitalize()}, arrives {arrival_text(window, locale)}"
