"""The simulator reads what the stand-in's order webhook carries: Saleor's allocation of each line per
warehouse, and the stock each warehouse can spare for the order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.order_event import ReceivedOrderEvent
from app.services.routing.planning import OrderToRoute
from app.standin import actions
from app.standin.facade import StandIn
from app.standin.state import Address, App, ShippingMethod, to_global_id
from app.webhooks.order_routing import past_order
from tests.conftest import FixedClock
from tests.standin.conftest import Catalogue
from tests.standin.test_routing_documents import installed
from tests.standin.test_shipping_on_orders import APP_EXPEDITED

__all__ = ["installed"]


def test_a_kept_order_carries_saleors_allocation_per_line(
    standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
) -> None:
    dallas = Address(
        first_name="Ada", street_address1="1 Main St", city="Dallas", postal_code="75001", country_area="TX"
    )
    expedited = ShippingMethod(0, "Expedited", Decimal("9.00"), "USD", external_id=APP_EXPEDITED)
    order = actions.place_order(
        standin.store,
        catalogue.channel,
        [(catalogue.mug, 2)],
        at=clock.now(),
        shipping_address=dallas,
        shipping=expedited,
    )
    body = standin.payload_for("ORDER_CREATED", order, installed)
    assert body is not None
    at: datetime = clock.now()
    event = ReceivedOrderEvent(
        SaleorApiUrl(standin.api_url),
        "order_created",
        SaleorId(to_global_id("Order", order.pk)),
        "1",
        at,
        None,
        at,
        body.decode(),
    )

    past = past_order(event)

    main, tpl = to_global_id("Warehouse", catalogue.main.pk), to_global_id("Warehouse", catalogue.tpl.pk)
    line = to_global_id("OrderLine", order.lines[0].pk)
    assert (past.order_id, past.number) == (to_global_id("Order", order.pk), "1")
    # Saleor allocated both mugs in Main, which holds 5; the 3PL holds 10.
    assert past.allocation == {line: ((main, 2),)}
    assert isinstance(past.to_route, OrderToRoute)
    assert past.to_route.stock == {main: {"MUG-BLUE": 5}, tpl: {"MUG-BLUE": 10}}
    assert [(each.id, each.sku, each.cart.quantity) for each in past.to_route.lines] == [(line, "MUG-BLUE", 2)]
