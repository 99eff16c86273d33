"""What routing reads from an order's webhook payload: its unshipped lines and each warehouse's stock
to spare for them."""

from __future__ import annotations

from typing import Any

from app.webhooks.order_routing import order_to_route
from app.webhooks.payloads import OrderPayload
from tests.builders import order_line_payload, order_payload, variant_payload
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
