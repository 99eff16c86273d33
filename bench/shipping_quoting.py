"""Checkout quoting in the service: ``ShippingQuoter.checkout_options`` at 50 concurrent checkouts.

The store's shipping settings (two warehouses, three boxes, four product types, three rules), a
rate table of 10 services and the live carriers are in memory, so this measures the service's own
work (settings read and validated, packing, table prices, dates, selection, pricing) and its
waiting on the carriers, without a database or HTTP. Three runs of ``--checkouts`` checkouts each,
``--concurrency`` at a time, with carts of 1–4 lines to 40 US destinations:

- ``tables``: no carrier accounts; the rate tables answer, priced afresh at every checkout.
- ``kept``: the same, with the store's revision checked and what quoting derives from the settings
  and tables kept (``QuotingCache``), every checkout asked once before.
- ``cached``: live carriers, every question already answered (both caches warmed first).
- ``live``: every checkout asks the carriers something new (a distinct parcel profile), and they
  answer in ``--carrier-ms`` (100 ms).

The checkout webhook's targets (issue 12) are p99 < 20 ms from cache and < 300 ms with a carrier
answering in 100 ms at 50 concurrent checkouts; the webhook adds verification and parsing on top.

    .venv/bin/python -m bench.shipping_quoting [--checkouts 2000] [--concurrency 50] [--carrier-ms 100] [--seed 7]

Exits non-zero only when something crashes, never because a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.domain.ids import SaleorApiUrl
from app.domain.money import Money
from app.domain.shipping.model import Level
from app.domain.shipping.promise import Transit
from app.domain.shipping.rates import Area, ChargeKind, Quote, RateTable, Service, Surcharges, WeightBracket, Zone
from app.services.shipping.model import Cart, CartLine, LiveQuotes, Place, RateRequest
from app.services.shipping.quoting import LiveQuoteCache, QuotingCache, ShippingQuoter
from bench.stats import percentile
from tests.fakes.in_memory import InMemorySettingsStore
from tests.fakes.shipping import InMemoryRateTableStore, InMemoryShippingRevisions

URL = SaleorApiUrl("https://shop.test/graphql/")
START = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
PRODUCT_TYPES = {"Shoes": (33, 22, 12), "Shirts": (30, 25, 4), "Mugs": (12, 12, 12), "Lamps": (45, 30, 30)}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _settings() -> dict[str, object]:
    warehouse = {
        "origin": {"country": "US"},
        "cutoffs": dict.fromkeys(WEEKDAYS, "15:00"),
        "handling_days_min": 0,
        "handling_days_max": 1,
        "closures": ["2026-12-24", "2026-12-31"],
    }
    levels = {
        "standard": {"promise_days": 5, "markup_pct": "10", "free_above": "150"},
        "expedited": {"promise_days": 3, "markup_fixed": "2"},
        "overnight": {"promise_days": 1, "flat_price": "39"},
    }
    return {
        "locale": "en_US",
        "warehouses": [
            {**warehouse, "id": "WH-NY", "name": "Brooklyn", "time_zone": "America/New_York"},
            # Ships the same day: its overnight service keeps the one-day promise.
            {
                **warehouse,
                "id": "WH-LA",
                "name": "Los Angeles",
                "time_zone": "America/Los_Angeles",
                "handling_days_max": 0,
            },
        ],
        "channels": [
            {"channel": "default", "warehouse": "WH-NY", "levels": levels},
            {"channel": "west", "warehouse": "WH-LA", "levels": levels},
        ],
        "boxes": [
            {"name": name, "length_cm": side, "width_cm": side, "height_cm": side, "max_weight_kg": 30}
            for name, side in (("S", 20), ("M", 40), ("L", 60))
        ],
        "product_types": [
            {"product_type": name, "length_cm": length, "width_cm": width, "height_cm": height}
            for name, (length, width, height) in PRODUCT_TYPES.items()
        ],
        "carrier_preference": ["UPS", "FedEx", "USPS"],
        "rules": [
            {"name": "Alaska by UPS", "postal_prefixes": ["995"], "only_carriers": ["UPS"]},
            {"name": "Lamps never by USPS", "product_types": ["Lamps"], "excluded_carriers": ["USPS"]},
            {"name": "Heavy flat", "min_weight_kg": "25", "fixed_price": "29"},
        ],
    }


def _table(warehouse_id: str) -> RateTable:
    services = []
    for index, (carrier, level, transit) in enumerate(
        [
            ("UPS", Level.STANDARD, (3, 5)),
            ("FedEx", Level.STANDARD, (4, 6)),
            ("USPS", Level.STANDARD, (2, 7)),
            ("DHL", Level.STANDARD, (5, 8)),
            ("UPS", Level.EXPEDITED, (2, 3)),
            ("FedEx", Level.EXPEDITED, (2, 2)),
            ("USPS", Level.EXPEDITED, (1, 3)),
            ("UPS", Level.OVERNIGHT, (1, 1)),
            ("FedEx", Level.OVERNIGHT, (1, 1)),
            ("USPS", Level.OVERNIGHT, (1, 2)),
        ]
    ):
        zones = tuple(
            Zone(
                f"zone-{digit}",
                (Area("US", postal_prefixes=tuple(f"{digit}{second}" for second in range(10))),),
                tuple(WeightBracket(Decimal(kg), Decimal(5 + index + digit + kg)) for kg in (1, 2, 5, 10, 20)),
                Transit(*transit),
                Decimal("1.10"),
            )
            for digit in range(10)
        )
        surcharges = Surcharges(fuel_pct=Decimal("12.5"), residential=Decimal("4.10"))
        services.append(Service(carrier, f"{level.value}-{index}", level, zones, surcharges))
    return RateTable(warehouse_id, "USD", tuple(services), {"UPS": Decimal(5000), "FedEx": Decimal(5000)})


class SlowCarriers:
    """Answers five quotes per request after ``delay`` seconds, as a live carrier account would."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.requests = 0

    async def quotes(self, saleor_api_url: SaleorApiUrl, request: RateRequest, *, within_seconds: float) -> LiveQuotes:
        self.requests += 1
        await asyncio.sleep(self.delay)
        weight = sum((parcel.weight_kg for parcel in request.parcels), Decimal(0))
        quotes = []
        for index, (level, transit) in enumerate(
            [(Level.STANDARD, (3, 5)), (Level.STANDARD, (2, 4)), (Level.EXPEDITED, (2, 2)), (Level.OVERNIGHT, (1, 1))]
        ):
            money = Money((Decimal(6 + 4 * index) + weight).quantize(Decimal("0.01")), "USD")
            quotes.append(
                Quote(
                    request.warehouse_id,
                    "EasyPost",
                    f"live-{index}",
                    level,
                    "live",
                    money,
                    ((ChargeKind.BASE, money),),
                    weight,
                    Transit(*transit),
                    frozenset(range(5)),
                )
            )
        return LiveQuotes(tuple(quotes))


