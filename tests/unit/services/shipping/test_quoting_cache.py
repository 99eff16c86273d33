"""What checkout keeps between requests (``QuotingCache``): the same answers and explanations as
quoting afresh, over many random carts, and nothing kept once the settings or tables change (for
checkouts, a second after: they trust a revision confirmed that recently)."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.domain.ids import SaleorApiUrl
from app.domain.money import Money
from app.domain.shipping.model import Level
from app.domain.shipping.promise import Transit
from app.domain.shipping.rates import ChargeKind, Quote, RateTable, WeightBracket
from app.services.ports import SettingsChange
from app.services.shipping.model import Cart, CartLine, CheckoutOption, LiveQuotes, Place
from app.services.shipping.quoting import LiveQuoteCache, QuotingCache, ShippingQuoter, kept_checkout_options
from app.services.shipping.tables import read_rate_tables
from tests.builders import SHOP_API_URL
from tests.fakes.in_memory import InMemorySettingsStore
from tests.fakes.shipping import FakeCarrierQuotes, InMemoryRateTableStore, InMemoryShippingRevisions

D = Decimal
DEMO_TABLES = Path(__file__).parents[4] / "app" / "demo_rate_tables.csv"
MONDAY_MORNING_UTC = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
PRODUCT_TYPES = ("Coffee", "Brewing", "Machines", "Merch")
# Destinations sharing postal prefixes, so that kept prices are looked up by other codes than their own:
# Alaska, Hawaii and Puerto Rico, remote areas, Texas, codes that differ only in their third character,
# Canada, the UK and Germany (no zone).
POSTAL_CODES = {
    "US": ("99501", "99577", "96813", "96601", "00901", "59601", "59501", "82201", "88501", "88001", "75069", "606 01"),
    "CA": ("K1A 0B1", "k1a0b2", "M5V 2T6"),
    "GB": ("N8 7NB", "N8 7NX", "EH1 1YZ"),
    "DE": ("10115", "10117"),
}


def settings_values(**overrides: Any) -> dict[str, Any]:
    warehouse = {"cutoffs": dict.fromkeys(WEEKDAYS, "14:00"), "handling_days_min": 0, "handling_days_max": 1}
    return {
        "locale": "en_US",
        "warehouses": [
            {
                **warehouse,
                "id": "main-warehouse",
                "name": "Austin",
                "origin": {"country": "US", "postal_code": "78702"},
                "time_zone": "America/Chicago",
                "holiday_subdivision": "TX",
            },
            {
                **warehouse,
                "id": "shiphero-3pl",
                "name": "Columbus",
                "origin": {"country": "US", "postal_code": "43207"},
                "time_zone": "America/New_York",
                "handling_days_max": 0,
            },
        ],
        "channels": [
            {
                "channel": "default",
                "warehouse": "main-warehouse",
                "levels": {
                    "standard": {"promise_days": 5, "free_above": "75"},
                    "expedited": {"promise_days": 3, "markup_pct": "10"},
                    "overnight": {"promise_days": 1, "markup_fixed": "2.00"},
                },
            },
            {
                "channel": "east",
                "warehouse": "shiphero-3pl",
                "levels": {"standard": {"promise_days": 4, "flat_price": "6.95"}, "expedited": {"promise_days": 2}},
            },
        ],
        "boxes": [
            {"name": "Small", "length_cm": 25, "width_cm": 20, "height_cm": 10, "max_weight_kg": 5, "tare_kg": "0.15"},
            {"name": "Large", "length_cm": 60, "width_cm": 40, "height_cm": 40, "max_weight_kg": 30, "tare_kg": "0.9"},
        ],
        "product_types": [
            {"product_type": "Coffee", "length_cm": 18, "width_cm": 10, "height_cm": 8},
            {"product_type": "Brewing", "length_cm": 25, "width_cm": 20, "height_cm": 15},
            {"product_type": "Machines", "length_cm": 45, "width_cm": 35, "height_cm": 40, "weight_kg": "9"},
            {"product_type": "Merch", "length_cm": 30, "width_cm": 25, "height_cm": 4},
        ],
        "carrier_preference": ["UPS", "USPS"],
        "rules": [
            {"name": "Machines go by UPS", "product_types": ["Machines"], "only_carriers": ["UPS"]},
            {"name": "Alaska flat", "postal_prefixes": ["995"], "fixed_price": "24"},
            {"name": "Heavy", "min_weight_kg": "20", "strategy": "fastest"},
        ],
        **overrides,
    }


def demo_tables() -> list[RateTable]:
    with DEMO_TABLES.open(newline="") as lines:
        tables = read_rate_tables(lines)
    assert isinstance(tables, list)
    return tables


def live_quote(service: str, level: Level, total: str, currency: str = "USD") -> Quote:
    money = Money(D(total), currency)
    return Quote(
        "main-warehouse", "UPS", service, level, "live", money, ((ChargeKind.BASE, money),), D("2"), Transit(1, 3),
        frozenset(range(5)), guaranteed=True,
    )  # fmt: skip


def random_cart(rng: random.Random) -> Cart:
    country = rng.choice(["US", "US", "US", "CA", "GB", "DE"])
    lines = tuple(
        CartLine(
            f"variant-{index}",
            f"SKU-{index}",
            "Unboxed" if rng.random() < 0.03 else rng.choice(PRODUCT_TYPES),  # no size: no options
            rng.randint(1, 4),
            None if rng.random() < 0.05 else D(rng.choice(["0.1", "0.36", "0.5", "1", "1.00", "2.75", "7", "12.5"])),
            D(rng.randint(500, 12_000)).scaleb(-2),
        )
        for index in range(rng.randint(1, 4))
    )
    currency = "USD" if rng.random() < 0.9 else "EUR"
    return Cart(rng.choice(["default", "east"]), currency, Place(country, rng.choice(POSTAL_CODES[country])), lines)


class Revisions(InMemoryShippingRevisions):
    """Each read waits while ``gate`` is shut and fails while ``failing``, as a loaded or broken database."""

    def __init__(self, settings: InMemorySettingsStore, tables: InMemoryRateTableStore) -> None:
        super().__init__(settings, tables)
        self.asked = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.failing = False

    async def revision(self, saleor_api_url: SaleorApiUrl) -> tuple[int, int]:
        self.asked += 1
        await self.gate.wait()
        if self.failing:
            raise ConnectionError("the database went away")
        return await super().revision(saleor_api_url)


class Store:
    """One store's settings and tables; a quoter keeping what it derives (as checkout's) and one that does
    not. With ``apart``, checkouts have a due revision confirmed apart, as the app's do."""

    def __init__(self, carriers: FakeCarrierQuotes | None = None, *, apart: bool = False) -> None:
        self.settings = InMemorySettingsStore()
        self.settings.values[(SHOP_API_URL, "shipping")] = settings_values()
        self.tables = InMemoryRateTableStore(*demo_tables())
        self.carriers = carriers
        self.seconds = 0.0  # the monotonic clock the cache reads
        self.kept = QuotingCache(revision_ttl_seconds=1.0, monotonic=lambda: self.seconds)
        self.revisions = Revisions(self.settings, self.tables)
        self.apart = apart

    def quoter(self, *, keeping: bool, live: LiveQuoteCache | None = None) -> ShippingQuoter:
        """Built per request, as the app does; the live answers start cold each time unless ``live`` is
        the process's cache."""
        return ShippingQuoter(
            self.settings,
            self.tables,
            self.carriers,
            cache=live if live is not None else LiveQuoteCache(),
            revisions=self.revisions if keeping else None,
            quoting_cache=self.kept,
            confirm_apart=self.confirm_apart if self.apart else None,
        )

    async def confirm_apart(self, saleor_api_url: SaleorApiUrl) -> None:
        await self.quoter(keeping=True).confirm_store(saleor_api_url)

    async def confirmed(self) -> None:
        """Lets a confirmation under way (with nothing holding it) run to its end."""
        for _ in range(5):
            await asyncio.sleep(0)

    async def checkout(self, cart: Cart) -> list[CheckoutOption]:
        return await self.quoter(keeping=True).checkout_options(SHOP_API_URL, cart, MONDAY_MORNING_UTC)

    async def both(self, cart: Cart, now: datetime) -> tuple[list[str], list[str]]:
        kept = await self.quoter(keeping=True).explain(SHOP_API_URL, cart, now)
        fresh = await self.quoter(keeping=False).explain(SHOP_API_URL, cart, now)
        assert kept.options == fresh.options
        return kept.lines(), fresh.lines()

    async def save_settings(self, values: dict[str, Any]) -> None:
        change = SettingsChange("shipping", MONDAY_MORNING_UTC, "staff@shop.test", "{}", json.dumps(values))
        await self.settings.save(SHOP_API_URL, change)


