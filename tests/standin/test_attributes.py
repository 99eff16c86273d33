"""Attributes and weights as Saleor serves them: every attribute the product type assigns, in order, with
its values (a numeric one's number as the value's name, its unit on the attribute); only storefront-visible
ones for an app without MANAGE_PRODUCTS; the product's and product type's weights beside the variant's."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from app.saleor.manifest import build_manifest
from app.standin import actions
from app.standin import checkout as checkouts
from app.standin.facade import StandIn
from app.standin.graphql_api import EventEnvelope
from app.standin.state import Address, App, AppWebhook, ProductVariant, to_global_id
from app.standin.webhooks import render
from app.webhooks.payloads import ShippingListMethodsForCheckoutPayload
from app.webhooks.shipping_list_methods_for_checkout import cart_of
from tests.conftest import FixedClock
from tests.standin.conftest import run

QUERY = """
query($id: ID!) {
  productVariant(id: $id) {
    weight { unit value }
    attributes { attribute { slug unit } values { name } }
    product {
      weight { unit value }
      attributes { attribute { slug unit } values { name } }
      productType { weight { unit value } }
    }
  }
}
"""


def _app(standin: StandIn, *permissions: str) -> App:
    store = standin.store
    return store.add_app(
        App(store.next_pk("App"), "x", "x", f"t{store.next_pk('token')}", permissions=permissions, is_installed=True)
    )


@pytest.fixture
def lamp(standin: StandIn) -> ProductVariant:
    store = standin.store
    length = store.add_attribute(name="Length", unit="MM")
    width = store.add_attribute(name="Width", unit="MM")
    height = store.add_attribute(name="Height", unit="MM")
    size = store.add_attribute(name="Package size", slug="package-size")
    supplier = store.add_attribute(name="Supplier", visible_in_storefront=False)
    lamps = store.add_product_type(
        name="Lamps",
        weight_kg=Decimal("1.2"),
        product_attributes=[size, supplier],
        variant_attributes=[length, width, height],
    )
    product = store.add_product(
        name="Desk lamp",
        product_type=lamps,
        weight_kg=Decimal("0.8"),
        attributes={size: ["20 x 15 x 10 cm"], supplier: ["Lumen GmbH"]},
    )
    channel = store.add_channel(slug="default-channel", name="Default", currency_code="USD")
    return store.add_variant(
        product,
        sku="LAMP-1",
        prices={channel: (Decimal("49.00"), None)},
        attributes={length: ["180"], width: ["120"]},
    )


class TestQueried:
    async def test_an_app_without_manage_products_sees_the_storefront_attributes(
        self, standin: StandIn, lamp: ProductVariant
    ) -> None:
        data = await run(standin, _app(standin, "MANAGE_ORDERS"), QUERY, id=to_global_id("ProductVariant", lamp.pk))

        variant = data["productVariant"]
        assert variant["weight"] is None
        assert variant["attributes"] == [
            {"attribute": {"slug": "length", "unit": "MM"}, "values": [{"name": "180"}]},
            {"attribute": {"slug": "width", "unit": "MM"}, "values": [{"name": "120"}]},
            {"attribute": {"slug": "height", "unit": "MM"}, "values": []},
        ]
        assert variant["product"] == {
            "weight": {"unit": "KG", "value": 0.8},
            "attributes": [
                {"attribute": {"slug": "package-size", "unit": None}, "values": [{"name": "20 x 15 x 10 cm"}]}
            ],
            "productType": {"weight": {"unit": "KG", "value": 1.2}},
        }

    async def test_manage_products_sees_every_attribute(self, standin: StandIn, lamp: ProductVariant) -> None:
        app = _app(standin, "MANAGE_PRODUCTS")
        data = await run(standin, app, QUERY, id=to_global_id("ProductVariant", lamp.pk))
        slugs = [selected["attribute"]["slug"] for selected in data["productVariant"]["product"]["attributes"]]
        assert slugs == ["package-size", "supplier"]


def test_a_value_for_an_attribute_the_product_type_does_not_assign_is_refused(standin: StandIn) -> None:
    store = standin.store
    colour = store.add_attribute(name="Colour")
    plain = store.add_product_type(name="Plain")
    with pytest.raises(ValueError, match="attribute colour is not assigned to the product type"):
        store.add_product(name="Thing", product_type=plain, attributes={colour: ["red"]})


async def test_the_checkout_webhook_carries_them_to_the_cart_the_app_quotes(
    standin: StandIn, lamp: ProductVariant, clock: FixedClock
) -> None:
    """Rendered from the app's own manifest subscription, parsed and mapped as the app does."""
    store = standin.store
    (channel,) = store.channels.values()
    app = _app(standin, *build_manifest("https://ops.test")["permissions"])
    (manifest_webhook,) = [w for w in build_manifest("https://ops.test")["webhooks"] if w.get("syncEvents")]
    webhook = AppWebhook(
        "list", "https://ops.test/", manifest_webhook["query"], ("SHIPPING_LIST_METHODS_FOR_CHECKOUT",)
    )
    office = Address(company_name="Acme Corp", street_address1="1 Main St", postal_code="78701", country_area="TX")
    cart = checkouts.create_checkout(store, channel, [(lamp, 1)], at=clock.now(), shipping_address=office)
    event = EventEnvelope("ShippingListMethodsForCheckout", clock.now(), "3.20.119", app, checkout=cart)

    body = render(store, webhook, event)

    assert body is not None
    payload = ShippingListMethodsForCheckoutPayload.model_validate_json(body)
    assert payload.checkout is not None, json.loads(body)
    quoted = cart_of(payload.checkout)
    assert quoted is not None
    assert (quoted.destination.company_name, quoted.destination.country_area) == ("Acme Corp", "TX")
    (line,) = quoted.lines
    assert (line.weight_kg, line.product_weight_kg, line.product_type_weight_kg) == (
        None,
        Decimal("0.8"),
        Decimal("1.2"),
    )
    assert [(reading.slug, reading.unit, reading.values) for reading in line.attributes] == [
        ("length", "MM", ("180",)),
        ("width", "MM", ("120",)),
        ("height", "MM", ()),
        ("package-size", None, ("20 x 15 x 10 cm",)),
    ]


