"""Properties of promise dates over random warehouses, carriers and order times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.shipping.calendar import MON_FRI, MON_SAT, TUE_SAT, BusinessCalendar
from app.domain.shipping.model import Level
from app.domain.shipping.promise import ChannelPromise, Estimate, Transit, Warehouse, estimate

EXAMPLES = settings(max_examples=100, deadline=None)

ZONES = ("America/New_York", "America/Los_Angeles", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "UTC")
ORIGINS = (("US", None), ("DE", "BY"), ("JP", None), ("GB", None), ("AU", "NSW"))
DESTINATIONS = ("US", "CA", "DE", "GB", "JP", "AU")

order_times = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds and applies the zone
    max_value=datetime(2028, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
day_ranges = st.tuples(st.integers(0, 5), st.integers(0, 5)).map(sorted)
closures = st.frozensets(st.dates(min_value=date(2026, 1, 1), max_value=date(2029, 1, 31)), max_size=40)


@st.composite
def warehouses(draw: st.DrawFn) -> Warehouse:
    country, subdivision = draw(st.sampled_from(ORIGINS))
    working = draw(st.sampled_from((MON_FRI, MON_SAT)))
    cutoff_days = draw(st.frozensets(st.sampled_from(sorted(working)), min_size=1))
    cutoffs = {day: draw(st.times()) for day in cutoff_days}
    handling = draw(day_ranges)
    calendar = BusinessCalendar(country, subdivision, working, draw(closures))
    return Warehouse(draw(st.sampled_from(ZONES)), cutoffs, calendar, handling[0], handling[1])


destinations = st.builds(
    BusinessCalendar, st.sampled_from(DESTINATIONS), st.none(), st.sampled_from((MON_FRI, MON_SAT, TUE_SAT))
)
transits = st.builds(lambda days: Transit(days[0], days[1]), day_ranges)


@dataclass(frozen=True)
class Case:
    warehouse: Warehouse
    transit: Transit
    destination: BusinessCalendar

    def estimate(self, ordered_at: datetime) -> Estimate:
        return estimate(ordered_at, self.warehouse, self.transit, self.destination)


cases = st.builds(Case, warehouses(), transits, destinations)


@EXAMPLES
@given(cases, order_times)
def test_the_latest_dates_are_never_before_the_earliest(case: Case, ordered_at: datetime) -> None:
    result = case.estimate(ordered_at)
    assert result.delivery is not None
    assert ordered_at.astimezone(case.warehouse.zone).date() <= result.ships_earliest <= result.ships_latest
    assert result.ships_earliest <= result.delivery.earliest <= result.delivery.latest


@EXAMPLES
@given(cases, order_times, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)))
def test_a_later_order_never_gets_an_earlier_date(case: Case, ordered_at: datetime, later_by: timedelta) -> None:
    first, second = case.estimate(ordered_at), case.estimate(ordered_at + later_by)
    assert first.delivery is not None
    assert second.delivery is not None
    assert first.ships_earliest <= second.ships_earliest
    assert first.ships_latest <= second.ships_latest
    assert first.delivery.earliest <= second.delivery.earliest
    assert first.delivery.latest <= second.delivery.latest


@EXAMPLES
@given(cases, order_times)
def test_parcels_ship_on_dispatch_days_and_arrive_on_delivery_days(case: Case, ordered_at: datetime) -> None:
    result = case.estimate(ordered_at)
    assert result.delivery is not None
    for shipped in (result.ships_earliest, result.ships_latest):
        assert shipped.weekday() in case.warehouse.cutoffs
        assert case.warehouse.calendar.is_business_day(shipped)
    for arrival in (result.delivery.earliest, result.delivery.latest):
        assert arrival.weekday() in case.destination.weekdays
        assert case.destination.is_business_day(arrival)


@EXAMPLES
@given(cases, order_times, st.integers(1, 10))
def test_a_promise_is_never_before_the_order_and_grows_with_its_days(
    case: Case, ordered_at: datetime, days: int
) -> None:
    shorter = ChannelPromise({Level.STANDARD: days}).promised_by(
        Level.STANDARD, ordered_at, case.warehouse, case.destination
    )
    longer = ChannelPromise({Level.STANDARD: days + 1}).promised_by(
        Level.STANDARD, ordered_at, case.warehouse, case.destination
    )
    assert shorter is not None
    assert longer is not None
    assert ordered_at.astimezone(case.warehouse.zone).date() <= shorter < longer
    assert case.destination.is_business_day(shorter)


@EXAMPLES
@given(warehouses(), order_times, st.times())
def test_an_order_before_a_dispatch_days_cut_off_ships_that_day(
    warehouse: Warehouse, ordered_at: datetime, local_time: time
) -> None:
    day = ordered_at.astimezone(warehouse.zone).date()
    cutoff = warehouse.cutoffs.get(day.weekday())
    local_order = datetime.combine(day, local_time, warehouse.zone)
    starts = warehouse.handling_starts(local_order)
    if cutoff is not None and warehouse.dispatches_on(day) and local_time < cutoff:
        assert starts == day
    else:
        assert starts > day
