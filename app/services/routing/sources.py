"""The merchant's routing sources: partners (3PLs and dropship suppliers) added, edited and removed
from forms, their signing secrets generated and rotated, the priorities of the merchant's own
warehouses, and suppliers' feeds of offers (a CSV upload or the API), each checked field by field.

Bad input changes nothing: a form comes back with each field's problem (``SourcesRejected``), a feed
with each row's and column's (``FeedRejected``), and a feed with any problem stores none of its rows.
"""

from __future__ import annotations

import csv
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit
from uuid import uuid4

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.money import Money
from app.domain.routing.model import PickPackFees, SourceKind
from app.services.input_problems import InputProblem, header_problems, shown
from app.services.ports import RoutingPlans, RoutingSourceStore, WarehouseRef
from app.services.receipt_import import ISO_CURRENCIES, FieldError, json_fields, parse_unit_cost
from app.services.routing.model import HandOffMethod, Partner, SupplierOffer
from app.services.routing.plans import OpenHandOff

PARTNER_FIELDS = (
    "name",
    "kind",
    "warehouse_id",
    "hand_off",
    "address",
    "acceptance_hours",
    "priority",
    "fee_per_order",
    "fee_per_unit",
    "fee_currency",
)
FEE_FIELDS = ("fee_per_order", "fee_per_unit", "fee_currency")
PARTNER_KINDS = {SourceKind.THIRD_PARTY: "3PL", SourceKind.DROPSHIP: "dropship supplier"}
MAX_NAME = 128
MAX_ADDRESS = 2048
MAX_ACCEPTANCE_HOURS = 30 * 24
MAX_PRIORITY = 1000
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})  # the stand-in's and the demo's partners
SECRET_PREFIX = "sops_partner_"  # recognisable in a partner's configuration or a secret scanner

FEED_COLUMNS = ("sku", "unit_price", "currency", "handling_days", "stock")
MAX_SKU = 255  # Saleor's limit for a SKU
MAX_HANDLING_DAYS = 365
MAX_STOCK = 1_000_000_000
MAX_OFFERS = 100_000  # a feed is kept whole in memory while it is checked

_WHOLE = re.compile(r"[0-9]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


@dataclass(frozen=True, slots=True)
class SourcesRejected:
    """Nothing changed: what is wrong with each field, by the form's field name."""

    errors: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class PartnerCreated:
    partner: Partner
    secret: str  # shown this once; only its encryption is kept


@dataclass(frozen=True, slots=True)
class FeedRejected:
    """Nothing stored: each problem by row (CSV line or request index) and column."""

    problems: tuple[InputProblem, ...]


@dataclass(frozen=True, slots=True)
class FeedImported:
    supplier: Partner
    offers: int


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _whole(raw: str, low: int, high: int) -> int | str:
    """The whole number ``raw`` is, within [low, high], or what is wrong with it."""
    value = raw.strip()
    if not value:
        return "is required"
    if not _WHOLE.fullmatch(value):
        if value.startswith("-") and _WHOLE.fullmatch(value[1:]):
            return f"must be {low} or more"
        return "is not a whole number"
    number = int(value)
    if not low <= number <= high:
        return f"must be between {low} and {high}"
    return number


def _amount(raw: str, field: str, errors: dict[str, str]) -> Decimal | None:
    def refuse(_column: str, message: str) -> None:
        errors[field] = message

    return parse_unit_cost(raw, refuse)


def _currency(raw: str) -> str | None:
    currency = raw.strip().upper()
    return currency if currency in ISO_CURRENCIES else None


def _address_problem(hand_off: HandOffMethod, address: str) -> str | None:
    if not address:
        return "is required: where the partner receives its shipments"
    if len(address) > MAX_ADDRESS:
        return f"is longer than {MAX_ADDRESS} characters"
    if hand_off is HandOffMethod.EMAIL:
        return None if _EMAIL.fullmatch(address) else "is not an e-mail address (orders@supplier.example)"
    wrong = "is not an https:// URL (https://partner.example/orders)"
    try:
        parts = urlsplit(address)
        host = parts.hostname
    except ValueError:  # a malformed host ("https://[::1/")
        return wrong
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in address):
        return wrong
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        # The order and its address would cross the network in clear.
        return "must start with https://: plain http:// is only for this machine (localhost, 127.0.0.1, ::1)"
    return None


