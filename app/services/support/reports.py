"""Support reports: the tickets created in a period of days in the team's time zone, as the desk measured them at
their latest change (under the SLA policy they matched then), grouped per week, assignee or reason
(``app.domain.support.reports``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from app.domain.ids import SaleorApiUrl
from app.domain.support.reports import GroupBy, SupportReport, week_of
from app.services.ports import SettingsStore, SupportReportSource
from app.services.support.desk import support_configuration

LONGEST_PERIOD = timedelta(days=366)
DEFAULT_WEEKS = 4


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """Whole days in the team's time zone, both included."""

    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError(f"the period ends ({self.last_day}) before it starts ({self.first_day})")
        if self.last_day - self.first_day >= LONGEST_PERIOD:
            raise ValueError(f"a report covers at most {LONGEST_PERIOD.days} days")

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: the first day's midnight to the midnight after the last day, in ``zone``."""
        start = datetime.combine(self.first_day, time(0), zone)
        end = datetime.combine(self.last_day + timedelta(days=1), time(0), zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def recent_weeks(now: datetime, zone: tzinfo, weeks: int = DEFAULT_WEEKS) -> ReportPeriod:
    """This week and the ``weeks - 1`` before it, up to today."""
    return ReportPeriod(week_of(now, zone) - timedelta(weeks=weeks - 1), now.astimezone(zone).date())


@dataclass(frozen=True, slots=True)
class PeriodReport:
    report: SupportReport
    period: ReportPeriod
    time_zone: str  # the team's, which weeks and days are counted in


async def support_report(
    source: SupportReportSource,
    settings: SettingsStore,
    url: SaleorApiUrl,
    period: ReportPeriod | None,
    group_by: GroupBy,
    now: datetime,
) -> PeriodReport:
    """The report of the tickets created in ``period`` (the recent weeks when None), measured at ``now``."""
    hours = (await support_configuration(settings, url)).hours
    period = period or recent_weeks(now, hours.zone)
    start, end = period.bounds(hours.zone)
    report = await source.report(url, start, end, group_by, hours.zone, now)
    return PeriodReport(report, period, hours.time_zone)
