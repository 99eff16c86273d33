"""A day of orders: a seeded small shop, and a seeded plan of what its customers and staff do in one day.

catalogue = seed_store(standin.store, seed=7, day=date(2026, 11, 25))
steps = plan_day(standin.store, catalogue, seed=7, orders=60, day=date(2026, 11, 25))
for step in steps:
    await step.play(standin.store, standin.list_delivery_methods)  # the stand-in's actions, at step.at
    await standin.deliver_pending()  # the events Saleor would emit, to the installed app

The shop ("Bean & Burr": coffee, brewing gear, grinders and merch) holds new orders
as UNCONFIRMED, as a merchant screening for fraud sets its channel, and keeps stock
in an in-house warehouse and at a 3PL. Its day mixes ordinary orders from returning
and new customers with the fraud patterns of DOMAIN.md section 1: card testing
(several small orders from one email and IP, one card BIN), billing and shipping in
different countries, shipping to a freight forwarder, disposable email domains, a
high-value first order sent overnight, AVS and CVV mismatches. Card checks travel
where a payment app leaves them: the metadata of the order's transaction
(``avs_result``, ``cvv_result`` with card-network letter codes, ``card_brand``,
``card_bin``, ``card_last4``, ``card_country``, ``customer_ip``, ``ip_country``).
Ordinary shoppers check out: their checkout lists its delivery methods (the
installed apps answer ``SHIPPING_LIST_METHODS_FOR_CHECKOUT``) and they take the
cheapest app option that arrives as soon as the speed they want, or the shop's own
method of that speed when no app offers one (``step.apply`` asks no app); the fraud
patterns' orders are placed as they are, their shipping being part of the pattern.
Most orders are paid within minutes and shipped in the warehouses' afternoon waves
(some in parts: one warehouse first, or a unit short on the shelf; where a routing app
wrote a plan, ``ops.routing``, staff ship only what it leaves to their own warehouse,
and a partner's share is the partner's to ship); some are never
paid, a few are cancelled, a few parcels are called back (the fulfilment cancelled,
the goods back on the shelf, the parcel sent again in a later wave), a few shipped
lines come back, and a few orders paid through a legacy card plugin (a ``Payment``, the
only kind Saleor refunds products against) get a damaged unit refunded without a return.

Everything is deterministic: the same seed, day and number of orders give the same
steps and, applied to a store seeded alike, the same order IDs, numbers, emails and
amounts (``seed_store`` gives the store seeded UUIDs). The plan is made against the
store as it is: apply its steps once, in order, to that store. IP addresses come from
the documentation ranges (RFC 5737) and emails from ``example.*`` domains, except the
disposable ones, which are the point.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from app.standin import actions
from app.standin import checkout as checkouts
from app.standin.state import (
    Address,
    Channel,
    Checkout,
    CreditCard,
    Customer,
    FulfillmentLine,
    FulfillmentStatus,
    Order,
    OrderStatus,
    Product,
    ProductVariant,
    ShippingMethod,
    ShippingZone,
    Stock,
    Store,
    TransactionItem,
    Warehouse,
    seeded_uuids,
    to_global_id,
)

CURRENCY = "USD"
_CARD_PLUGIN = "saleor.payments.stripe"  # a legacy payment plugin: its orders carry a Payment
DISPOSABLE_EMAIL_DOMAINS = ("mailinator.com", "guerrillamail.com", "yopmail.com", "sharklasers.com")


# -- what the plan is made of ----------------------------------------------------------------


ListDeliveryMethods = Callable[[Checkout], Awaitable[list[ShippingMethod]]]


@dataclass(frozen=True)
class Step:
    """One thing that happens in the shop at ``at``; ``apply`` makes it happen in the store.

    ``kind`` is one of ``order``, ``payment``, ``confirm``, ``fulfilment``, ``cancel``, ``return``,
    ``fulfilment-cancel``.
    Steps compare by time, kind and description.
    """

    at: datetime
    kind: str
    description: str
    apply: Callable[[Store], None] = field(repr=False, compare=False)
    # An order a shopper places through the checkout, listing its delivery methods with the
    # stand-in (which asks the apps); ``apply`` places it with the store's own methods alone.
    shop: Callable[[Store, ListDeliveryMethods], Awaitable[None]] | None = field(
        default=None, repr=False, compare=False
    )

    async def play(self, store: Store, list_delivery_methods: ListDeliveryMethods) -> None:
        """Make the step happen, a checkout's delivery methods listed by ``list_delivery_methods``
        (``StandIn.list_delivery_methods``, which calls the apps' shipping-list webhooks)."""
        if self.shop is None:
            self.apply(store)
        else:
            await self.shop(store, list_delivery_methods)


@dataclass(frozen=True, slots=True)
class Item:
    variant: ProductVariant
    category: str
    name: str  # product and variant, as a person would say it


@dataclass(frozen=True, slots=True)
class Card:
    brand: str
    bin: str  # the first six digits
    last4: str
    country: str  # where it was issued


@dataclass(frozen=True, slots=True)
class Shopper:
    """A customer account and what the shop knew of it before the day (Saleor keeps no order count)."""

    customer: Customer
    prior_orders: int  # 0: a new account
    account_age_days: int
    card: Card
    ip: str

    @property
    def returning(self) -> bool:
        return self.prior_orders > 0


@dataclass(frozen=True)
class Catalogue:
    """What ``seed_store`` made: the channel, items, warehouses, shipping methods, customers and forwarders."""

    channel: Channel
    items: tuple[Item, ...]
    main: Warehouse  # in-house
    tpl: Warehouse  # the 3PL
    shipping: Mapping[str, ShippingMethod]  # "standard", "express", "overnight"
    shoppers: tuple[Shopper, ...]
    reshippers: tuple[Address, ...]  # freight forwarders' receiving addresses
    shipping_zone: ShippingZone  # the United States, the channel's one zone, served by both warehouses

    def item(self, sku: str) -> Item:
        return next(item for item in self.items if item.variant.sku == sku)


# -- the shop ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ItemSpec:
    category: str
    product: str
    variant: str
    sku: str
    price: str
    cost: str  # margins vary: merch and coffee fat, machines thin
    weight_kg: str
    main: int  # stock in-house before the day (about; the seed moves it), 0: not kept there
    tpl: int  # stock at the 3PL


_ITEMS = (
    _ItemSpec("Coffee", "Ethiopia Guji", "340 g", "COF-ETH-340", "19.00", "7.20", "0.36", 60, 0),
    _ItemSpec("Coffee", "Colombia Huila", "340 g", "COF-COL-340", "17.00", "6.40", "0.36", 55, 0),
    _ItemSpec("Coffee", "House Espresso", "1 kg", "COF-ESP-1KG", "42.00", "17.50", "1.05", 30, 0),
    _ItemSpec("Coffee", "Decaf Swiss Water", "340 g", "COF-DEC-340", "18.00", "7.90", "0.36", 4, 0),
    _ItemSpec("Brewing", "Ceramic Dripper", "White", "BRW-DRIP-WHT", "28.00", "9.10", "0.45", 5, 20),
    _ItemSpec("Brewing", "Paper Filters", "100 pack", "BRW-FILT-100", "8.00", "2.10", "0.20", 80, 100),
    _ItemSpec("Brewing", "Gooseneck Kettle", "1 L", "BRW-KETL-1L", "69.00", "31.00", "1.10", 0, 18),
    _ItemSpec("Brewing", "Brew Scale", "0.1 g", "BRW-SCALE", "45.00", "24.00", "0.50", 3, 12),
    _ItemSpec("Machines", "Hand Grinder", "Steel burrs", "MCH-HGRIND", "129.00", "58.00", "0.75", 0, 10),
    _ItemSpec("Machines", "Conical Burr Grinder", "Black", "MCH-BGRIND", "249.00", "201.00", "4.20", 0, 6),
    _ItemSpec("Machines", "Espresso Machine Pro", "Stainless", "MCH-ESPRO", "1299.00", "1090.00", "14.00", 0, 3),
    _ItemSpec("Merch", "Enamel Mug", "12 oz", "MRC-MUG-12", "16.00", "3.90", "0.40", 3, 0),
    _ItemSpec("Merch", "Logo Tee", "M", "MRC-TEE-M", "24.00", "7.50", "0.20", 12, 0),
    _ItemSpec("Merch", "Logo Tee", "L", "MRC-TEE-L", "24.00", "7.50", "0.22", 10, 0),
)

# Each boxed product's packed length, width and height in cm, kept in numeric product attributes as a
# merchant would (the app is told their slugs); coffee bags have none and take their product type's size.
_PACKED_CM = {
    "Ceramic Dripper": ("14", "14", "11"),
    "Paper Filters": ("17", "12", "6"),
    "Gooseneck Kettle": ("30", "18", "20"),
    "Brew Scale": ("20", "15", "5"),
    "Hand Grinder": ("22", "8", "8"),
    "Conical Burr Grinder": ("35", "20", "38"),
    "Espresso Machine Pro": ("50", "40", "40"),
    "Enamel Mug": ("12", "10", "10"),
    "Logo Tee": ("30", "25", "3"),
}
DIMENSION_ATTRIBUTES = ("length", "width", "height")

# (key, name, price, minimum and maximum delivery days)
_SHIPPING = (
    ("standard", "Standard (UPS Ground)", "6.95", 3, 5),
    ("express", "Express (2-day)", "14.95", 2, 2),
    ("overnight", "Overnight (FedEx Priority)", "34.95", 1, 1),
)

# (city, state, ZIP, phone area code)
_US_CITIES = (
    ("Austin", "TX", "78704", "512"),
    ("Seattle", "WA", "98103", "206"),
    ("Denver", "CO", "80205", "303"),
    ("Chicago", "IL", "60614", "312"),
    ("Brooklyn", "NY", "11215", "718"),
    ("Atlanta", "GA", "30307", "404"),
    ("Minneapolis", "MN", "55408", "612"),
    ("Phoenix", "AZ", "85004", "602"),
    ("Raleigh", "NC", "27601", "919"),
    ("San Diego", "CA", "92104", "619"),
    ("Boston", "MA", "02130", "617"),
    ("Nashville", "TN", "37206", "615"),
    ("Madison", "WI", "53703", "608"),
    ("Salt Lake City", "UT", "84102", "801"),
    ("Philadelphia", "PA", "19147", "215"),
    ("Columbus", "OH", "43215", "614"),
    ("Kansas City", "MO", "64111", "816"),
)
_STREETS = (
    "Maple Ave",
    "Oak St",
    "Cedar Ln",
    "Elm St",
    "Highland Ave",
    "Lakeview Dr",
    "Washington St",
    "Park Pl",
    "Willow Way",
    "2nd Ave",
    "Chestnut St",
    "Juniper Ct",
    "Magnolia Ave",
    "River Rd",
)
_FIRST_NAMES = (
    "Ada",
    "Maya",
    "Liam",
    "Noah",
    "Olivia",
    "Ethan",
    "Sofia",
    "Lucas",
    "Amara",
    "Mateo",
    "Priya",
    "Hannah",
    "Diego",
    "Grace",
    "Kenji",
    "Chloe",
    "Marcus",
    "Elena",
    "Samir",
    "Nora",
    "Isaac",
    "Leah",
    "Omar",
    "Ruby",
    "Theo",
    "Zara",
    "Caleb",
    "Ines",
    "Felix",
    "Alma",
)
_LAST_NAMES = (
    "Patel",
    "Nguyen",
    "Garcia",
    "Smith",
    "Johnson",
    "Kim",
    "Okafor",
    "Rossi",
    "Müller",
    "Cohen",
    "Haddad",
    "Silva",
    "Brown",
    "Tanaka",
    "Novak",
    "Murphy",
    "Lopez",
    "Fischer",
    "Ali",
    "Walker",
    "Jensen",
    "Reyes",
    "Wright",
    "Dubois",
    "Costa",
)
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
# RFC 5737: addresses reserved for documentation.
_IP_BLOCKS = ("192.0.2", "198.51.100", "203.0.113")
# (brand, BIN): synthetic, as test cards are.
_US_CARDS = (
    ("visa", "424242"),
    ("visa", "401288"),
    ("visa", "414720"),
    ("mastercard", "555555"),
    ("mastercard", "222300"),
    ("amex", "378282"),
    ("discover", "601111"),
)
_GB_CARDS = (("visa", "475129"), ("mastercard", "535522"))

# Freight forwarders' receiving docks: Miami's NW 37th St corridor and Portland's NE Airport Way.
_RESHIPPERS = (
    Address(
        company_name="MIA Cargo Express",
        street_address1="7855 NW 37th St",
        city="Miami",
        postal_code="33166",
        country="US",
        country_area="FL",
        phone="+13055550142",
    ),
    Address(
        company_name="PDX Parcel Forward",
        street_address1="7000 NE Airport Way",
        city="Portland",
        postal_code="97218",
        country="US",
        country_area="OR",
        phone="+15035550177",
    ),
)
_GB_ADDRESS = Address(street_address1="12 Hawthorn Rd", city="London", postal_code="N8 7NB", country="GB")


def seed_store(store: Store, *, seed: int, day: date) -> Catalogue:
    """Fill ``store`` with a small US coffee shop, the same for the same seed; its UUIDs become seeded too.

    One USD channel holding new orders as UNCONFIRMED; 14 variants in four categories
    (the products' types) with prices, cost prices and weights; stock in "Main warehouse"
    (Austin) and "ShipHero 3PL" (Columbus), some SKUs only at the 3PL and a few low, both in the
    channel and its one shipping zone (the US), the main warehouse first in the channel's order, so
    Saleor allocates from there first; three shipping methods; 40 customers (26 returning, 14 new
    accounts); two forwarder addresses. Queues no events.
    """
    rng = random.Random(f"store:{seed}")
    store.uuid_source = seeded_uuids(seed)
    channel = store.add_channel(
        slug="default-channel",
        name="Bean & Burr US",
        currency_code=CURRENCY,
        automatically_confirm_all_new_orders=False,
    )
    main = store.add_warehouse(
        name="Main warehouse",
        slug="main-warehouse",
        address=Address(
            company_name="Bean & Burr",
            street_address1="2400 E Cesar Chavez St",
            city="Austin",
            postal_code="78702",
            country="US",
            country_area="TX",
        ),
        email="warehouse@beanandburr.example",
    )
    tpl = store.add_warehouse(
        name="ShipHero 3PL",
        slug="shiphero-3pl",
        address=Address(
            company_name="ShipHero",
            street_address1="4150 Lockbourne Rd",
            city="Columbus",
            postal_code="43207",
            country="US",
            country_area="OH",
        ),
        email="ops@shiphero.example",
    )
    # Both ship from the channel's one zone, the main warehouse first in the channel's order.
    store.assign_warehouse(channel, main)
    store.assign_warehouse(channel, tpl)
    zone = store.add_shipping_zone(name="United States", countries=["US"], warehouses=[main, tpl], channels=[channel])

    items: list[Item] = []
    categories = dict.fromkeys(spec.category for spec in _ITEMS)
    sides = [store.add_attribute(name=slug.capitalize(), slug=slug, unit="CM") for slug in DIMENSION_ATTRIBUTES]
    measured = {spec.category for spec in _ITEMS if spec.product in _PACKED_CM}
    product_types = {
        category: store.add_product_type(name=category, product_attributes=sides if category in measured else ())
        for category in categories
    }
    products: dict[str, Product] = {}
    for spec in _ITEMS:
        product = products.get(spec.product)
        if product is None:
            packed = _PACKED_CM.get(spec.product)
            product = products[spec.product] = store.add_product(
                name=spec.product,
                product_type=product_types[spec.category],
                attributes={side: [cm] for side, cm in zip(sides, packed, strict=True)} if packed else None,
            )
        cost = (Decimal(spec.cost) * Decimal(str(round(rng.uniform(0.96, 1.04), 3)))).quantize(Decimal("0.01"))
        variant = store.add_variant(
            product,
            sku=spec.sku,
            name=spec.variant,
            prices={channel: (Decimal(spec.price), cost)},
            weight_kg=Decimal(spec.weight_kg),
        )
        items.append(Item(variant, spec.category, f"{spec.product} ({spec.variant})"))
    for warehouse, level in ((main, "main"), (tpl, "tpl")):
        for spec, item in zip(_ITEMS, items, strict=True):
            base: int = getattr(spec, level)
            if base:
                store.set_stock(warehouse, item.variant, _jitter(rng, base))

    shipping = {
        key: store.add_shipping_method(
            name=name,
            price=Decimal(price),
            currency=CURRENCY,
            minimum_delivery_days=low,
            maximum_delivery_days=high,
        )
        for key, name, price, low, high in _SHIPPING
    }

    shoppers: list[Shopper] = []
    emails: set[str] = set()
    for number in range(40):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        email = _unique_email(rng, first, last, emails)
        address = _us_address(rng, first, last)
        returning = number < 26
        prior = rng.choice((1, 1, 2, 2, 3, 4, 5, 6, 8, 11, 15)) if returning else 0
        age = rng.randint(max(60, prior * 20), 1800) if returning else rng.randint(0, 3)
        # Saleor's User.dateJoined: accounts opened ``age`` days before the day, at a seeded hour.
        joined = datetime.combine(day - timedelta(days=age), time(rng.randint(0, 23), rng.randint(0, 59)), UTC)
        customer = store.add_customer(
            email=email, first_name=first, last_name=last, address=address, date_joined=joined
        )
        brand, bin_ = rng.choice(_US_CARDS)
        card = Card(brand, bin_, _digits(rng, 4), "US")
        shoppers.append(Shopper(customer, prior, age, card, _ip(rng)))
    return Catalogue(channel, tuple(items), main, tpl, shipping, tuple(shoppers), _RESHIPPERS, zone)


def _held_by_app(order: Order) -> bool:
    """A fraud app's hold, as the Saleor Ops contract writes it (private metadata ``ops.fraud``)."""
    try:
        verdict = json.loads(order.private_metadata.get("ops.fraud", "{}"))
    except ValueError:
        return False
    return isinstance(verdict, dict) and verdict.get("decision") in ("review", "reject")


def _routed_here(order: Order, warehouse_id: str) -> dict[str, int] | None:
    """The units of each order line a routing app's plan (private metadata ``ops.routing``, as the Saleor
    Ops contract writes it) leaves to this warehouse's own staff: none at a partner's warehouse, whose
    partner ships them. None when the order has no plan: staff ship what Saleor allocated."""
    try:
        plan = json.loads(order.private_metadata.get("ops.routing", "{}")).get("plan") or []
    except (ValueError, AttributeError):
        return None
    if not plan:
        return None
    here: dict[str, int] = {}
    for entry in plan:
        source = entry.get("source", {})
        if source.get("kind") == "in_house" and source.get("id") == warehouse_id:
            here[entry["lineId"]] = here.get(entry["lineId"], 0) + int(entry["quantity"])
    return here


def _jitter(rng: random.Random, base: int) -> int:
    """About ``base``; low levels stay low (they are the point)."""
    if base <= 6:
        return max(2, base + rng.randint(-1, 1))
    return round(base * rng.uniform(0.85, 1.2))


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def _ip(rng: random.Random) -> str:
    return f"{rng.choice(_IP_BLOCKS)}.{rng.randint(2, 254)}"


def _unique_email(rng: random.Random, first: str, last: str, taken: set[str]) -> str:
    local = f"{first}.{last}".lower().replace("ü", "ue")
    email = f"{local}@{rng.choice(_EMAIL_DOMAINS)}"
    suffix = 2
    while email in taken:
        email = f"{local}{suffix}@{rng.choice(_EMAIL_DOMAINS)}"
        suffix += 1
    taken.add(email)
    return email


def _us_address(rng: random.Random, first: str, last: str) -> Address:
    city, state, postal_code, area = rng.choice(_US_CITIES)
    return Address(
        first_name=first,
        last_name=last,
        street_address1=f"{rng.randint(10, 9899)} {rng.choice(_STREETS)}",
        city=city,
        postal_code=postal_code,
        country="US",
        country_area=state,
        phone=f"+1{area}55501{_digits(rng, 2)}",  # 555-01xx: reserved for fiction
    )


# -- the day ----------------------------------------------------------------------------------

# Order arrivals by UTC hour for a US shop: evenings (UTC 0-4) and working hours (UTC 14-23) are busy.
_HOURLY = (8, 7, 6, 4, 3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 8, 9, 9, 9, 9)
# Pick-up waves in UTC: the in-house team ships three times a day, the 3PL twice.
_MAIN_WAVES = (time(14, 30), time(18, 0), time(21, 30))
_TPL_WAVES = (time(16, 0), time(22, 0))
_HANDLING = timedelta(minutes=30)  # from payment (or approval) to ready for the next wave
_PACKING = timedelta(seconds=75)  # between two parcels of one wave
_LAST_ORDER = time(23, 50)
_LAST_CANCEL = time(23, 58)
_LAST_RETURN = time(23, 55)
_LONGEST_REFUND = timedelta(hours=3)  # from the parcel leaving to the customer reporting a damaged unit
_LONGEST_RETURN = timedelta(hours=6)  # from the parcel leaving to the customer sending a line back
_CALL_BACK_REASONS = (
    "the carrier never scanned it",
    "packed with the wrong grind",
    "the label was printed for another order",
)

_COFFEE = ("COF-ETH-340", "COF-COL-340", "COF-ESP-1KG", "COF-DEC-340")
_FALLBACK = ("BRW-FILT-100", "COF-ETH-340", "COF-COL-340", "MRC-TEE-M", "MRC-TEE-L", "COF-ESP-1KG")


@dataclass(frozen=True, slots=True)
class _Charge:
    card: Card
    avs: str  # AVS: Y full match, A street only, Z ZIP only, N none, U unavailable
    cvv: str  # CVV: M match, N no match, P not processed, U issuer not certified
    ip: str
    ip_country: str
    delay: timedelta  # after the order

    def metadata(self) -> dict[str, str]:
        return {
            "avs_result": self.avs,
            "cvv_result": self.cvv,
            "card_brand": self.card.brand,
            "card_bin": self.card.bin,
            "card_last4": self.card.last4,
            "card_country": self.card.country,
            "customer_ip": self.ip,
            "ip_country": self.ip_country,
        }


@dataclass
class _Intent:
    """One order as planned; the lines and allocations are settled when the day is simulated."""

    at: datetime
    who: str  # how the description names the buyer
    email: str
    shopper: Shopper | None
    ship_to: Address
    bill_to: Address
    method: ShippingMethod
    wishes: list[tuple[str, int]]  # SKUs and quantities, in order of preference
    charge: _Charge | None  # None: never paid
    fate: str  # ship, short (a unit stays behind), return, unpaid, hold (for review), approve, cancel
    note: str = ""  # the pattern, for the description
    # How the money comes: "card" (a payment app charges after the order is placed), "checkout" (the
    # checkout was charged before it became an order, which shows the transaction from the start) or
    # "mark" (a bank transfer: staff "Mark as paid" later, which leaves no card checks).
    paid_by: str = "card"
    # Placed through a checkout, the shopper choosing among the delivery methods it lists; the
    # shipping price (and so the total) is known only then.
    via_checkout: bool = False
    cancel_at: datetime | None = None
    cancel_reason: str = ""
    number: int = 0
    lines: list[tuple[Item, int]] = field(default_factory=list)
    allocations: list[list[tuple[Stock, int]]] = field(default_factory=list)


class _Shelf:
    """Free stock per stock row, as placing and cancelling orders move it (shipping does not change it)."""

    def __init__(self, store: Store, channel: Channel) -> None:
        self._store = store
        self._channel = channel
        self._free = {s.pk: s.quantity - s.quantity_allocated for s in store.stocks.values()}

    def _stocks(self, variant: ProductVariant, country: str) -> list[Stock]:
        return actions.stocks_to_allocate(self._store, variant.pk, self._channel, country, None)

    def available(self, variant: ProductVariant, country: str) -> int:
        """What an order shipped to ``country`` can still be allocated of ``variant``."""
        return sum(self._free[s.pk] for s in self._stocks(variant, country))

    def allocate(self, variant: ProductVariant, quantity: int, country: str) -> list[tuple[Stock, int]]:
        """``allocate_stocks`` as the stand-in's ``place_order`` runs it, on the stock left free so far."""
        taken: list[tuple[Stock, int]] = []
        for stock in self._stocks(variant, country):
            take = min(self._free[stock.pk], quantity)
            if take > 0:
                taken.append((stock, take))
                self._free[stock.pk] -= take
                quantity -= take
        if quantity > 0:
            raise ValueError(f"{variant.sku}: {quantity} more than the shelves hold")
        return taken

    def release(self, allocations: Sequence[tuple[Stock, int]]) -> None:
        for stock, quantity in allocations:
            self._free[stock.pk] += quantity


@dataclass(frozen=True, slots=True)
class _Parcel:
    """What one warehouse ships of an order at once: (line index, quantity) pairs."""

    warehouse: Warehouse
    lines: tuple[tuple[int, int], ...]


def plan_day(store: Store, catalogue: Catalogue, *, seed: int, orders: int, day: date) -> list[Step]:
    """The day's steps, in time order (aware UTC, within ``day``), the same for the same seed, day and ``orders``.

    For 14 orders or more the day holds every pattern, in proportion: a card-testing
    cluster (about one per 60 orders), and about one per 40 orders each of billing and
    shipping in different countries, a forwarder address, a disposable email and a
    high-value first order sent overnight. Fewer orders get one card-testing cluster
    (from 8) and one order combining the other patterns (from 2). The ordinary orders
    include, where there are enough of them, one that is never paid, one the customer
    cancels, one shipped a unit short, and one whose line comes back; then, among plain
    orders that left whole, about one parcel per 20 orders is called back (and sent again
    in the warehouse's next wave, if there is one today) and one more line per 30 orders
    comes back. About one plain order per 30 (at least one) is paid through a card plugin
    and has a shipped unit refunded, not returned, a few hours after it left.
    """
    if orders < 0:
        raise ValueError("orders must not be negative")
    return _DayPlanner(store, catalogue, seed=seed, orders=orders, day=day).plan()


class _DayPlanner:
    def __init__(self, store: Store, catalogue: Catalogue, *, seed: int, orders: int, day: date) -> None:
        self.catalogue = catalogue
        self.orders = orders
        self.rng = random.Random(f"day:{seed}:{day.isoformat()}:{orders}")
        # Drawn apart, so that adding how orders are paid left the rest of a seeded day as it was.
        self.payment_rng = random.Random(f"payments:{seed}:{day.isoformat()}:{orders}")
        self.start = datetime.combine(day, time(0), UTC)
        self.end = self.start + timedelta(days=1)
        self.shelf = _Shelf(store, catalogue.channel)
        self.first_number = max((order.number for order in store.orders.values()), default=0) + 1
        # Plan order index → the order's key, filled as the order steps are applied.
        self.placed: dict[int, UUID] = {}
        # (plan order index, warehouse key) → the fulfillment its last parcel made, filled as parcels ship.
        self.shipments: dict[tuple[int, UUID], int] = {}
        self.parcels: dict[int, list[tuple[_Parcel, datetime]]] = {}  # plan order index → its parcels, planned
        self.packed: dict[tuple[str, datetime], int] = {}  # parcels per warehouse wave, for their slots
        self.steps: list[tuple[datetime, int, Step]] = []
        self.returning = [s for s in catalogue.shoppers if s.returning]
        self.new = [s for s in catalogue.shoppers if not s.returning]
        self.used: set[int] = set()
        self.first_orders: set[int] = set()  # accounts whose one order of the day must stay their first
        self.emails: set[str] = {s.customer.email for s in catalogue.shoppers}
        # Refunds draw from their own generator, so the rest of the day is as it would be without them.
        self.refund_rng = random.Random(f"refunds:{seed}:{day.isoformat()}:{orders}")
        # Plan order indexes paid through a card plugin, to refund a unit of; chosen once the
        # parcels are planned, read when the payment step is applied.
        self.refunded: set[int] = set()

    # -- the whole day ----------------------------------------------------------------------

    def plan(self) -> list[Step]:
        intents = self._fraud() + self._ordinary(self.orders - self._fraud_count())
        intents.sort(key=lambda intent: intent.at)
        for offset, intent in enumerate(intents):
            intent.number = self.first_number + offset
        self._choose_payments(intents)
        for intent in intents:
            intent.via_checkout = not intent.note
        self._simulate(intents)
        for index, intent in enumerate(intents):
            self._order_steps(index, intent)
        self._fulfilment_steps(intents)
        self.steps.sort(key=lambda entry: (entry[0], entry[1]))
        return [step for _, _, step in self.steps]

    def _choose_payments(self, intents: list[_Intent]) -> None:
        """About one ordinary paid order in four was charged at checkout and one in eight paid by bank
        transfer (marked as paid by staff), at least one of each where there are enough orders; the fraud
        patterns pay by card after the order, so their card checks come with the payment."""
        ordinary = [intent for intent in intents if intent.charge is not None and not intent.note]
        rng = self.payment_rng
        rng.shuffle(ordinary)
        at_checkout = max(1, round(len(ordinary) / 4)) if len(ordinary) >= 3 else 0
        by_transfer = max(1, round(len(ordinary) / 8)) if len(ordinary) >= 3 else 0
        for intent in ordinary[:at_checkout]:
            intent.paid_by = "checkout"
        for intent in ordinary[at_checkout : at_checkout + by_transfer]:
            intent.paid_by = "mark"

    def _fraud_mix(self) -> tuple[int, int, int, int]:
        """(card-testing clusters, orders per cluster, orders per other pattern, combined orders)."""
        n = self.orders
        if n >= 14:
            return max(1, round(n / 60)), 3 if n < 60 else 4, max(1, round(n / 40)), 0
        return (1 if n >= 8 else 0), 3, 0, (1 if n >= 2 else 0)

    def _fraud_count(self) -> int:
        clusters, size, singles, combined = self._fraud_mix()
        return clusters * size + 4 * singles + combined

    def _add(
        self,
        at: datetime,
        kind: str,
        description: str,
        apply: Callable[[Store], None],
        shop: Callable[[Store, ListDeliveryMethods], Awaitable[None]] | None = None,
    ) -> None:
        at = min(at, self.end - timedelta(seconds=1))
        self.steps.append((at, len(self.steps), Step(at, kind, description, apply, shop)))

    def _time(self, earliest: time = time(0, 2), latest: time = _LAST_ORDER) -> datetime:
        """An arrival time between ``earliest`` and ``latest``, weighted by the hour."""
        hours = list(range(earliest.hour, latest.hour + 1))
        hour = self.rng.choices(hours, weights=[_HOURLY[h] for h in hours])[0]
        at = self.start + timedelta(hours=hour, seconds=self.rng.randrange(3600))
        low, high = self._at(earliest), self._at(latest)
        return min(max(at, low), high)

    def _at(self, moment: time) -> datetime:
        return datetime.combine(self.start.date(), moment, UTC)

    # -- who orders what ----------------------------------------------------------------------

    def _ordinary(self, count: int) -> list[_Intent]:
        rng = self.rng
        returning = round(count * 0.6) if count > 1 else count
        new_accounts = round(count * 0.25)
        kinds = ["returning"] * returning + ["new"] * new_accounts + ["guest"] * (count - returning - new_accounts)
        rng.shuffle(kinds)
        designated = (
            ["return"] * ((1 + self.orders // 100) if count >= 2 else 0)
            + ["short"] * (max(1, round(count / 20)) if count >= 2 else 0)
            + ["unpaid"] * (max(1, round(count * 0.06)) if count >= 3 else 0)
            + ["cancel"] * (max(1, round(count * 0.04)) if count >= 4 else 0)
        )
        fates = (designated + ["ship"] * count)[:count]
        intents = []
        for kind, fate in zip(kinds, fates, strict=True):
            early = fate in {"return", "short"}
            at = self._time(time(0, 5), time(11, 0)) if early else self._time()
            intents.append(self._ordinary_intent(kind, fate, at))
        return intents

    def _ordinary_intent(self, kind: str, fate: str, at: datetime) -> _Intent:
        rng = self.rng
        shopper = self._shopper(kind)
        if shopper is not None:
            customer = shopper.customer
            address = customer.default_shipping_address or Address()
            email = customer.email
            card, ip = shopper.card, shopper.ip
            earlier = f"{shopper.prior_orders} earlier order{'' if shopper.prior_orders == 1 else 's'}"
            who = f"{email} (returning, {earlier})" if shopper.returning else f"{email} (new account)"
        else:
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            email = _unique_email(rng, first, last, self.emails)
            address = _us_address(rng, first, last)
            brand, bin_ = rng.choice(_US_CARDS)
            card, ip = Card(brand, bin_, _digits(rng, 4), "US"), _ip(rng)
            who = f"guest {email}"
        # Now and then a genuine customer's checks fail too: a new street not yet with the bank.
        avs = rng.choices(("Y", "A", "Z", "U"), weights=(90, 4, 4, 2))[0]
        cvv = rng.choices(("M", "P"), weights=(97, 3))[0]
        delay = timedelta(seconds=rng.randint(20, 240))
        charge = None if fate == "unpaid" else _Charge(card, avs, cvv, ip, "US", delay)
        level = rng.choices(("standard", "express", "overnight"), weights=(80, 15, 5))[0]
        intent = _Intent(
            at=at,
            who=who,
            email=email,
            shopper=shopper,
            ship_to=address,
            bill_to=address,
            method=self.catalogue.shipping[level],
            wishes=self._basket(kind, fate),
            charge=charge,
            fate=fate,
        )
        if fate == "cancel":
            intent.cancel_at = min(at + timedelta(minutes=rng.randint(25, 150)), self._at(_LAST_CANCEL))
            intent.cancel_reason = rng.choice(
                ("the customer changed their mind", "the customer ordered the wrong grind", "duplicate order")
            )
        return intent

    def _shopper(self, kind: str) -> Shopper | None:
        if kind == "guest":
            return None
        pool = [
            s for s in (self.returning if kind == "returning" else self.new) if s.customer.pk not in self.first_orders
        ]
        fresh = [s for s in pool if s.customer.pk not in self.used]
        shopper = self.rng.choice(fresh or pool)
        self.used.add(shopper.customer.pk)
        return shopper

    def _basket(self, kind: str, fate: str) -> list[tuple[str, int]]:
        rng = self.rng
        coffee = rng.choice(_COFFEE[:3])
        if fate == "short":
            return [(coffee, rng.randint(2, 3)), ("BRW-FILT-100", 1)]
        if fate == "return":
            return [(rng.choice(("MRC-TEE-M", "MRC-TEE-L", "MRC-MUG-12")), 1), (coffee, 2)]
        if kind == "returning":
            basket = rng.choices(("coffee", "gear", "merch", "upgrade"), weights=(55, 20, 15, 10))[0]
        else:
            basket = rng.choice(("starter", "kettle", "grinder"))
        wishes = {
            "coffee": [(coffee, rng.randint(1, 3)), (rng.choice(_COFFEE), 1)],
            "gear": [(coffee, rng.randint(1, 2)), (rng.choice(("BRW-DRIP-WHT", "BRW-SCALE", "BRW-FILT-100")), 1)],
            "merch": [(rng.choice(("MRC-TEE-M", "MRC-TEE-L", "MRC-MUG-12")), 1), (coffee, 1)],
            "upgrade": [(rng.choice(("MCH-HGRIND", "MCH-BGRIND")), 1), (coffee, 1)],
            "starter": [("BRW-DRIP-WHT", 1), ("BRW-FILT-100", 1), (coffee, 1)],
            "kettle": [("BRW-KETL-1L", 1), (coffee, 2)],
            "grinder": [("MCH-HGRIND", 1), (coffee, 1)],
        }[basket]
        if rng.random() < 0.3:
            wishes.append(("BRW-FILT-100", 1))
        return wishes

    def _fraud(self) -> list[_Intent]:
        clusters, size, singles, combined = self._fraud_mix()
        intents: list[_Intent] = []
        for _ in range(clusters):
            intents += self._card_testing(size)
        for _ in range(singles):
            intents.append(self._country_mismatch())
            intents.append(self._reshipper())
            intents.append(self._disposable())
            intents.append(self._high_value_first())
        for _ in range(combined):
            intents.append(self._combined())
        return intents

    def _guest(self, *, domain: str | None = None) -> tuple[str, str, str]:
        rng = self.rng
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        if domain is None:
            return first, last, _unique_email(rng, first, last, self.emails)
        email = f"{rng.choice(('deals', 'quick', 'xz', 'shop'))}{_digits(rng, 4)}@{domain}"
        self.emails.add(email)
        return first, last, email

    def _card_testing(self, size: int) -> list[_Intent]:
        """Several small orders from one email and IP within half an hour, one BIN, new card numbers each time."""
        rng = self.rng
        first, last, email = self._guest()
        ip = _ip(rng)
        brand, bin_ = rng.choice(_US_CARDS)
        address = _us_address(rng, first, last)
        start = self._at(time(rng.randint(3, 9), rng.randint(0, 59)))
        cancel_at = start + timedelta(minutes=8 * size + rng.randint(40, 90))
        intents = []
        at = start
        for attempt in range(size):
            card = Card(brand, bin_, _digits(rng, 4), "US")
            delay = timedelta(seconds=rng.randint(15, 60))
            # The last try never gets through; the others do, with failing checks.
            charge = None if attempt == size - 1 else _Charge(card, rng.choice("NZ"), rng.choice("NM"), ip, "US", delay)
            intents.append(
                _Intent(
                    at=at,
                    who=f"guest {email}",
                    email=email,
                    shopper=None,
                    ship_to=address,
                    bill_to=address,
                    method=self.catalogue.shipping["standard"],
                    wishes=[(rng.choice(("BRW-FILT-100", "MRC-MUG-12", "COF-COL-340")), 1)],
                    charge=charge,
                    fate="cancel",
                    note=f"card testing {attempt + 1}/{size}",
                    cancel_at=cancel_at + timedelta(minutes=attempt),
                    cancel_reason="staff caught the card testing",
                )
            )
            at += timedelta(minutes=rng.randint(3, 8), seconds=rng.randrange(60))
        return intents

    def _country_mismatch(self) -> _Intent:
        """Billed in the UK, shipped to the US: a traveller's gift, as staff find out and approve."""
        rng = self.rng
        first, last, email = self._guest()
        brand, bin_ = rng.choice(_GB_CARDS)
        return _Intent(
            at=self._time(time(1, 0), time(13, 0)),
            who=f"guest {email}",
            email=email,
            shopper=None,
            ship_to=_us_address(rng, rng.choice(_FIRST_NAMES), last),
            bill_to=replace(_GB_ADDRESS, first_name=first, last_name=last),
            method=self.catalogue.shipping["express"],
            wishes=[("BRW-KETL-1L", 1), ("BRW-SCALE", 1), (rng.choice(_COFFEE[:3]), 1)],
            charge=_Charge(Card(brand, bin_, _digits(rng, 4), "GB"), "U", "M", _ip(rng), "GB", timedelta(minutes=1)),
            fate="approve",
            note="billing in GB, shipping in US",
        )

    def _reshipper(self) -> _Intent:
        rng = self.rng
        first, last, email = self._guest()
        billing = _us_address(rng, first, last)
        forwarder = replace(
            rng.choice(self.catalogue.reshippers),
            first_name=first,
            last_name=last,
            street_address2=f"Suite 1-{_digits(rng, 5)}",
        )
        brand, bin_ = rng.choice(_US_CARDS)
        card = Card(brand, bin_, _digits(rng, 4), "US")
        return _Intent(
            at=self._time(),
            who=f"guest {email}",
            email=email,
            shopper=None,
            ship_to=forwarder,
            bill_to=billing,
            method=self.catalogue.shipping["express"],
            wishes=[("MCH-BGRIND", 1), ("MCH-HGRIND", 1), ("BRW-SCALE", 2)],
            charge=_Charge(card, "N", "M", _ip(rng), rng.choice(("VE", "NG", "RU")), timedelta(seconds=50)),
            fate="hold",
            note=f"ships to a freight forwarder in {forwarder.city}",
        )

    def _disposable(self) -> _Intent:
        rng = self.rng
        domain = rng.choice(DISPOSABLE_EMAIL_DOMAINS)
        first, last, email = self._guest(domain=domain)
        address = _us_address(rng, first, last)
        brand, bin_ = rng.choice(_US_CARDS)
        card = Card(brand, bin_, _digits(rng, 4), "US")
        return _Intent(
            at=self._time(),
            who=f"guest {email}",
            email=email,
            shopper=None,
            ship_to=address,
            bill_to=address,
            method=self.catalogue.shipping[rng.choice(("standard", "express"))],
            wishes=[("MCH-HGRIND", 1), (rng.choice(_COFFEE[:3]), 2)],
            charge=_Charge(card, "A", "N", _ip(rng), "US", timedelta(seconds=40)),
            fate="hold",
            note=f"disposable email ({domain})",
        )

    def _high_value_first(self) -> _Intent:
        """A new account's first order, the most expensive things in the shop, overnight; staff cancel after review."""
        rng = self.rng
        shopper = self._shopper("new")
        assert shopper is not None
        self.first_orders.add(shopper.customer.pk)
        customer = shopper.customer
        address = customer.default_shipping_address or Address()
        at = self._time(time(1, 0), time(8, 0))
        brand, bin_ = rng.choice(_US_CARDS)
        card = Card(brand, bin_, _digits(rng, 4), "US")  # not the card the account was opened with
        return _Intent(
            at=at,
            who=f"{customer.email} (new account, first order)",
            email=customer.email,
            shopper=shopper,
            ship_to=address,
            bill_to=address,
            method=self.catalogue.shipping["overnight"],
            wishes=[("MCH-ESPRO", 1), ("MCH-BGRIND", 1), ("MCH-HGRIND", 2)],
            charge=_Charge(card, "Z", "M", _ip(rng), "US", timedelta(seconds=70)),
            fate="cancel",
            note="high-value first order, overnight",
            cancel_at=min(at + timedelta(hours=rng.randint(2, 4)), self._at(_LAST_CANCEL)),
            cancel_reason="staff could not verify the buyer",
        )

    def _combined(self) -> _Intent:
        """With few orders, one order carries the patterns: disposable email, forwarder, UK card, overnight."""
        rng = self.rng
        domain = rng.choice(DISPOSABLE_EMAIL_DOMAINS)
        first, last, email = self._guest(domain=domain)
        forwarder = replace(
            rng.choice(self.catalogue.reshippers), first_name=first, last_name=last, street_address2="Suite 1-40417"
        )
        brand, bin_ = rng.choice(_GB_CARDS)
        return _Intent(
            at=self._time(time(1, 0), time(12, 0)),
            who=f"guest {email}",
            email=email,
            shopper=None,
            ship_to=forwarder,
            bill_to=replace(_GB_ADDRESS, first_name=first, last_name=last),
            method=self.catalogue.shipping["overnight"],
            wishes=[("MCH-ESPRO", 1), ("MCH-BGRIND", 1)],
            charge=_Charge(Card(brand, bin_, _digits(rng, 4), "GB"), "N", "N", _ip(rng), "NG", timedelta(seconds=35)),
            fate="hold",
            note="disposable email, forwarder, UK card, overnight",
        )

    # -- stock over the day --------------------------------------------------------------------

    def _simulate(self, intents: list[_Intent]) -> None:
        """Settle each order's lines and allocations in step order, cancellations freeing stock for later orders.

        Among steps at the same second, an order's own steps follow its placement and come
        before the next order's (``plan`` sorts the steps so), and so does this.
        """
        moments = [(intent.at, index, 0) for index, intent in enumerate(intents)]
        moments += [(i.cancel_at, index, 1) for index, i in enumerate(intents) if i.cancel_at is not None]
        for _, index, is_cancel in sorted(moments):
            intent = intents[index]
            country = intent.ship_to.country  # where Saleor allocates an order from
            if is_cancel:
                for allocations in intent.allocations:
                    self.shelf.release(allocations)
                continue
            for sku, wanted in intent.wishes:
                item = self.catalogue.item(sku)
                if any(existing is item for existing, _ in intent.lines):
                    continue
                quantity = min(wanted, self.shelf.available(item.variant, country))
                if quantity > 0:
                    intent.lines.append((item, quantity))
            if not intent.lines:
                intent.lines.append((self._fallback(country), 1))
            intent.allocations = [
                self.shelf.allocate(item.variant, quantity, country) for item, quantity in intent.lines
            ]

    def _fallback(self, country: str) -> Item:
        for sku in _FALLBACK:
            item = self.catalogue.item(sku)
            if self.shelf.available(item.variant, country) > 0:
                return item
        raise ValueError("the shop runs out of stock: plan fewer orders")

    def _subtotal(self, intent: _Intent) -> Decimal:
        channel = self.catalogue.channel
        subtotal = Decimal(0)
        for item, quantity in intent.lines:
            listing = item.variant.listing_in(channel.pk)
            assert listing is not None
            subtotal += listing.price * quantity
        return subtotal

    # -- steps ----------------------------------------------------------------------------------

    def _order_steps(self, index: int, intent: _Intent) -> None:
        channel = self.catalogue.channel
        lines = [(item.variant, quantity) for item, quantity in intent.lines]
        subtotal = self._subtotal(intent)
        placed = self.placed
        charge = intent.charge
        reference = ""
        if charge is not None:
            reference = "pi_" + "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(24))

        def paid_at_checkout(store: Store, total: Decimal) -> list[TransactionItem]:
            if charge is None or intent.paid_by != "checkout":
                return []
            return [
                TransactionItem(
                    store.new_uuid(),
                    CURRENCY,
                    intent.at,
                    intent.at,
                    name="Credit card",
                    psp_reference=reference,
                    charged_amount=total,
                    metadata=charge.metadata(),
                )
            ]

        def placed_as_planned(order: Order) -> None:
            if order.number != intent.number or order.subtotal_gross != subtotal:
                raise RuntimeError("the store is not the one the day was planned on: apply each step once, in order")
            placed[index] = order.pk

        def place(store: Store) -> None:
            total = subtotal + intent.method.price
            order = actions.place_order(
                store,
                channel,
                lines,
                at=intent.at,
                customer=intent.shopper.customer if intent.shopper else None,
                email=intent.email,
                shipping_address=intent.ship_to,
                billing_address=intent.bill_to,
                shipping=intent.method,
                transactions=paid_at_checkout(store, total),
            )
            placed_as_planned(order)

        def start_checkout(store: Store) -> Checkout:
            if intent.number in {o.number for o in store.orders.values()}:
                raise RuntimeError("the store is not the one the day was planned on: apply each step once, in order")
            return checkouts.create_checkout(
                store,
                channel,
                lines,
                at=intent.at,
                customer=intent.shopper.customer if intent.shopper else None,
                email=intent.email,
                shipping_address=intent.ship_to,
                billing_address=intent.bill_to,
            )

        def complete(store: Store, cart: Checkout) -> None:
            chosen = _shoppers_choice(cart.shipping_methods, wanted=intent.method)
            checkouts.select_delivery_method(cart, chosen.global_id)
            transactions = paid_at_checkout(store, subtotal + chosen.price)
            placed_as_planned(checkouts.complete_checkout(store, cart, at=intent.at, transactions=transactions))

        def check_out(store: Store) -> None:  # no app is asked: the shop's own methods alone
            cart = start_checkout(store)
            checkouts.list_own_methods(store, cart)
            complete(store, cart)

        async def check_out_asking_apps(store: Store, list_delivery_methods: ListDeliveryMethods) -> None:
            cart = start_checkout(store)
            await list_delivery_methods(cart)
            complete(store, cart)

        note = f" [{intent.note}]" if intent.note else ""
        method = intent.method.name.split(" (")[0].lower()
        at_checkout = ""
        if charge is not None and intent.paid_by == "checkout":
            at_checkout = (
                f", paid at checkout by {charge.card.brand} ••{charge.card.last4} "
                f"(AVS {charge.avs}, CVV {charge.cvv}, IP in {charge.ip_country})"
            )
        if intent.via_checkout:
            self._add(
                intent.at,
                "order",
                f"#{intent.number} by {intent.who}: {_items(intent.lines)}, {_money(subtotal)}, checks out "
                f"wanting {method} shipping{at_checkout}{note}",
                check_out,
                check_out_asking_apps,
            )
            total = "the order's total"
        else:
            total = _money(subtotal + intent.method.price)
            self._add(
                intent.at,
                "order",
                f"#{intent.number} by {intent.who}: {_items(intent.lines)}, {method}, {total}{at_checkout}{note}",
                place,
            )

        if charge is not None and intent.paid_by == "card":
            paid_at = intent.at + charge.delay

            def pay(store: Store) -> None:
                order = store.orders[placed[index]]
                if index in self.refunded:
                    card = charge.card
                    actions.capture_payment(
                        store,
                        order,
                        order.total_gross,
                        at=paid_at,
                        gateway=_CARD_PLUGIN,
                        psp_reference=reference,
                        credit_card=CreditCard(card.brand, card.last4, first_digits=card.bin),
                        customer_ip_address=charge.ip,
                        metadata=charge.metadata(),
                    )
                    return
                actions.record_charge(
                    store,
                    order,
                    order.total_gross,
                    at=paid_at,
                    psp_reference=reference,
                    name="Credit card",
                    metadata=charge.metadata(),
                )

            self._add(
                paid_at,
                "payment",
                f"#{intent.number} paid {total} by {charge.card.brand} ••{charge.card.last4} "
                f"(AVS {charge.avs}, CVV {charge.cvv}, IP in {charge.ip_country})",
                pay,
            )
        elif charge is not None and intent.paid_by == "mark":
            marked_at = intent.at + charge.delay

            def mark_as_paid(store: Store) -> None:
                order = store.orders[placed[index]]
                if order.status is not OrderStatus.CANCELED:
                    actions.mark_order_as_paid(store, order, at=marked_at, principal=None)

            self._add(
                marked_at,
                "payment",
                f"#{intent.number}: {total} arrives by bank transfer; staff mark the order as paid",
                mark_as_paid,
            )

        if intent.cancel_at is not None:
            cancel_at = intent.cancel_at

            def cancel(store: Store) -> None:
                order = store.orders[placed[index]]
                if order.status is not OrderStatus.CANCELED:
                    actions.cancel_order(store, order, at=cancel_at, principal=None)

            self._add(cancel_at, "cancel", f"#{intent.number} cancelled: {intent.cancel_reason}", cancel)

    def _fulfilment_steps(self, intents: list[_Intent]) -> None:
        to_return: list[tuple[datetime, int, _Intent]] = []
        delivered: list[tuple[datetime, int, _Intent]] = []  # plain orders that left whole
        for index, intent in enumerate(intents):
            if intent.charge is None or intent.fate in {"hold", "cancel"}:
                continue
            paid_at = intent.at if intent.paid_by == "checkout" else intent.at + intent.charge.delay
            ready = paid_at + _HANDLING
            if intent.fate == "approve":
                approved_at = ready + timedelta(minutes=self.rng.randint(60, 180))
                self._confirm_step(index, intent, approved_at)
                ready = approved_at + timedelta(minutes=15)
            last_parcel = self._ship(index, intent, ready)
            if last_parcel is not None and intent.fate == "return":
                to_return.append((last_parcel, index, intent))
            elif last_parcel is not None and intent.fate == "ship":
                delivered.append((last_parcel, index, intent))

        for shipped_at, index, intent in to_return:
            returned_at = self._returned_at(shipped_at)
            if returned_at < self._at(_LAST_RETURN):
                self._return_step(index, intent, returned_at)
        taken = self._afterthoughts(delivered)
        self._refunds([entry for entry in delivered if entry[1] not in taken])

    def _refunds(self, delivered: list[tuple[datetime, int, _Intent]]) -> None:
        """About one plain order per 30 (at least one), among those that left whole and were neither
        called back nor returned, was paid through a legacy card plugin, and a unit of it arrived
        damaged: staff refund it, the customer keeps it. Saleor refunds products only against such
        a ``Payment``, never against transactions alone. Drawn from their own generator, so the
        rest of the day is as it would be without them."""
        rng = self.refund_rng
        latest = self._at(_LAST_RETURN) - _LONGEST_REFUND
        # Paid by card after the order: a payment step the plugin's capture can take the place of.
        candidates = [entry for entry in delivered if entry[0] <= latest and entry[2].paid_by == "card"]
        for shipped_at, index, intent in rng.sample(candidates, min(len(candidates), max(1, self.orders // 30))):
            self.refunded.add(index)
            self._refund_step(index, intent, shipped_at + timedelta(hours=rng.randint(1, 3)))

    def _afterthoughts(self, delivered: list[tuple[datetime, int, _Intent]]) -> set[int]:
        """A few parcels called back and a few more lines returned, each among plain orders that left whole.

        About one call-back per 20 orders (at least one), among orders shipped in one parcel, and
        one more return per 30 orders, among the others that left early enough to come back
        today. Planned after everything else, so the rest of the day is as it would be without.
        The orders it took.
        """
        rng = self.rng
        in_one_parcel = [entry for entry in delivered if len(self.parcels[entry[1]]) == 1]
        called_back = rng.sample(in_one_parcel, min(len(in_one_parcel), max(1, self.orders // 20)))
        for _, index, intent in called_back:
            ((parcel, shipped_at),) = self.parcels[index]
            self._call_back_steps(index, intent, parcel, shipped_at)
        taken = {index for _, index, _ in called_back}
        latest = self._at(_LAST_RETURN) - _LONGEST_RETURN
        returnable = [entry for entry in delivered if entry[1] not in taken and entry[0] <= latest]
        returned = rng.sample(returnable, min(len(returnable), self.orders // 30))
        for shipped_at, index, intent in returned:
            self._return_step(index, intent, self._returned_at(shipped_at))
        return taken | {index for _, index, _ in returned}

    def _returned_at(self, shipped_at: datetime) -> datetime:
        """When a line comes back: two to six hours after its parcel left (``_LONGEST_RETURN``)."""
        return shipped_at + timedelta(hours=self.rng.randint(2, 5), minutes=self.rng.randrange(60))

    def _confirm_step(self, index: int, intent: _Intent, at: datetime) -> None:
        placed = self.placed

        def confirm(store: Store) -> None:
            order = store.orders[placed[index]]
            if order.status is OrderStatus.UNCONFIRMED:
                actions.confirm_order(store, order, at=at, principal=None)

        self._add(at, "confirm", f"Staff approve #{intent.number} after checking with the customer", confirm)

    def _ship(self, index: int, intent: _Intent, ready: datetime) -> datetime | None:
        """Each warehouse's part leaves in its next wave (a split line's 3PL part after the in-house part).

        Returns when the whole order has left, or None when some of it stays for tomorrow.
        """
        catalogue = self.catalogue
        parts: dict[UUID, list[tuple[int, int]]] = {}
        for line_index, allocations in enumerate(intent.allocations):
            for stock, quantity in allocations:
                parts.setdefault(stock.warehouse_pk, []).append((line_index, quantity))
        short_line = None
        if intent.fate == "short":
            main_part = parts.get(catalogue.main.pk, [])
            short_line = next((i for i, (_, quantity) in enumerate(main_part) if quantity >= 2), None)
            if short_line is not None:
                line_index, quantity = main_part[short_line]
                main_part[short_line] = (line_index, quantity - 1)
        after = ready
        # Stock Saleor allocated in another warehouse (a partner's) is not the staff's to ship.
        complete = short_line is None and set(parts) <= {catalogue.main.pk, catalogue.tpl.pk}
        last_parcel = ready
        for warehouse in (catalogue.main, catalogue.tpl):
            lines = parts.get(warehouse.pk)
            if not lines:
                continue
            at = self._pick_up(warehouse, after)
            if at is None:
                return None  # this part, and any after it, ship tomorrow
            parcel = _Parcel(warehouse, tuple(lines))
            self.parcels.setdefault(index, []).append((parcel, at))
            short_note = ""
            if warehouse is catalogue.main and short_line is not None:
                item = intent.lines[parcel.lines[short_line][0]][0]
                short_note = f" (1 × {item.name} short on the shelf, follows later)"
            self._parcel_step(index, intent, parcel, at, short_note)
            after = last_parcel = at
        return last_parcel if complete else None

    def _pick_up(self, warehouse: Warehouse, ready: datetime) -> datetime | None:
        """When a parcel ready at ``ready`` leaves: its slot in the warehouse's next wave, or None (tomorrow)."""
        waves = _MAIN_WAVES if warehouse is self.catalogue.main else _TPL_WAVES
        wave = next((self._at(w) for w in waves if self._at(w) >= ready), None)
        if wave is None:
            return None
        count = self.packed.get((warehouse.slug, wave), 0)
        self.packed[(warehouse.slug, wave)] = count + 1
        return wave + _PACKING * count

    def _parcel_step(self, index: int, intent: _Intent, parcel: _Parcel, at: datetime, note: str) -> None:
        placed, shipments = self.placed, self.shipments
        tracking = self._tracking(parcel.warehouse, intent.method)
        warehouse_id = to_global_id("Warehouse", parcel.warehouse.pk)

        def ship(store: Store) -> None:
            order = store.orders[placed[index]]
            if order.status is OrderStatus.CANCELED:
                return
            if order.status is OrderStatus.UNCONFIRMED and _held_by_app(order):
                return  # staff ship what is confirmed; a held order waits for a person's decision
            packed = {to_global_id("OrderLine", order.lines[i].pk): quantity for i, quantity in parcel.lines}
            routed = _routed_here(order, warehouse_id)
            if routed is not None:  # a routing app's plan says what this warehouse's staff ship
                by_pk = {to_global_id("OrderLine", line.pk): line for line in order.lines}
                packed = {
                    line: min(quantity, packed.get(line, quantity), by_pk[line].quantity_unfulfilled)
                    for line, quantity in routed.items()
                    if line in by_pk
                }
            lines = [(line, [(warehouse_id, quantity)]) for line, quantity in packed.items() if quantity > 0]
            if not lines:
                return  # the plan gives this warehouse nothing of the order
            if order.status is OrderStatus.UNCONFIRMED:
                # Without an app's hold, staff release the order as the parcel is packed.
                actions.confirm_order(store, order, at=at, principal=None)
            (fulfillment,) = actions.fulfill_order(store, order, lines, at=at, principal=None, tracking_number=tracking)
            shipments[(index, parcel.warehouse.pk)] = fulfillment.pk

        shipped = [(intent.lines[line_index][0], quantity) for line_index, quantity in parcel.lines if quantity > 0]
        self._add(at, "fulfilment", f"{parcel.warehouse.name} ships #{intent.number}: {_items(shipped)}{note}", ship)

    def _tracking(self, warehouse: Warehouse, method: ShippingMethod) -> str:
        rng = self.rng
        if "Overnight" in method.name:
            return _digits(rng, 12)  # FedEx
        if warehouse is self.catalogue.tpl and "Standard" in method.name:
            return "9400" + _digits(rng, 18)  # USPS
        return (
            "1Z"
            + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
            + "03"
            + _digits(rng, 8)
        )  # UPS

    def _return_step(self, index: int, intent: _Intent, at: datetime) -> None:
        placed = self.placed
        line_index = next(
            (i for i, (item, _) in enumerate(intent.lines) if item.category == "Merch"),
            0,
        )
        item = intent.lines[line_index][0]
        reason = "wrong size" if "Tee" in item.name else "arrived damaged"

        def give_back(store: Store) -> None:
            order = store.orders[placed[index]]
            shipped = _shipped_units(order, order.lines[line_index].pk)
            if shipped is not None:  # else it never left: an app held the order for review
                actions.return_lines(store, order, [(shipped, 1)], at=at, principal=None)

        self._add(at, "return", f"#{intent.number} comes back: 1 × {item.name} ({reason})", give_back)

    def _refund_step(self, index: int, intent: _Intent, at: datetime) -> None:
        """Staff refund one unit of the order's first line, left in its parcel: a refund, no return."""
        placed = self.placed
        item = intent.lines[0][0]

        def refund(store: Store) -> None:
            order = store.orders[placed[index]]
            shipped = _shipped_units(order, order.lines[0].pk)
            if shipped is not None:  # else it never left: an app held the order for review
                actions.refund_lines(store, order, fulfillment_lines=[(shipped, 1)], at=at, principal=None)

        self._add(
            at,
            "refund",
            f"#{intent.number} refunded 1 × {item.name} to the card plugin (arrived damaged; the customer keeps it)",
            refund,
        )

    def _call_back_steps(self, index: int, intent: _Intent, parcel: _Parcel, shipped_at: datetime) -> None:
        """Staff call a parcel back before the carrier has it: its fulfillment is cancelled, the goods go back on the
        warehouse's shelf (held for the order again) and the parcel leaves in the next wave, or tomorrow."""
        placed, shipments = self.placed, self.shipments
        warehouse = parcel.warehouse
        at = shipped_at + timedelta(minutes=self.rng.randint(10, 40))
        reason = self.rng.choice(_CALL_BACK_REASONS)

        def call_back(store: Store) -> None:
            order = store.orders[placed[index]]
            shipment = shipments.get((index, warehouse.pk))
            fulfillment = next((f for f in order.fulfillments if f.pk == shipment), None)
            if fulfillment is None or fulfillment.status is not FulfillmentStatus.FULFILLED:
                return  # it never left: an app held the order for review
            restock = store.warehouses[warehouse.pk]
            actions.cancel_fulfillment(store, order, fulfillment, warehouse=restock, at=at, principal=None)

        self._add(
            at,
            "fulfilment-cancel",
            f"{warehouse.name} calls back #{intent.number}'s parcel ({reason}): the goods go back on the shelf",
            call_back,
        )
        again = self._pick_up(warehouse, at + _HANDLING)
        if again is not None:
            self._parcel_step(index, intent, parcel, again, " (again, after the call-back)")


def _shoppers_choice(offered: Sequence[ShippingMethod], *, wanted: ShippingMethod) -> ShippingMethod:
    """What a shopper wanting ``wanted``'s speed picks: the cheapest option an app offers that arrives
    within as many days (the first listed of equals), else the shop's own method of that speed."""
    fast_enough = [
        method
        for method in offered
        if method.external_id is not None
        and method.maximum_delivery_days is not None
        and wanted.maximum_delivery_days is not None
        and method.maximum_delivery_days <= wanted.maximum_delivery_days
    ]
    if fast_enough:
        return min(fast_enough, key=lambda method: method.price)
    if wanted in offered:
        return wanted
    raise RuntimeError(f"the checkout offers neither {wanted.name} nor an app's option as fast")


def _shipped_units(order: Order, line_pk: UUID) -> FulfillmentLine | None:
    """Units of the order line that left in a parcel and are still out; None when none did (an app
    held the order for review)."""
    return next(
        (
            units
            for fulfillment in order.fulfillments
            if fulfillment.status is FulfillmentStatus.FULFILLED
            for units in fulfillment.lines
            if units.order_line_pk == line_pk
        ),
        None,
    )


def _items(lines: Sequence[tuple[Item, int]]) -> str:
    return ", ".join(f"{quantity} × {item.name}" for item, quantity in lines)


def _money(amount: Decimal) -> str:
    return f"${amount:,.2f}"
