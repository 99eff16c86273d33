"""Routing throughput: pure ``route`` calls per second, for 3-, 5- and 20-line orders.

Builds a seeded catalogue of 400 SKUs and a store of sources up front: one or two in-house
warehouses, 3PLs with pick-and-pack fees and dropship suppliers with prices and handling days, each
holding 0–6 units of most SKUs (a quarter of the SKUs out of stock at any one source). Each origin's
quote is its base rate plus a rate per unit, arriving 1–4 days out plus a supplier's handling days,
against a promise 4 days out; in-house unit costs come from a ledger of most SKUs. Orders have 1–3
units per line. 3- and 5-line orders over 6 sources are searched exactly; 20-line orders take the
heuristic. Calls are timed in rounds by the process's CPU time, the explanations and ``ops.routing``
included (``route`` always writes them). Target (issue 13): ≥ 2,000 plans/s for 5-line orders over 6 sources.

    .venv/bin/python -m bench.routing_plan [--orders N] [--rounds R] [--seed S] [--cpu C]

Exits non-zero only when something crashes, never because a target is missed.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from app.domain.money import Money
from app.domain.routing.model import (
    OrderLine,
    OriginQuote,
    PickPackFees,
    Quoter,
    Shipment,
    Source,
    SourceKind,
    SupplierItem,
)
from app.domain.routing.plan import Plan, Unroutable
from app.domain.routing.planner import route
from bench.stats import pin_to_cpu

TARGET = 2_000
TODAY = date(2026, 12, 3)
PROMISED = TODAY + timedelta(days=4)
SKUS = [f"SKU-{i:04d}" for i in range(400)]
RUNS = ((3, 6), (5, 6), (20, 6), (20, 12))


def _cents(rng: random.Random, low: int, high: int) -> Money:
    return Money(Decimal(rng.randint(low, high)).scaleb(-2), "USD")


def _stock(rng: random.Random) -> dict[str, int]:
    return {sku: 0 if rng.random() < 0.25 else rng.randint(1, 6) for sku in SKUS}


def _sources(rng: random.Random, count: int) -> list[Source]:
    sources = []
    for index in range(count):
        kind = (SourceKind.IN_HOUSE, SourceKind.THIRD_PARTY, SourceKind.DROPSHIP)[index % 3]
        window = None if kind is SourceKind.IN_HOUSE else timedelta(hours=rng.choice([4, 24]))
        fees = PickPackFees(_cents(rng, 100, 400), _cents(rng, 20, 90)) if kind is SourceKind.THIRD_PARTY else None
        stock = _stock(rng)
        catalogue = (
            {sku: SupplierItem(_cents(rng, 300, 2500), rng.randint(0, 2)) for sku in stock}
            if kind is SourceKind.DROPSHIP
            else {}
        )
        sources.append(Source(f"src-{index}", f"source {index}", kind, stock, index % 4, fees, catalogue, window))
    return sources


def _quoter(rng: random.Random, sources: list[Source]) -> Quoter:
    rates = {source.id: (_cents(rng, 400, 1200), _cents(rng, 50, 300), rng.randint(1, 4)) for source in sources}

    def quote(shipment: Shipment) -> OriginQuote:
        base, per_unit, days = rates[shipment.source.id]
        shipping = Money(base.amount + per_unit.amount * shipment.unit_count, "USD")
        return OriginQuote(shipping, TODAY + timedelta(days=days + shipment.handling_days))

    return quote


def _order(rng: random.Random, lines: int) -> list[OrderLine]:
    return [OrderLine(f"L{i}", sku, rng.randint(1, 3)) for i, sku in enumerate(rng.sample(SKUS, lines))]


@dataclass(frozen=True)
class Run:
    """One size of the bench: its seeded orders over its sources."""

    lines: int
    sources: list[Source]
    quoter: Quoter
    orders: list[list[OrderLine]]
    unit_costs: dict[str, Money]

    def plan(self, order: list[OrderLine]) -> Plan | Unroutable:
        return route(
            order,
            self.sources,
            self.quoter,
            promised_by=PROMISED,
            planned_on=TODAY,
            currency="USD",
            unit_costs=self.unit_costs,
        )


def seeded_runs(seed: int, orders: int) -> list[Run]:
    """The bench's catalogue, sources and orders per size in ``RUNS`` (also the planner's golden test's)."""
    rng = random.Random(seed)
    unit_costs = {sku: _cents(rng, 200, 2000) for sku in SKUS if rng.random() < 0.9}
    runs = []
    for lines, source_count in RUNS:
        sources = _sources(rng, source_count)
        quoter = _quoter(rng, sources)
        runs.append(Run(lines, sources, quoter, [_order(rng, lines) for _ in range(orders)], unit_costs))
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=500, help="distinct orders per size (default 500)")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the orders (default 5)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU (default: the first one allowed)")
    args = parser.parse_args()

    pinned = pin_to_cpu(args.cpu)
    print(f"Python {platform.python_version()} ({sys.executable}) on {platform.machine()}, {pinned}")
    for run in seeded_runs(args.seed, args.orders):
        lines, source_count, orders, plan = run.lines, len(run.sources), run.orders, run.plan
        outcomes: Counter[str] = Counter()
        for order in orders:
            result = plan(order)
            if isinstance(result, Plan):
                outcomes[f"{len(result.shipments)} shipments" + ("" if result.meets_promise else ", late")] += 1
                outcomes[result.search.value] += 1
            else:
                outcomes["unroutable"] += 1
        rates = []
        for _ in range(max(1, args.rounds)):
            begin = time.process_time()  # this process's CPU time: the shared machine's load changes by the minute
            for order in orders:
                plan(order)
            rates.append(len(orders) / (time.process_time() - begin))
        median = statistics.median(rates)
        print(
            f"{lines}-line orders over {source_count} sources ({len(orders)} orders): {dict(sorted(outcomes.items()))}"
        )
        rounds = ", ".join(f"{rate:,.0f}" for rate in rates)
        print(f"  rounds (plans per CPU second): {rounds}; median {median:,.0f} plans/s")
        if (lines, source_count) == (5, 6):
            verdict = "meets" if median >= TARGET else "misses"
            print(f"  {verdict} the target of {TARGET:,} plans/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
