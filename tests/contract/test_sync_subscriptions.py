"""A sync webhook's subscription selects no field that would itself call a sync webhook.

Saleor refuses such a field while it builds a sync payload and nulls the enclosing object: a
checkout would reach the app as ``"checkout": null`` (PROTOCOL.md d.1). The schemas mark those
fields with ``@webhookEventsInfo(syncEvents: [...])``.
"""

from typing import Any

import pytest
from graphql import parse

from app.saleor.manifest import build_manifest
from tests.contract.field_permissions import sync_event_fields
from tests.contract.test_saleor_schemas import SCHEMAS, _schema

SYNC_WEBHOOKS = [w for w in build_manifest("https://ops.test")["webhooks"] if w.get("syncEvents")]


def test_the_manifest_declares_a_sync_webhook() -> None:
    assert [w["syncEvents"] for w in SYNC_WEBHOOKS] == [["SHIPPING_LIST_METHODS_FOR_CHECKOUT"]]


@pytest.mark.parametrize("schema_name", SCHEMAS)
@pytest.mark.parametrize("webhook", SYNC_WEBHOOKS, ids=lambda w: w["name"])
def test_sync_subscription_selects_no_field_that_calls_a_sync_webhook(
    schema_name: str, webhook: dict[str, Any]
) -> None:
    forbidden = sync_event_fields(_schema(schema_name), parse(webhook["query"]))
    assert not forbidden, f"{webhook['name']} selects fields Saleor refuses in a sync payload: {forbidden}"


CHECKOUT_WITH_TOTALS = """
subscription {
  event { ... on ShippingListMethodsForCheckout { checkout { ...Totals lines { unitPrice { gross { amount } } } } } }
}
fragment Totals on Checkout { id totalPrice { gross { amount } } shippingMethods { id } }
"""


@pytest.mark.parametrize("schema_name", SCHEMAS)
def test_fields_that_call_sync_webhooks_are_found_through_fragments(schema_name: str) -> None:
    assert sync_event_fields(_schema(schema_name), parse(CHECKOUT_WITH_TOTALS)) == [
        "event.checkout.totalPrice (Checkout.totalPrice)",
        "event.checkout.shippingMethods (Checkout.shippingMethods)",
        "event.checkout.lines.unitPrice (CheckoutLine.unitPrice)",
    ]