@pytest.mark.parametrize(
    "carriers",
    [
        pytest.param(None, id="tables only"),
        pytest.param(
            FakeCarrierQuotes(
                live_quote("Ground", Level.STANDARD, "7.10"),
                live_quote("2nd Day Air", Level.EXPEDITED, "18.40"),
                live_quote("Express Saver", Level.EXPEDITED, "15.00", currency="CAD"),
            ),
            id="with live carriers",
        ),
    ],
)
async def test_kept_answers_and_explanations_are_those_quoted_afresh(carriers: FakeCarrierQuotes | None) -> None:
    store = Store(carriers)
    rng = random.Random(12)
    checkouts = []
    for _ in range(60):
        cart = random_cart(rng)
        now = MONDAY_MORNING_UTC + timedelta(hours=rng.randint(0, 24 * 6), minutes=rng.randint(0, 59))
        # The same parcels to each address of the country: prices kept for one code are looked up by others.
        for postal_code in POSTAL_CODES[cart.destination.country]:
            checkouts.append((replace(cart, destination=Place(cart.destination.country, postal_code)), now))
    offered = 0
    for cart, now in [*checkouts, *checkouts]:  # the second time round from what was kept
        kept, fresh = await store.both(cart, now)
        assert kept == fresh
        offered += sum(line.count("offered as") for line in kept)
    assert offered > len(checkouts), "many checkouts are offered something"
    assert 0 < len(store.kept) < len(checkouts), "checkouts alike share what was kept"


