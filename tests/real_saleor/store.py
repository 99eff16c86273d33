"""What a merchant does in a real Saleor, through its GraphQL API as a staff user.

The suite keeps to a channel, warehouses, shipping zones and product of its own (found by slug, created
when missing), so that switching the channel's order settings never touches the store's other
channels, and the stock it sells from is topped up on every run. Its second warehouse is in the
channel but only in a zone covering Germany: the orders (all to the US) may never ship from it.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from tests.real_saleor.saleor_api import JSON, StaffSaleor

SLUG = "saleor-ops-e2e"
NAME = "Saleor Ops e2e"
SKU = "SALEOR-OPS-E2E-MUG"
CURRENCY = "USD"
PRICE = Decimal("50.00")
COST_PRICE = Decimal("10.00")
SHIPPING_PRICE = Decimal("5.00")
STOCK = 100_000
ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "streetAddress1": "1600 Amphitheatre Pkwy",
    "city": "Mountain View",
    "postalCode": "94043",
    "country": "US",
    "countryArea": "CA",
    "phone": "+16502530000",
}
ABROAD_SLUG = f"{SLUG}-abroad"
ABROAD_NAME = f"{NAME} abroad"
ABROAD_COUNTRY = "DE"
ABROAD_ADDRESS = {
    "streetAddress1": "Unter den Linden 1",
    "city": "Berlin",
    "postalCode": "10117",
    "country": ABROAD_COUNTRY,
    "phone": "+493012345678",
}
ERRORS = "errors { field message code }"

MarkAsPaidStrategy = Literal["PAYMENT_FLOW", "TRANSACTION_FLOW"]


@dataclass(frozen=True)
class Store:
    channel_id: str
    channel_slug: str
    warehouse_id: str
    warehouse_slug: str
    shipping_method_id: str
    variant_id: str
    abroad_warehouse_id: str  # in the channel and stocked, in no zone covering the orders' country
    sku: str = SKU
    currency: str = CURRENCY


@dataclass(frozen=True)
class FulfillmentView:
    id: str
    status: str
    lines: dict[str, int]  # fulfilment line id → quantity
    order_lines: dict[str, str]  # fulfilment line id → order line id


@dataclass(frozen=True)
class OrderView:
    """An order as the staff user sees it in the dashboard (staff see cancelled fulfilments too)."""

    id: str
    number: str
    status: str
    private_metadata: dict[str, str]
    line_metadata: dict[str, dict[str, str]]  # order line id → its private metadata
    line_ids: list[str]
    fulfillments: list[FulfillmentView]
    events: list[tuple[str, str | None]]  # (type, message), oldest first

    @classmethod
    def of(cls, order: JSON) -> OrderView:
        return cls(
            id=order["id"],
            number=order["number"],
            status=order["status"],
            private_metadata=_items(order["privateMetadata"]),
            line_metadata={line["id"]: _items(line["privateMetadata"]) for line in order["lines"]},
            line_ids=[line["id"] for line in order["lines"]],
            fulfillments=[
                FulfillmentView(
                    f["id"],
                    f["status"],
                    {line["id"]: line["quantity"] for line in f["lines"]},
                    {line["id"]: line["orderLine"]["id"] for line in f["lines"]},
                )
                for f in order["fulfillments"]
            ],
            events=[(event["type"], event["message"]) for event in sorted(order["events"], key=lambda e: e["date"])],
        )

    def document(self, key: str) -> dict[str, Any] | None:
        """An ``ops.*`` private metadata value, decoded."""
        raw = self.private_metadata.get(key)
        return None if raw is None else dict(json.loads(raw))

    def line_document(self, line_id: str, key: str) -> dict[str, Any] | None:
        raw = self.line_metadata.get(line_id, {}).get(key)
        return None if raw is None else dict(json.loads(raw))

    def notes(self) -> list[str]:
        return [message or "" for kind, message in self.events if kind == "NOTE_ADDED"]

    def summary(self) -> str:
        """What a failed assertion shows: status, the app's metadata, fulfilments and the event log."""
        fulfillments = ", ".join(f"{f.status} {sum(f.lines.values())}" for f in self.fulfillments) or "none"
        events = "\n".join(f"  {kind}: {message or ''}" for kind, message in self.events)
        return (
            f"order {self.number} ({self.id}) {self.status}; fulfilments: {fulfillments}\n"
            f"private metadata: {self.private_metadata}\nevents:\n{events}"
        )


