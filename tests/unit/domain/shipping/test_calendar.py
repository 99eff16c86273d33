from __future__ import annotations

from datetime import date

import pytest

from app.domain.shipping.calendar import MON_FRI, MON_SAT, SUNDAY, TUE_SAT, BusinessCalendar
from app.domain.shipping.model import InvalidSetting

FRI_4_SEP_2026 = date(2026, 9, 4)  # the Monday after is Labor Day in the US


class TestBusinessDays:
    def test_a_weekend_is_skipped(self) -> None:
        calendar = BusinessCalendar("DE")
        assert calendar.add(date(2026, 10, 2), 1) == date(2026, 10, 5)

    def test_a_public_holiday_is_skipped(self) -> None:
        assert BusinessCalendar("US").add(FRI_4_SEP_2026, 1) == date(2026, 9, 8)
        assert BusinessCalendar("GB").add(FRI_4_SEP_2026, 1) == date(2026, 9, 7)

    def test_a_subdivision_has_its_own_holidays(self) -> None:
        epiphany = date(2026, 1, 6)
        assert not BusinessCalendar("DE", "BY").is_business_day(epiphany)
        assert BusinessCalendar("DE", "BE").is_business_day(epiphany)

    def test_the_merchants_closures_are_not_business_days(self) -> None:
        calendar = BusinessCalendar("US", closures=frozenset({date(2026, 12, 24)}))
        assert calendar.add(date(2026, 12, 23), 1) == date(2026, 12, 28)
        assert calendar.with_closures([date(2026, 12, 28)]).add(date(2026, 12, 23), 1) == date(2026, 12, 29)

    @pytest.mark.parametrize(
        ("weekdays", "expected"),
        [
            pytest.param(MON_FRI, date(2026, 10, 12), id="mon-fri delivers monday"),
            pytest.param(MON_SAT, date(2026, 10, 10), id="mon-sat delivers saturday"),
            pytest.param(TUE_SAT, date(2026, 10, 10), id="tue-sat delivers saturday"),
        ],
    )
    def test_the_day_after_friday_depends_on_the_delivery_days(self, weekdays: frozenset[int], expected: date) -> None:
        assert BusinessCalendar("DE", weekdays=weekdays).add(date(2026, 10, 9), 1) == expected

    def test_a_tuesday_to_saturday_carrier_skips_monday(self) -> None:
        assert BusinessCalendar("DE", weekdays=TUE_SAT).add(date(2026, 10, 10), 1) == date(2026, 10, 13)

    def test_a_holiday_on_a_delivery_saturday_is_skipped(self) -> None:
        # 3 Oct is German Unity Day, a Saturday in 2026.
        assert BusinessCalendar("DE", weekdays=MON_SAT).add(date(2026, 10, 2), 1) == date(2026, 10, 5)

    def test_counting_crosses_into_the_next_years_holidays(self) -> None:
        # 31 Dec 2026 is a Thursday; 1 Jan 2027 a holiday, then the weekend.
        assert BusinessCalendar("US").add(date(2026, 12, 31), 1) == date(2027, 1, 4)

    def test_zero_days_is_the_day_itself_or_the_next_business_day(self) -> None:
        calendar = BusinessCalendar("US")
        assert calendar.add(date(2026, 10, 7), 0) == date(2026, 10, 7)
        assert calendar.add(date(2026, 10, 4), 0) == date(2026, 10, 5)

    def test_counting_from_a_non_business_day_counts_the_days_after_it(self) -> None:
        assert BusinessCalendar("US").add(date(2026, 10, 4), 1) == date(2026, 10, 5)


class TestValidation:
    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            pytest.param({"country": "XX"}, "country", id="unknown country"),
            pytest.param({"country": "us"}, "country", id="lower-case code"),
            pytest.param({"country": "US", "subdivision": "ZZ"}, "subdivision", id="unknown subdivision"),
            pytest.param({"country": "US", "weekdays": frozenset()}, "weekdays", id="no weekday"),
            pytest.param({"country": "US", "weekdays": frozenset({SUNDAY + 1})}, "weekdays", id="weekday 7"),
        ],
    )
    def test_a_bad_setting_names_its_field(self, kwargs: dict[str, object], field: str) -> None:
        with pytest.raises(InvalidSetting) as raised:
            BusinessCalendar(**kwargs)  # type: ignore[arg-type]
        assert raised.value.field == field
        assert str(raised.value).startswith(f"{field}: ")
