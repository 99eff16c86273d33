from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time

import pytest

from app.domain.shipping.calendar import (
    FRIDAY,
    MON_FRI,
    MON_SAT,
    MONDAY,
    THURSDAY,
    TUESDAY,
    BusinessCalendar,
)
from app.domain.shipping.model import DeliveryWindow, InvalidSetting, Level
from app.domain.shipping.promise import (
    ChannelPromise,
    Transit,
    Warehouse,
    arrival_text,
    checkout_label,
    delivery_window,
    estimate,
)

US = BusinessCalendar("US")


def make_warehouse(
    *,
    time_zone: str = "America/New_York",
    cutoff: time = time(14),
    cutoff_days: Iterable[int] = MON_FRI,
    country: str = "US",
    closures: Iterable[date] = (),
    handling: tuple[int, int] = (0, 0),
) -> Warehouse:
    return Warehouse(
        time_zone=time_zone,
        cutoffs=dict.fromkeys(cutoff_days, cutoff),
        calendar=BusinessCalendar(country, closures=frozenset(closures)),
        handling_days_min=handling[0],
        handling_days_max=handling[1],
    )


def ships(ordered_at: datetime, warehouse: Warehouse | None = None) -> date:
    result = estimate(ordered_at, warehouse or make_warehouse(), None, US)
    assert result.ships_earliest == result.ships_latest
    return result.ships_earliest