def _carts(rng: random.Random, count: int, distinct_profiles: bool) -> list[Cart]:
    carts = []
    for number in range(count):
        lines = tuple(
            CartLine(
                f"variant-{number}-{line}",
                f"SKU-{line}",
                rng.choice(list(PRODUCT_TYPES)),
                rng.randint(1, 3),
                # A distinct weight per cart makes a distinct parcel profile: the carriers are asked anew.
                Decimal(number + 1).scaleb(-1) if distinct_profiles else Decimal(rng.randint(2, 30)).scaleb(-1),
                Decimal(rng.randint(1000, 9000)).scaleb(-2),
            )
            for line in range(rng.randint(1, 4))
        )
        destination = Place("US", f"{rng.randint(0, 39):02d}{rng.randint(100, 999)}")
        carts.append(Cart(rng.choice(["default", "west"]), "USD", destination, lines))
    return carts


async def _run(quoter: ShippingQuoter, carts: list[Cart], concurrency: int) -> tuple[list[float], float, int]:
    """Latencies (ms), checkouts per second and options shown, ``concurrency`` checkouts at a time."""
    queue = list(reversed(carts))
    latencies: list[float] = []
    shown = 0

    async def checkout_loop() -> None:
        nonlocal shown
        while queue:
            cart = queue.pop()
            now = START + timedelta(minutes=len(queue) % 7)
            begin = time.perf_counter()
            options = await quoter.checkout_options(URL, cart, now)
            latencies.append((time.perf_counter() - begin) * 1000)
            shown += len(options)

    begin = time.perf_counter()
    await asyncio.gather(*(checkout_loop() for _ in range(concurrency)))
    return latencies, len(carts) / (time.perf_counter() - begin), shown


def _report(name: str, latencies: list[float], rate: float, shown: int, target: float | None) -> None:
    p99 = percentile(latencies, 99)
    verdict = "" if target is None else f"   target p99 < {target:.0f} ms: {'met' if p99 < target else 'missed'}"
    print(
        f"  {name:<7} p50 {percentile(latencies, 50):7.2f} ms   p99 {p99:7.2f} ms   {rate:8,.0f} checkouts/s   "
        f"{shown / len(latencies):.2f} options each{verdict}"
    )


async def main_async(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    settings = InMemorySettingsStore()
    settings.values[(URL, "shipping")] = _settings()
    tables = InMemoryRateTableStore(_table("WH-NY"), _table("WH-LA"))
    carts = _carts(rng, args.checkouts, distinct_profiles=False)

    print(f"Python {platform.python_version()} ({sys.executable}) on {platform.machine()}")
    print(
        f"{args.checkouts} checkouts per run, {args.concurrency} at a time, carrier answering in {args.carrier_ms} ms"
    )

    tables_only = ShippingQuoter(settings, tables)
    await _run(tables_only, carts[:100], args.concurrency)  # holiday sets and delivery windows built
    _report("tables", *await _run(tables_only, carts, args.concurrency), None)

    revisions = InMemoryShippingRevisions(settings, tables)
    kept = ShippingQuoter(settings, tables, revisions=revisions, quoting_cache=QuotingCache())
    await _run(kept, carts, args.concurrency)
    _report("kept", *await _run(kept, carts, args.concurrency), None)

    carriers = SlowCarriers(args.carrier_ms / 1000)
    cache = LiveQuoteCache()
    live = ShippingQuoter(settings, tables, carriers, cache=cache, revisions=revisions, quoting_cache=QuotingCache())
    await _run(live, carts, args.concurrency)  # warms the cache
    asked = carriers.requests
    _report("cached", *await _run(live, carts, args.concurrency), 20)
    assert carriers.requests == asked, "every question was answered from the cache"

    fresh = _carts(random.Random(args.seed + 1), args.checkouts, distinct_profiles=True)
    _report("live", *await _run(live, fresh, args.concurrency), 300)
    print(f"  carrier requests in the live run: {carriers.requests - asked}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkouts", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--carrier-ms", type=float, default=100)
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(main_async(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
