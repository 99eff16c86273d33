"""Which stocks Saleor 3.20 lists for a variant and allocates an order from: the channel's warehouses in
the channel's shipping zones (``Stock.objects.for_channel_and_country``), as the stand-in plays it."""

import json
from dataclasses import dataclass

import pytest

from app.graphql.documents import load
from app.standin import actions
from app.standin.facade import StandIn
from app.standin.state import Address, App, AppWebhook, Order, Warehouse, to_global_id
from app.webhooks.payloads import OrderEventPayload
from tests.conftest import FixedClock
from tests.standin.conftest import Catalogue, run

TORONTO = Address(first_name="Ada", street_address1="1 King St W", city="Toronto", country="CA")


@dataclass(frozen=True)
class Elsewhere:
    """Warehouses around the catalogue's channel (Main and the 3PL, its US zone), each holding 50 mugs."""

    europe: Warehouse  # the channel's, but only in a zone of another channel
    wholesale: Warehouse  # in the channel's US zone, but assigned to another channel only
    canada: Warehouse  # the channel's, in the channel's zone for Canada
    pickup: Warehouse  # the channel's click-and-collect point, in no zone


@pytest.fixture
def elsewhere(standin: StandIn, catalogue: Catalogue) -> Elsewhere:
    store = standin.store
    channel = catalogue.channel
    b2b = store.add_channel(slug="b2b", name="Wholesale", currency_code="USD")
    europe, wholesale, canada = (store.add_warehouse(name=name) for name in ("Europe", "Wholesale", "Canada"))
    pickup = store.add_warehouse(name="Pickup", click_and_collect_option="LOCAL")
    for warehouse in (europe, canada, pickup):
        store.assign_warehouse(channel, warehouse)
    store.assign_warehouse(b2b, wholesale)
    (us_zone,) = store.shipping_zones.values()
    us_zone.warehouse_pks.append(wholesale.pk)
    us_zone.channel_pks.append(b2b.pk)
    store.add_shipping_zone(name="Europe", countries=["DE", "FR"], warehouses=[europe], channels=[b2b])
    store.add_shipping_zone(name="Canada", countries=["CA"], warehouses=[canada], channels=[channel])
    for warehouse in (europe, wholesale, canada, pickup):
        store.set_stock(warehouse, catalogue.mug, 50)
    return Elsewhere(europe, wholesale, canada, pickup)


def place(
    standin: StandIn,
    catalogue: Catalogue,
    clock: FixedClock,
    quantity: int,
    *,
    shipping_address: Address | None = None,
    collection_point: Warehouse | None = None,
) -> Order:
    return actions.place_order(
        standin.store,
        catalogue.channel,
        [(catalogue.mug, quantity)],
        at=clock.now(),
        email="a@example.com",
        shipping_address=shipping_address,
        collection_point=collection_point,
    )


def allocated(standin: StandIn, order: Order) -> list[tuple[str, int]]:
    store = standin.store
    return [
        (store.warehouses[store.stocks[a.stock_pk].warehouse_pk].name, a.quantity_allocated)
        for line in order.lines
        for a in line.allocations
    ]