COFFEE = Cart("default", "USD", Place("US", "10001"), (CartLine("v", "SKU", "Coffee", 2, D("0.36"), D("38")),))


async def test_a_checkout_within_the_second_reads_neither_the_revision_nor_the_settings_nor_the_tables() -> None:
    store = Store()
    first = await store.checkout(COFFEE)
    assert first
    reads = (store.revisions.reads, store.tables.reads)
    store.seconds += 0.9
    assert await store.checkout(COFFEE) == first
    assert (store.revisions.reads, store.tables.reads) == reads
    assert len(store.kept) == 1
    store.seconds += 0.1  # a second after the revision was confirmed: confirmed again, nothing else read
    assert await store.checkout(COFFEE) == first
    assert (store.revisions.reads, store.tables.reads) == (reads[0] + 1, reads[1])


async def test_once_the_second_is_over_one_checkout_confirms_the_revision_while_the_others_go_on() -> None:
    store = Store()
    first = await store.checkout(COFFEE)
    store.seconds += 1.0
    assert store.kept.recent(SHOP_API_URL) is None  # as a checkout that now confirms it (its query under way)
    reads = store.revisions.reads
    assert await store.checkout(COFFEE) == first  # meanwhile: the kept values, no second query
    assert store.revisions.reads == reads
    store.seconds += 1.0  # that confirmation never came back: given up, this checkout confirms it
    assert await store.checkout(COFFEE) == first
    assert store.revisions.reads == reads + 1
    assert store.kept.recent(SHOP_API_URL) is not None


async def test_saved_settings_are_used_by_checkouts_a_second_later_and_by_the_rate_tester_at_once() -> None:
    store = Store()
    before = {option.id: option.amount for option in await store.checkout(COFFEE)}
    values = settings_values()
    values["channels"][0]["levels"]["expedited"] = {"promise_days": 3, "flat_price": "3.33"}
    await store.save_settings(values)
    assert {option.id: option.amount for option in await store.checkout(COFFEE)} == before  # within the second
    store.seconds += 1.0
    after = {option.id: option.amount for option in await store.checkout(COFFEE)}
    assert after["expedited"] == D("3.33") != before["expedited"]
    await store.save_settings(settings_values())
    kept, fresh = await store.both(COFFEE, MONDAY_MORNING_UTC)  # explain: the revision checked every time
    assert kept == fresh
    assert f"at {before['expedited']} USD" in " ".join(kept)