def _items(items: list[JSON]) -> dict[str, str]:
    return {item["key"]: item["value"] for item in items}


ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    id number status
    privateMetadata { key value }
    lines { id quantity privateMetadata { key value } }
    fulfillments { id status lines { id quantity orderLine { id } } }
    events { type date message }
  }
}
"""


def read_order(saleor: StaffSaleor, order_id: str) -> OrderView:
    return OrderView.of(saleor.query(ORDER, id=order_id)["order"])


# --- the store the suite sells from -------------------------------------------------------------


def prepare_store(saleor: StaffSaleor) -> Store:
    """The suite's channel, warehouse, shipping and product: found by slug or created, listed and stocked."""
    warehouse = _warehouse(saleor, SLUG, NAME, ADDRESS)
    abroad = _warehouse(saleor, ABROAD_SLUG, ABROAD_NAME, ABROAD_ADDRESS)
    channel = _channel(saleor, [warehouse["id"], abroad["id"]])
    shipping_method_id = _shipping_method(saleor, channel["id"], warehouse["id"])
    _zone(saleor, ABROAD_NAME, [ABROAD_COUNTRY], channel["id"], abroad["id"])
    variant_id = _variant(saleor, channel["id"], [warehouse["id"], abroad["id"]])
    return Store(
        channel_id=channel["id"],
        channel_slug=channel["slug"],
        warehouse_id=warehouse["id"],
        warehouse_slug=warehouse["slug"],
        shipping_method_id=shipping_method_id,
        variant_id=variant_id,
        abroad_warehouse_id=abroad["id"],
    )


def configure_channel(
    saleor: StaffSaleor, store: Store, *, confirm_automatically: bool, mark_as_paid: MarkAsPaidStrategy
) -> None:
    """The channel's order settings, as a merchant sets them under Channels → Order settings."""
    saleor.mutate(
        f"""mutation Configure($id: ID!, $input: ChannelUpdateInput!) {{
          channelUpdate(id: $id, input: $input) {{ channel {{ id }} {ERRORS} }} }}""",
        "channelUpdate",
        id=store.channel_id,
        input={
            "orderSettings": {
                "automaticallyConfirmAllNewOrders": confirm_automatically,
                "markAsPaidStrategy": mark_as_paid,
            }
        },
    )


def _warehouse(saleor: StaffSaleor, slug: str, name: str, address: dict[str, str]) -> JSON:
    found = saleor.query(
        "query W($slugs: [String!]) { warehouses(first: 1, filter: {slugs: $slugs}) { edges { node { id slug } } } }",
        slugs=[slug],
    )["warehouses"]["edges"]
    if found:
        node: JSON = found[0]["node"]
        return node
    created: JSON = saleor.mutate(
        f"""mutation W($input: WarehouseCreateInput!) {{
          createWarehouse(input: $input) {{ warehouse {{ id slug }} {ERRORS} }} }}""",
        "createWarehouse",
        input={
            "name": name,
            "slug": slug,
            "email": "warehouse@example.com",
            "address": {k: v for k, v in address.items() if k not in ("firstName", "lastName")} | {"companyName": name},
        },
    )["warehouse"]
    return created