async def test_a_product_type_made_without_a_weight_weighs_zero_and_gives_the_cart_no_weight(
    standin: StandIn, clock: FixedClock
) -> None:
    """Saleor 3.20's ``ProductType.weight`` is never null (the model's default is 0 kg), and its
    ``get_weight`` skips a zero weight: the app's cart takes no weight from it, so the settings' weight for
    the product type applies."""
    store = standin.store
    channel = store.add_channel(slug="default-channel", name="Default", currency_code="USD")
    mugs = store.add_product_type(name="Mugs")
    mug = store.add_variant(
        store.add_product(name="Mug", product_type=mugs), sku="MUG-1", prices={channel: (Decimal("9.00"), None)}
    )
    app = _app(standin, *build_manifest("https://ops.test")["permissions"])
    data = await run(standin, app, QUERY, id=to_global_id("ProductVariant", mug.pk))
    assert data["productVariant"]["weight"] is None
    assert data["productVariant"]["product"]["weight"] is None
    assert data["productVariant"]["product"]["productType"]["weight"] == {"unit": "KG", "value": 0.0}

    (manifest_webhook,) = [w for w in build_manifest("https://ops.test")["webhooks"] if w.get("syncEvents")]
    webhook = AppWebhook(
        "list", "https://ops.test/", manifest_webhook["query"], ("SHIPPING_LIST_METHODS_FOR_CHECKOUT",)
    )
    home = Address(street_address1="1 Main St", postal_code="78701", country_area="TX")
    cart = checkouts.create_checkout(store, channel, [(mug, 1)], at=clock.now(), shipping_address=home)
    body = render(
        store, webhook, EventEnvelope("ShippingListMethodsForCheckout", clock.now(), "3.20.119", app, checkout=cart)
    )
    assert body is not None
    payload = ShippingListMethodsForCheckoutPayload.model_validate_json(body)
    assert payload.checkout is not None, json.loads(body)
    quoted = cart_of(payload.checkout)
    assert quoted is not None
    (line,) = quoted.lines
    assert (line.weight_kg, line.product_weight_kg, line.product_type_weight_kg) == (None, None, None)


def test_an_order_weighs_a_variant_without_weight_as_its_product(
    standin: StandIn, lamp: ProductVariant, clock: FixedClock
) -> None:
    """Saleor's ProductVariant.get_weight: the variant's, else the product's, else the product type's."""
    store = standin.store
    (channel,) = store.channels.values()
    main = store.add_warehouse(name="Main")
    store.assign_warehouse(channel, main)
    store.add_shipping_zone(name="United States", countries=["US"], warehouses=[main], channels=[channel])
    store.set_stock(main, lamp, 5)
    order = actions.place_order(store, channel, [(lamp, 2)], at=clock.now(), email="a@example.com")
    assert order.weight_kg == Decimal("1.6")
    product = store.products[lamp.product_pk]
    product.weight_kg = None
    assert store.weight_of(lamp) == Decimal("1.2")
    lamp.weight_kg = Decimal("0.5")
    assert store.weight_of(lamp) == Decimal("0.5")
