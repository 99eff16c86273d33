"""Pydantic models of our subscription payloads, parsed from the verified bytes.

Money fields are ``Decimal`` and parsed straight from the JSON text, so ``0.1``
on the wire is ``Decimal("0.1")``, never a float on the way.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.domain.money import Money
from app.domain.shipping.measures import AttributeReading


class Payload(BaseModel):
    """Lists left out of a payload default through ``default_factory``: a ``[]`` default is deep-copied
    on every validation, and every webhook is validated."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)


class MoneyPayload(Payload):
    amount: Decimal
    currency: str

    def to_money(self) -> Money:
        return Money(self.amount, self.currency)


class TaxedMoneyPayload(Payload):
    gross: MoneyPayload
    net: MoneyPayload | None = None


class ChannelPayload(Payload):
    slug: str
    currency_code: str = Field(alias="currencyCode")


class UserRef(Payload):
    id: str
    email: str | None = None
    first_name: str = Field(default="", alias="firstName")
    last_name: str = Field(default="", alias="lastName")
    date_joined: AwareDatetime | None = Field(default=None, alias="dateJoined")


class CountryRef(Payload):
    code: str


class AddressPayload(Payload):
    first_name: str = Field(default="", alias="firstName")
    last_name: str = Field(default="", alias="lastName")
    company_name: str = Field(default="", alias="companyName")
    street_address_1: str = Field(default="", alias="streetAddress1")
    street_address_2: str = Field(default="", alias="streetAddress2")
    city: str = ""
    city_area: str = Field(default="", alias="cityArea")
    postal_code: str = Field(default="", alias="postalCode")
    country: CountryRef
    country_area: str = Field(default="", alias="countryArea")
    phone: str | None = None


class MetadataItemPayload(Payload):
    key: str
    value: str


class ChannelRef(Payload):
    slug: str


class ChannelListingPayload(Payload):
    channel: ChannelRef
    cost_price: MoneyPayload | None = Field(default=None, alias="costPrice")


# Saleor's WeightUnitsEnum, in kilograms.
KILOGRAMS_PER_UNIT: dict[str, Decimal] = {
    "G": Decimal("0.001"),
    "LB": Decimal("0.45359237"),
    "OZ": Decimal("0.028349523125"),
    "KG": Decimal(1),
    "TONNE": Decimal(1000),
}


class WeightPayload(Payload):
    unit: Literal["G", "LB", "OZ", "KG", "TONNE"]
    value: Decimal

    @property
    def kg(self) -> Decimal:
        return self.value * KILOGRAMS_PER_UNIT[self.unit]


def _kg(weight: WeightPayload | None) -> Decimal | None:
    """The weight in kg, None when Saleor knows none. A zero weight is none: Saleor 3.20 gives every
    product type made without a weight 0 kg (never null), and its ``get_weight`` skips a zero weight
    as it skips a missing one."""
    return weight.kg if weight is not None and weight.value else None


class AttributeRef(Payload):
    slug: str
    unit: str | None = None


class AttributeValueRef(Payload):
    name: str | None = None


class SelectedAttributePayload(Payload):
    attribute: AttributeRef
    values: list[AttributeValueRef] = Field(default_factory=list)

    def reading(self) -> AttributeReading:
        return AttributeReading(
            self.attribute.slug, self.attribute.unit, tuple(value.name for value in self.values if value.name)
        )


class ProductTypeRef(Payload):
    name: str
    weight: WeightPayload | None = None


class ProductRef(Payload):
    product_type: ProductTypeRef | None = Field(default=None, alias="productType")
    weight: WeightPayload | None = None
    attributes: list[SelectedAttributePayload] = Field(default_factory=list)


class ParcelFactsPayload(Payload):
    """A variant as the ParcelFacts fragment selects it: what packing its lines needs."""

    weight: WeightPayload | None = None
    attributes: list[SelectedAttributePayload] = Field(default_factory=list)
    product: ProductRef | None = None

    @property
    def weight_kg(self) -> Decimal | None:
        return _kg(self.weight)

    @property
    def product_weight_kg(self) -> Decimal | None:
        return _kg(self.product.weight) if self.product is not None else None

    @property
    def product_type_weight_kg(self) -> Decimal | None:
        product_type = self.product.product_type if self.product is not None else None
        return _kg(product_type.weight) if product_type is not None else None

    @property
    def attribute_readings(self) -> tuple[AttributeReading, ...]:
        """The variant's attributes first, then its product's: a variant's value wins."""
        product = self.product.attributes if self.product is not None else []
        return tuple(selected.reading() for selected in [*self.attributes, *product])