def _channel(saleor: StaffSaleor, warehouse_ids: list[str]) -> JSON:
    channel: JSON | None = saleor.query(
        "query C($slug: String) { channel(slug: $slug) { id slug warehouses { id } } }", slug=SLUG
    )["channel"]
    if channel is None:
        channel = saleor.mutate(
            f"""mutation C($input: ChannelCreateInput!) {{
              channelCreate(input: $input) {{ channel {{ id slug warehouses {{ id }} }} {ERRORS} }} }}""",
            "channelCreate",
            input={
                "name": NAME,
                "slug": SLUG,
                "currencyCode": CURRENCY,
                "defaultCountry": "US",
                "isActive": True,
                "addWarehouses": warehouse_ids,
            },
        )["channel"]
    elif missing := [w for w in warehouse_ids if w not in {listed["id"] for listed in channel["warehouses"]}]:
        saleor.mutate(
            f"""mutation C($id: ID!, $input: ChannelUpdateInput!) {{
              channelUpdate(id: $id, input: $input) {{ channel {{ id }} {ERRORS} }} }}""",
            "channelUpdate",
            id=channel["id"],
            input={"addWarehouses": missing},
        )
    assert channel is not None
    return channel


def _zone(saleor: StaffSaleor, name: str, countries: list[str], channel_id: str, warehouse_id: str) -> JSON:
    """The shipping zone of this name, created for the channel and the warehouse when missing."""
    zones = saleor.query(
        "query Z($search: String) { shippingZones(first: 10, filter: {search: $search}) {"
        " edges { node { id name shippingMethods { id } } } } }",
        search=name,
    )["shippingZones"]["edges"]
    zone: JSON | None = next((edge["node"] for edge in zones if edge["node"]["name"] == name), None)
    if zone is None:
        zone = saleor.mutate(
            f"""mutation Z($input: ShippingZoneCreateInput!) {{
              shippingZoneCreate(input: $input) {{ shippingZone {{ id shippingMethods {{ id }} }} {ERRORS} }} }}""",
            "shippingZoneCreate",
            input={"name": name, "countries": countries, "addWarehouses": [warehouse_id], "addChannels": [channel_id]},
        )["shippingZone"]
    assert zone is not None
    return zone


def _shipping_method(saleor: StaffSaleor, channel_id: str, warehouse_id: str) -> str:
    zone = _zone(saleor, NAME, ["US"], channel_id, warehouse_id)
    if zone["shippingMethods"]:
        method_id: str = zone["shippingMethods"][0]["id"]
    else:
        method_id = saleor.mutate(
            f"""mutation M($input: ShippingPriceInput!) {{
              shippingPriceCreate(input: $input) {{ shippingMethod {{ id }} {ERRORS} }} }}""",
            "shippingPriceCreate",
            input={"shippingZone": zone["id"], "name": "Standard", "type": "PRICE"},
        )["shippingMethod"]["id"]
    saleor.mutate(
        f"""mutation L($id: ID!, $input: ShippingMethodChannelListingInput!) {{
          shippingMethodChannelListingUpdate(id: $id, input: $input) {{ {ERRORS} }} }}""",
        "shippingMethodChannelListingUpdate",
        id=method_id,
        input={"addChannels": [{"channelId": channel_id, "price": str(SHIPPING_PRICE)}]},
    )
    return _as_delivery_method(method_id)


def _as_delivery_method(shipping_method_type_id: str) -> str:
    """Checkouts and orders name a shipping method by its ``ShippingMethod`` ID; the zone lists the
    same row as a ``ShippingMethodType`` (both are Relay IDs: base64 of "Type:pk")."""
    _, pk = base64.b64decode(shipping_method_type_id).decode().split(":")
    return base64.b64encode(f"ShippingMethod:{pk}".encode()).decode()


