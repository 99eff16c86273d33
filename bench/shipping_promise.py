"""Promise dates per second: pure ``estimate`` and ``promised_by`` calls on one core.

Builds a few seeded warehouses (time zones on three continents, per-weekday cut-offs, handling
ranges, merchant closures), carrier calendars (Mon-Fri, Mon-Sat, Tue-Sat) in six destination
countries and orders spread over two years, so the holiday sets of every (country, year) are
built in a first pass, reported on its own, as a running app's would be by then. Two measures:
one service per order (ship dates, delivery window and the promised-by date of its level), and
ten candidate services per order as selection sees them (the order's ship dates once, then each
service's delivery window, which repeats across a day's orders and is cached).

    .venv/bin/python -m bench.shipping_promise [--orders N] [--rounds R] [--seed S]

Measures only; exits non-zero only when something crashes.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from app.domain.shipping.calendar import MON_FRI, MON_SAT, TUE_SAT, BusinessCalendar
from app.domain.shipping.model import Level
from app.domain.shipping.promise import ChannelPromise, Transit, Warehouse, delivery_window, estimate

ORIGINS = (("America/New_York", "US", None), ("Europe/Berlin", "DE", "BY"), ("Asia/Tokyo", "JP", None))
DESTINATIONS = ("US", "CA", "DE", "GB", "JP", "AU")
PROMISE = ChannelPromise({Level.STANDARD: 5, Level.EXPEDITED: 3, Level.OVERNIGHT: 1})
TRANSIT_BY_LEVEL = {Level.STANDARD: (3, 5), Level.EXPEDITED: (1, 3), Level.OVERNIGHT: (1, 1)}
START = datetime(2026, 1, 1, tzinfo=UTC)

Order = tuple[datetime, Warehouse, Level, Transit, BusinessCalendar]


def build_orders(count: int, rng: random.Random) -> list[Order]:
    warehouses = []
    for time_zone, country, subdivision in ORIGINS:
        closures = frozenset(date(2026, 1, 1) + timedelta(days=rng.randrange(730)) for _ in range(12))
        cutoffs = {day: clock(rng.choice((12, 14, 16))) for day in range(5) if rng.random() > 0.1}
        calendar = BusinessCalendar(country, subdivision, MON_FRI, closures)
        warehouses.append(Warehouse(time_zone, cutoffs or {0: clock(14)}, calendar, 0, rng.choice((0, 1, 2))))
    carriers = [
        BusinessCalendar(country, None, days) for country in DESTINATIONS for days in (MON_FRI, MON_SAT, TUE_SAT)
    ]
    orders = []
    for _ in range(count):
        level = rng.choice(list(Level))
        ordered_at = START + timedelta(seconds=rng.randrange(730 * 86_400))
        orders.append(
            (ordered_at, rng.choice(warehouses), level, Transit(*TRANSIT_BY_LEVEL[level]), rng.choice(carriers))
        )
    return orders


def promise_dates(orders: list[Order]) -> None:
    for ordered_at, warehouse, level, transit, destination in orders:
        estimate(ordered_at, warehouse, transit, destination)
        PROMISE.promised_by(level, ordered_at, warehouse, destination)


def candidate_dates(orders: list[Order], candidates: list[tuple[Transit, BusinessCalendar]]) -> None:
    for ordered_at, warehouse, level, _, destination in orders:
        ships = estimate(ordered_at, warehouse, None, destination)
        PROMISE.promised_by(level, ordered_at, warehouse, destination)
        for transit, carrier in candidates:
            delivery_window(ships.ships_earliest, ships.ships_latest, transit, carrier)


def timed_rounds(rounds: int, count: int, run: Callable[[], None]) -> list[float]:
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        rates.append(count / (time.perf_counter() - started))
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    orders = build_orders(args.orders, random.Random(args.seed))
    started = time.perf_counter()
    promise_dates(orders)  # first sight: builds every (country, year) holiday set
    first = time.perf_counter() - started
    rates = timed_rounds(args.rounds, len(orders), lambda: promise_dates(orders))
    rng = random.Random(args.seed + 1)
    candidates = [
        (Transit(*TRANSIT_BY_LEVEL[rng.choice(list(Level))]), BusinessCalendar(rng.choice(DESTINATIONS), None, days))
        for days in (MON_FRI, MON_SAT, TUE_SAT, MON_FRI, MON_FRI, MON_SAT, MON_FRI, TUE_SAT, MON_FRI, MON_SAT)
    ]
    candidate_rates = timed_rounds(args.rounds, len(orders), lambda: candidate_dates(orders, candidates))
    print(f"Python {platform.python_version()} ({sys.executable}) on {platform.machine()}")
    print(f"{len(orders)} orders, each: ship dates, delivery window and promised-by date")
    print(f"first pass (holiday sets built): {len(orders) / first:,.0f} orders/s")
    print(f"rounds (orders/s): {', '.join(f'{rate:,.0f}' for rate in rates)}")
    print(f"median: {statistics.median(rates):,.0f} orders/s")
    print(
        f"with {len(candidates)} candidate services each (orders/s): {', '.join(f'{r:,.0f}' for r in candidate_rates)}"
    )
    print(f"median: {statistics.median(candidate_rates):,.0f} orders/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
