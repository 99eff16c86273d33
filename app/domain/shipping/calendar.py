"""Business days: which dates a warehouse works and a carrier delivers on.

A date is a business day when its weekday is one the calendar works, it is not a public holiday of
the country (and subdivision) from the ``holidays`` library, and it is not one of the merchant's own
closures. Holiday sets are built once per country, subdivision and year: selection asks for the same
few calendars thousands of times a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import holidays

from app.domain.shipping.model import InvalidSetting

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
MON_FRI = frozenset({MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY})
MON_SAT = MON_FRI | {SATURDAY}
TUE_SAT = frozenset({TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY})

ONE_DAY = timedelta(days=1)


@cache
def _supported_subdivisions() -> dict[str, frozenset[str]]:
    return {country: frozenset(subdivisions) for country, subdivisions in holidays.list_supported_countries().items()}


@cache
def _subdivision_names(country: str) -> dict[str, str]:
    """Each subdivision's code and the names ``holidays`` knows it by, folded, to its code."""
    entity = holidays.country_holidays(country)
    names = {alias.casefold(): code for alias, code in getattr(entity, "subdivisions_aliases", {}).items()}
    return {**names, **{code.casefold(): code for code in entity.subdivisions}}


def subdivision_of(country: str, area: str) -> str | None:
    """The holiday subdivision an address's country area names ("TX", "Texas", "ON"), None when it names none
    (or the country has no calendar): the country's holidays alone then apply."""
    if country not in _supported_subdivisions() or not area.strip():
        return None
    return _subdivision_names(country).get(area.strip().casefold())


@cache
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """The days something happens in one country: a warehouse's working days or a carrier's delivery days."""

    country: str
    subdivision: str | None = None
    weekdays: frozenset[int] = MON_FRI
    closures: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        subdivisions = _supported_subdivisions().get(self.country)
        if subdivisions is None:
            raise InvalidSetting("country", f"{self.country!r} is not a country code the holiday calendars know")
        if self.subdivision is not None and self.subdivision not in subdivisions:
            raise InvalidSetting("subdivision", f"{self.country} has no subdivision {self.subdivision!r}")
        if not self.weekdays:
            raise InvalidSetting("weekdays", "at least one weekday is needed")
        if not self.weekdays <= set(range(7)):
            raise InvalidSetting("weekdays", f"weekdays are 0 (Monday) to 6 (Sunday), not {sorted(self.weekdays)}")

    def with_closures(self, closures: Iterable[date]) -> BusinessCalendar:
        return BusinessCalendar(self.country, self.subdivision, self.weekdays, self.closures | frozenset(closures))

    def is_business_day(self, day: date) -> bool:
        return (
            day.weekday() in self.weekdays
            and day not in self.closures
            and day not in _public_holidays(self.country, self.subdivision, day.year)
        )

    def on_or_after(self, day: date) -> date:
        """The first business day from ``day`` on, ``day`` itself when it is one."""
        while not self.is_business_day(day):
            day += ONE_DAY
        return day

    def add(self, day: date, business_days: int) -> date:
        """The ``business_days``-th business day after ``day`` (which need not be one itself); with 0, ``day``
        or the first business day after it."""
        for _ in range(business_days):
            day = self.on_or_after(day + ONE_DAY)
        return self.on_or_after(day)