def _variant(saleor: StaffSaleor, channel_id: str, warehouse_ids: list[str]) -> str:
    variant = saleor.query("query V($sku: String) { productVariant(sku: $sku) { id product { id } } }", sku=SKU)[
        "productVariant"
    ]
    if variant is None:
        variant = _create_variant(saleor, warehouse_ids[0])
    saleor.mutate(
        f"""mutation P($id: ID!, $input: ProductChannelListingUpdateInput!) {{
          productChannelListingUpdate(id: $id, input: $input) {{ {ERRORS} }} }}""",
        "productChannelListingUpdate",
        id=variant["product"]["id"],
        input={
            "updateChannels": [
                {
                    "channelId": channel_id,
                    "isPublished": True,
                    "visibleInListings": True,
                    "isAvailableForPurchase": True,
                }
            ]
        },
    )
    saleor.mutate(
        f"""mutation V($id: ID!, $input: [ProductVariantChannelListingAddInput!]!) {{
          productVariantChannelListingUpdate(id: $id, input: $input) {{ {ERRORS} }} }}""",
        "productVariantChannelListingUpdate",
        id=variant["id"],
        input=[{"channelId": channel_id, "price": str(PRICE), "costPrice": str(COST_PRICE)}],
    )
    saleor.mutate(
        """mutation S($id: ID!, $stocks: [StockInput!]!) {
          productVariantStocksUpdate(variantId: $id, stocks: $stocks) { errors { field message code } } }""",
        "productVariantStocksUpdate",
        id=variant["id"],
        stocks=[{"warehouse": warehouse_id, "quantity": STOCK} for warehouse_id in warehouse_ids],
    )
    variant_id: str = variant["id"]
    return variant_id


def _create_variant(saleor: StaffSaleor, warehouse_id: str) -> JSON:
    category = saleor.query("query C($slug: String) { category(slug: $slug) { id } }", slug=SLUG)["category"]
    if category is None:
        category = saleor.mutate(
            f"""mutation C($input: CategoryInput!) {{
              categoryCreate(input: $input) {{ category {{ id }} {ERRORS} }} }}""",
            "categoryCreate",
            input={"name": NAME, "slug": SLUG},
        )["category"]
    types = saleor.query(
        "query T($slugs: [String!]) { productTypes(first: 1, filter: {slugs: $slugs}) { edges { node { id } } } }",
        slugs=[SLUG],
    )["productTypes"]["edges"]
    product_type_id = (
        types[0]["node"]["id"]
        if types
        else saleor.mutate(
            f"""mutation T($input: ProductTypeInput!) {{
              productTypeCreate(input: $input) {{ productType {{ id }} {ERRORS} }} }}""",
            "productTypeCreate",
            input={"name": NAME, "slug": SLUG, "kind": "NORMAL", "hasVariants": False, "isShippingRequired": True},
        )["productType"]["id"]
    )
    product = saleor.mutate(
        f"""mutation P($input: ProductCreateInput!) {{
          productCreate(input: $input) {{ product {{ id }} {ERRORS} }} }}""",
        "productCreate",
        input={"productType": product_type_id, "category": category["id"], "name": f"{NAME} mug", "slug": SLUG},
    )["product"]
    variant: JSON = saleor.mutate(
        f"""mutation V($input: ProductVariantCreateInput!) {{
          productVariantCreate(input: $input) {{ productVariant {{ id product {{ id }} }} {ERRORS} }} }}""",
        "productVariantCreate",
        input={
            "product": product["id"],
            "sku": SKU,
            "attributes": [],
            "trackInventory": True,
            "stocks": [{"warehouse": warehouse_id, "quantity": STOCK}],
        },
    )["productVariant"]
    return variant


# --- orders ------------------------------------------------------------------------------------


def new_customer_email() -> str:
    """A fresh guest for each order, so that no order's history or velocity colours another's."""
    return f"e2e-{uuid.uuid4().hex[:12]}@example.com"


def new_customer_address() -> dict[str, str]:
    """The suite's address on another house number: orders to one address count towards its velocity."""
    return ADDRESS | {"streetAddress1": f"{uuid.uuid4().int % 9000 + 100} Amphitheatre Pkwy"}