def _warehouse_problem(
    warehouse_id: str,
    warehouses: Sequence[WarehouseRef] | None,
    others: Sequence[Partner],
    current: str | None,
) -> str | None:
    if not warehouse_id:
        return "is required: pick the Saleor warehouse the partner ships from"
    if warehouses is None and warehouse_id != current:
        return "cannot be checked: Saleor did not list its warehouses just now. Try again"
    if warehouses is not None and warehouse_id not in {warehouse.id for warehouse in warehouses}:
        return "is not a warehouse of this store in Saleor"
    taken = next((other for other in others if other.warehouse_id == warehouse_id), None)
    if taken is not None:
        return f"already ships for {PARTNER_KINDS[taken.kind]} {taken.name}: each partner has its own warehouse"
    return None


def check_partner(
    form: Mapping[str, str],
    *,
    partner_id: str,
    warehouses: Sequence[WarehouseRef] | None,
    others: Sequence[Partner],
    current: Partner | None = None,
) -> Partner | SourcesRejected:
    """The partner a form describes, or each field's problem. ``others`` are the store's other partners
    (names and warehouses are one partner's each); ``warehouses`` the store's in Saleor, None when Saleor
    did not answer (then only ``current``'s warehouse is accepted). An edit (``current``) keeps the kind."""
    errors: dict[str, str] = {}
    value = {name: form.get(name, "").strip() for name in PARTNER_FIELDS}

    name = value["name"]
    if not name:
        errors["name"] = "is required"
    elif len(name) > MAX_NAME:
        errors["name"] = f"is longer than {MAX_NAME} characters"
    elif any(other.name.casefold() == name.casefold() for other in others):
        errors["name"] = "is another partner's name already"

    kind: SourceKind | None = current.kind if current is not None else None
    if kind is None:
        kind = next((k for k in PARTNER_KINDS if k.value == value["kind"]), None)
        if kind is None:
            errors["kind"] = "must be 3pl or dropship"

    problem = _warehouse_problem(
        value["warehouse_id"], warehouses, others, current.warehouse_id if current is not None else None
    )
    if problem:
        errors["warehouse_id"] = problem

    hand_off = next((method for method in HandOffMethod if method.value == value["hand_off"]), None)
    if hand_off is None:
        errors["hand_off"] = "must be webhook or email"
    else:
        problem = _address_problem(hand_off, value["address"])
        if problem:
            errors["address"] = problem

    hours = _whole(value["acceptance_hours"], 1, MAX_ACCEPTANCE_HOURS)
    if isinstance(hours, str):
        errors["acceptance_hours"] = hours
    priority = _whole(value["priority"] or "0", 0, MAX_PRIORITY)
    if isinstance(priority, str):
        errors["priority"] = priority

    fees = _fees(value, kind, errors)
    if errors or kind is None or hand_off is None or isinstance(hours, str) or isinstance(priority, str):
        return SourcesRejected(errors)
    return Partner(
        id=partner_id,
        name=name,
        kind=kind,
        warehouse_id=SaleorId(value["warehouse_id"]),
        hand_off=hand_off,
        address=value["address"],
        acceptance_window=timedelta(hours=hours),
        priority=priority,
        fees=fees,
    )


def _fees(value: Mapping[str, str], kind: SourceKind | None, errors: dict[str, str]) -> PickPackFees | None:
    """A 3PL's pick-and-pack fees, all three fields required; a supplier has none."""
    if kind is not SourceKind.THIRD_PARTY:
        for field in FEE_FIELDS:
            if value[field] and kind is SourceKind.DROPSHIP:
                errors[field] = "is a 3PL's pick-and-pack fee: a dropship supplier has none, leave it empty"
        return None
    per_order = _amount(value["fee_per_order"], "fee_per_order", errors)
    per_unit = _amount(value["fee_per_unit"], "fee_per_unit", errors)
    currency = _currency(value["fee_currency"])
    if currency is None:
        errors["fee_currency"] = (
            "is required" if not value["fee_currency"] else "is not an ISO 4217 currency code such as USD or EUR"
        )
    if per_order is None or per_unit is None or currency is None:
        return None
    return PickPackFees(Money(per_order, currency), Money(per_unit, currency))


async def add_partner(
    store: RoutingSourceStore,
    url: SaleorApiUrl,
    form: Mapping[str, str],
    warehouses: Sequence[WarehouseRef] | None,
    *,
    now: datetime,
) -> PartnerCreated | SourcesRejected:
    """A new partner with a secret the app generates, or each field's problem (and nothing kept)."""
    partner_id = uuid4().hex
    checked = check_partner(form, partner_id=partner_id, warehouses=warehouses, others=await store.partners(url))
    if isinstance(checked, SourcesRejected):
        return checked
    secret = new_secret()
    if not await store.add_partner(url, checked, secret, now):
        # Another request added a partner of this name or warehouse since the check: checked again, the
        # form says which; a partner removed again meanwhile leaves the name to retry.
        again = check_partner(form, partner_id=partner_id, warehouses=warehouses, others=await store.partners(url))
        taken = "was taken by another partner added at the same moment: try again"
        return again if isinstance(again, SourcesRejected) else SourcesRejected({"name": taken})
    return PartnerCreated(checked, secret)


