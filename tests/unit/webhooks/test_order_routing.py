"""What routing reads from an order's webhook payload: its unshipped lines and each warehouse's stock
to spare for them."""

from __future__ import annotations

import json
from typing import Any

from app.domain.ids import SaleorId
from app.domain.order_event import ReceivedOrderEvent
from app.services.routing.hand_offs import OrderForPartners
from app.services.routing.planning import OrderToRoute
from app.webhooks.order_routing import kept_order_for_partners, order_for_partners, order_to_route, past_order
from app.webhooks.payloads import OrderPayload
from tests.builders import NOW, SHOP_API_URL, order_line_payload, order_payload, variant_payload
from tests.unit.webhooks.test_order_shipping import ADDRESS, MAIN, TPL, method


def _stock(warehouse: str, name: str, quantity: int, allocated: int) -> dict[str, Any]:
    return {"warehouse": {"id": warehouse, "name": name}, "quantity": quantity, "quantityAllocated": allocated}


def _order(*lines: dict[str, Any], **overrides: Any) -> OrderPayload:
    fields: dict[str, Any] = {
        "shippingAddress": ADDRESS,
        "deliveryMethod": method("app.saleor-ops", "expedited"),
        "lines": list(lines),
        **overrides,
    }
    return OrderPayload.model_validate(order_payload(**fields)["order"])


def _line(line_id: str, sku: str, quantity: int, stocks: list[dict[str, Any]] | None, **extra: Any) -> dict[str, Any]:
    variant = {**variant_payload(sku=sku, variant_id=f"variant-{sku}"), "stocks": stocks}
    return order_line_payload(line_id=line_id, sku=sku, quantity=quantity, unit_price="10", variant=variant, **extra)


def test_the_order_s_own_allocation_is_stock_it_may_ship_from() -> None:
    mugs = _line(
        "L1",
        "MUG",
        3,
        [_stock(MAIN, "Main", 10, 9), _stock(TPL, "West 3PL", 4, 0)],
        allocations=[{"warehouse": {"id": MAIN}, "quantity": 3}],
    )
    routed = order_to_route(_order(mugs))
    assert not isinstance(routed, str)
    assert routed is not None
    # Main holds 10, 9 of them allocated, 3 of those to this order: 4 it can ship this order.
    assert routed.stock == {MAIN: {"MUG": 4}, TPL: {"MUG": 4}}
    assert routed.warehouse_names == {MAIN: "Main", TPL: "West 3PL"}
    ((line_id, sku, quantity),) = [(line.id, line.sku, line.cart.quantity) for line in routed.lines]
    assert (line_id, sku, quantity) == ("L1", "MUG", 3)


def _zones(*zones: tuple[list[str], list[str]], more: bool = False) -> dict[str, Any]:
    """A warehouse's ``shippingZones``: each zone's countries and channels."""
    return {
        "edges": [
            {"node": {"countries": [{"code": c} for c in countries], "channels": [{"slug": s} for s in channels]}}
            for countries, channels in zones
        ],
        "pageInfo": {"hasNextPage": more},
    }


def test_a_warehouse_saleor_would_not_ship_the_order_from_is_no_source() -> None:
    def zoned(warehouse: str, name: str, zones: dict[str, Any] | None) -> dict[str, Any]:
        stock = _stock(warehouse, name, 5, 0)
        return {**stock, "warehouse": {**stock["warehouse"], "shippingZones": zones}}

    channel = "default-channel"
    stocks = [
        zoned(MAIN, "Main", _zones((["CA"], [channel]), (["US", "MX"], [channel]))),
        zoned("W-CA", "Toronto", _zones((["CA"], [channel]))),  # its zone does not cover the US
        zoned("W-B2B", "Wholesale", _zones((["US"], ["b2b"]))),  # covers the US for another channel only
        zoned("W-PICKUP", "Pickup", _zones()),  # a click-and-collect point in no zone
        zoned("W-MANY", "Many zones", _zones((["FR"], [channel]), more=True)),  # the rest not sent: kept
        zoned("W-OLD", "Recorded before zones", None),  # kept
        zoned(TPL, "West 3PL", _zones((["DE"], [channel]))),  # holds this order's units: kept
    ]
    line = _line("L1", "MUG", 2, stocks, allocations=[{"warehouse": {"id": TPL}, "quantity": 2}])
    routed = order_to_route(_order(line))
    assert not isinstance(routed, str)
    assert routed is not None
    assert list(routed.warehouse_names.values()) == ["Main", "Many zones", "Recorded before zones", "West 3PL"]