def place_checkout_order(
    saleor: StaffSaleor,
    store: Store,
    *,
    quantity: int,
    pay_by: Literal["transaction", "dummy_gateway"],
    card_checks: dict[str, str],
    charged: bool = True,
    lines: int = 1,
) -> str:
    """A shopper's checkout: lines, addresses, a shipping method, paid in full, completed. The card checks
    are what a payment app leaves in the payment's metadata (``cvv_result``, ``avs_result``). The shopper is a
    guest; only recording the transaction takes the staff user (``HANDLE_PAYMENTS``). A transaction not
    ``charged`` is authorized only, as a card is before its capture. Each of the ``lines`` holds ``quantity``
    units of the suite's variant: ``forceNewLine`` keeps them apart, as a store does for a personalised item."""
    address = new_customer_address()
    checkout = saleor.mutate_as_shopper(
        f"""mutation C($input: CheckoutCreateInput!) {{
          checkoutCreate(input: $input) {{ checkout {{ id }} {ERRORS} }} }}""",
        "checkoutCreate",
        input={
            "channel": store.channel_slug,
            "email": new_customer_email(),
            "lines": [
                {"variantId": store.variant_id, "quantity": quantity, "forceNewLine": True} for _ in range(lines)
            ],
            "shippingAddress": address,
            "billingAddress": address,
        },
    )["checkout"]
    total = saleor.mutate_as_shopper(
        f"""mutation D($id: ID!, $method: ID!) {{
          checkoutDeliveryMethodUpdate(id: $id, deliveryMethodId: $method) {{
            checkout {{ totalPrice {{ gross {{ amount currency }} }} }} {ERRORS} }} }}""",
        "checkoutDeliveryMethodUpdate",
        id=checkout["id"],
        method=store.shipping_method_id,
    )["checkout"]["totalPrice"]["gross"]
    metadata = [{"key": key, "value": value} for key, value in card_checks.items()]
    if pay_by == "transaction":
        saleor.mutate(
            f"""mutation T($id: ID!, $transaction: TransactionCreateInput!) {{
              transactionCreate(id: $id, transaction: $transaction) {{ transaction {{ id }} {ERRORS} }} }}""",
            "transactionCreate",
            id=checkout["id"],
            transaction={
                "name": "Card (e2e)",
                "pspReference": f"e2e-{uuid.uuid4().hex}",
                "amountCharged" if charged else "amountAuthorized": {
                    "amount": total["amount"],
                    "currency": total["currency"],
                },
                "availableActions": ["REFUND"] if charged else ["CHARGE", "CANCEL"],
                "metadata": metadata,
            },
        )
    else:
        saleor.mutate_as_shopper(
            f"""mutation P($id: ID!, $input: PaymentInput!) {{
              checkoutPaymentCreate(id: $id, input: $input) {{ payment {{ id }} {ERRORS} }} }}""",
            "checkoutPaymentCreate",
            id=checkout["id"],
            input={
                "gateway": "mirumee.payments.dummy",
                "token": f"e2e-{uuid.uuid4().hex}",
                "amount": total["amount"],
                "metadata": metadata,
            },
        )
    order_id: str = saleor.mutate_as_shopper(
        f"""mutation Complete($id: ID!) {{ checkoutComplete(id: $id) {{ order {{ id }} {ERRORS} }} }}""",
        "checkoutComplete",
        id=checkout["id"],
    )["order"]["id"]
    return order_id


def place_draft_order(saleor: StaffSaleor, store: Store, *, quantity: int) -> str:
    """A staff-made order (Orders → Create order) for a guest, completed without a payment."""
    address = new_customer_address()
    draft_id = saleor.mutate(
        f"""mutation D($input: DraftOrderCreateInput!) {{
          draftOrderCreate(input: $input) {{ order {{ id }} {ERRORS} }} }}""",
        "draftOrderCreate",
        input={
            "channelId": store.channel_id,
            "userEmail": new_customer_email(),
            "lines": [{"variantId": store.variant_id, "quantity": quantity}],
            "shippingAddress": address,
            "billingAddress": address,
            "shippingMethod": store.shipping_method_id,
        },
    )["order"]["id"]
    order_id: str = saleor.mutate(
        f"""mutation C($id: ID!) {{ draftOrderComplete(id: $id) {{ order {{ id }} {ERRORS} }} }}""",
        "draftOrderComplete",
        id=draft_id,
    )["order"]["id"]
    return order_id


