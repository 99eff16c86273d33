"""Checkout options and order services through the quoter, on in-memory settings, tables and carriers."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from app.domain.ids import SaleorApiUrl
from app.domain.money import Money
from app.domain.shipping.model import Level
from app.domain.shipping.promise import Transit
from app.domain.shipping.rates import ChargeKind, Quote, Service
from app.services.shipping.model import (
    Cart,
    CartLine,
    CheckoutOption,
    LiveQuotes,
    OrderShipment,
    Place,
    PlacedOrder,
    RateRequest,
)
from app.services.shipping.quoting import LiveQuoteCache, ShippingQuoter
from tests.builders import SHOP_API_URL
from tests.fakes.in_memory import InMemorySettingsStore
from tests.fakes.shipping import FakeCarrierQuotes, InMemoryRateTableStore
from tests.unit.domain.shipping.builders import make_service, make_table, make_zone

D = Decimal
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
THURSDAY_NOON_NY = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # 12:00 in New York, before the 15:00 cut-off
FRIDAY_AFTER_CUTOFF_NY = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)  # 16:00 in New York


def service(carrier: str, name: str, level: Level, price: str, transit: tuple[int, int]) -> Service:
    return make_service(carrier, name, level=level, zones=[make_zone(bracket_prices=[("10", price)], transit=transit)])


FEDEX_ECONOMY = service("FedEx", "Economy", Level.STANDARD, "6.00", (6, 8))
UPS_GROUND = service("UPS", "Ground", Level.STANDARD, "8.00", (3, 5))
UPS_2DAY = service("UPS", "2nd Day Air", Level.EXPEDITED, "15.00", (2, 2))
UPS_NEXT_DAY = service("UPS", "Next Day Air", Level.OVERNIGHT, "30.00", (1, 1))
ALL_SERVICES = (FEDEX_ECONOMY, UPS_GROUND, UPS_2DAY, UPS_NEXT_DAY)


def warehouse(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "WH-1",
        "name": "Brooklyn",
        "origin": {"country": "US", "postal_code": "11201", "city": "Brooklyn"},
        "time_zone": "America/New_York",
        "cutoffs": dict.fromkeys(WEEKDAYS, "15:00"),
        "handling_days_min": 0,
        "handling_days_max": 0,
        **overrides,
    }


def levels(**overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "standard": {"promise_days": 5},
        "expedited": {"promise_days": 3},
        "overnight": {"promise_days": 1},
        **overrides,
    }


def shipping_settings(**overrides: Any) -> dict[str, Any]:
    return {
        "locale": "en_GB",
        "warehouses": [warehouse()],
        "channels": [{"channel": "default", "warehouse": "WH-1", "levels": levels()}],
        "boxes": [
            {"name": "M", "length_cm": 40, "width_cm": 30, "height_cm": 20, "max_weight_kg": 20, "tare_kg": "0.5"}
        ],
        "product_types": [{"product_type": "Shoes", "length_cm": 30, "width_cm": 20, "height_cm": 10}],
        "carrier_preference": ["UPS", "FedEx"],
        **overrides,
    }


def cart(
    *,
    country: str = "US",
    postal_code: str = "10001",
    currency: str = "USD",
    weight_kg: str | None = "1",
    product_type: str | None = "Shoes",
    line_total: str = "50.00",
    quantity: int = 1,
    channel: str = "default",
) -> Cart:
    line = CartLine(
        "UHJvZHVjdFZhcmlhbnQ6MQ==",
        "SHOE-42",
        product_type,
        quantity,
        None if weight_kg is None else D(weight_kg),
        D(line_total),
    )
    return Cart(channel, currency, Place(country, postal_code), (line,))


def live_quote(carrier: str, name: str, level: Level, total: str, transit: tuple[int, int]) -> Quote:
    money = Money(D(total), "USD")
    return Quote(
        "WH-1", carrier, name, level, "live", money, ((ChargeKind.BASE, money),), D("1.5"), Transit(*transit),
        frozenset(range(5)),
    )  # fmt: skip


class Shop:
    """A store's settings, tables and carriers, and a quoter over them."""

    def __init__(self, *services: Service, carriers: FakeCarrierQuotes | None = None, **settings: Any) -> None:
        self.settings = InMemorySettingsStore()
        self.settings.values[(SHOP_API_URL, "shipping")] = shipping_settings(**settings)
        self.tables = InMemoryRateTableStore(make_table(*(services or ALL_SERVICES)))
        self.carriers = carriers
        self.cache = LiveQuoteCache()
        self.quoter = ShippingQuoter(self.settings, self.tables, carriers, cache=self.cache, live_timeout_seconds=0.05)

    async def options(
        self, the_cart: Cart | None = None, now: datetime = THURSDAY_NOON_NY
    ) -> dict[str, CheckoutOption]:
        options = await self.quoter.checkout_options(SHOP_API_URL, the_cart or cart(), now)
        return {option.id: option for option in options}

    async def names(self, the_cart: Cart | None = None, now: datetime = THURSDAY_NOON_NY) -> dict[str, str]:
        return {level: option.name for level, option in (await self.options(the_cart, now)).items()}


