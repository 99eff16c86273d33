"""What choosing an order's carrier services reads from its webhook payload: the level, shipments, weights."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from app.domain.ids import SaleorId
from app.domain.routing.model import SourceKind
from app.domain.shipping.model import Level
from app.services.routing.plans import RoutedShipment, RoutedUnits
from app.services.shipping.model import Place
from app.webhooks.order_shipping import fulfilled_order, placed_order, planned_shipments
from app.webhooks.payloads import FulfillmentPayload, OrderPayload
from tests.builders import fulfillment_payload, order_line_payload, order_payload, variant_payload

MAIN, TPL = "V2FyZWhvdXNlOjE=", "V2FyZWhvdXNlOjI="
ADDRESS = {"streetAddress1": "12 Elm St", "city": "PORTLAND", "postalCode": "97205", "country": {"code": "US"}}


def method(identifier: str, option: str) -> dict[str, Any]:
    encoded = base64.b64encode(f"app:{identifier}:{option}".encode()).decode()
    return {"__typename": "ShippingMethod", "id": encoded, "name": "Expedited, arrives Tue 1 Dec"}


def order(**overrides: Any) -> OrderPayload:
    variant = {**variant_payload(product_type="Drinkware"), "weight": {"unit": "G", "value": 400}}
    line = order_line_payload(
        quantity=3,
        unit_price="12.50",
        variant=variant,
        allocations=[{"warehouse": {"id": MAIN}, "quantity": 2}, {"warehouse": {"id": TPL}, "quantity": 1}],
    )
    fields: dict[str, Any] = {
        "shippingAddress": ADDRESS,
        "deliveryMethod": method("app.saleor-ops", "expedited"),
        "lines": [line],
        **overrides,
    }
    return OrderPayload.model_validate(order_payload(**fields)["order"])


def test_each_warehouse_allocated_in_is_a_shipment_at_the_level_the_app_offered() -> None:
    placed = placed_order(order())
    assert not isinstance(placed, str)
    assert (placed.level, placed.channel, placed.currency) == (Level.EXPEDITED, "default-channel", "USD")
    assert placed.destination == Place("US", "97205", "PORTLAND", "", "12 Elm St")
    assert [(s.warehouse_id, s.units) for s in placed.shipments] == [
        (MAIN, {"T3JkZXJMaW5lOjE=": 2}),
        (TPL, {"T3JkZXJMaW5lOjE=": 1}),
    ]
    (line,) = placed.shipments[0].lines
    assert (line.weight_kg, line.product_type, line.line_total) == (Decimal("0.400"), "Drinkware", Decimal("25.0"))


def test_a_method_the_app_did_not_offer_has_no_level() -> None:
    own = {"__typename": "ShippingMethod", "id": "U2hpcHBpbmdNZXRob2Q6MQ==", "name": "Flat rate"}
    assert placed_order(order(deliveryMethod=own, shippingMethodName="Flat rate")) == (
        "the shopper chose Flat rate not offered by this app"
    )
    assert placed_order(order(deliveryMethod=method("other.app", "expedited"))) == (
        "the delivery method was offered by another app (other.app)"
    )
    assert placed_order(order(deliveryMethod=method("app.saleor-ops", "pigeon"))) == (
        "the app's option 'pigeon' is no service level"
    )


def test_an_order_without_allocations_or_address_has_no_shipments() -> None:
    unallocated = order_line_payload(variant=variant_payload(), allocations=[])
    assert placed_order(order(lines=[unallocated])) == "Saleor allocated none of its lines to a warehouse"
    assert placed_order(order(shippingAddress=None)) == "the order has no shipping address"


def test_a_fulfilment_is_one_shipment_of_what_it_sends_from_its_warehouse() -> None:
    sent = FulfillmentPayload.model_validate(
        fulfillment_payload(warehouse_id=TPL, lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", "T3JkZXJMaW5lOjE=", 1)])
    )
    shipped = fulfilled_order(order(), sent)
    assert not isinstance(shipped, str)
    (shipment,) = shipped.shipments
    assert (shipment.warehouse_id, shipment.units) == (TPL, {"T3JkZXJMaW5lOjE=": 1})


def test_each_shipment_of_routing_s_plan_is_a_shipment_of_its_units_from_its_source() -> None:
    plan = (
        RoutedShipment(SaleorId(TPL), SourceKind.THIRD_PARTY, "p-west", (RoutedUnits("T3JkZXJMaW5lOjE=", "MUG", 3),)),
    )
    planned = planned_shipments(order(), plan)  # Saleor allocated 2 to MAIN and 1 to TPL: the plan decides
    assert not isinstance(planned, str)
    (shipment,) = planned
    assert (shipment.warehouse_id, shipment.units) == (TPL, {"T3JkZXJMaW5lOjE=": 3})
    assert shipment.lines[0].line_total == Decimal("37.50")
    gone = (RoutedShipment(SaleorId(MAIN), SourceKind.IN_HOUSE, None, (RoutedUnits("T3JkZXJMaW5lOjk=", "MUG", 1),)),)
    assert planned_shipments(order(), gone) == "routing's plan ships lines the order no longer has (T3JkZXJMaW5lOjk=)"


def weights_read(variant_weight: Any, product_weight: Any, product_type_weight: Any) -> tuple[Decimal | None, ...]:
    variant = {
        **variant_payload(product_type="Drinkware"),
        "weight": variant_weight,
        "product": {"weight": product_weight, "productType": {"name": "Drinkware", "weight": product_type_weight}},
    }
    (line,) = OrderPayload.model_validate(order_payload(lines=[order_line_payload(variant=variant)])["order"]).lines
    assert line.variant is not None
    return line.variant.weight_kg, line.variant.product_weight_kg, line.variant.product_type_weight_kg


def test_a_zero_weight_is_no_weight_as_saleor_weighs_a_line() -> None:
    zero = {"unit": "KG", "value": 0.0}
    # A variant nobody weighed, as Saleor 3.20 sends it: its product type's weight is 0 kg, never null.
    assert weights_read(None, None, zero) == (None, None, None)
    # Saleor's get_weight skips a zero weight at every level, as it skips a missing one.
    assert weights_read(zero, {"unit": "G", "value": 800}, zero) == (None, Decimal("0.800"), None)
    assert weights_read({"unit": "G", "value": 400}, None, {"unit": "KG", "value": 1.2}) == (
        Decimal("0.400"),
        None,
        Decimal("1.2"),
    )