def at(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


class TestShipDate:
    def test_an_order_on_friday_after_the_cut_off_before_a_monday_holiday_ships_tuesday(self) -> None:
        # Friday 4 Sep 2026, 15:00 in New York; Monday 7 Sep is Labor Day.
        assert ships(at(2026, 9, 4, 19)) == date(2026, 9, 8)

    @pytest.mark.parametrize(
        ("ordered_at", "expected"),
        [
            pytest.param(at(2026, 10, 7, 17, 59, 59), date(2026, 10, 7), id="one second before"),
            pytest.param(at(2026, 10, 7, 18), date(2026, 10, 8), id="exactly at the cut-off"),
            pytest.param(at(2026, 10, 7, 18, 0, 1), date(2026, 10, 8), id="one second after"),
        ],
    )
    def test_the_cut_off_is_the_first_second_that_misses_the_day(self, ordered_at: datetime, expected: date) -> None:
        assert ships(ordered_at) == expected  # 14:00 EDT is 18:00 UTC

    def test_an_order_at_the_weekend_ships_monday(self) -> None:
        assert ships(at(2026, 10, 17, 15)) == date(2026, 10, 19)

    def test_a_weekday_without_a_cut_off_dispatches_nothing(self) -> None:
        warehouse = make_warehouse(cutoff_days={MONDAY, TUESDAY, THURSDAY, FRIDAY})
        assert ships(at(2026, 10, 7, 12), warehouse) == date(2026, 10, 8)

    def test_a_saturday_cut_off_dispatches_only_when_the_warehouse_works_saturdays(self) -> None:
        saturday_order = at(2026, 10, 17, 12)
        assert ships(saturday_order, make_warehouse(cutoff_days=MON_SAT)) == date(2026, 10, 19)
        saturday_warehouse = Warehouse(
            "America/New_York", dict.fromkeys(MON_SAT, time(14)), BusinessCalendar("US", weekdays=MON_SAT)
        )
        assert ships(saturday_order, saturday_warehouse) == date(2026, 10, 17)

    @pytest.mark.parametrize(
        ("time_zone", "expected"),
        [
            # Wednesday 23:30 UTC is Thursday 08:30 in Tokyo and Wednesday 16:30 in Los Angeles.
            pytest.param("Asia/Tokyo", date(2026, 10, 8), id="tokyo is already thursday"),
            pytest.param("America/Los_Angeles", date(2026, 10, 7), id="los angeles is still wednesday"),
        ],
    )
    def test_the_order_day_is_the_warehouses_local_day(self, time_zone: str, expected: date) -> None:
        warehouse = make_warehouse(time_zone=time_zone, cutoff=time(17))
        assert ships(at(2026, 10, 7, 23, 30), warehouse) == expected

    @pytest.mark.parametrize(
        ("ordered_at", "expected"),
        [
            # 18:30 UTC is 13:30 in New York on standard time and 14:30 on daylight time.
            pytest.param(at(2026, 3, 6, 18, 30), date(2026, 3, 6), id="friday before spring forward, EST"),
            pytest.param(at(2026, 3, 9, 18, 30), date(2026, 3, 10), id="monday after spring forward, EDT"),
            pytest.param(at(2026, 10, 30, 18, 30), date(2026, 11, 2), id="friday before fall back, EDT"),
            pytest.param(at(2026, 11, 2, 18, 30), date(2026, 11, 2), id="monday after fall back, EST"),
        ],
    )
    def test_the_cut_off_follows_daylight_saving_time(self, ordered_at: datetime, expected: date) -> None:
        assert ships(ordered_at) == expected

    def test_a_cut_off_in_the_repeated_hour_of_a_dst_change_is_passed_once(self) -> None:
        # Sunday 1 Nov 2026 repeats 01:00-02:00 in New York; a warehouse working Sundays with a 01:30 cut-off.
        warehouse = Warehouse("America/New_York", {6: time(1, 30)}, BusinessCalendar("US", weekdays=frozenset({6})))
        assert ships(at(2026, 11, 1, 5, 29), warehouse) == date(2026, 11, 1)  # 01:29 EDT
        assert ships(at(2026, 11, 1, 6, 10), warehouse) == date(2026, 11, 8)  # 01:10 EST, after the first 01:30

    def test_an_origin_holiday_delays_the_ship_date_but_not_another_countrys_warehouse(self) -> None:
        # Friday 3 Jul 2026 is Independence Day (observed) in the US, a working day in Canada.
        thursday_evening = at(2026, 7, 2, 20)
        assert ships(thursday_evening) == date(2026, 7, 6)
        assert ships(thursday_evening, make_warehouse(time_zone="America/Toronto", country="CA")) == date(2026, 7, 3)

    def test_a_merchants_closure_delays_the_ship_date(self) -> None:
        warehouse = make_warehouse(closures=[date(2026, 10, 15), date(2026, 10, 16)])
        assert ships(at(2026, 10, 14, 19), warehouse) == date(2026, 10, 19)

    def test_handling_days_are_business_days_after_the_order_day(self) -> None:
        result = estimate(at(2026, 9, 4, 12), make_warehouse(handling=(1, 3)), None, US)
        assert (result.ships_earliest, result.ships_latest) == (date(2026, 9, 8), date(2026, 9, 10))

    def test_handling_that_ends_on_a_day_without_a_cut_off_ships_the_next_dispatch_day(self) -> None:
        warehouse = make_warehouse(cutoff_days={MONDAY, TUESDAY, THURSDAY, FRIDAY}, handling=(1, 1))
        assert ships(at(2026, 10, 6, 12), warehouse) == date(2026, 10, 8)

    def test_an_order_on_new_years_eve_after_the_cut_off_ships_in_the_new_year(self) -> None:
        assert ships(at(2026, 12, 31, 20)) == date(2027, 1, 4)

    def test_an_order_time_without_a_time_zone_is_refused(self) -> None:
        with pytest.raises(ValueError, match="time-zone aware"):
            ships(datetime(2026, 10, 7, 12))  # noqa: DTZ001 - the naive time is the bad input


class TestDeliveryWindow:
    def test_transit_days_are_counted_after_the_ship_date(self) -> None:
        result = estimate(at(2026, 9, 4, 19), make_warehouse(), Transit(1, 3), US)
        assert result.delivery == DeliveryWindow(date(2026, 9, 9), date(2026, 9, 11))

    def test_handling_and_transit_ranges_add_up(self) -> None:
        result = estimate(at(2026, 10, 19, 12), make_warehouse(handling=(0, 2)), Transit(2, 4), US)
        assert result.delivery == DeliveryWindow(date(2026, 10, 21), date(2026, 10, 27))

    def test_a_destination_holiday_delays_delivery_but_not_elsewhere(self) -> None:
        # Shipped from the US on Tuesday 30 Jun 2026; Wednesday 1 Jul is Canada Day.
        tuesday = at(2026, 6, 30, 12)
        assert estimate(tuesday, make_warehouse(), Transit(1, 1), US).delivery == DeliveryWindow(
            date(2026, 7, 1), date(2026, 7, 1)
        )
        assert estimate(tuesday, make_warehouse(), Transit(1, 1), BusinessCalendar("CA")).delivery == DeliveryWindow(
            date(2026, 7, 2), date(2026, 7, 2)
        )

    def test_a_saturday_delivering_carrier_arrives_saturday(self) -> None:
        friday = at(2026, 10, 16, 12)
        saturday_carrier = BusinessCalendar("US", weekdays=MON_SAT)
        assert estimate(friday, make_warehouse(), Transit(1, 1), US).delivery == DeliveryWindow(
            date(2026, 10, 19), date(2026, 10, 19)
        )
        assert estimate(friday, make_warehouse(), Transit(1, 1), saturday_carrier).delivery == DeliveryWindow(
            date(2026, 10, 17), date(2026, 10, 17)
        )

    def test_same_day_transit_arrives_on_the_ship_date(self) -> None:
        result = estimate(at(2026, 10, 7, 12), make_warehouse(), Transit(0, 1), US)
        assert result.delivery == DeliveryWindow(date(2026, 10, 7), date(2026, 10, 8))

    def test_delivery_crosses_into_the_next_year(self) -> None:
        result = estimate(at(2026, 12, 30, 12), make_warehouse(), Transit(1, 2), US)
        assert result.delivery == DeliveryWindow(date(2026, 12, 31), date(2027, 1, 4))

    def test_the_services_of_one_order_share_its_ship_dates(self) -> None:
        ordered_at, warehouse = at(2026, 9, 4, 19), make_warehouse(handling=(0, 1))
        ship_dates = estimate(ordered_at, warehouse, None, US)
        for transit, carrier in [(Transit(1, 1), US), (Transit(2, 5), BusinessCalendar("CA", weekdays=MON_SAT))]:
            window = delivery_window(ship_dates.ships_earliest, ship_dates.ships_latest, transit, carrier)
            assert window == estimate(ordered_at, warehouse, transit, carrier).delivery

    def test_unknown_transit_gives_no_delivery_dates_but_the_ship_date(self) -> None:
        result = estimate(at(2026, 9, 4, 19), make_warehouse(), None, US)
        assert result.delivery is None
        assert result.ships_earliest == date(2026, 9, 8)


class TestChannelPromise:
    PROMISE = ChannelPromise({Level.STANDARD: 5, Level.EXPEDITED: 3, Level.OVERNIGHT: 1})

    @pytest.mark.parametrize(
        ("level", "expected"),
        [
            pytest.param(Level.STANDARD, date(2026, 9, 15), id="standard"),
            pytest.param(Level.EXPEDITED, date(2026, 9, 11), id="expedited"),
            pytest.param(Level.OVERNIGHT, date(2026, 9, 9), id="overnight"),
        ],
    )
    def test_the_promise_counts_from_the_day_handling_starts(self, level: Level, expected: date) -> None:
        # Friday after the cut-off before Labor Day: handling starts Tuesday 8 Sep.
        assert self.PROMISE.promised_by(level, at(2026, 9, 4, 19), make_warehouse(), US) == expected

    def test_the_promise_skips_the_destinations_holidays(self) -> None:
        promised = self.PROMISE.promised_by(
            Level.OVERNIGHT, at(2026, 6, 30, 12), make_warehouse(), BusinessCalendar("CA")
        )
        assert promised == date(2026, 7, 2)

    def test_a_level_the_channel_does_not_promise_has_no_date(self) -> None:
        promise = ChannelPromise({Level.STANDARD: 5})
        assert promise.promised_by(Level.OVERNIGHT, at(2026, 9, 4, 12), make_warehouse(), US) is None


class TestCheckoutLabel:
    def test_one_day_is_named_with_its_weekday(self) -> None:
        window = DeliveryWindow(date(2026, 12, 9), date(2026, 12, 9))
        assert checkout_label(Level.EXPEDITED, window, "en_GB") == "Expedited, arrives Wed 9 Dec"

    def test_a_range_is_one_interval(self) -> None:
        window = DeliveryWindow(date(2026, 12, 9), date(2026, 12, 11))
        assert checkout_label(Level.STANDARD, window, "en_GB") == "Standard, arrives 9\u2009\u2013\u200911 Dec"

    @pytest.mark.parametrize(
        ("locale", "expected"),
        [
            pytest.param("en_US", "Dec 30\u2009\u2013\u2009Jan 2", id="en_US"),
            pytest.param("de_DE", "30. Dez.\u2009\u2013\u20092. Jan.", id="de_DE"),
        ],
    )
    def test_a_range_across_the_new_year_names_both_months_in_the_locales_order(
        self, locale: str, expected: str
    ) -> None:
        assert arrival_text(DeliveryWindow(date(2026, 12, 30), date(2027, 1, 2)), locale) == expected


class TestValidation:
    @pytest.mark.parametrize(
        ("build", "field"),
        [
            pytest.param(lambda: make_warehouse(time_zone="Mars/Olympus"), "time_zone", id="unknown time zone"),
            pytest.param(lambda: make_warehouse(time_zone="../etc"), "time_zone", id="malformed time zone"),
            pytest.param(lambda: make_warehouse(cutoff="14:00"), "cutoffs", id="cut-off is text"),  # type: ignore[arg-type]
            pytest.param(lambda: make_warehouse(cutoff=time(14, tzinfo=UTC)), "cutoffs", id="cut-off with a zone"),
            pytest.param(lambda: make_warehouse(cutoff_days={9}), "cutoffs", id="weekday 9"),
            pytest.param(lambda: make_warehouse(cutoff_days={6}), "cutoffs", id="only a non-working day"),
            pytest.param(lambda: make_warehouse(handling=(3, 1)), "handling_days_max", id="handling min > max"),
            pytest.param(lambda: make_warehouse(handling=(-1, 1)), "handling_days_min", id="negative handling"),
            pytest.param(lambda: make_warehouse(handling=(0, 1.5)), "handling_days_max", id="fractional handling"),  # type: ignore[arg-type]
            pytest.param(lambda: make_warehouse(country="XX"), "country", id="unknown country"),
            pytest.param(lambda: Transit(4, 2), "transit_days_max", id="transit min > max"),
            pytest.param(lambda: Transit(-1, 2), "transit_days_min", id="negative transit"),
            pytest.param(lambda: Transit(True, 2), "transit_days_min", id="transit is a bool"),
            pytest.param(lambda: ChannelPromise({Level.STANDARD: -5}), "standard_promise_days", id="negative promise"),
            pytest.param(lambda: ChannelPromise({"fast": 1}), "level", id="unknown level"),  # type: ignore[dict-item]
        ],
    )
    def test_a_bad_setting_names_its_field(self, build: object, field: str) -> None:
        assert callable(build)
        with pytest.raises(InvalidSetting) as raised:
            build()
        assert raised.value.field == field