async def test_replaced_tables_are_used_by_checkouts_a_second_later() -> None:
    store = Store()
    before = [option.amount for option in await store.checkout(COFFEE)]
    dearer = [
        replace(
            table,
            services=tuple(
                replace(
                    service,
                    zones=tuple(
                        replace(zone, brackets=tuple(WeightBracket(b.up_to_kg, b.price + 5) for b in zone.brackets))
                        for zone in service.zones
                    ),
                )
                for service in table.services
            ),
        )
        for table in demo_tables()
    ]
    await store.tables.replace_rate_tables(SHOP_API_URL, dearer)
    store.seconds += 1.0
    after = [option.amount for option in await store.checkout(COFFEE)]
    kept, fresh = await store.both(COFFEE, MONDAY_MORNING_UTC)
    assert kept == fresh
    assert after != before


async def test_a_due_revision_is_confirmed_apart_and_a_change_reaches_the_checkouts_after_it() -> None:
    store = Store(apart=True)
    before = {option.id: option.amount for option in await store.checkout(COFFEE)}
    values = settings_values()
    values["channels"][0]["levels"]["expedited"] = {"promise_days": 3, "flat_price": "3.33"}
    await store.save_settings(values)
    store.seconds += 1.0
    reads = store.revisions.reads
    # Due: answered from the kept values at once, the revision confirmed after.
    assert {option.id: option.amount for option in await store.checkout(COFFEE)} == before
    assert store.revisions.reads == reads
    await store.confirmed()
    assert store.revisions.reads == reads + 1
    after = {option.id: option.amount for option in await store.checkout(COFFEE)}
    assert after["expedited"] == D("3.33") != before["expedited"]
    assert store.revisions.reads == reads + 1  # confirmed when the new values were read: trusted a second


async def test_no_checkout_waits_for_the_revision_query_while_values_are_kept() -> None:
    store = Store(apart=True)
    first = await store.checkout(COFFEE)
    store.revisions.gate.clear()  # every revision query hangs from now on
    try:
        store.seconds += 1.0
        async with asyncio.timeout(1):
            assert await store.checkout(COFFEE) == first
            await store.confirmed()
            assert store.revisions.asked == 2  # the first checkout's, then the one under way apart
            store.seconds += 0.5
            assert await store.checkout(COFFEE) == first
            await store.confirmed()
            assert store.revisions.asked == 2, "one confirmation at a time"
            store.seconds += 0.5  # the one under way hung for the TTL: given up, another one started
            assert await store.checkout(COFFEE) == first
            await store.confirmed()
            assert store.revisions.asked == 3
    finally:
        await store.kept.close()
    store.revisions.gate.set()
    await store.confirmed()
    assert store.revisions.reads == 1, "closing the cache ended the hung confirmations"


