from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain.support.hours import BusinessHours
from app.domain.support.model import InvalidSupportSetting
from tests.unit.domain.support.builders import NINE_TO_FIVE, WEEKDAYS_9_17, make_hours

HOUR = timedelta(hours=1)


NEW_YORK = make_hours().zone
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")


def ny(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=NEW_YORK)


class TestAddingBusinessTime:
    def test_time_left_at_closing_carries_over_the_night(self) -> None:
        hours = make_hours()
        assert hours.add(ny(2026, 10, 6, 16), 2 * HOUR) == ny(2026, 10, 7, 10)

    def test_a_weekend_is_skipped(self) -> None:
        assert make_hours().add(ny(2026, 10, 16, 16), 2 * HOUR) == ny(2026, 10, 19, 10)

    def test_a_public_holiday_is_skipped(self) -> None:
        # Thanksgiving, Thursday 26 Nov 2026
        assert make_hours().add(ny(2026, 11, 25, 16), 2 * HOUR) == ny(2026, 11, 27, 10)

    def test_without_a_country_holidays_are_working_days(self) -> None:
        assert make_hours(country=None).add(ny(2026, 11, 25, 16), 2 * HOUR) == ny(2026, 11, 26, 10)

    def test_the_teams_own_closed_dates_are_skipped(self) -> None:
        hours = make_hours().with_closed_dates([date(2026, 10, 7)])
        assert hours.add(ny(2026, 10, 6, 16), 2 * HOUR) == ny(2026, 10, 8, 10)

    def test_a_start_before_opening_counts_from_opening(self) -> None:
        assert make_hours().add(ny(2026, 10, 6, 3), HOUR) == ny(2026, 10, 6, 10)

    def test_a_deadline_at_closing_stays_on_that_day(self) -> None:
        assert make_hours().add(ny(2026, 10, 6, 9), 8 * HOUR) == ny(2026, 10, 6, 17)

    def test_nothing_to_add_is_the_start_itself_even_at_night(self) -> None:
        night = ny(2026, 10, 6, 23)
        assert make_hours().add(night, timedelta(0)) == night

    def test_a_lunch_break_does_not_count(self) -> None:
        split = dict.fromkeys(range(5), ((time(9), time(12)), (time(13), time(17))))
        assert make_hours(weekly=split).add(ny(2026, 10, 6, 11), 2 * HOUR) == ny(2026, 10, 6, 14)

    def test_a_day_open_until_midnight_runs_into_the_next_days_hours(self) -> None:
        evenings = dict.fromkeys(range(7), ((time(18), time(0)),))
        assert make_hours(weekly=evenings, country=None).add(ny(2026, 10, 6, 23), 2 * HOUR) == ny(2026, 10, 7, 19)

    @pytest.mark.parametrize(
        ("start", "deadline"),
        [
            # Kiritimati is 14 hours ahead: Tuesday 09:30 there is still Monday in UTC.
            (datetime(2026, 10, 6, 9, 30, tzinfo=KIRITIMATI), datetime(2026, 10, 6, 11, 30, tzinfo=KIRITIMATI)),
            (datetime(2026, 10, 5, 23, tzinfo=KIRITIMATI), datetime(2026, 10, 6, 11, tzinfo=KIRITIMATI)),
            # Pago Pago is 11 hours behind: Tuesday 16:00 there is already Wednesday in UTC.
            (datetime(2026, 10, 6, 16, tzinfo=PAGO_PAGO), datetime(2026, 10, 7, 10, tzinfo=PAGO_PAGO)),
        ],
    )
    def test_a_local_date_other_than_the_utc_one(self, start: datetime, deadline: datetime) -> None:
        assert BusinessHours(str(start.tzinfo), WEEKDAYS_9_17).add(start, 2 * HOUR) == deadline

    def test_berlin_hours_are_berlin_wall_clock(self) -> None:
        berlin = BusinessHours("Europe/Berlin", WEEKDAYS_9_17, "DE", "BY")
        # Friday 16:00 in Berlin (14:00 UTC, summer time); Monday 5 Oct is a working day in Bavaria.
        assert berlin.add(datetime(2026, 10, 2, 14, tzinfo=UTC), 2 * HOUR) == datetime(2026, 10, 5, 8, tzinfo=UTC)

    def test_a_holiday_of_the_teams_subdivision_only(self) -> None:
        epiphany_eve = datetime(2026, 1, 5, 15, tzinfo=UTC)  # Monday 16:00 CET
        bavaria = BusinessHours("Europe/Berlin", WEEKDAYS_9_17, "DE", "BY")
        berlin = BusinessHours("Europe/Berlin", WEEKDAYS_9_17, "DE", "BE")
        assert bavaria.add(epiphany_eve, 2 * HOUR) == datetime(2026, 1, 7, 9, tzinfo=UTC)
        assert berlin.add(epiphany_eve, 2 * HOUR) == datetime(2026, 1, 6, 9, tzinfo=UTC)