class TestPromiseDates:
    async def test_an_order_before_the_cut_off_ships_the_same_day(self) -> None:
        options = await Shop().options()
        assert {level: option.name for level, option in options.items()} == {
            "standard": "Standard, arrives 8\u2009–\u200910 Dec",  # thin spaces around the dash (CLDR)
            "expedited": "Expedited, arrives Mon 7 Dec",
            "overnight": "Overnight, arrives Fri 4 Dec",
        }
        standard = options["standard"]
        assert (standard.minimum_delivery_days, standard.maximum_delivery_days) == (5, 7)
        assert (options["overnight"].minimum_delivery_days, options["overnight"].maximum_delivery_days) == (1, 1)

    async def test_an_order_on_friday_after_the_cut_off_ships_on_monday(self) -> None:
        names = await Shop().names(now=FRIDAY_AFTER_CUTOFF_NY)
        assert names["overnight"] == "Overnight, arrives Tue 8 Dec"
        assert names["expedited"] == "Expedited, arrives Wed 9 Dec"

    async def test_friday_after_the_cut_off_before_a_monday_holiday_ships_on_tuesday(self) -> None:
        before_mlk_day = datetime(2027, 1, 15, 21, 0, tzinfo=UTC)  # Monday 18 January is Martin Luther King Jr. Day
        explanation = await Shop().quoter.explain(SHOP_API_URL, cart(), before_mlk_day)
        assert explanation.quotes is not None
        assert explanation.quotes.ships_earliest == date(2027, 1, 19)
        assert {option.id: option.name for option in explanation.options}["overnight"] == (
            "Overnight, arrives Wed 20 Jan"
        )

    @pytest.mark.parametrize(
        ("time_zone", "overnight"),
        [
            pytest.param("America/New_York", "Overnight, arrives Mon 7 Dec", id="14:30-in-new-york-before-cut-off"),
            pytest.param("Europe/London", "Overnight, arrives Tue 8 Dec", id="19:30-in-london-after-cut-off"),
        ],
    )
    async def test_the_cut_off_is_the_warehouse_s_local_time(self, time_zone: str, overnight: str) -> None:
        friday_1930_utc = datetime(2026, 12, 4, 19, 30, tzinfo=UTC)
        shop = Shop(warehouses=[warehouse(time_zone=time_zone)])
        assert (await shop.names(now=friday_1930_utc))["overnight"] == overnight

    async def test_the_merchant_s_closure_is_skipped(self) -> None:
        shop = Shop(warehouses=[warehouse(closures=["2026-12-07"])])
        assert (await shop.names(now=FRIDAY_AFTER_CUTOFF_NY))["overnight"] == "Overnight, arrives Wed 9 Dec"

    async def test_dates_are_written_in_the_store_s_locale(self) -> None:
        shop = Shop(locale="en")
        assert (await shop.names())["overnight"] == "Overnight, arrives Fri, Dec 4"

    async def test_delivery_on_the_destination_s_holiday_is_not_counted(self) -> None:
        christmas_eve_noon = datetime(2026, 12, 24, 17, 0, tzinfo=UTC)  # Thursday; Friday the 25th is Christmas
        assert (await Shop().names(now=christmas_eve_noon))["overnight"] == "Overnight, arrives Mon 28 Dec"


