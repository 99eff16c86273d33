"""The stand-in's store: plain dataclasses, as Saleor's tables hold them.

Records compare by identity, as rows do. Composition is by containment (an order holds its lines, events, fulfillments
and payments); associations are by primary key (a line names its variant, a
stock its warehouse), looked up in ``Store``. Money is ``Decimal`` in major
units, times are aware UTC, and global IDs are made exactly as Saleor makes
them: ``base64("Order:<uuid>")``, ``base64("ProductVariant:<int>")``.

Saleor's rules for changing this state live in ``actions``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import random
import secrets
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal
from uuid import UUID, uuid4

# Models whose primary key is a UUID in Saleor; every other one is an integer.
UUID_KEYED = frozenset({"Order", "OrderLine", "Warehouse", "TransactionItem", "Checkout"})


def seeded_uuids(seed: int | str) -> Callable[[], UUID]:
    """Version 4 UUIDs drawn from a seeded generator: the same seed gives the same keys, in the same order."""
    rng = random.Random(f"uuids:{seed}")

    def new_uuid() -> UUID:
        return UUID(int=rng.getrandbits(128), version=4)

    return new_uuid


def to_global_id(type_name: str, pk: int | UUID) -> str:
    """Graphene's relay ID: standard base64 (with padding) of ``"<Type>:<pk>"``."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


class InvalidGlobalId(ValueError):
    pass


