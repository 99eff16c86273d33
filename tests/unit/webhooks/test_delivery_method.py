"""Which option an app offered at checkout the order was placed with, read from ``deliveryMethod``."""

import base64

import pytest

from app.webhooks.payloads import DeliveryMethodRef


def _method(typename: str, raw_id: str | None) -> DeliveryMethodRef:
    return DeliveryMethodRef.model_validate({"__typename": typename, "id": raw_id, "name": "Expedited"})


def _encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_an_apps_option_names_the_app_and_its_own_id() -> None:
    method = _method("ShippingMethod", _encoded("app:app.saleor-ops:expedited"))
    assert method.offered_by_app() == ("app.saleor-ops", "expedited")


def test_the_apps_own_id_may_hold_colons() -> None:
    assert _method("ShippingMethod", _encoded("app:7:ups:2nd-day")).offered_by_app() == ("7", "ups:2nd-day")


@pytest.mark.parametrize(
    ("typename", "raw_id"),
    [
        ("ShippingMethod", _encoded("ShippingMethod:3")),  # one of Saleor's own methods
        ("Warehouse", _encoded("app:app.saleor-ops:expedited")),  # click and collect
        ("ShippingMethod", "not base64!"),
        ("ShippingMethod", _encoded("app:app.saleor-ops")),
        ("ShippingMethod", None),
    ],
)
def test_anything_else_is_not_an_apps_option(typename: str, raw_id: str | None) -> None:
    assert _method(typename, raw_id).offered_by_app() is None