def test_only_units_still_to_ship_are_routed_and_stock_never_counts_below_zero() -> None:
    shipped = _line("L1", "MUG", 2, [_stock(MAIN, "Main", 1, 5)], quantityFulfilled=2)
    half = _line("L2", "TEE", 4, [_stock(MAIN, "Main", 1, 5)], quantityFulfilled=1)
    routed = order_to_route(_order(shipped, half))
    assert not isinstance(routed, str)
    assert routed is not None
    assert [(line.id, line.cart.quantity) for line in routed.lines] == [("L2", 3)]
    assert routed.stock == {MAIN: {"TEE": 0}}


def test_an_order_all_shipped_has_nothing_to_route() -> None:
    assert order_to_route(_order(_line("L1", "MUG", 2, [], quantityFulfilled=2))) is None


def test_what_cannot_be_routed_says_why() -> None:
    assert order_to_route(_order(_line("L1", "MUG", 1, None))) == "Saleor sent no stock for MUG"
    no_sku = order_line_payload(line_id="L9", sku=None, productName="Gift card")
    assert order_to_route(_order(no_sku)) == "line Gift card has no SKU"
    assert order_to_route(_order(_line("L1", "MUG", 1, []), shippingAddress=None)) == (
        "the order has no shipping address"
    )


def test_each_line_is_named_for_partners_by_its_product_and_variant() -> None:
    named = _line("L1", "MUG", 1, [_stock(MAIN, "Main", 5, 0)], productName="Mug", variantName="Blue")
    product_only = _line("L2", "TEE", 1, [_stock(MAIN, "Main", 5, 0)], productName="Tee")
    routed = order_to_route(_order(named, product_only))
    assert not isinstance(routed, str)
    assert routed is not None
    assert [(line.id, line.name) for line in routed.lines] == [("L1", "Mug Blue"), ("L2", "Tee")]


def _kept(payload: dict[str, Any] | str, event: str = "order_created") -> ReceivedOrderEvent:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return ReceivedOrderEvent(SHOP_API_URL, event, SaleorId("order-1"), "1001", NOW, "3.20", NOW, body)


def _placed(*lines: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    fields = {"shippingAddress": ADDRESS, "deliveryMethod": method("app.saleor-ops", "expedited"), **overrides}
    return order_payload(order_id="order-1", lines=list(lines), **fields)


def test_a_kept_order_replays_with_saleors_allocation_of_each_line() -> None:
    split = _line(
        "L1",
        "MUG",
        3,
        [_stock(MAIN, "Main", 10, 2), _stock(TPL, "West 3PL", 4, 1)],
        allocations=[{"warehouse": {"id": MAIN}, "quantity": 2}, {"warehouse": {"id": TPL}, "quantity": 1}],
    )
    past = past_order(_kept(_placed(split)))
    assert (past.order_id, past.number) == ("order-1", "1001")
    assert isinstance(past.to_route, OrderToRoute)
    assert past.to_route.stock == {MAIN: {"MUG": 10}, TPL: {"MUG": 4}}
    assert past.allocation == {"L1": ((MAIN, 2), (TPL, 1))}


def test_a_kept_order_that_cannot_be_replayed_says_why() -> None:
    no_stock = _line("L1", "MUG", 1, None)
    assert past_order(_kept(_placed(no_stock))).to_route == "Saleor sent no stock for MUG"
    assert past_order(_kept(_placed(no_stock, status="DRAFT"))).to_route == "draft when first seen"
    shipped = _line("L1", "MUG", 2, [], quantityFulfilled=2)
    assert past_order(_kept(_placed(shipped))).to_route == "every line had shipped when first seen"
    unreadable = past_order(_kept('{"order": {"id": 1}}', "order_updated"))
    assert unreadable.order_id == "order-1"
    assert isinstance(unreadable.to_route, str)
    assert unreadable.to_route.startswith("the kept order_updated event cannot be read:")


def test_partners_are_told_of_a_cancelled_order_its_number_address_and_line_names() -> None:
    mug = _line("L1", "MUG", 2, None, productName="Mug", variantName="Blue")
    cancelled = _order(mug, status="CANCELED")
    assert order_for_partners(cancelled) == OrderForPartners(
        "1001",
        {"streetAddress1": "12 Elm St", "city": "PORTLAND", "postalCode": "97205", "country": "US"},
        {"L1": "Mug Blue"},
    )


def test_the_order_for_partners_comes_from_the_latest_kept_body_or_is_only_its_number_once_erased() -> None:
    mug = _line("L1", "MUG", 2, None, productName="Mug")
    placed, erased = _kept(_placed(mug)), _kept("{}", "order_updated")
    assert kept_order_for_partners([placed, erased]).line_names == {"L1": "Mug"}
    assert kept_order_for_partners([erased]) == OrderForPartners("1001", {}, {})
    assert kept_order_for_partners([]) == OrderForPartners("", {}, {})