class TestDaylightSaving:
    def test_a_working_day_after_the_clocks_go_forward_keeps_its_wall_clock_hours(self) -> None:
        hours = make_hours()  # New York springs forward on Sunday 8 March 2026
        friday_close = ny(2026, 3, 6, 16)
        assert hours.add(friday_close, 2 * HOUR) == datetime(2026, 3, 9, 14, tzinfo=UTC)  # 10:00 EDT

    def test_round_the_clock_hours_lose_an_hour_on_the_spring_night(self) -> None:
        always_ny = BusinessHours("America/New_York", dict.fromkeys(range(7), ((time(0), time(0)),)))
        sunday = date(2026, 3, 8)
        (opens, closes), *_ = always_ny.windows_on(sunday)
        assert closes - opens == 23 * HOUR

    def test_round_the_clock_hours_gain_an_hour_on_the_autumn_night(self) -> None:
        always_berlin = BusinessHours("Europe/Berlin", dict.fromkeys(range(7), ((time(0), time(0)),)))
        (opens, closes), *_ = always_berlin.windows_on(date(2026, 10, 25))
        assert closes - opens == 25 * HOUR

    def test_a_window_across_the_change_is_as_long_as_the_wall_clock_says(self) -> None:
        nights = BusinessHours("Europe/Berlin", dict.fromkeys(range(7), ((time(1), time(4)),)))
        (opens, closes), *_ = nights.windows_on(date(2026, 3, 29))
        assert closes - opens == 2 * HOUR

    def test_elapsed_time_across_the_change_counts_real_hours(self) -> None:
        always_ny = BusinessHours("America/New_York", dict.fromkeys(range(7), ((time(0), time(0)),)))
        start = datetime(2026, 3, 7, 12, tzinfo=always_ny.zone)
        end = datetime(2026, 3, 8, 12, tzinfo=always_ny.zone)
        assert always_ny.elapsed(start, end) == 23 * HOUR


class TestElapsed:
    def test_counts_only_open_hours(self) -> None:
        assert make_hours().elapsed(ny(2026, 10, 9, 16), ny(2026, 10, 13, 10)) == 2 * HOUR  # Columbus Day between

    def test_an_end_before_the_start_is_nothing(self) -> None:
        assert make_hours().elapsed(ny(2026, 10, 9, 16), ny(2026, 10, 9, 15)) == timedelta(0)

    def test_is_open(self) -> None:
        hours = make_hours()
        assert hours.is_open(ny(2026, 10, 6, 9))
        assert not hours.is_open(ny(2026, 10, 6, 17))
        assert not hours.is_open(ny(2026, 10, 10, 12))


class TestSettings:
    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            pytest.param({"time_zone": "Mars/Olympus"}, "time_zone", id="unknown zone"),
            pytest.param({"country": "XX"}, "country", id="unknown country"),
            pytest.param({"country": "US", "subdivision": "ZZ"}, "subdivision", id="unknown subdivision"),
            pytest.param({"country": None, "subdivision": "TX"}, "subdivision", id="subdivision without country"),
            pytest.param({"weekly": {7: NINE_TO_FIVE}}, "weekly", id="weekday 7"),
            pytest.param({"weekly": {0: ((time(17), time(9)),)}}, "weekly", id="closes before it opens"),
            pytest.param({"weekly": {0: ((time(9), time(13)), (time(12), time(17)))}}, "weekly", id="overlap"),
            pytest.param({"weekly": {0: ()}}, "weekly", id="no hours at all"),
        ],
    )
    def test_a_bad_setting_names_its_field(self, kwargs: dict[str, object], field: str) -> None:
        settings: dict[str, object] = {"time_zone": "America/New_York", "weekly": WEEKDAYS_9_17, "country": "US"}
        with pytest.raises(InvalidSupportSetting) as refused:
            BusinessHours(**{**settings, **kwargs})  # type: ignore[arg-type]
        assert refused.value.field == field

    def test_a_naive_instant_is_refused(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            make_hours().add(datetime(2026, 10, 6, 9), HOUR)  # noqa: DTZ001

    def test_a_negative_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            make_hours().add(ny(2026, 10, 6, 9), -HOUR)


class TestEdges:
    def test_calendar_hours_count_every_minute(self) -> None:
        saturday_night = datetime(2026, 10, 10, 23, tzinfo=UTC)
        assert BusinessHours.always().add(saturday_night, 3 * HOUR) == saturday_night + 3 * HOUR

    def test_a_window_the_clocks_skip_altogether_is_dropped(self) -> None:
        # Berlin jumps from 02:00 to 03:00 on 29 March 2026: 02:45-03:00 lies inside the 01:00-02:30 window.
        nights = BusinessHours("Europe/Berlin", {6: ((time(1), time(2, 30)), (time(2, 45), time(3)))})
        assert len(nights.windows_on(date(2026, 3, 29))) == 1
        assert len(nights.windows_on(date(2026, 3, 22))) == 2

    def test_hours_closed_for_ten_years_are_refused(self) -> None:
        mondays = [date(2026, 1, 5) + timedelta(weeks=week) for week in range(600)]
        hours = BusinessHours("UTC", {0: NINE_TO_FIVE}, closed_dates=frozenset(mondays))
        with pytest.raises(InvalidSupportSetting, match="no working hours"):
            hours.add(datetime(2026, 1, 1, tzinfo=UTC), HOUR)

    def test_hours_with_a_zone_are_refused(self) -> None:
        with pytest.raises(InvalidSupportSetting, match="local times"):
            BusinessHours("UTC", {0: ((time(9, tzinfo=UTC), time(17)),)})

    def test_deadlines_are_in_utc(self) -> None:
        start = ny(2026, 10, 6, 10)
        assert make_hours().add(start, HOUR).tzinfo is UTC
        assert make_hours().add(start, timedelta(0)).tzinfo is UTC