async def update_partner(
    store: RoutingSourceStore,
    url: SaleorApiUrl,
    partner_id: str,
    form: Mapping[str, str],
    warehouses: Sequence[WarehouseRef] | None,
    *,
    now: datetime,
) -> Partner | SourcesRejected | None:
    """The partner with the form's terms (kind and secret unchanged); None for an unknown partner."""
    partners = await store.partners(url)
    current = next((partner for partner in partners if partner.id == partner_id), None)
    if current is None:
        return None
    others = [partner for partner in partners if partner.id != partner_id]
    checked = check_partner(form, partner_id=partner_id, warehouses=warehouses, others=others, current=current)
    if isinstance(checked, SourcesRejected):
        return checked
    await store.update_partner(url, checked, now)
    return checked


@dataclass(frozen=True, slots=True)
class PartnerBusy:
    """Not removed: the partner has hand-offs still to ship, oldest first."""

    partner: Partner
    open: tuple[OpenHandOff, ...]


async def remove_partner(
    store: RoutingSourceStore, plans: RoutingPlans, url: SaleorApiUrl, partner_id: str
) -> Partner | PartnerBusy | None:
    """Forget the partner and its offers, unless it has hand-offs still to ship: their callbacks are
    checked with its secret, so its shipments could no longer be confirmed. None for an unknown partner."""
    partner = await store.partner(url, partner_id)
    if partner is None:
        return None
    busy = await plans.open_hand_offs(url, partner_id)
    if busy:
        return PartnerBusy(partner, tuple(busy))
    return partner if await store.remove_partner(url, partner_id) else None


async def rotate_secret(store: RoutingSourceStore, url: SaleorApiUrl, partner_id: str, *, now: datetime) -> str | None:
    """A new signing secret for the partner (the old one stops working); None for an unknown partner."""
    secret = new_secret()
    return secret if await store.replace_secret(url, partner_id, secret, now) else None


async def set_in_house_priority(
    store: RoutingSourceStore,
    url: SaleorApiUrl,
    warehouse_id: str,
    raw_priority: str,
    warehouses: Sequence[WarehouseRef] | None,
) -> SourcesRejected | None:
    """Set the merchant's priority of one of its own warehouses; the problems, and nothing changed, otherwise."""
    errors: dict[str, str] = {}
    if warehouses is None:
        errors["warehouse_id"] = "cannot be checked: Saleor did not list its warehouses just now. Try again"
    elif warehouse_id not in {warehouse.id for warehouse in warehouses}:
        errors["warehouse_id"] = "is not a warehouse of this store in Saleor"
    else:
        partner = next((p for p in await store.partners(url) if p.warehouse_id == warehouse_id), None)
        if partner is not None:
            errors["warehouse_id"] = (
                f"is run by {PARTNER_KINDS[partner.kind]} {partner.name}: its priority is the partner's"
            )
    priority = _whole(raw_priority, 0, MAX_PRIORITY)
    if isinstance(priority, str):
        errors["priority"] = priority
    if errors or isinstance(priority, str):
        return SourcesRejected(errors)
    await store.set_in_house_priority(url, SaleorId(warehouse_id), priority)
    return None


def check_offer(values: Mapping[str, str]) -> SupplierOffer | list[FieldError]:
    """One offer's fields (a CSV row's or an API item's, as text), or what is wrong with each."""
    errors: list[FieldError] = []

    def refuse(column: str, message: str) -> None:
        errors.append(FieldError(column, shown(values.get(column, "")), message))

    sku = values.get("sku", "").strip()
    if not sku:
        refuse("sku", "is required")
    elif len(sku) > MAX_SKU:
        refuse("sku", f"is longer than {MAX_SKU} characters")
    price = parse_unit_cost(values.get("unit_price", ""), lambda _column, message: refuse("unit_price", message))
    currency = _currency(values.get("currency", ""))
    if currency is None:
        refuse("currency", "is required" if not values.get("currency", "").strip() else "is not an ISO 4217 code")
    handling_days = _whole(values.get("handling_days", ""), 0, MAX_HANDLING_DAYS)
    if isinstance(handling_days, str):
        refuse("handling_days", handling_days)
    stock = _whole(values.get("stock", ""), 0, MAX_STOCK)
    if isinstance(stock, str):
        refuse("stock", stock)
    if errors or price is None or currency is None or isinstance(handling_days, str) or isinstance(stock, str):
        return errors
    return SupplierOffer(sku, Money(price, currency), handling_days, stock)


