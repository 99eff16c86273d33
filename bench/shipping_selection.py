"""Shipping selection throughput: pure ``select`` calls per second, 10 candidate rates per order.

Builds varied orders up front: destinations, weights, order values and channels, each with 10
candidates across four carriers and the three levels, priced from 5 to 60 and arriving from two
days early to two days late. The merchant has 5 rules, one of them matching most orders late in
the list. Calls are timed in rounds. Target: >= 20,000 orders/s in the median round. The
explanations are derived on demand; one pass that also writes them all out is reported apart, and
one that prices the chosen rate for the shopper as checkout does (a rule's price, else the
channel's pricing policy: 10% markup, free from 150).

    .venv/bin/python -m bench.shipping_selection [--calls N] [--rounds R] [--orders M] [--seed S] [--cpu C]

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
from datetime import date, timedelta
from decimal import Decimal

from app.domain.money import Money
from app.domain.shipping.model import DeliveryWindow, Level
from app.domain.shipping.pricing import PricingPolicy
from app.domain.shipping.promise import Transit
from app.domain.shipping.rates import ChargeKind, Quote
from app.domain.shipping.selection import Actions, Candidate, Conditions, Rule, ShipmentFacts, Strategy, select
from bench.stats import pin_to_cpu

TARGET = 20_000
CANDIDATES_PER_ORDER = 10
PROMISED = {Level.STANDARD: date(2026, 12, 11), Level.EXPEDITED: date(2026, 12, 9), Level.OVERNIGHT: date(2026, 12, 8)}
CARRIERS = ("UPS", "FedEx", "USPS", "DHL")
Order = tuple[Level, list[Candidate], ShipmentFacts]


def _candidate(rng: random.Random, index: int) -> Candidate:
    level = list(Level)[index % 3]
    carrier = CARRIERS[index % len(CARRIERS)]
    base = Money(Decimal(rng.randint(500, 6000)).scaleb(-2), "USD")
    fuel = Money(Decimal(rng.randint(0, 600)).scaleb(-2), "USD")
    quote = Quote(
        "WH-1",
        carrier,
        f"{level.value}-{index}",
        level,
        "zone-5",
        base + fuel,
        ((ChargeKind.BASE, base), (ChargeKind.FUEL, fuel)),
        Decimal(rng.randint(1, 300)).scaleb(-1),
        Transit(1, 5),
        frozenset(range(5)),
    )
    latest = PROMISED[level] + timedelta(days=rng.randint(-2, 2))
    return Candidate(
        quote, DeliveryWindow(latest - timedelta(days=2), latest), CARRIERS.index(carrier), rng.random() < 0.2
    )


def _order(rng: random.Random) -> Order:
    facts = ShipmentFacts(
        rng.choice(["US", "US", "US", "CA", "GB"]),
        rng.choice(["10001", "94103", "99501", "M5V 2T6", "SW1A 1AA"]),
        Decimal(rng.randint(1, 300)).scaleb(-1),
        Decimal(rng.randint(1000, 40000)).scaleb(-2),
        rng.choice(["default", "wholesale"]),
        frozenset(rng.sample(["apparel", "glass", "books", "furniture"], k=rng.randint(1, 2))),
    )
    candidates = [_candidate(rng, index) for index in range(CANDIDATES_PER_ORDER)]
    return rng.choice(list(Level)), candidates, facts


POLICY = PricingPolicy(markup_pct=Decimal(10), free_above=Decimal(150))
RULES = (
    Rule("Alaska by UPS", Conditions(postal_prefixes=("995",)), Actions(only_carriers=frozenset({"UPS"}))),
    Rule(
        "Glass never by USPS",
        Conditions(product_types=frozenset({"glass"})),
        Actions(excluded_carriers=frozenset({"USPS"})),
    ),
    Rule("Wholesale: fastest", Conditions(channels=frozenset({"wholesale"})), Actions(strategy=Strategy.FASTEST)),
    Rule("Heavy flat", Conditions(min_weight_kg=Decimal(25)), Actions(fixed_price=Decimal("29.00"))),
    Rule("Free over 150", Conditions(countries=frozenset({"US", "CA"})), Actions(free_above=Decimal(150))),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100_000, help="timed selections (default 100,000)")
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds the calls are split into (default 10)")
    parser.add_argument("--orders", type=int, default=5_000, help="distinct orders built up front (default 5,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU (default: the first one allowed)")
    args = parser.parse_args()

    pinned = pin_to_cpu(args.cpu)
    rng = random.Random(args.seed)
    orders = [_order(rng) for _ in range(args.orders)]

    outcomes: Counter[str] = Counter()
    for level, candidates, facts in orders:
        selection = select(level, PROMISED[level], candidates, facts, RULES)
        outcomes["none" if selection.chosen is None else "kept" if selection.meets_promise else "late"] += 1

    rounds = max(1, args.rounds)
    per_round = max(1, args.calls // rounds)
    rates = []
    for round_index in range(rounds):
        begin = time.perf_counter()
        for call in range(per_round):
            level, candidates, facts = orders[(round_index * per_round + call) % len(orders)]
            select(level, PROMISED[level], candidates, facts, RULES)
        rates.append(per_round / (time.perf_counter() - begin))

    explained_begin = time.perf_counter()
    for level, candidates, facts in orders:
        selection = select(level, PROMISED[level], candidates, facts, RULES)
        _ = selection.verdicts, selection.summary
    explained_rate = len(orders) / (time.perf_counter() - explained_begin)

    priced_begin = time.perf_counter()
    for level, candidates, facts in orders:
        selection = select(level, PROMISED[level], candidates, facts, RULES)
        if selection.chosen is not None and selection.shopper_price is None:
            POLICY.price(selection.chosen.quote.total, facts.order_value)
    priced_rate = len(orders) / (time.perf_counter() - priced_begin)

    median = statistics.median(rates)
    print(f"Python {platform.python_version()} ({sys.executable}) on {platform.machine()}, {pinned}")
    print(
        f"{len(orders)} orders, {CANDIDATES_PER_ORDER} candidates each, {len(RULES)} rules; outcomes {dict(outcomes)}"
    )
    print(f"rounds (orders/s): {', '.join(f'{rate:,.0f}' for rate in rates)}")
    verdict = "meets" if median >= TARGET else "misses"
    print(f"median {median:,.0f} orders/s, {verdict} the target of {TARGET:,}/s")
    print(f"with every verdict and the summary written out: {explained_rate:,.0f} orders/s")
    print(f"with the shopper's price from the rule or the pricing policy: {priced_rate:,.0f} orders/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