def from_global_id(global_id: str) -> tuple[str, int | UUID]:
    """``(type name, pk)``; raises ``InvalidGlobalId`` when it is not one of Saleor's IDs."""
    try:
        type_name, _, raw_pk = base64.b64decode(global_id, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidGlobalId(global_id) from exc
    if not type_name or not raw_pk:
        raise InvalidGlobalId(global_id)
    try:
        pk: int | UUID = UUID(raw_pk) if type_name in UUID_KEYED else int(raw_pk)
    except ValueError as exc:
        raise InvalidGlobalId(global_id) from exc
    return type_name, pk


def invalid_id(global_id: str, only_type: str, received: str | None = None) -> str:
    """Saleor's ``from_global_id_or_error`` refusing an ID it cannot read, or (``received``) one of another type."""
    if received is None:
        return f"Invalid ID: {global_id}. Expected: {only_type}."
    return f"Invalid ID: {global_id}. Expected: {only_type}, received: {received}."


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


class OrderStatus(StrEnum):
    DRAFT = "DRAFT"
    UNCONFIRMED = "UNCONFIRMED"
    UNFULFILLED = "UNFULFILLED"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"
    PARTIALLY_RETURNED = "PARTIALLY_RETURNED"
    RETURNED = "RETURNED"
    FULFILLED = "FULFILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


class FulfillmentStatus(StrEnum):
    FULFILLED = "FULFILLED"
    REFUNDED = "REFUNDED"
    RETURNED = "RETURNED"
    REPLACED = "REPLACED"
    REFUNDED_AND_RETURNED = "REFUNDED_AND_RETURNED"
    CANCELED = "CANCELED"
    WAITING_FOR_APPROVAL = "WAITING_FOR_APPROVAL"


class PaymentChargeStatus(StrEnum):
    NOT_CHARGED = "NOT_CHARGED"
    PENDING = "PENDING"
    PARTIALLY_CHARGED = "PARTIALLY_CHARGED"
    FULLY_CHARGED = "FULLY_CHARGED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    FULLY_REFUNDED = "FULLY_REFUNDED"
    REFUSED = "REFUSED"
    CANCELLED = "CANCELLED"


ClickAndCollect = Literal["DISABLED", "LOCAL", "ALL"]
Metadata = dict[str, str]


@dataclass(slots=True)
class Address:
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    street_address1: str = ""
    street_address2: str = ""
    city: str = ""
    city_area: str = ""
    postal_code: str = ""
    country: str = "US"  # ISO 3166-1 alpha-2
    country_area: str = ""
    phone: str | None = None
    pk: int = 0  # set by the store


@dataclass(slots=True)
class Shop:
    """Site settings and the version this Saleor reports (``shop { version }``, ``Event.version``)."""

    version: str = "3.20.119"
    # Saleor's defaults: fulfillments are approved at once, unpaid orders may be fulfilled.
    fulfillment_auto_approve: bool = True
    fulfillment_allow_unpaid: bool = True

    @property
    def schema_version(self) -> str:
        """``major.minor``, what ``Saleor-Schema-Version`` and ``User-Agent: Saleor/…`` carry."""
        return ".".join(self.version.split(".")[:2])


@dataclass(slots=True, eq=False)
class Channel:
    pk: int
    slug: str
    name: str
    currency_code: str
    default_country: str = "US"
    is_active: bool = True
    # Saleor's default; turn off to hold new orders as UNCONFIRMED.
    automatically_confirm_all_new_orders: bool = True
    # What "Mark as paid" creates (``Channel.orderMarkAsPaidStrategy``): a legacy Payment
    # (PAYMENT_FLOW, Saleor's default) or a TransactionItem (TRANSACTION_FLOW).
    order_mark_as_paid_strategy: Literal["PAYMENT_FLOW", "TRANSACTION_FLOW"] = "PAYMENT_FLOW"
    # The warehouses assigned to the channel, in their ``ChannelWarehouse.sort_order``: the order
    # Saleor's default allocation strategy (PRIORITIZE_SORTING_ORDER) takes stock in.
    warehouse_pks: list[UUID] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Attribute:
    """A product or variant attribute. A numeric one keeps its unit here (Saleor's ``MeasurementUnitsEnum``
    name) and each value's number as the value's name."""

    pk: int
    name: str
    slug: str
    unit: str | None = None
    visible_in_storefront: bool = True


@dataclass(slots=True, eq=False)
class AttributeValue:
    pk: int
    attribute_pk: int
    name: str
    slug: str


@dataclass(slots=True, eq=False)
class ProductType:
    """What kind of product it is ("Coffee", "Machines"); every product has one. It names the attributes
    its products and their variants carry, in order."""

    pk: int
    name: str
    slug: str
    # Never null in Saleor: a product type made without a weight weighs 0 kg (the model's default).
    weight_kg: Decimal = Decimal(0)
    product_attribute_pks: tuple[int, ...] = ()
    variant_attribute_pks: tuple[int, ...] = ()


@dataclass(slots=True, eq=False)
class Product:
    pk: int
    name: str
    slug: str
    product_type_pk: int
    weight_kg: Decimal | None = None
    # attribute pk → the values assigned, in order
    attribute_values: dict[int, list[AttributeValue]] = field(default_factory=dict)
    metadata: Metadata = field(default_factory=dict)
    private_metadata: Metadata = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class VariantListing:
    """A variant's price (and cost price) in one channel, in that channel's currency."""

    pk: int
    channel_pk: int
    price: Decimal
    cost_price: Decimal | None = None


@dataclass(slots=True, eq=False)
class ProductVariant:
    pk: int
    product_pk: int
    sku: str | None
    name: str = ""
    track_inventory: bool = True
    weight_kg: Decimal | None = None
    listings: list[VariantListing] = field(default_factory=list)
    attribute_values: dict[int, list[AttributeValue]] = field(default_factory=dict)
    metadata: Metadata = field(default_factory=dict)
    private_metadata: Metadata = field(default_factory=dict)

    def listing_in(self, channel_pk: int) -> VariantListing | None:
        return next((listing for listing in self.listings if listing.channel_pk == channel_pk), None)


@dataclass(slots=True, eq=False)
class Warehouse:
    """In-house, 3PL and dropship sources are all just warehouses to Saleor."""

    pk: UUID
    name: str
    slug: str
    address: Address
    email: str = ""
    is_private: bool = True
    click_and_collect_option: ClickAndCollect = "DISABLED"
    metadata: Metadata = field(default_factory=dict)
    private_metadata: Metadata = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class ShippingZone:
    """Where the channels assigned to it ship (ISO country codes), and the warehouses that ship there:
    which stocks Saleor lists and allocates in a channel follows from these."""

    pk: int
    name: str
    countries: tuple[str, ...]
    warehouse_pks: list[UUID] = field(default_factory=list)
    channel_pks: list[int] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Stock:
    pk: int
    warehouse_pk: UUID
    variant_pk: int
    quantity: int
    # Saleor keeps the sum of the allocations on the stock row, in step with them.
    quantity_allocated: int = 0


@dataclass(slots=True, eq=False)
class Customer:
    """A user account (GraphQL ``User``): a customer, or a staff user (``is_staff``) of the dashboard.

    ``jwt_token_key`` is Saleor's ``User.jwt_token_key``: every JWT minted for the user carries it as its
    ``token`` claim, and a token whose key is no longer the user's (they logged out everywhere) is refused."""

    pk: int
    email: str
    first_name: str = ""
    last_name: str = ""
    is_active: bool = True
    is_staff: bool = False
    jwt_token_key: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    date_joined: datetime = datetime(2020, 1, 1, tzinfo=UTC)
    default_shipping_address: Address | None = None
    default_billing_address: Address | None = None
    metadata: Metadata = field(default_factory=dict)
    private_metadata: Metadata = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class AppWebhook:
    """A webhook declared in the app's manifest (PROTOCOL.md a.2)."""

    name: str
    target_url: str
    query: str
    events: tuple[str, ...]  # UPPER_SNAKE event names, async and sync
    is_active: bool = True
    custom_headers: dict[str, str] = field(default_factory=dict)  # lower-cased keys, as Saleor stores them


@dataclass(slots=True, eq=False)
class App:
    pk: int
    identifier: str
    name: str
    token: str = field(repr=False)
    version: str | None = None
    permissions: tuple[str, ...] = ()
    manifest_url: str | None = None
    webhooks: list[AppWebhook] = field(default_factory=list)
    is_active: bool = True
    # False while Saleor posts the token to the app; only an installed app is called with events.
    is_installed: bool = False
    metadata: Metadata = field(default_factory=dict)
    private_metadata: Metadata = field(default_factory=dict)


Principal = App | Customer


@dataclass(slots=True, eq=False)
class Allocation:
    pk: int
    stock_pk: int
    quantity_allocated: int


@dataclass(slots=True, eq=False)
class OrderLine:
    pk: UUID
    variant_pk: int | None  # None once the variant is deleted
    product_name: str
    variant_name: str
    product_sku: str | None
    quantity: int
    currency: str
    unit_price_net: Decimal
    unit_price_gross: Decimal
    quantity_fulfilled: int = 0
    is_shipping_required: bool = True
    allocations: list[Allocation] = field(default_factory=list)
    # Saleor's ``order_id``: set as the order is made, which is after its lines.
    order_pk: UUID | None = None
    metadata: Metadata = field(default_factory=dict)
    private_metadata: Metadata = field(default_factory=dict)

    @property
    def quantity_unfulfilled(self) -> int:
        return self.quantity - self.quantity_fulfilled


@dataclass(slots=True, eq=False)
class FulfillmentLine:
    pk: int
    order_line_pk: UUID
    quantity: int
    stock_pk: int | None = None


@dataclass(slots=True, eq=False)
class Fulfillment:
    pk: int
    order_pk: UUID
    fulfillment_order: int
    status: FulfillmentStatus
    created_at: datetime
    warehouse_pk: UUID | None
    tracking_number: str = ""
    lines: list[FulfillmentLine] = field(default_factory=list)
    metadata: Metadata = field(default_factory=dict)
    private_metadata: Metadata = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class OrderEvent:
    """An entry of the order's history (GraphQL ``OrderEvent``); ``type`` is an ``OrderEventsEnum`` name."""

    pk: int
    type: str
    date: datetime
    message: str | None = None
    user_pk: int | None = None
    app_pk: int | None = None


@dataclass(slots=True, eq=False)
class GrantedRefund:
    """A refund granted on an order (``OrderGrantedRefund``): money the store owes back, which the transaction's
    payment app sends when a person with HANDLE_PAYMENTS asks (``transactionRequestRefundForGrantedRefund``)."""

    pk: int
    amount: Decimal
    currency: str
    reason: str
    created_at: datetime
    transaction: TransactionItem | None = None
    user_pk: int | None = None
    app_pk: int | None = None


@dataclass(slots=True, eq=False)
class TransactionItem:
    """A payment app's transaction; its global ID wraps ``token``."""

    token: UUID
    currency: str
    created_at: datetime
    modified_at: datetime
    name: str = ""
    message: str = ""
    psp_reference: str = ""
    authorized_amount: Decimal = Decimal(0)
    charged_amount: Decimal = Decimal(0)
    refunded_amount: Decimal = Decimal(0)
    metadata: Metadata = field(default_factory=dict)
    private_metadata: Metadata = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Payment:
    """A legacy (plugin) payment; deprecated in Saleor but still on orders."""

    pk: int
    gateway: str
    currency: str
    total: Decimal
    captured_amount: Decimal
    charge_status: PaymentChargeStatus
    created_at: datetime
    modified_at: datetime
    psp_reference: str | None = None
    is_active: bool = True
    customer_ip_address: str | None = None
    credit_card: CreditCard | None = None
    # The sum of its successful REFUND transactions.
    refunded_amount: Decimal = Decimal(0)
    metadata: Metadata = field(default_factory=dict)
    private_metadata: Metadata = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CreditCard:
    """What a legacy payment plugin reports of the card (``Payment.creditCard``)."""

    brand: str
    last_digits: str
    first_digits: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None


@dataclass(slots=True, eq=False)
class ShippingMethod:
    """A delivery method: one of the store's own, or an option an app offered a checkout
    (``external_id`` set, ``pk`` 0: Saleor keeps those in no table of its own)."""

    pk: int
    name: str
    price: Decimal
    currency: str
    minimum_delivery_days: int | None = None
    maximum_delivery_days: int | None = None
    metadata: Metadata = field(default_factory=dict)
    description: str | None = None
    private_metadata: Metadata = field(default_factory=dict)
    # base64("app:<app identifier>:<the app's id>"), the ID Saleor gives an app's option
    external_id: str | None = None

    @property
    def global_id(self) -> str:
        return self.external_id if self.external_id is not None else to_global_id("ShippingMethod", self.pk)


@dataclass(slots=True, eq=False)
class CheckoutLine:
    pk: UUID
    variant_pk: int
    quantity: int
    currency: str
    undiscounted_unit_price: Decimal  # the channel listing's price when the line was added
    # Saleor's ``checkout_id``: set as the checkout is made, which is after its lines.
    checkout_pk: UUID | None = None


@dataclass(slots=True, eq=False)
class Checkout:
    """A shopper's cart on its way to an order; its ID is the ``token``."""

    pk: UUID
    channel_pk: int
    currency: str
    created_at: datetime
    email: str | None = None
    user_pk: int | None = None
    lines: list[CheckoutLine] = field(default_factory=list)
    shipping_address: Address | None = None
    billing_address: Address | None = None
    # The delivery options last listed (built-in first, then the apps'), and the one chosen.
    shipping_methods: list[ShippingMethod] = field(default_factory=list)
    delivery_method: ShippingMethod | None = None
    metadata: Metadata = field(default_factory=dict)
    private_metadata: Metadata = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Order:
    pk: UUID
    number: int
    channel_pk: int
    currency: str
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    user_email: str | None
    user_pk: int | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    shipping_method: ShippingMethod | None = None
    collection_point_pk: UUID | None = None  # click and collect: the warehouse picked up from
    shipping_price_net: Decimal = Decimal(0)
    shipping_price_gross: Decimal = Decimal(0)
    weight_kg: Decimal = Decimal(0)  # fixed when the order is placed, as Saleor stores it
    customer_note: str = ""
    lines: list[OrderLine] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)
    transactions: list[TransactionItem] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    granted_refunds: list[GrantedRefund] = field(default_factory=list)
    metadata: Metadata = field(default_factory=dict)
    private_metadata: Metadata = field(default_factory=dict)

    @property
    def subtotal_net(self) -> Decimal:
        return sum((line.unit_price_net * line.quantity for line in self.lines), Decimal(0))

    @property
    def subtotal_gross(self) -> Decimal:
        return sum((line.unit_price_gross * line.quantity for line in self.lines), Decimal(0))

    @property
    def total_net(self) -> Decimal:
        return self.subtotal_net + self.shipping_price_net

    @property
    def total_gross(self) -> Decimal:
        return self.subtotal_gross + self.shipping_price_gross

    @property
    def total_charged(self) -> Decimal:
        charged = sum((t.charged_amount for t in self.transactions), Decimal(0))
        return charged + sum((p.captured_amount for p in self.payments if p.is_active), Decimal(0))

    @property
    def total_authorized(self) -> Decimal:
        return sum((t.authorized_amount for t in self.transactions), Decimal(0))

    def is_fully_paid(self) -> bool:
        return self.total_charged >= self.total_gross


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An async event Saleor would queue after its transaction commits (UPPER_SNAKE name)."""

    event: str
    subject: Order | Fulfillment | App
    issued_at: datetime
    issuing_principal: Principal | None = None
    notify_customer: bool = False


Node = (
    App
    | Checkout
    | Customer
    | Order
    | OrderLine
    | Fulfillment
    | FulfillmentLine
    | Product
    | ProductVariant
    | Warehouse
    | Stock
    | TransactionItem
    | Payment
    | Channel
)


@dataclass
class Store:
    """Everything the stand-in knows, with builders that assign primary keys as Saleor's database would."""

    shop: Shop = field(default_factory=Shop)
    channels: dict[int, Channel] = field(default_factory=dict)
    attributes: dict[int, Attribute] = field(default_factory=dict)
    product_types: dict[int, ProductType] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    variants: dict[int, ProductVariant] = field(default_factory=dict)
    warehouses: dict[UUID, Warehouse] = field(default_factory=dict)
    shipping_zones: dict[int, ShippingZone] = field(default_factory=dict)
    stocks: dict[int, Stock] = field(default_factory=dict)
    customers: dict[int, Customer] = field(default_factory=dict)
    orders: dict[UUID, Order] = field(default_factory=dict)
    apps: dict[int, App] = field(default_factory=dict)
    # The delivery methods checkout offers; an order keeps the one it was placed with.
    shipping_methods: dict[int, ShippingMethod] = field(default_factory=dict)
    # Checkouts not completed yet; completing one turns it into an order and removes it.
    checkouts: dict[UUID, Checkout] = field(default_factory=dict)
    # Async events waiting to be delivered, in the order Saleor would emit them.
    outbox: list[PendingEvent] = field(default_factory=list)
    # Where UUID keys come from: random, as in Saleor, unless a repeatable store sets ``seeded_uuids``.
    uuid_source: Callable[[], UUID] = field(default=uuid4, repr=False)
    _sequences: dict[str, Iterator[int]] = field(default_factory=dict, repr=False)

    def next_pk(self, model: str) -> int:
        """Per-model auto-increment, starting at 1 like a fresh database."""
        return next(self._sequences.setdefault(model, itertools.count(1)))

    def new_uuid(self) -> UUID:
        """A UUID primary key (orders, order lines, warehouses, transactions)."""
        return self.uuid_source()

    # -- builders ---------------------------------------------------------------------------

    def add_channel(
        self,
        *,
        slug: str,
        name: str,
        currency_code: str,
        default_country: str = "US",
        automatically_confirm_all_new_orders: bool = True,
    ) -> Channel:
        channel = Channel(
            self.next_pk("Channel"),
            slug,
            name,
            currency_code,
            default_country=default_country,
            automatically_confirm_all_new_orders=automatically_confirm_all_new_orders,
        )
        self.channels[channel.pk] = channel
        return channel

    def add_attribute(
        self, *, name: str, slug: str | None = None, unit: str | None = None, visible_in_storefront: bool = True
    ) -> Attribute:
        attribute = Attribute(self.next_pk("Attribute"), name, slug or _slug(name), unit, visible_in_storefront)
        self.attributes[attribute.pk] = attribute
        return attribute

    def add_product_type(
        self,
        *,
        name: str,
        slug: str | None = None,
        weight_kg: Decimal = Decimal(0),
        product_attributes: Sequence[Attribute] = (),
        variant_attributes: Sequence[Attribute] = (),
    ) -> ProductType:
        product_type = ProductType(
            self.next_pk("ProductType"),
            name,
            slug or _slug(name),
            weight_kg,
            tuple(attribute.pk for attribute in product_attributes),
            tuple(attribute.pk for attribute in variant_attributes),
        )
        self.product_types[product_type.pk] = product_type
        return product_type

    def _assigned(
        self, values: Mapping[Attribute, Sequence[str]], allowed: tuple[int, ...], owner: str
    ) -> dict[int, list[AttributeValue]]:
        """Values as Saleor stores them: one AttributeValue per name, for attributes the product type assigns."""
        assigned: dict[int, list[AttributeValue]] = {}
        for attribute, names in values.items():
            if attribute.pk not in allowed:
                raise ValueError(f"attribute {attribute.slug} is not assigned to the product type of {owner}")
            assigned[attribute.pk] = [
                AttributeValue(self.next_pk("AttributeValue"), attribute.pk, name, _slug(f"{owner}-{name}"))
                for name in names
            ]
        return assigned

    def add_product(
        self,
        *,
        name: str,
        product_type: ProductType,
        slug: str | None = None,
        weight_kg: Decimal | None = None,
        attributes: Mapping[Attribute, Sequence[str]] | None = None,
    ) -> Product:
        product = Product(self.next_pk("Product"), name, slug or _slug(name), product_type.pk, weight_kg)
        product.attribute_values = self._assigned(attributes or {}, product_type.product_attribute_pks, product.slug)
        self.products[product.pk] = product
        return product

    def add_variant(
        self,
        product: Product,
        *,
        sku: str | None,
        name: str = "",
        prices: dict[Channel, tuple[Decimal, Decimal | None]] | None = None,
        weight_kg: Decimal | None = None,
        track_inventory: bool = True,
        attributes: Mapping[Attribute, Sequence[str]] | None = None,
    ) -> ProductVariant:
        """``prices`` maps a channel to ``(price, cost price)`` in its currency; ``attributes`` the variant's
        own attributes (its product type's variant attributes) to their values' names."""
        variant = ProductVariant(
            self.next_pk("ProductVariant"),
            product.pk,
            sku,
            name=name,
            weight_kg=weight_kg,
            track_inventory=track_inventory,
        )
        variant_attributes = self.product_types[product.product_type_pk].variant_attribute_pks
        variant.attribute_values = self._assigned(attributes or {}, variant_attributes, sku or str(variant.pk))
        for channel, (price, cost_price) in (prices or {}).items():
            variant.listings.append(
                VariantListing(self.next_pk("ProductVariantChannelListing"), channel.pk, price, cost_price)
            )
        self.variants[variant.pk] = variant
        return variant

    def weight_of(self, variant: ProductVariant) -> Decimal:
        """``ProductVariant.get_weight``: the variant's own, else its product's, else its product type's (a
        zero weight counts as none, as Saleor's falsy ``Weight`` does)."""
        product = self.products[variant.product_pk]
        return variant.weight_kg or product.weight_kg or self.product_types[product.product_type_pk].weight_kg

    def add_warehouse(
        self,
        *,
        name: str,
        slug: str | None = None,
        address: Address | None = None,
        email: str = "",
        click_and_collect_option: ClickAndCollect = "DISABLED",
    ) -> Warehouse:
        warehouse = Warehouse(
            self.new_uuid(),
            name,
            slug or _slug(name),
            self.with_pk(address or Address(company_name=name)),
            email=email,
            click_and_collect_option=click_and_collect_option,
        )
        self.warehouses[warehouse.pk] = warehouse
        return warehouse

    def assign_warehouse(self, channel: Channel, warehouse: Warehouse) -> None:
        """``channelUpdate(addWarehouses:)``: the warehouse goes last in the channel's sort order."""
        if warehouse.pk not in channel.warehouse_pks:
            channel.warehouse_pks.append(warehouse.pk)

    def add_shipping_zone(
        self,
        *,
        name: str,
        countries: Sequence[str],
        warehouses: Sequence[Warehouse] = (),
        channels: Sequence[Channel] = (),
    ) -> ShippingZone:
        zone = ShippingZone(
            self.next_pk("ShippingZone"),
            name,
            tuple(countries),
            [warehouse.pk for warehouse in warehouses],
            [channel.pk for channel in channels],
        )
        self.shipping_zones[zone.pk] = zone
        return zone

    def set_stock(self, warehouse: Warehouse, variant: ProductVariant, quantity: int) -> Stock:
        stock = self.stock_for(warehouse.pk, variant.pk)
        if stock is None:
            stock = Stock(self.next_pk("Stock"), warehouse.pk, variant.pk, quantity)
            self.stocks[stock.pk] = stock
        else:
            stock.quantity = quantity
        return stock

    def add_customer(
        self,
        *,
        email: str,
        first_name: str = "",
        last_name: str = "",
        address: Address | None = None,
        date_joined: datetime | None = None,
    ) -> Customer:
        stored = self.with_pk(address) if address is not None else None
        customer = Customer(
            self.next_pk("User"),
            email,
            first_name,
            last_name,
            default_shipping_address=stored,
            default_billing_address=stored,
        )
        if date_joined is not None:
            customer.date_joined = date_joined
        self.customers[customer.pk] = customer
        return customer

    def add_shipping_method(
        self,
        *,
        name: str,
        price: Decimal,
        currency: str,
        minimum_delivery_days: int | None = None,
        maximum_delivery_days: int | None = None,
    ) -> ShippingMethod:
        method = ShippingMethod(
            self.next_pk("ShippingMethod"),
            name,
            price,
            currency,
            minimum_delivery_days=minimum_delivery_days,
            maximum_delivery_days=maximum_delivery_days,
        )
        self.shipping_methods[method.pk] = method
        return method

    def add_app(self, app: App) -> App:
        self.apps[app.pk] = app
        return app

    def with_pk(self, address: Address) -> Address:
        if not address.pk:
            address.pk = self.next_pk("Address")
        return address

    # -- lookups ----------------------------------------------------------------------------

    def stock_for(self, warehouse_pk: UUID, variant_pk: int) -> Stock | None:
        return next(
            (s for s in self.stocks.values() if s.warehouse_pk == warehouse_pk and s.variant_pk == variant_pk), None
        )

    def stocks_of_variant(self, variant_pk: int, warehouse_pks: Collection[UUID] | None = None) -> list[Stock]:
        """The variant's stocks in key order, only those in ``warehouse_pks`` when given."""
        return [
            s
            for s in self.stocks.values()
            if s.variant_pk == variant_pk and (warehouse_pks is None or s.warehouse_pk in warehouse_pks)
        ]

    def warehouses_for_channel_and_country(self, channel: Channel, country_code: str | None) -> set[UUID]:
        """The warehouses of ``Stock.objects.for_channel_and_country``: those assigned to the channel and
        to one of the channel's shipping zones (one covering ``country_code`` when given); without a
        country also the channel's click-and-collect warehouses (LOCAL or ALL), zones or not."""
        in_channel = set(channel.warehouse_pks)
        found = {
            warehouse_pk
            for zone in self.shipping_zones.values()
            if channel.pk in zone.channel_pks and (country_code is None or country_code in zone.countries)
            for warehouse_pk in zone.warehouse_pks
            if warehouse_pk in in_channel
        }
        if country_code is None:
            found |= {pk for pk in in_channel if self.warehouses[pk].click_and_collect_option != "DISABLED"}
        return found

    def stocks_in_warehouse(self, warehouse_pk: UUID) -> list[Stock]:
        return [s for s in self.stocks.values() if s.warehouse_pk == warehouse_pk]

    def variant_by_sku(self, sku: str) -> ProductVariant | None:
        return next((v for v in self.variants.values() if v.sku == sku), None)

    def order_of_line(self, line_pk: UUID) -> tuple[Order, OrderLine] | None:
        for order in self.orders.values():
            for line in order.lines:
                if line.pk == line_pk:
                    return order, line
        return None

    def order_of_fulfillment(self, fulfillment_pk: int) -> tuple[Order, Fulfillment] | None:
        for order in self.orders.values():
            for fulfillment in order.fulfillments:
                if fulfillment.pk == fulfillment_pk:
                    return order, fulfillment
        return None

    def staff_user(self, email: str) -> Customer:
        """The staff user with this e-mail, added the first time one is named."""
        found = next((user for user in self.customers.values() if user.email == email), None)
        if found is None:
            found = Customer(self.next_pk("User"), email, is_staff=True)
            self.customers[found.pk] = found
        return found

    def active_user(self, email: str) -> Customer | None:
        """``UserByEmailLoader`` as JWT authentication uses it: only an active user is found."""
        return next((u for u in self.customers.values() if u.email == email and u.is_active), None)

    def app_by_token(self, token: str) -> App | None:
        return next((a for a in self.apps.values() if a.token == token and a.is_active), None)

    def node(self, type_name: str, pk: int | UUID) -> Node | None:
        """The object a global ID names, or None; only the types the stand-in's schema exposes."""
        if isinstance(pk, UUID):
            if type_name == "Order":
                return self.orders.get(pk)
            if type_name == "Warehouse":
                return self.warehouses.get(pk)
            if type_name == "OrderLine":
                owner = self.order_of_line(pk)
                return owner[1] if owner else None
            if type_name == "TransactionItem":
                return next((t for o in self.orders.values() for t in o.transactions if t.token == pk), None)
            if type_name == "Checkout":
                return self.checkouts.get(pk)
            return None
        if type_name == "Fulfillment":
            hit = self.order_of_fulfillment(pk)
            return hit[1] if hit else None
        if type_name == "FulfillmentLine":
            return next(
                (line for o in self.orders.values() for f in o.fulfillments for line in f.lines if line.pk == pk), None
            )
        if type_name == "Payment":
            return next((p for o in self.orders.values() for p in o.payments if p.pk == pk), None)
        tables: dict[str, dict[int, App] | dict[int, Customer] | dict[int, Product] | dict[int, ProductVariant]] = {
            "App": self.apps,
            "User": self.customers,
            "Product": self.products,
            "ProductVariant": self.variants,
        }
        if type_name == "Stock":
            return self.stocks.get(pk)
        if type_name == "Channel":
            return self.channels.get(pk)
        table = tables.get(type_name)
        return table.get(pk) if table is not None else None