def mark_as_paid(saleor: StaffSaleor, order_id: str) -> None:
    """The dashboard's "Mark as paid": a Payment or a Transaction, as the channel's strategy says."""
    saleor.mutate(
        f"""mutation M($id: ID!, $reference: String) {{
          orderMarkAsPaid(id: $id, transactionReference: $reference) {{ order {{ id }} {ERRORS} }} }}""",
        "orderMarkAsPaid",
        id=order_id,
        reference=f"e2e-{uuid.uuid4().hex[:8]}",
    )


def fulfil(saleor: StaffSaleor, store: Store, order_id: str, units: dict[str, int]) -> FulfillmentView:
    """Ship units of lines (order line id → quantity) from the suite's warehouse in one fulfilment (Saleor
    approves it at once by default)."""
    (fulfillment,) = saleor.mutate(
        f"""mutation F($order: ID!, $input: OrderFulfillInput!) {{
          orderFulfill(order: $order, input: $input) {{
            fulfillments {{ id status lines {{ id quantity orderLine {{ id }} }} }} {ERRORS} }} }}""",
        "orderFulfill",
        order=order_id,
        input={
            "notifyCustomer": False,
            "lines": [
                {"orderLineId": line_id, "stocks": [{"quantity": quantity, "warehouse": store.warehouse_id}]}
                for line_id, quantity in units.items()
            ],
        },
    )["fulfillments"]
    return FulfillmentView(
        fulfillment["id"],
        fulfillment["status"],
        {line["id"]: line["quantity"] for line in fulfillment["lines"]},
        {line["id"]: line["orderLine"]["id"] for line in fulfillment["lines"]},
    )


def cancel_fulfillment(saleor: StaffSaleor, store: Store, fulfillment_id: str) -> None:
    """Cancel a shipped fulfilment, restocking its units into the warehouse they left."""
    saleor.mutate(
        f"""mutation C($id: ID!, $input: FulfillmentCancelInput!) {{
          orderFulfillmentCancel(id: $id, input: $input) {{ fulfillment {{ id status }} {ERRORS} }} }}""",
        "orderFulfillmentCancel",
        id=fulfillment_id,
        input={"warehouseId": store.warehouse_id},
    )


def refund_products(saleor: StaffSaleor, order_id: str, fulfillment_line_id: str, quantity: int) -> None:
    """Refund shipped units without taking them back (Saleor moves them into a REFUNDED fulfilment)."""
    saleor.mutate(
        f"""mutation R($order: ID!, $input: OrderRefundProductsInput!) {{
          orderFulfillmentRefundProducts(order: $order, input: $input) {{ fulfillment {{ id status }} {ERRORS} }} }}""",
        "orderFulfillmentRefundProducts",
        order=order_id,
        input={"fulfillmentLines": [{"fulfillmentLineId": fulfillment_line_id, "quantity": quantity}]},
    )


def return_products(saleor: StaffSaleor, order_id: str, fulfillment_line_id: str, quantity: int) -> None:
    """Take shipped units back, without a refund (Saleor moves them into a RETURNED fulfilment)."""
    saleor.mutate(
        f"""mutation R($order: ID!, $input: OrderReturnProductsInput!) {{
          orderFulfillmentReturnProducts(order: $order, input: $input) {{ returnFulfillment {{ id status }} {ERRORS} }}
        }}""",
        "orderFulfillmentReturnProducts",
        order=order_id,
        input={"fulfillmentLines": [{"fulfillmentLineId": fulfillment_line_id, "quantity": quantity}], "refund": False},
    )


def cancel_order(saleor: StaffSaleor, order_id: str) -> None:
    """The dashboard's "Cancel order" on an order not yet shipped."""
    saleor.mutate(
        f"""mutation C($id: ID!) {{ orderCancel(id: $id) {{ order {{ id status }} {ERRORS} }} }}""",
        "orderCancel",
        id=order_id,
    )
