"""What choosing an order's carrier services needs, read from the verified webhook payload."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from app.domain.shipping.model import Level
from app.saleor.manifest import manifest_template
from app.services.routing.plans import RoutedShipment
from app.services.shipping.model import CartLine, OrderShipment, Place, PlacedOrder
from app.webhooks.payloads import FulfillmentPayload, OrderLinePayload, OrderPayload


def chosen_level(order: OrderPayload) -> Level | str:
    """The level the shopper bought: the id of the option this app offered at checkout, or why it is unknown.

    A method the app did not offer (the store's own shipping method, a collection point) carries no
    promise the shopper was shown, so no level is made up for it.
    """
    offered = order.delivery_method.offered_by_app() if order.delivery_method is not None else None
    if offered is None:
        return f"the shopper chose {order.shipping_method_name or 'a delivery method'} not offered by this app"
    identifier, option_id = offered
    if identifier != manifest_template()["id"]:
        return f"the delivery method was offered by another app ({identifier})"
    try:
        return Level(option_id)
    except ValueError:
        return f"the app's option {option_id!r} is no service level"


def cart_line(line: OrderLinePayload, quantity: int) -> CartLine:
    variant = line.variant
    return CartLine(
        variant_id=line.product_variant_id or line.id,
        sku=line.sku,
        product_type=line.product_type,
        quantity=quantity,
        weight_kg=variant.weight_kg if variant is not None else None,
        line_total=line.unit_price.gross.amount * quantity,
        product_weight_kg=variant.product_weight_kg if variant is not None else None,
        product_type_weight_kg=variant.product_type_weight_kg if variant is not None else None,
        attributes=variant.attribute_readings if variant is not None else (),
        line_id=line.id,
    )


def _destination(order: OrderPayload) -> Place | None:
    address = order.shipping_address
    if address is None:
        return None
    street = ", ".join(part for part in (address.street_address_1, address.street_address_2) if part)
    return Place(
        address.country.code, address.postal_code, address.city, address.country_area, street, address.company_name
    )


def placed_with(order: OrderPayload, shipments: Callable[[], tuple[OrderShipment, ...] | str]) -> PlacedOrder | str:
    """The order with ``shipments``, or why it has none to choose for: a level the app did not offer, no
    address, or what ``shipments`` says."""
    level = chosen_level(order)
    if not isinstance(level, Level):  # a Level is a str too
        return level
    destination = _destination(order)
    if destination is None:
        return "the order has no shipping address"
    found = shipments()
    if isinstance(found, str):
        return found
    return PlacedOrder(
        channel=order.channel.slug,
        currency=order.total.gross.currency,
        destination=destination,
        level=level,
        placed_at=order.created,
        shipments=found,
    )


def allocated_shipments(order: OrderPayload) -> tuple[OrderShipment, ...] | str:
    """One shipment per warehouse Saleor allocated the order's units in, or why there is none."""
    by_warehouse: dict[str, list[CartLine]] = defaultdict(list)
    for line in order.lines:
        for allocation in line.allocations:
            if allocation.quantity > 0:
                by_warehouse[allocation.warehouse.id].append(cart_line(line, allocation.quantity))
    if not by_warehouse:
        return "Saleor allocated none of its lines to a warehouse"
    return tuple(OrderShipment(warehouse, tuple(lines)) for warehouse, lines in by_warehouse.items())


def planned_shipments(order: OrderPayload, plan: Sequence[RoutedShipment]) -> tuple[OrderShipment, ...] | str:
    """One shipment per shipment of routing's plan: its units, from its source's warehouse; or why not."""
    lines = {line.id: line for line in order.lines}
    unknown = sorted({units.line_id for shipment in plan for units in shipment.units} - set(lines))
    if unknown:
        return f"routing's plan ships lines the order no longer has ({', '.join(unknown)})"
    return tuple(
        OrderShipment(
            shipment.warehouse_id,
            tuple(cart_line(lines[units.line_id], units.quantity) for units in shipment.units),
            shipment.leaves_at,
        )
        for shipment in plan
    )


def placed_order(order: OrderPayload) -> PlacedOrder | str:
    """The order's shipments, one per warehouse Saleor allocated its units in, or why it has none to choose for."""
    return placed_with(order, lambda: allocated_shipments(order))


def fulfilled_order(order: OrderPayload, fulfillment: FulfillmentPayload) -> PlacedOrder | str:
    """The order as its one shipment ``fulfillment`` sends (its units, from its warehouse), or why not known."""

    def shipped() -> tuple[OrderShipment, ...] | str:
        if fulfillment.warehouse is None:
            return "the fulfilment names no warehouse"
        lines = {line.id: line for line in order.lines}
        units = [
            cart_line(lines[unit.order_line.id], unit.quantity)
            for unit in fulfillment.lines or []
            if unit.order_line is not None and unit.order_line.id in lines and unit.quantity > 0
        ]
        if not units:
            return "the fulfilment sends none of the order's lines"
        return (OrderShipment(fulfillment.warehouse.id, tuple(units)),)

    return placed_with(order, shipped)