class TestSelection:
    async def test_the_cheapest_rate_that_arrives_too_late_is_dropped(self) -> None:
        explanation = await Shop().quoter.explain(SHOP_API_URL, cart(), THURSDAY_NOON_NY)
        standard = explanation.levels[0]
        assert standard.selection.chosen is not None
        assert standard.selection.chosen.label == "UPS Ground"
        verdicts = {verdict.candidate.label: verdict for verdict in standard.selection.verdicts}
        assert not verdicts["FedEx Economy"].kept
        assert "after the promised 2026-12-10" in verdicts["FedEx Economy"].reason
        assert standard.option is not None
        assert standard.option.amount == D("8.00")
        assert any("dropped FedEx Economy 6.00 USD" in line for line in explanation.lines())

    async def test_when_no_standard_service_keeps_the_promise_a_faster_one_is_offered_at_standard_price(self) -> None:
        shop = Shop(FEDEX_ECONOMY, UPS_2DAY, UPS_NEXT_DAY)
        explanation = await shop.quoter.explain(SHOP_API_URL, cart(), THURSDAY_NOON_NY)
        standard = explanation.levels[0]
        assert standard.selection.chosen is not None
        assert standard.selection.chosen.label == "UPS 2nd Day Air"
        assert standard.selection.kept_at is Level.EXPEDITED
        assert standard.option is not None
        assert standard.option.name == "Standard, arrives Mon 7 Dec"

    async def test_a_level_no_service_can_keep_is_not_offered(self) -> None:
        slow_overnight = service("UPS", "Next Day Air", Level.OVERNIGHT, "30.00", (2, 2))
        shop = Shop(UPS_GROUND, slow_overnight)
        explanation = await shop.quoter.explain(SHOP_API_URL, cart(), THURSDAY_NOON_NY)
        assert [option.id for option in explanation.options] == ["standard", "expedited"]
        overnight = explanation.levels[2]
        assert overnight.why_not == "no service arrives by 2026-12-04"
        assert overnight.lines()[-1] == "  → not offered: no service arrives by 2026-12-04"

    async def test_a_level_the_channel_does_not_promise_is_not_offered(self) -> None:
        channels = [{"channel": "default", "warehouse": "WH-1", "levels": {"standard": {"promise_days": 5}}}]
        assert list(await Shop(channels=channels).options()) == ["standard"]

    async def test_a_rule_excluding_the_only_carrier_that_keeps_the_promise_leaves_no_option(self) -> None:
        rules = [{"name": "No UPS", "excluded_carriers": ["UPS"]}]
        explanation = await Shop(rules=rules).quoter.explain(SHOP_API_URL, cart(), THURSDAY_NOON_NY)
        assert explanation.options == []
        assert "No UPS" in explanation.levels[0].selection.summary
        assert explanation.levels[0].why_not == "no service arrives by 2026-12-10"

    async def test_a_rule_allowing_no_carrier_quoted_leaves_no_option(self) -> None:
        rules = [{"name": "DHL only", "only_carriers": ["DHL"]}]
        explanation = await Shop(rules=rules).quoter.explain(SHOP_API_URL, cart(), THURSDAY_NOON_NY)
        assert [outcome.why_not for outcome in explanation.levels] == ["rule 'DHL only' leaves no service"] * 3

    async def test_carrier_preference_breaks_a_tie(self) -> None:
        fedex_ground = service("FedEx", "Ground", Level.STANDARD, "8.00", (3, 5))
        for preference, chosen in ((["UPS", "FedEx"], "UPS Ground"), (["FedEx", "UPS"], "FedEx Ground")):
            shop = Shop(UPS_GROUND, fedex_ground, carrier_preference=preference)
            explanation = await shop.quoter.explain(SHOP_API_URL, cart(), THURSDAY_NOON_NY)
            assert explanation.levels[0].selection.chosen is not None
            assert explanation.levels[0].selection.chosen.label == chosen


