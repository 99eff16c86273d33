"""Quotes from each origin through the shipping capability: the service it would choose for the
shipment at the order's level, and the date checkout promised."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from app.domain.shipping.model import Level
from app.services.routing.planning import ShippingOriginQuotes
from app.services.shipping.model import OrderShipment, Place
from tests.builders import SHOP_API_URL
from tests.unit.services.shipping.test_quoting import THURSDAY_NOON_NY, Shop, cart, placed_order, warehouse


def _shop() -> Shop:
    west = warehouse(id="WH-2", name="Reno", origin={"country": "US", "postal_code": "89501", "city": "Reno"})
    return Shop(warehouses=[warehouse(), west])


async def test_the_promise_is_the_channel_s_from_its_own_warehouse() -> None:
    quotes = ShippingOriginQuotes(_shop().quoter)
    # Thursday noon in New York, before the cut-off: expedited (3 business days) by Tuesday.
    assert await quotes.promised_by(SHOP_API_URL, placed_order()) == date(2026, 12, 8)
    assert await quotes.promised_by(SHOP_API_URL, replace(placed_order(), channel="elsewhere")) is None


async def test_a_shipment_is_quoted_at_the_service_shipping_would_choose() -> None:
    quotes = ShippingOriginQuotes(_shop().quoter)
    order = placed_order()
    quote = await quotes.quote(
        SHOP_API_URL, order, OrderShipment("WH-1", cart().lines), THURSDAY_NOON_NY, date(2026, 12, 8)
    )
    assert quote is not None
    decided = await _shop().quoter.select_for_order(SHOP_API_URL, order)
    chosen = decided.shipments[0].selection
    assert chosen is not None
    assert chosen.chosen is not None
    assert (quote.shipping, quote.arrives, quote.detail) == (
        chosen.chosen.quote.total,
        chosen.chosen.window.latest,
        chosen.chosen.label,
    )


async def test_a_later_departure_arrives_later() -> None:
    quotes = ShippingOriginQuotes(_shop().quoter)
    order, shipment = placed_order(), OrderShipment("WH-1", cart().lines)
    now = await quotes.quote(SHOP_API_URL, order, shipment, THURSDAY_NOON_NY, date(2026, 12, 8))
    later = await quotes.quote(SHOP_API_URL, order, shipment, THURSDAY_NOON_NY + timedelta(days=4), date(2026, 12, 8))
    assert now is not None
    assert later is not None
    assert later.arrives > now.arrives


async def test_an_origin_without_shipping_settings_is_not_quoted() -> None:
    quotes = ShippingOriginQuotes(_shop().quoter)
    order = replace(placed_order(), destination=Place("US", "10001"), level=Level.STANDARD)
    shipment = OrderShipment("WH-unknown", cart().lines)
    assert await quotes.quote(SHOP_API_URL, order, shipment, THURSDAY_NOON_NY, date(2026, 12, 10)) is None
