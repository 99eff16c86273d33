"""The order card's re-route builders: the form read into a choice, the order from its latest webhook
still kept, and the preview's costs as the card shows them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from babel import Locale
from starlette.datastructures import FormData

from app.dashboard.routing.rerouting import choice_from, preview_view
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.money import Money
from app.domain.order_event import ReceivedOrderEvent
from app.domain.routing.plan import Unroutable
from app.services.routing.rerouting import RerouteChoice, ReroutePreview
from app.webhooks.order_routing import latest_order
from tests.builders import order_payload

EN = Locale.parse("en")
AT = datetime(2026, 12, 1, tzinfo=UTC)


def _event(payload: str) -> ReceivedOrderEvent:
    return ReceivedOrderEvent(
        SaleorApiUrl("https://shop.test/graphql/"),
        "order_updated",
        SaleorId("T3JkZXI6MQ=="),
        "1001",
        AT,
        None,
        AT,
        payload,
    )


def test_the_form_s_sources_left_out_and_pins_make_the_choice_a_pin_to_no_source_left_out() -> None:
    form = FormData([("exclude", "W1"), ("exclude", "W2"), ("pin:L1", "W3"), ("pin:L2", ""), ("action", "preview")])
    assert choice_from(form) == RerouteChoice(frozenset({"W1", "W2"}), {"L1": "W3"})


def test_the_order_is_read_from_its_latest_webhook_still_kept() -> None:
    older, newer = order_payload(), order_payload(typename="OrderUpdated", status="UNFULFILLED")
    events = [_event(json.dumps(older)), _event(json.dumps(newer)), _event("{}")]  # the last one erased
    order = latest_order(events)
    assert order is not None
    assert order.status == "UNFULFILLED"
    assert latest_order([_event("{}")]) is None


def test_the_preview_shows_both_costs_and_their_difference_or_says_there_is_no_plan() -> None:
    unroutable = ReroutePreview(("1 shipment",), Money(Decimal("14.00"), "USD"), Unroutable(("no plan: MUG: 0 of 2",)))
    view = preview_view(unroutable, EN)
    assert (view.current_cost, view.proposed_cost, view.difference, view.ships) == ("$14.00", None, None, False)
    assert view.proposed == ("no plan: MUG: 0 of 2",)