async def test_a_failing_confirmation_breaks_no_checkout_and_is_tried_again_after_the_ttl(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store(apart=True)
    first = await store.checkout(COFFEE)
    store.revisions.failing = True
    store.seconds += 1.0
    assert await store.checkout(COFFEE) == first
    await store.confirmed()
    assert store.revisions.asked == 2
    assert "shipping revision not confirmed" in caplog.text
    store.seconds += 0.9
    assert await store.checkout(COFFEE) == first
    await store.confirmed()
    assert store.revisions.asked == 2, "not retried within the TTL"
    store.revisions.failing = False
    store.seconds += 0.1
    assert await store.checkout(COFFEE) == first
    await store.confirmed()
    assert (store.revisions.asked, store.revisions.reads) == (3, 2)
    assert store.kept.recent(SHOP_API_URL) is not None


LIVE = (live_quote("Ground", Level.STANDARD, "7.10"), live_quote("2nd Day Air", Level.EXPEDITED, "18.40"))


async def test_a_cart_asked_again_is_offered_what_quoting_afresh_offers_either_side_of_cut_offs_and_midnight() -> None:
    store = Store(FakeCarrierQuotes(*LIVE))
    live = LiveQuoteCache()  # the process's: a cart asked again finds its live quotes there
    rng = random.Random(7)
    carts = [random_cart(rng) for _ in range(30)]
    # Columbus's 14:00 cut-off is 19:00 UTC, Austin's 20:00 UTC, and Austin's midnight 06:00 UTC.
    times = [
        MONDAY_MORNING_UTC.replace(hour=hour, minute=minute) + timedelta(days=days)
        for days, hour, minute in ((0, 18, 59), (0, 19, 1), (0, 19, 59), (0, 20, 1), (1, 5, 59), (1, 6, 1))
    ]
    offered = 0
    for now in times:
        for cart in [*carts, *carts]:  # the second time round from what was kept
            kept = await store.quoter(keeping=True, live=live).checkout_options(SHOP_API_URL, cart, now)
            fresh = await store.quoter(keeping=False).explain(SHOP_API_URL, cart, now)
            assert kept == fresh.options, (cart, now)
            offered += len(kept)
    assert offered > len(times) * len(carts)


async def test_a_cart_is_quoted_again_once_the_live_quotes_it_was_offered_from_are_gone() -> None:
    carriers = FakeCarrierQuotes(*LIVE)
    store = Store(carriers)
    live = LiveQuoteCache(max_entries=1)

    async def offered(cart: Cart) -> dict[str, Decimal]:
        options = await store.quoter(keeping=True, live=live).checkout_options(SHOP_API_URL, cart, MONDAY_MORNING_UTC)
        return {option.id: option.amount for option in options}

    before = await offered(COFFEE)
    carriers.answer = LiveQuotes(
        (live_quote("Ground", Level.STANDARD, "9.90"), live_quote("2nd Day Air", Level.EXPEDITED, "28.40"))
    )
    assert await offered(COFFEE) == before  # its live quotes are still those in the cache
    await offered(replace(COFFEE, destination=Place("US", "60601")))  # another question: the first's answer dropped
    after = await offered(COFFEE)
    assert after != before
    fresh = await store.quoter(keeping=False).explain(SHOP_API_URL, COFFEE, MONDAY_MORNING_UTC)
    assert after == {option.id: option.amount for option in fresh.options}


async def test_a_cart_asked_again_once_the_settings_changed_is_offered_what_they_say() -> None:
    store = Store(FakeCarrierQuotes(*LIVE))
    live = LiveQuoteCache()

    async def offered() -> dict[str, Decimal]:
        options = await store.quoter(keeping=True, live=live).checkout_options(SHOP_API_URL, COFFEE, MONDAY_MORNING_UTC)
        return {option.id: option.amount for option in options}

    before = await offered()
    assert await offered() == before
    values = settings_values()
    values["channels"][0]["levels"]["expedited"] = {"promise_days": 3, "flat_price": "3.33"}
    await store.save_settings(values)
    store.seconds += 1.0
    assert (await offered())["expedited"] == D("3.33") != before["expedited"]


async def test_a_cart_asked_again_is_answered_as_kept_without_a_quoter_while_what_it_came_from_holds() -> None:
    store = Store(FakeCarrierQuotes(*LIVE))
    live = LiveQuoteCache(max_entries=1)
    confirmations: list[SaleorApiUrl] = []

    async def confirm() -> None:
        confirmations.append(SHOP_API_URL)
        await store.confirm_apart(SHOP_API_URL)

    def kept(cart: Cart = COFFEE, now: datetime = MONDAY_MORNING_UTC) -> list[CheckoutOption] | None:
        options = kept_checkout_options(store.kept, live, SHOP_API_URL, cart, now, confirm)
        return None if options is None else list(options)

    async def quoted(cart: Cart = COFFEE) -> list[CheckoutOption]:
        return await store.quoter(keeping=True, live=live).checkout_options(SHOP_API_URL, cart, MONDAY_MORNING_UTC)

    assert kept() is None  # nothing quoted yet
    offered = await quoted()
    assert offered
    assert kept() == offered  # kept from the first time, its live quotes put in the cache as they came
    assert kept(replace(COFFEE, destination=Place("US", "60601"))) is None  # another cart
    assert kept(now=MONDAY_MORNING_UTC + timedelta(days=1)) is None  # another day's ship dates
    # The revision due: the kept options answer while it is confirmed apart, once.
    values = settings_values()
    values["channels"][0]["levels"]["expedited"] = {"promise_days": 3, "flat_price": "3.33"}
    await store.save_settings(values)
    store.seconds += 1.0
    assert kept() == offered
    assert kept() == offered  # one confirmation under way, not a second
    await store.confirmed()
    assert confirmations == [SHOP_API_URL]
    assert kept() is None  # confirmed changed: quoted again under the new settings
    offered = await quoted()
    assert {option.id: option.amount for option in offered}["expedited"] == D("3.33")
    assert kept() == offered  # the live quotes were in the cache already
    await quoted(replace(COFFEE, destination=Place("US", "60601")))  # its live quotes pushed out of the cache
    assert kept() is None
