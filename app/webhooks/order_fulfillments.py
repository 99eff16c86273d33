"""What costing needs to know of an order's goods, read from the verified webhook payload."""

from __future__ import annotations

from app.services.order_costing import CostedLine, FulfilledUnits, FulfillmentView, OrderFulfillments
from app.services.ports import SaleorName, variant_name
from app.webhooks.payloads import FulfillmentPayload, OrderLinePayload, OrderPayload


def _costed_line(line: OrderLinePayload, channel: str) -> CostedLine:
    return CostedLine(
        id=line.id,
        sku=line.sku,
        variant_id=line.product_variant_id or (line.variant.id if line.variant else None),
        product_type=line.product_type,
        quantity=line.quantity,
        unit_price_net=line.unit_price_net,
        cost_price=line.cost_price_in(channel),
    )


def _fulfillment_view(fulfillment: FulfillmentPayload) -> FulfillmentView:
    return FulfillmentView(
        id=fulfillment.id,
        status=fulfillment.status,
        created=fulfillment.created,
        warehouse_id=fulfillment.warehouse.id if fulfillment.warehouse else None,
        # Saleor's schema lets a fulfilment line lose its order line; such units name nothing to cost.
        lines=tuple(
            FulfilledUnits(id=line.id, order_line_id=line.order_line.id, quantity=line.quantity)
            for line in fulfillment.lines or ()
            if line.order_line is not None
        ),
    )


def order_names(order: OrderPayload) -> list[SaleorName]:
    """The names the ledger's reports show: its fulfilments' warehouses, and its variants without a
    SKU (the ledger keys those by variant id)."""
    names = [
        SaleorName(f.warehouse.id, f.warehouse.name, f.warehouse.slug or None)
        for f in order.fulfillments
        if f.warehouse is not None and f.warehouse.name
    ]
    for line in order.lines:
        variant_id = line.product_variant_id or (line.variant.id if line.variant else None)
        if line.sku is None and variant_id is not None:
            name = variant_name(variant_id, line.product_name, line.variant_name)
            names.extend([name] if name else [])
    return names


def order_fulfillments(order: OrderPayload, event_fulfillment: FulfillmentPayload | None = None) -> OrderFulfillments:
    """The order's lines priced and costed in its channel, and every fulfilment with its warehouse and units.

    ``event_fulfillment`` is the fulfilment the event is about. Saleor before 3.20.86 leaves a
    cancelled one out of ``Order.fulfillments`` for apps, so it counts only from there.
    """
    fulfillments = list(order.fulfillments)
    if event_fulfillment is not None and all(f.id != event_fulfillment.id for f in fulfillments):
        fulfillments.append(event_fulfillment)
    return OrderFulfillments(
        order_id=order.id,
        number=order.number,
        currency=order.total.gross.currency,
        lines=tuple(_costed_line(line, order.channel.slug) for line in order.lines),
        fulfillments=tuple(_fulfillment_view(fulfillment) for fulfillment in fulfillments),
    )