def _check_offers(
    rows: Iterable[tuple[int, Mapping[str, str] | list[FieldError]]], noun: str
) -> list[SupplierOffer] | FeedRejected:
    """Every row checked (a row is its number and its fields, or why they cannot be read): the offers,
    or every problem, a SKU offered twice among them."""
    problems: list[InputProblem] = []
    offers: list[SupplierOffer] = []
    first_row: dict[str, int] = {}
    for row, fields in rows:
        checked = check_offer(fields) if not isinstance(fields, list) else fields
        if isinstance(checked, list):
            problems.extend(InputProblem(row, error.column or None, error.value, error.message) for error in checked)
            continue
        first = first_row.setdefault(checked.sku, row)
        if first != row:
            problems.append(InputProblem(row, "sku", checked.sku, f"repeats {noun} {first}: offer each SKU once"))
            continue
        offers.append(checked)
    if len(first_row) > MAX_OFFERS:
        problems.append(InputProblem(None, None, "", f"offers more than {MAX_OFFERS:,} SKUs"))
    return FeedRejected(tuple(problems)) if problems else offers


def read_feed_csv(lines: Iterable[str]) -> list[SupplierOffer] | FeedRejected:
    """A supplier's feed file: a header naming the columns (any order, any case), then one offer per
    row; blank lines are skipped. ``lines`` are text lines with their endings (``newline=""``)."""
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return FeedRejected((InputProblem(None, None, "", "is empty: the first line must name the columns"),))
        columns = [name.strip().lstrip("\ufeff").lower() for name in header]
        header_problems = _header_problems(columns)
        if header_problems:
            return FeedRejected(tuple(header_problems))
        rows: list[tuple[int, Mapping[str, str] | list[FieldError]]] = []
        start = reader.line_num + 1
        for fields in reader:
            row, start = start, reader.line_num + 1
            if not any(field.strip() for field in fields):
                continue
            if len(rows) == MAX_OFFERS:
                message = f"offers more than {MAX_OFFERS:,} SKUs: nothing from this row on was read"
                return FeedRejected((InputProblem(row, None, "", message),))
            if len(fields) != len(columns):
                message = f"has {len(fields)} values but the header has {len(columns)} columns"
                rows.append((row, [FieldError("", "", message)]))
            else:
                rows.append((row, dict(zip(columns, fields, strict=True))))
    except csv.Error as exc:
        line = reader.line_num
        return FeedRejected((InputProblem(line, None, "", f"cannot be read as CSV ({exc})"),))
    except UnicodeDecodeError:
        message = "is not UTF-8 text: save it as CSV UTF-8 and upload it again"
        return FeedRejected((InputProblem(None, None, "", message),))
    return _check_offers(rows, "row")


def _header_problems(columns: list[str]) -> list[InputProblem]:
    return header_problems(columns, known=FEED_COLUMNS, required=FEED_COLUMNS, what="a feed")


def read_feed_items(items: Sequence[object]) -> list[SupplierOffer] | FeedRejected:
    """A feed sent to the API: its ``offers`` items (numbers read exactly), problems by item index."""
    return _check_offers(
        ((index, json_fields(item, FEED_COLUMNS, "supplier's offer")) for index, item in enumerate(items)), "item"
    )


async def supplier(store: RoutingSourceStore, url: SaleorApiUrl, supplier_id: str) -> Partner | None:
    """The store's dropship supplier of that id: a feed is for nobody else."""
    partner = await store.partner(url, supplier_id)
    return partner if partner is not None and partner.kind is SourceKind.DROPSHIP else None


async def import_feed(
    store: RoutingSourceStore,
    url: SaleorApiUrl,
    supplier_id: str,
    read: Callable[[], list[SupplierOffer] | FeedRejected],
    *,
    now: datetime,
) -> FeedImported | FeedRejected | None:
    """The supplier's offers replaced by the feed ``read`` checks, all of them or (on any problem) none;
    None, before reading, when the store has no such supplier."""
    found = await supplier(store, url, supplier_id)
    if found is None:
        return None
    offers = read()
    if isinstance(offers, FeedRejected):
        return offers
    await store.replace_offers(url, found.id, offers, now)
    return FeedImported(found, len(offers))