class ShippingZonePayload(Payload):
    countries: list[CountryRef]
    channels: list[ChannelRef]


class ShippingZoneEdge(Payload):
    node: ShippingZonePayload


class PageInfoPayload(Payload):
    has_next_page: bool = Field(alias="hasNextPage")


class ShippingZonesPayload(Payload):
    edges: list[ShippingZoneEdge]
    page_info: PageInfoPayload = Field(alias="pageInfo")


class StockWarehousePayload(Payload):
    id: str
    name: str = ""
    # None in payloads recorded before the subscription selected it.
    shipping_zones: ShippingZonesPayload | None = Field(default=None, alias="shippingZones")

    def ships_to(self, channel: str, country: str) -> bool | None:
        """Whether one of the warehouse's shipping zones assigned to ``channel`` covers ``country``: where
        Saleor would allocate from for that address. None when the payload does not tell (an older
        payload, or more zones than the page held)."""
        zones = self.shipping_zones
        if zones is None or zones.page_info.has_next_page:
            return None
        return any(
            any(listed.slug == channel for listed in zone.node.channels)
            and any(covered.code == country for covered in zone.node.countries)
            for zone in zones.edges
        )


class StockPayload(Payload):
    """The variant's stock in one warehouse: ``quantity`` on hand, of which ``quantity_allocated`` is
    reserved for orders (this one's units included)."""

    warehouse: StockWarehousePayload
    quantity: int
    quantity_allocated: int = Field(alias="quantityAllocated")


class VariantPayload(ParcelFactsPayload):
    id: str
    sku: str | None = None
    channel_listings: list[ChannelListingPayload] | None = Field(default=None, alias="channelListings")
    # None in payloads recorded before the subscription selected it.
    stocks: list[StockPayload] | None = None


class AllocationPayload(Payload):
    warehouse: WarehouseRef
    quantity: int


class OrderLinePayload(Payload):
    id: str
    product_sku: str | None = Field(default=None, alias="productSku")
    product_variant_id: str | None = Field(default=None, alias="productVariantId")
    product_name: str = Field(default="", alias="productName")
    variant_name: str = Field(default="", alias="variantName")
    quantity: int
    quantity_fulfilled: int = Field(default=0, alias="quantityFulfilled")
    unit_price: TaxedMoneyPayload = Field(alias="unitPrice")
    variant: VariantPayload | None = None  # None once the variant was deleted
    # Units reserved per warehouse; Saleor drops them as they are fulfilled (none without stock tracking).
    allocations: list[AllocationPayload] = Field(default_factory=list)

    @property
    def sku(self) -> str | None:
        """The SKU the line was sold under, else the variant's current one."""
        return self.product_sku or (self.variant.sku if self.variant else None)

    @property
    def product_type(self) -> str | None:
        product = self.variant.product if self.variant else None
        return product.product_type.name if product and product.product_type else None

    @property
    def unit_price_net(self) -> Decimal:
        """Tax-excluded unit price; the gross one in payloads recorded before the subscription selected net."""
        return (self.unit_price.net or self.unit_price.gross).amount

    def cost_price_in(self, channel: str) -> Decimal | None:
        """The variant's cost price in Saleor for the order's channel, when one is set."""
        for listing in (self.variant.channel_listings or []) if self.variant else []:
            if listing.channel.slug == channel and listing.cost_price is not None:
                return listing.cost_price.amount
        return None


class TransactionPayload(Payload):
    id: str
    psp_reference: str = Field(default="", alias="pspReference")
    authorized_amount: MoneyPayload | None = Field(default=None, alias="authorizedAmount")
    charged_amount: MoneyPayload | None = Field(default=None, alias="chargedAmount")
    metadata: list[MetadataItemPayload] = Field(default_factory=list)


class CreditCardPayload(Payload):
    brand: str = ""
    first_digits: str | None = Field(default=None, alias="firstDigits")
    last_digits: str = Field(default="", alias="lastDigits")
    exp_month: int | None = Field(default=None, alias="expMonth")
    exp_year: int | None = Field(default=None, alias="expYear")


class PaymentPayload(Payload):
    id: str
    gateway: str = ""
    customer_ip_address: str | None = Field(default=None, alias="customerIpAddress")
    credit_card: CreditCardPayload | None = Field(default=None, alias="creditCard")


class WarehouseRef(Payload):
    id: str
    slug: str = ""
    name: str = ""


class OrderLineRef(Payload):
    id: str