class TestPricing:
    @pytest.mark.parametrize(
        ("standard", "order_value", "price"),
        [
            pytest.param({}, "50.00", "8.00", id="carrier-cost"),
            pytest.param({"markup_pct": "10", "markup_fixed": "1.50"}, "50.00", "10.30", id="markup"),
            pytest.param({"flat_price": "4.99"}, "50.00", "4.99", id="flat"),
            pytest.param({"flat_price": "4.99", "free_above": "75"}, "74.99", "4.99", id="below-the-threshold"),
            pytest.param({"flat_price": "4.99", "free_above": "75"}, "75.00", "0.00", id="free-from-the-threshold"),
        ],
    )
    async def test_the_channel_s_pricing_policy(self, standard: dict[str, str], order_value: str, price: str) -> None:
        channels = [
            {"channel": "default", "warehouse": "WH-1", "levels": levels(standard={"promise_days": 5, **standard})}
        ]
        options = await Shop(channels=channels).options(cart(line_total=order_value))
        assert options["standard"].amount == D(price)
        assert options["standard"].currency == "USD"
        assert options["expedited"].amount == D("15.00"), "other levels keep their own policy"

    async def test_a_rule_s_fixed_price_wins_over_the_policy(self) -> None:
        rules = [{"name": "Heavy flat", "min_weight_kg": "1", "fixed_price": "29.00"}]
        channels = [
            {
                "channel": "default",
                "warehouse": "WH-1",
                "levels": levels(standard={"promise_days": 5, "flat_price": "4"}),
            }
        ]
        explanation = await Shop(rules=rules, channels=channels).quoter.explain(SHOP_API_URL, cart(), THURSDAY_NOON_NY)
        standard = explanation.levels[0]
        assert standard.option is not None
        assert standard.option.amount == D("29.00")
        assert standard.price is not None
        assert standard.price.reason == "rule 'Heavy flat'"


class TestNoOptions:
    async def test_a_destination_no_zone_covers_gets_no_option(self) -> None:
        explanation = await Shop().quoter.explain(
            SHOP_API_URL, cart(country="FR", postal_code="75001"), THURSDAY_NOON_NY
        )
        assert explanation.options == []
        assert explanation.quotes is not None
        assert "UPS Ground: no zone covers FR 75001" in explanation.quotes.left_out
        assert explanation.levels[0].why_not == "no service quotes this shipment (see what was left out)"

    async def test_a_country_no_calendar_knows_gets_no_option(self) -> None:
        explanation = await Shop().quoter.explain(SHOP_API_URL, cart(country="XX"), THURSDAY_NOON_NY)
        assert explanation.options == []
        assert explanation.problem == "no holiday calendar knows the destination country 'XX'"

    async def test_a_channel_without_settings_gets_no_option(self) -> None:
        explanation = await Shop().quoter.explain(SHOP_API_URL, cart(channel="wholesale"), THURSDAY_NOON_NY)
        assert explanation.options == []
        assert explanation.problem == "the channel has no shipping settings"

    async def test_a_line_without_weight_takes_its_product_type_s_or_gets_no_option(self) -> None:
        unweighted = cart(weight_kg=None)
        explanation = await Shop().quoter.explain(SHOP_API_URL, unweighted, THURSDAY_NOON_NY)
        assert explanation.options == []
        assert explanation.problem == "line SHOE-42 has no weight, and product type 'Shoes' has no default weight"
        product_types = [
            {"product_type": "Shoes", "length_cm": 30, "width_cm": 20, "height_cm": 10, "weight_kg": "1.2"}
        ]
        explanation = await Shop(product_types=product_types).quoter.explain(SHOP_API_URL, unweighted, THURSDAY_NOON_NY)
        assert explanation.quotes is not None
        assert explanation.quotes.weight_kg == D("1.7")  # 1.2 kg of shoes in a 0.5 kg box
        assert len(explanation.options) == 3

    async def test_a_product_type_without_a_size_gets_no_option(self) -> None:
        explanation = await Shop().quoter.explain(SHOP_API_URL, cart(product_type="Sofas"), THURSDAY_NOON_NY)
        assert explanation.options == []
        assert explanation.problem is not None
        assert "product type 'Sofas' has no default box" in explanation.problem

    async def test_an_empty_cart_gets_no_option(self) -> None:
        empty = Cart("default", "USD", Place("US", "10001"), ())
        explanation = await Shop().quoter.explain(SHOP_API_URL, empty, THURSDAY_NOON_NY)
        assert (explanation.options, explanation.problem) == ([], "nothing to ship")
        assert explanation.lines() == ["Channel default, to US 10001", "No options: nothing to ship"]

    async def test_rates_in_another_currency_are_left_out_not_converted(self) -> None:
        explanation = await Shop().quoter.explain(SHOP_API_URL, cart(currency="EUR"), THURSDAY_NOON_NY)
        assert explanation.options == []
        assert explanation.quotes is not None
        assert "UPS Ground: priced in USD, the order pays in EUR" in explanation.quotes.left_out


