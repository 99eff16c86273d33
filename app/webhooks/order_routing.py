"""What routing an order needs, read from the verified webhook payload: its lines still to ship and
what each warehouse Saleor reports can ship of their variants."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pydantic import ValidationError

from app.domain.ids import SaleorId
from app.domain.order_event import ReceivedOrderEvent
from app.services.routing.hand_offs import OrderForPartners
from app.services.routing.planning import LineToRoute, OrderToRoute
from app.services.routing.simulation import PastOrder
from app.services.shipping.model import OrderShipment
from app.webhooks.order_shipping import cart_line, placed_with
from app.webhooks.payloads import OrderEventPayload, OrderLinePayload, OrderPayload, StockWarehousePayload


def order_to_route(order: OrderPayload) -> OrderToRoute | str | None:
    """The order's unshipped lines with the stock each warehouse that may ship them can spare, or why it
    cannot be routed (a line without SKU or stock data, no level or address); None when all of it shipped.

    Saleor's ``quantityAllocated`` counts this order's own units, so they are given back to the
    warehouse that holds them: what it can ship for this order is on hand less other orders' holds.
    """
    lines: list[LineToRoute] = []
    stock: dict[SaleorId, dict[str, int]] = defaultdict(dict)
    names: dict[SaleorId, str] = {}
    own: dict[tuple[str, str], int] = defaultdict(int)
    for line in order.lines:
        for allocation in line.allocations:
            if line.sku:
                own[(allocation.warehouse.id, line.sku)] += allocation.quantity
    for line in order.lines:
        remaining = line.quantity - line.quantity_fulfilled
        if remaining <= 0:
            continue
        sku = line.sku
        if not sku:
            return f"line {line.product_name or line.id} has no SKU"
        if line.variant is None or line.variant.stocks is None:
            return f"Saleor sent no stock for {sku}"
        for held in line.variant.stocks:
            warehouse = SaleorId(held.warehouse.id)
            if not own[(warehouse, sku)] and not may_ship_from(held.warehouse, order):
                continue
            names[warehouse] = held.warehouse.name
            spare = held.quantity - held.quantity_allocated + own[(warehouse, sku)]
            stock[warehouse][sku] = max(0, spare)
        lines.append(LineToRoute(line.id, sku, cart_line(line, remaining), _name(line)))
    if not lines:
        return None
    placed = placed_with(order, lambda: (OrderShipment("", tuple(line.cart for line in lines)),))
    if isinstance(placed, str):
        return placed
    return OrderToRoute(order.id, placed, tuple(lines), stock, names, order.number, _ship_to(order))


def may_ship_from(warehouse: StockWarehousePayload, order: OrderPayload) -> bool:
    """Whether a warehouse Saleor lists in a variant's stocks is a source for the order: not a
    click-and-collect point nor one none of whose zones in the order's channel covers the shipping country
    (a warehouse holding the order's own units is a source all the same: ``order_to_route``)."""
    if order.shipping_address is None:
        return True
    return warehouse.ships_to(order.channel.slug, order.shipping_address.country.code) is not False


def _name(line: OrderLinePayload) -> str:
    return " ".join(part for part in (line.product_name, line.variant_name) if part)


def _ship_to(order: OrderPayload) -> dict[str, str]:
    address = order.shipping_address
    fields = {} if address is None else {**address.model_dump(by_alias=True), "country": address.country.code}
    return {name: str(value) for name, value in fields.items() if value}


def order_for_partners(order: OrderPayload) -> OrderForPartners:
    """What partners are told of the order as Saleor sent it, whatever its state: a cancel names it too."""
    return OrderForPartners(order.number, _ship_to(order), {line.id: _name(line) for line in order.lines})


def latest_order(events: Sequence[ReceivedOrderEvent]) -> OrderPayload | None:
    """The order as its latest webhook still kept showed it (``events`` oldest first)."""
    for event in reversed(events):
        try:
            return OrderEventPayload.model_validate_json(event.payload).order
        except ValidationError:  # a body erased after the retention
            continue
    return None


def kept_order_for_partners(events: Sequence[ReceivedOrderEvent]) -> OrderForPartners:
    """What partners are told of the order as its kept webhooks show it: only its number once every body
    is erased (``events`` oldest first)."""
    order = latest_order(events)
    if order is not None:
        return order_for_partners(order)
    number = next((event.order_number for event in reversed(events) if event.order_number), "")
    return OrderForPartners(number, {}, {})


def past_order(event: ReceivedOrderEvent) -> PastOrder:
    """The order as a kept event showed it, for the simulator: what routing needs of it and Saleor's
    allocation of each line, or why it cannot be replayed."""
    number = event.order_number or ""
    try:
        order = OrderEventPayload.model_validate_json(event.payload).order
    except ValidationError as exc:
        return PastOrder(
            event.order_id, number, f"the kept {event.event} event cannot be read: {exc.error_count()} errors", {}
        )
    if order.status in ("CANCELED", "DRAFT"):
        return PastOrder(order.id, order.number, f"{order.status.lower()} when first seen", {})
    to_route = order_to_route(order)
    allocation = {
        line.id: tuple((allocation.warehouse.id, allocation.quantity) for allocation in line.allocations)
        for line in order.lines
    }
    return PastOrder(
        order.id, order.number, "every line had shipped when first seen" if to_route is None else to_route, allocation
    )