class TestAllocation:
    @pytest.mark.usefixtures("elsewhere")
    def test_a_us_order_takes_only_from_the_channels_warehouses_in_its_us_zone(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = place(standin, catalogue, clock, 15)
        assert allocated(standin, order) == [("Main", 5), ("Shipwell 3PL", 10)]
        # Europe, Wholesale, Canada and Pickup hold 200 more mugs, none of them for a US order.
        with pytest.raises(actions.InsufficientStockError):
            place(standin, catalogue, clock, 1)

    @pytest.mark.usefixtures("elsewhere")
    def test_the_shipping_country_picks_the_zone(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = place(standin, catalogue, clock, 7, shipping_address=TORONTO)
        assert allocated(standin, order) == [("Canada", 7)]

    def test_the_channels_warehouse_order_comes_before_the_stock_keys(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        catalogue.channel.warehouse_pks.reverse()  # the 3PL first
        order = place(standin, catalogue, clock, 12)
        assert allocated(standin, order) == [("Shipwell 3PL", 10), ("Main", 2)]

    def test_click_and_collect_takes_from_the_collection_point_first_then_any_channel_warehouse(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, elsewhere: Elsewhere
    ) -> None:
        order = place(standin, catalogue, clock, 120, collection_point=elsewhere.pickup)
        # Every warehouse of the channel, zones or not (``for_channel_and_click_and_collect``); not Wholesale.
        assert allocated(standin, order) == [
            ("Pickup", 50),
            ("Main", 5),
            ("Shipwell 3PL", 10),
            ("Europe", 50),
            ("Canada", 5),
        ]


LINE_STOCKS = """
query($order: ID!, $variant: ID!) {
  order(id: $order) { lines { variant { stocks { warehouse { name } } } } }
  anywhere: productVariant(id: $variant) { stocks { warehouse { name } } }
  inChannel: productVariant(id: $variant, channel: "default-channel") { stocks { warehouse { name } } }
}
"""


def names(stocks: list[dict[str, dict[str, str]]]) -> list[str]:
    return [stock["warehouse"]["name"] for stock in stocks]


class TestVariantStocks:
    @pytest.mark.usefixtures("elsewhere")
    async def test_in_the_orders_channel_only_its_zones_warehouses_and_collection_points_are_listed(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, 2)
        data = await run(
            standin,
            caller,
            LINE_STOCKS,
            order=to_global_id("Order", order.pk),
            variant=to_global_id("ProductVariant", catalogue.mug.pk),
        )
        (line,) = data["order"]["lines"]
        # Canada is listed for a US order: without a country every zone of the channel counts.
        in_channel = ["Main", "Shipwell 3PL", "Canada", "Pickup"]
        assert names(line["variant"]["stocks"]) == in_channel
        assert names(data["inChannel"]["stocks"]) == in_channel
        # Without a channel context, every stock.
        assert names(data["anywhere"]["stocks"]) == ["Main", "Shipwell 3PL", "Europe", "Wholesale", "Canada", "Pickup"]

    async def test_a_stocks_warehouse_shows_no_other_warehouse(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App, elsewhere: Elsewhere
    ) -> None:
        data = await run(
            standin,
            caller,
            """query($id: ID!) {
              warehouse(id: $id) {
                stocks(first: 5) { edges { node { productVariant { stocks { warehouse { name } } } } } }
              }
            }""",
            id=to_global_id("Warehouse", elsewhere.europe.pk),
        )
        (edge,) = data["warehouse"]["stocks"]["edges"]
        # ``Stock.productVariant`` has no channel: every stock again.
        assert len(edge["node"]["productVariant"]["stocks"]) == 6

    @pytest.mark.usefixtures("elsewhere")
    def test_the_apps_order_created_payload_lists_the_channels_warehouses_only(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        query = load("subscriptions", "order_created").source
        caller.webhooks.append(AppWebhook("order_created", "https://ops.test/order_created", query, ("ORDER_CREATED",)))
        order = place(standin, catalogue, clock, 2)
        body = standin.payload_for("ORDER_CREATED", order, caller)
        assert body is not None
        assert "errors" not in json.loads(body)
        (line,) = OrderEventPayload.model_validate_json(body).order.lines
        assert line.variant is not None
        assert line.variant.stocks is not None
        assert [held.warehouse.name for held in line.variant.stocks] == ["Main", "Shipwell 3PL", "Canada", "Pickup"]
        # The warehouses' zones say which of them Saleor ships a US order of this channel from.
        shipping = [
            held.warehouse.name for held in line.variant.stocks if held.warehouse.ships_to("default-channel", "US")
        ]
        assert shipping == ["Main", "Shipwell 3PL"]