class TestParcels:
    async def test_the_cart_is_packed_into_the_merchant_s_boxes_and_explained(self) -> None:
        explanation = await Shop().quoter.explain(SHOP_API_URL, cart(quantity=5), THURSDAY_NOON_NY)
        assert explanation.quotes is not None
        parcels = explanation.quotes.parcels  # four 30×20×10 shoe boxes fill the 40×30×20 box by volume
        assert [(parcel.box.name if parcel.box else None, parcel.unit_count) for parcel in parcels] == [
            ("M", 4),
            ("M", 1),
        ]
        assert explanation.quotes.weight_kg == D("6.0")  # five 1 kg units and two 0.5 kg boxes
        assert any(line.startswith("Parcel 2: box M") for line in explanation.lines())


class TestLiveQuotes:
    async def test_the_caller_gives_its_database_connection_back_before_any_carrier_is_asked(self) -> None:
        moments: list[str] = []

        class Recorded(FakeCarrierQuotes):
            async def quotes(
                self, saleor_api_url: SaleorApiUrl, request: RateRequest, *, within_seconds: float
            ) -> LiveQuotes:
                moments.append("carriers asked")
                return await super().quotes(saleor_api_url, request, within_seconds=within_seconds)

        async def read_done() -> None:
            moments.append("read done")

        shop = Shop(carriers=Recorded(live_quote("UPS", "Ground", Level.STANDARD, "7.10", (3, 5))))
        quoter = ShippingQuoter(shop.settings, shop.tables, shop.carriers, cache=shop.cache, read_done=read_done)
        options = await quoter.checkout_options(SHOP_API_URL, cart(), THURSDAY_NOON_NY)
        assert options[0].amount == D("7.10")
        assert moments == ["read done", "carriers asked"]

    async def test_a_cheaper_live_rate_replaces_the_table_s_for_the_same_service(self) -> None:
        carriers = FakeCarrierQuotes(live_quote("UPS", "Ground", Level.STANDARD, "7.10", (3, 5)))
        shop = Shop(carriers=carriers)
        explanation = await shop.quoter.explain(SHOP_API_URL, cart(), THURSDAY_NOON_NY)
        assert explanation.options[0].amount == D("7.10")
        assert explanation.quotes is not None
        assert "UPS Ground: the table's rate, the live one is used" in explanation.quotes.left_out
        (request,) = carriers.requests
        assert (request.warehouse_id, request.origin.postal_code, request.destination.postal_code) == (
            "WH-1",
            "11201",
            "10001",
        )
        assert carriers.deadlines == [0.05]

    async def test_a_carrier_s_guarantee_is_kept_on_the_candidate(self) -> None:
        guaranteed = replace(live_quote("UPS", "Ground", Level.STANDARD, "7.10", (3, 5)), guaranteed=True)
        explanation = await Shop(carriers=FakeCarrierQuotes(guaranteed)).quoter.explain(
            SHOP_API_URL, cart(), THURSDAY_NOON_NY
        )
        chosen = explanation.levels[0].selection.chosen
        assert chosen is not None
        assert chosen.guaranteed

    async def test_a_slow_carrier_leaves_the_tables_to_answer_and_is_logged(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        carriers = FakeCarrierQuotes(live_quote("UPS", "Ground", Level.STANDARD, "1.00", (3, 5)), delay=0.3)
        shop = Shop(carriers=carriers)
        with caplog.at_level(logging.WARNING, logger="app.services.shipping.quoting"):
            explanation = await shop.quoter.explain(SHOP_API_URL, cart(), THURSDAY_NOON_NY)
        assert [option.amount for option in explanation.options] == [D("8.00"), D("15.00"), D("30.00")]
        assert explanation.quotes is not None
        assert explanation.quotes.live == "no answer within 0.05 s, the rate tables answer"
        assert "live carrier quotes timed out; the rate tables answer" in caplog.messages
        assert len(shop.cache) == 0

    async def test_an_answer_that_comes_late_is_kept_for_the_next_checkout(self) -> None:
        carriers = FakeCarrierQuotes(live_quote("UPS", "Ground", Level.STANDARD, "1.00", (3, 5)), delay=0.3)
        shop = Shop(carriers=carriers)
        assert (await shop.options())["standard"].amount == D("8.00")  # stopped waiting after 0.15 s
        await asyncio.sleep(0.3)
        assert (await shop.options())["standard"].amount == D("1.00")
        assert len(carriers.requests) == 1

    async def test_checkouts_asking_the_same_meanwhile_share_one_carrier_request(self) -> None:
        carriers = FakeCarrierQuotes(live_quote("UPS", "Ground", Level.STANDARD, "7.10", (3, 5)), delay=0.01)
        shop = Shop(carriers=carriers)
        answers = await asyncio.gather(*(shop.options() for _ in range(5)))
        assert [options["standard"].amount for options in answers] == [D("7.10")] * 5
        assert len(carriers.requests) == 1

    async def test_a_failing_carrier_leaves_the_tables_to_answer(self, caplog: pytest.LogCaptureFixture) -> None:
        shop = Shop(carriers=FakeCarrierQuotes(failure=ConnectionError("carrier down")))
        with caplog.at_level(logging.WARNING, logger="app.services.shipping.quoting"):
            options = await shop.options()
        assert options["standard"].amount == D("8.00")
        assert "live carrier quotes failed; the rate tables answer" in caplog.messages

    async def test_a_second_checkout_to_the_same_area_and_profile_is_answered_from_the_cache(self) -> None:
        carriers = FakeCarrierQuotes(live_quote("UPS", "Ground", Level.STANDARD, "7.10", (3, 5)))
        shop = Shop(carriers=carriers)
        await shop.options(cart(postal_code="10001", weight_kg="1.01"))
        options = await shop.options(cart(postal_code="10017", weight_kg="1.04"))  # same prefix, same 0.1 kg step
        assert options["standard"].amount == D("7.10")
        assert len(carriers.requests) == 1
        assert carriers.requests[0].parcels[0].weight_kg == D("1.6")  # 1.01 kg and the 0.5 kg box, rounded up
        explanation = await shop.quoter.explain(SHOP_API_URL, cart(weight_kg="1.01"), THURSDAY_NOON_NY)
        assert explanation.quotes is not None
        assert explanation.quotes.live == "1 quote, from the cache"

    @pytest.mark.parametrize(
        ("other", "now"),
        [
            pytest.param(cart(postal_code="94103"), THURSDAY_NOON_NY, id="another-postal-prefix"),
            pytest.param(cart(weight_kg="3"), THURSDAY_NOON_NY, id="another-parcel-profile"),
            pytest.param(cart(), FRIDAY_AFTER_CUTOFF_NY, id="another-ship-day"),
        ],
    )
    async def test_a_different_area_profile_or_day_asks_the_carriers_again(self, other: Cart, now: datetime) -> None:
        carriers = FakeCarrierQuotes(live_quote("UPS", "Ground", Level.STANDARD, "7.10", (3, 5)))
        shop = Shop(carriers=carriers)
        await shop.options(cart())
        await shop.options(other, now)
        assert len(carriers.requests) == 2

    async def test_an_answer_with_a_failed_carrier_is_used_but_not_kept(self) -> None:
        carriers = FakeCarrierQuotes(
            live_quote("UPS", "Ground", Level.STANDARD, "7.10", (3, 5)), problems=("FedEx: 503 Service Unavailable",)
        )
        shop = Shop(carriers=carriers)
        assert (await shop.options())["standard"].amount == D("7.10")
        await shop.options()
        assert len(carriers.requests) == 2

    async def test_an_empty_answer_is_not_kept(self) -> None:
        carriers = FakeCarrierQuotes()  # a store without carrier accounts
        shop = Shop(carriers=carriers)
        await shop.options()
        await shop.options()
        assert len(carriers.requests) == 2
        assert len(shop.cache) == 0

    def test_the_cache_drops_the_least_recently_used_beyond_its_bound(self) -> None:
        cache = LiveQuoteCache(max_entries=2)
        cache.put("a", ())
        cache.put("b", ())
        assert cache.get("a") == ()
        cache.put("c", ())
        assert (cache.get("a"), cache.get("b"), cache.get("c")) == ((), None, ())


def placed_order(*shipments: OrderShipment, level: Level = Level.EXPEDITED) -> PlacedOrder:
    return PlacedOrder(
        "default",
        "USD",
        Place("US", "10001"),
        level,
        THURSDAY_NOON_NY,
        shipments or (OrderShipment("WH-1", cart().lines),),
    )


class TestSelectForOrder:
    async def test_each_shipment_gets_the_cheapest_service_keeping_the_chosen_level_s_promise(self) -> None:
        decision = await Shop().quoter.select_for_order(SHOP_API_URL, placed_order())
        assert decision.metadata() == {
            "v": 1,
            "shipments": [
                {
                    "source": "WH-1",
                    "carrier": "UPS",
                    "service": "2nd Day Air",
                    "level": "expedited",
                    "amount": "15.00",
                    "currency": "USD",
                    "estimatedDelivery": "2026-12-07",
                    "promisedBy": "2026-12-08",
                    "meetsPromise": True,
                }
            ],
        }
        assert not decision.needs_attention
        assert decision.note() == (
            "Shipping (expedited): WH-1: UPS 2nd Day Air, 15.00 USD, arrives by 2026-12-07 (promised by 2026-12-08)"
        )

    async def test_the_decision_explains_the_parcels_and_each_candidate(self) -> None:
        decision = await Shop().quoter.select_for_order(SHOP_API_URL, placed_order())
        lines = decision.shipments[0].lines()
        assert lines[0] == "From Brooklyn, ships 2026-12-03"
        assert lines[1] == "To a home (no company name), on US's holidays"
        assert lines[2].startswith("Parcel 1: box M (40×30×20 cm), 1.5 kg: 1 × SHOE-42")
        assert lines[3] == "Live carriers: none asked, none in the cache"
        assert lines[4].startswith("expedited by 2026-12-08: UPS 2nd Day Air")
        assert any(line.startswith("  dropped UPS Ground 8.00 USD") for line in lines)

    async def test_a_late_service_is_flagged(self) -> None:
        shop = Shop(FEDEX_ECONOMY)
        decision = await shop.quoter.select_for_order(SHOP_API_URL, placed_order(level=Level.STANDARD))
        assert decision.needs_attention
        (entry,) = decision.entries
        assert entry["meetsPromise"] is False
        assert "LATE: nothing keeps the promise" in decision.note()

    async def test_a_warehouse_without_settings_is_a_problem_for_its_shipment_only(self) -> None:
        order = placed_order(OrderShipment("WH-1", cart().lines), OrderShipment("WH-9", cart().lines))
        decision = await Shop().quoter.select_for_order(SHOP_API_URL, order)
        assert [shipment.meets_promise for shipment in decision.shipments] == [True, False]
        assert decision.shipments[1].problem == "warehouse WH-9 has no shipping settings"
        assert decision.note().endswith("; WH-9: no service (warehouse WH-9 has no shipping settings)")
        assert decision.shipments[1].lines() == ["Shipment from WH-9: warehouse WH-9 has no shipping settings"]
        assert len(decision.entries) == 1
        assert decision.needs_attention

    async def test_every_shipment_answers_to_the_date_checkout_promised_from_the_channel_s_warehouse(self) -> None:
        early_cutoff = warehouse(id="WH-2", name="Newark", cutoffs=dict.fromkeys(WEEKDAYS, "08:00"))
        shop = Shop(warehouses=[warehouse(), early_cutoff])
        shop.tables.tables.append(replace(shop.tables.tables[0], warehouse_id="WH-2"))
        order = placed_order(OrderShipment("WH-1", cart().lines), OrderShipment("WH-2", cart().lines))
        decision = await shop.quoter.select_for_order(SHOP_API_URL, order)
        # Newark is past its cut-off and ships Friday, yet the shopper was promised Tuesday from Brooklyn.
        assert [(entry["source"], entry["promisedBy"]) for entry in decision.entries] == [
            ("WH-1", "2026-12-08"),
            ("WH-2", "2026-12-08"),
        ]
        assert await shop.quoter.promised_by(SHOP_API_URL, order) == date(2026, 12, 8)
        assert decision.shipments[1].lines()[0] == "From Newark, ships 2026-12-04"

    async def test_a_planned_departure_counts_until_the_goods_really_leave(self) -> None:
        planned = OrderShipment("WH-1", cart().lines, leaves_at=FRIDAY_AFTER_CUTOFF_NY)
        chosen = await Shop().quoter.select_for_order(SHOP_API_URL, placed_order(planned))
        assert chosen.shipments[0].lines()[0] == "From Brooklyn, ships 2026-12-07"
        left = await Shop().quoter.reselect_for_order(
            SHOP_API_URL, placed_order(planned), THURSDAY_NOON_NY, date(2026, 12, 8)
        )
        assert left.shipments[0].lines()[0] == "From Brooklyn, ships 2026-12-03"

    async def test_a_level_the_channel_does_not_promise_chooses_nothing(self) -> None:
        channels = [{"channel": "default", "warehouse": "WH-1", "levels": {"standard": {"promise_days": 5}}}]
        decision = await Shop(channels=channels).quoter.select_for_order(SHOP_API_URL, placed_order())
        assert decision.shipments[0].problem == "channel default promises no expedited delivery"
        assert decision.metadata() == {"v": 1, "shipments": []}

    async def test_rules_see_the_whole_order_s_value(self) -> None:
        rules = [{"name": "Big orders by FedEx only", "min_order_value": "80", "only_carriers": ["FedEx"]}]
        fedex_2day = service("FedEx", "2Day", Level.EXPEDITED, "19.00", (2, 2))
        order = placed_order(OrderShipment("WH-1", cart().lines), OrderShipment("WH-1", cart().lines))
        decision = await Shop(*ALL_SERVICES, fedex_2day, rules=rules).quoter.select_for_order(SHOP_API_URL, order)
        chosen = [shipment.selection.chosen for shipment in decision.shipments if shipment.selection]
        assert [candidate.label for candidate in chosen if candidate] == ["FedEx 2Day", "FedEx 2Day"]