class FulfillmentLinePayload(Payload):
    id: str
    quantity: int
    order_line: OrderLineRef | None = Field(default=None, alias="orderLine")


class FulfillmentPayload(Payload):
    id: str
    status: str  # Saleor's FulfillmentStatus
    created: AwareDatetime
    warehouse: WarehouseRef | None = None
    lines: list[FulfillmentLinePayload] | None = None


class DeliveryMethodRef(Payload):
    """The order's ``deliveryMethod``: a ShippingMethod (Saleor's own or one an app offered at
    checkout) or a Warehouse the shopper collects from."""

    typename: str = Field(alias="__typename")
    id: str | None = None
    name: str | None = None

    def offered_by_app(self) -> tuple[str, str] | None:
        """(app identifier, the app's own option id) when an app offered this method at checkout:
        Saleor names it ``base64("app:<app identifier>:<option id>")``."""
        if self.typename != "ShippingMethod" or self.id is None:
            return None
        try:
            decoded = base64.b64decode(self.id, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        prefix, _, rest = decoded.partition(":")
        identifier, _, option_id = rest.partition(":")
        return (identifier, option_id) if prefix == "app" and identifier and option_id else None


class OrderPayload(Payload):
    id: str
    number: str
    status: str
    created: AwareDatetime
    user_email: str | None = Field(default=None, alias="userEmail")
    channel: ChannelPayload
    user: UserRef | None = None
    billing_address: AddressPayload | None = Field(default=None, alias="billingAddress")
    shipping_address: AddressPayload | None = Field(default=None, alias="shippingAddress")
    shipping_method_name: str | None = Field(default=None, alias="shippingMethodName")
    shipping_price: TaxedMoneyPayload | None = Field(default=None, alias="shippingPrice")
    delivery_method: DeliveryMethodRef | None = Field(default=None, alias="deliveryMethod")
    total: TaxedMoneyPayload
    lines: list[OrderLinePayload]
    fulfillments: list[FulfillmentPayload] = Field(default_factory=list)
    transactions: list[TransactionPayload] = Field(default_factory=list)
    payments: list[PaymentPayload] = Field(default_factory=list)


class PrincipalRef(Payload):
    typename: str = Field(alias="__typename")
    id: str | None = None


class EventPayload(Payload):
    """The fields of Saleor's ``Event`` interface that our subscriptions select."""

    typename: str = Field(alias="__typename")
    issued_at: AwareDatetime = Field(alias="issuedAt")
    version: str | None = None


class OrderEventPayload(EventPayload):
    issuing_principal: PrincipalRef | None = Field(default=None, alias="issuingPrincipal")
    order: OrderPayload
    # The fulfilment a FULFILLMENT_* event is about, where the subscription selects it.
    fulfillment: FulfillmentPayload | None = None


class AppRef(Payload):
    id: str


class AppDeletedPayload(EventPayload):
    app: AppRef | None = None


class SaleorErrorPayload(Payload):
    """One entry of the ``errors`` Saleor adds to a webhook body (its ``format_error``)."""

    message: str
    path: list[str | int] = Field(default_factory=list)


class ErrorsPayload(Payload):
    """A body Saleor could not render whole: what resolved (if the event did) and its ``errors``."""

    typename: str | None = Field(default=None, alias="__typename")
    issued_at: AwareDatetime | None = Field(default=None, alias="issuedAt")
    errors: list[SaleorErrorPayload] = Field(default_factory=list)


class CheckoutVariantPayload(ParcelFactsPayload):
    id: str
    sku: str | None = None


class CheckoutLinePayload(Payload):
    quantity: int
    undiscounted_total_price: MoneyPayload = Field(alias="undiscountedTotalPrice")
    variant: CheckoutVariantPayload


class CheckoutAddressPayload(Payload):
    company_name: str = Field(default="", alias="companyName")
    street_address_1: str = Field(default="", alias="streetAddress1")
    city: str = ""
    postal_code: str = Field(default="", alias="postalCode")
    country: CountryRef
    country_area: str = Field(default="", alias="countryArea")


class CheckoutPayload(Payload):
    id: str
    channel: ChannelPayload
    shipping_address: CheckoutAddressPayload | None = Field(default=None, alias="shippingAddress")
    lines: list[CheckoutLinePayload] = Field(default_factory=list)


class ShippingListMethodsForCheckoutPayload(EventPayload):
    # Null when Saleor could not render it (a field that calls a sync webhook): ``errors`` say why.
    checkout: CheckoutPayload | None = None
    errors: list[SaleorErrorPayload] = Field(default_factory=list)
