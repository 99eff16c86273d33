"""Quoting: the options a checkout is offered, and the carrier service each placed order ships with.

A cart's lines are packed into the merchant's boxes, priced from the rate tables of the channel's
origin warehouse and by the live carrier accounts (when they answer in time), dated with the
warehouse's cut-offs and calendars, and chosen per level by the selection rules. A level is offered
when a service keeps its promise; the shopper pays what the pricing policy (or a matching rule)
says, in the cart's currency. Rates priced in another currency are left out rather than converted.

Live answers are kept in process per origin, destination postal prefix, parcel profile and ship
day; a slow or failing carrier leaves the tables to answer and is logged, never failing checkout.
With a store's ``ShippingRevisions``, what checkout derives from its settings and tables (the
configuration, each table service's price and delivery window) is kept in process too while the
revision holds, so that a repeated question costs packing and look-ups. Checkouts trust a revision
confirmed in the last second, then go on answering from it while a task confirms it (a change reaches
them within about two); the rate tester and orders check it every time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache, partial
from typing import TypeVar

from app.domain.ids import SaleorApiUrl
from app.domain.shipping.calendar import MON_FRI, BusinessCalendar, subdivision_of
from app.domain.shipping.measures import measured_size
from app.domain.shipping.model import DeliveryWindow, InvalidSetting, Level
from app.domain.shipping.parcels import Dimensions, Line, Parcel, ParcelInputError, pack
from app.domain.shipping.pricing import PricingPolicy, ShopperPrice
from app.domain.shipping.promise import Estimate, checkout_label, delivery_window, estimate
from app.domain.shipping.rates import (
    Area,
    Destination,
    NoRate,
    Quote,
    RateTable,
    Service,
    normalise_postal_code,
    price_shipment,
)
from app.domain.shipping.selection import Candidate, Selection, ShipmentFacts, select
from app.services.ports import CarrierQuotes, RateTableStore, SettingsStore, ShippingRevisions
from app.services.settings import SECTIONS, read_settings
from app.services.shipping.model import (
    Cart,
    CartLine,
    CheckoutOption,
    LiveQuotes,
    Place,
    PlacedOrder,
    RateRequest,
)
from app.services.shipping.settings import OriginWarehouse, ShippingConfiguration, ShippingSettings

log = logging.getLogger(__name__)

LIVE_TIMEOUT_SECONDS = 1.5
# Time the carriers' adapter gets beyond its own deadline to hand back what it has.
_GRACE_SECONDS = 0.1
POSTAL_PREFIX_LENGTH = 3
# Parcels asked live are rounded up to this profile, so that one answer prices every cart within it.
_PROFILE_WEIGHT_STEP_KG = Decimal("0.1")
_PROFILE_SIDE_STEP_CM = Decimal(1)
_NAME_LIMIT = 100  # Saleor's limit on a shipping method's name


class LiveQuoteCache:
    """Live carrier answers kept in this process; beyond ``max_entries`` the least recently used go.

    Checkouts asking the same question while the carriers are still answering share that one request,
    and an answer that comes after a checkout stopped waiting is still kept for the next. Only complete
    answers with quotes are kept: a carrier that failed is asked again next time. Keep one cache per process (the
    quoter is built per request) so that checkouts share it.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[Quote, ...]] = OrderedDict()
        self._asking: dict[Hashable, asyncio.Future[LiveQuotes]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> tuple[Quote, ...] | None:
        quotes = self._entries.get(key)
        if quotes is not None:
            self._entries.move_to_end(key)
        return quotes

    def put(self, key: Hashable, quotes: tuple[Quote, ...]) -> None:
        self._entries[key] = quotes
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def ask(self, key: Hashable, question: Callable[[], Awaitable[LiveQuotes]]) -> asyncio.Future[LiveQuotes]:
        """The request answering ``key``: the one under way, or ``question()`` started now.

        The question may outlive the checkout that asked it (to keep a late answer), so it may use that
        request's database session only before its first network call, while the asker still waits.
        """
        task = self._asking.get(key)
        if task is None:
            task = asyncio.ensure_future(question())
            self._asking[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        return task

    def _settle(self, key: Hashable, task: asyncio.Future[LiveQuotes]) -> None:
        del self._asking[key]
        # A failure is retrieved here too, for when every checkout stopped waiting (each waiter logs it).
        if task.cancelled() or task.exception() is not None:
            return
        answer = task.result()
        # An empty answer is not kept either: it is cheap to ask again (no account, nothing called), and
        # an account connected meanwhile is then asked at once.
        if answer.quotes and not answer.problems:
            self.put(key, answer.quotes)


@dataclass(frozen=True, slots=True)
class _TablePrice:
    """One table service's answer for a shipment, and its candidate when priced in the cart's currency."""

    table: RateTable
    service: Service
    result: Quote | NoRate
    candidate: Candidate | None


@dataclass(frozen=True, slots=True)
class _Packing:
    """A cart's lines packed with a store's settings, as pricing and the live cache key read them; or why
    they cannot be (``problem``)."""

    parcels: tuple[Parcel, ...]
    problem: str | None
    # What pricing reads of the parcels (``_parcels_key``), and their profile as carriers are asked.
    parcels_key: tuple[tuple[str, ...], ...] = ()
    profile: tuple[Parcel, ...] = ()


def _packing(lines: Sequence[CartLine], config: ShippingConfiguration) -> _Packing:
    try:
        packing = _packing_lines(lines, config)
        if isinstance(packing, str):
            return _Packing((), packing)
        parcels = tuple(pack(packing, config.boxes, config.default_dimensions))
    except ParcelInputError as exc:
        return _Packing((), exc.reason)
    if not parcels:
        return _Packing((), "nothing to ship")
    return _Packing(parcels, None, _parcels_key(parcels), tuple(_profiled(parcel) for parcel in parcels))


@dataclass(frozen=True, slots=True)
class _StoreShipping:
    """A store's shipping configuration and rate tables as read at ``revision`` (None: not kept)."""

    revision: Hashable | None
    config: ShippingConfiguration
    tables: tuple[RateTable, ...]
    # Per warehouse, how many characters of a postal code its tables' areas look at: codes alike in
    # those are priced alike.
    postal_lengths: dict[str, int]


def _postal_length(areas: Sequence[Area]) -> int:
    return max(
        (
            *(len(prefix) for area in areas for prefix in area.postal_prefixes),
            *(len(postal_range.first) for area in areas for postal_range in area.postal_ranges),
        ),
        default=0,
    )


def _store_shipping(
    revision: Hashable | None, config: ShippingConfiguration, tables: Sequence[RateTable]
) -> _StoreShipping:
    lengths: dict[str, int] = {}
    for table in tables:
        areas = [
            *(area for service in table.services for zone in service.zones for area in zone.areas),
            *(area for service in table.services for area in service.surcharges.remote_areas),
        ]
        lengths[table.warehouse_id] = max(lengths.get(table.warehouse_id, 0), _postal_length(areas))
    return _StoreShipping(revision, config, tuple(tables), lengths)


_Kept = TypeVar("_Kept")


class QuotingCache:
    """What checkout derives from a store's shipping settings and rate tables, kept in this process
    while the store's revision (``ShippingRevisions``) holds: the configuration and tables, and each
    table service's price and candidate per warehouse, destination country, postal prefix (as long as
    the tables' areas look at), parcels, ship dates and currency, each cart's lines packed, and each
    checkout's options (``ShippingQuoter.checkout_options``). Beyond ``max_entries`` the least recently
    used of each go. Keep one per process (the quoter
    is built per request).

    Reading the revision is a database round trip, which costs a checkout from the cache most of its
    time; checkouts trust one confirmed less than ``revision_ttl_seconds`` ago (``recent``). Once it is
    older, the kept values still answer while a task of its own confirms it (one per store at a time,
    given up after as long again): a checkout that waited for the query under load waited 5 to 100 ms,
    and a burst of checkouts all asking the database at once stalled them all (the pool opening
    connections). ``close`` ends the tasks still under way.
    """

    def __init__(
        self,
        max_entries: int = 20_000,
        *,
        revision_ttl_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.revision_ttl_seconds = revision_ttl_seconds
        self._monotonic = monotonic
        self._stores: dict[SaleorApiUrl, tuple[float, _StoreShipping]] = {}
        # Since when the store's revision has been being confirmed, and the task confirming it (if any).
        self._confirming: dict[SaleorApiUrl, tuple[float, asyncio.Task[None] | None]] = {}
        # Every confirming task not yet done, kept referenced until then (the loop holds tasks weakly).
        self._tasks: set[asyncio.Task[None]] = set()
        self._prices: OrderedDict[Hashable, tuple[_TablePrice, ...]] = OrderedDict()
        self._packings: OrderedDict[Hashable, _Packing] = OrderedDict()
        self._answers: OrderedDict[Hashable, _KeptAnswer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._prices)

    def recent(
        self, saleor_api_url: SaleorApiUrl, confirm: Callable[[], Awaitable[None]] | None = None
    ) -> _StoreShipping | None:
        """The store's kept values, if their revision was confirmed less than ``revision_ttl_seconds`` ago
        or is being confirmed. Once it is due, ``confirm`` is started in a task of its own and the kept
        values answered meanwhile; without ``confirm``, None tells the caller to confirm it (``store``)."""
        kept = self._stores.get(saleor_api_url)
        if kept is None:
            return None
        now = self._monotonic()
        if now - kept[0] < self.revision_ttl_seconds:
            return kept[1]
        since, task = self._confirming.get(saleor_api_url, (-math.inf, None))
        if now - since < self.revision_ttl_seconds:
            return kept[1]
        # A confirmation that never came back (it hangs, or its checkout failed) is given up after the same time.
        if task is not None:
            task.cancel()
        if confirm is None:
            self._confirming[saleor_api_url] = (now, None)
            return None
        task = asyncio.create_task(self._confirm(saleor_api_url, confirm))
        self._confirming[saleor_api_url] = (now, task)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return kept[1]

    @staticmethod
    async def _confirm(saleor_api_url: SaleorApiUrl, confirm: Callable[[], Awaitable[None]]) -> None:
        try:
            await confirm()
        except Exception:  # the kept values go on answering; the next checkout after the TTL tries again
            log.warning(
                "shipping revision not confirmed; checkouts answer from the kept settings and tables",
                exc_info=True,
                extra={"saleor_api_url": saleor_api_url},
            )

    async def close(self) -> None:
        """Cancels the confirmations under way and waits for them to end (at the process's shutdown)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def store(self, saleor_api_url: SaleorApiUrl, revision: Hashable) -> _StoreShipping | None:
        """The store's kept values if they are those of ``revision`` (just read: confirmed now)."""
        kept = self._stores.get(saleor_api_url)
        if kept is None or kept[1].revision != revision:
            return None
        self._confirmed(saleor_api_url, kept[1])
        return kept[1]

    def keep_store(self, saleor_api_url: SaleorApiUrl, read: _StoreShipping) -> None:
        # Prices of an older revision are keyed by it: never looked up again, they age out.
        self._confirmed(saleor_api_url, read)

    def _confirmed(self, saleor_api_url: SaleorApiUrl, read: _StoreShipping) -> None:
        self._stores[saleor_api_url] = (self._monotonic(), read)
        self._confirming.pop(saleor_api_url, None)

    def prices(self, key: Hashable) -> tuple[_TablePrice, ...] | None:
        prices = self._prices.get(key)
        if prices is not None:
            self._prices.move_to_end(key)
        return prices

    def keep_prices(self, key: Hashable, prices: tuple[_TablePrice, ...]) -> None:
        _keep(self._prices, key, prices, self.max_entries)

    def packing(self, key: Hashable) -> _Packing | None:
        packing = self._packings.get(key)
        if packing is not None:
            self._packings.move_to_end(key)
        return packing

    def keep_packing(self, key: Hashable, packing: _Packing) -> None:
        _keep(self._packings, key, packing, self.max_entries)

    def answer(self, key: Hashable) -> _KeptAnswer | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def keep_answer(self, key: Hashable, answer: _KeptAnswer) -> None:
        _keep(self._answers, key, answer, self.max_entries)


def _keep(entries: OrderedDict[Hashable, _Kept], key: Hashable, value: _Kept, max_entries: int) -> None:
    """``value`` kept as the most recently used; beyond ``max_entries`` the least recently used go."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > max_entries:
        entries.popitem(last=False)


@dataclass(frozen=True, slots=True)
class ShipmentQuotes:
    """Everything known about sending one shipment: its parcels, when it ships, each candidate service
    with its delivery window, what was left out and why, and how the live carriers answered."""

    warehouse: OriginWarehouse
    parcels: tuple[Parcel, ...]
    ships_earliest: date
    ships_latest: date
    destination_calendar: BusinessCalendar
    candidates: tuple[Candidate, ...]
    left_out: tuple[str, ...]
    live: str
    residential: bool
    # The live quote cache's key the live quotes are kept under; None when it does not hold them (none asked,
    # or a carrier failed or answered nothing).
    live_key: Hashable | None = None

    @property
    def weight_kg(self) -> Decimal:
        return sum((parcel.weight_kg for parcel in self.parcels), Decimal(0))

    def lines(self) -> list[str]:
        ships = (
            f"{self.ships_earliest}"
            if self.ships_earliest == self.ships_latest
            else f"{self.ships_earliest} to {self.ships_latest}"
        )
        return [
            f"From {self.warehouse.name}, ships {ships}",
            f"To {_destination_kind(self.residential)}, on {_holidays_of(self.destination_calendar)}",
            *(f"Parcel {number}: {parcel.explain()}" for number, parcel in enumerate(self.parcels, start=1)),
            f"Live carriers: {self.live}",
            *(f"Left out: {reason}" for reason in self.left_out),
        ]


def _selection_lines(selection: Selection) -> list[str]:
    lines = [selection.summary]
    for verdict in selection.verdicts:
        candidate = verdict.candidate
        lines.append(
            f"  {'kept' if verdict.kept else 'dropped'} {candidate.label} "
            f"{candidate.quote.total.amount} {candidate.quote.total.currency}, "
            f"arrives {candidate.window.earliest} to {candidate.window.latest}: {verdict.reason}"
        )
        if candidate is selection.chosen:
            lines.append(f"    priced: {candidate.quote.explain()}")
    return lines


@dataclass(frozen=True, slots=True)
class LevelOutcome:
    """One level at checkout: offered (``option`` with its ``price``) or not, and why."""

    selection: Selection
    option: CheckoutOption | None
    price: ShopperPrice | None
    why_not: str | None

    def lines(self) -> list[str]:
        if self.option is not None and self.price is not None:
            outcome = (
                f'offered as "{self.option.name}" at {self.option.amount} {self.option.currency} ({self.price.reason})'
            )
        else:
            outcome = f"not offered: {self.why_not}"
        return [*_selection_lines(self.selection), f"  → {outcome}"]


@dataclass(frozen=True, slots=True)
class CheckoutExplanation:
    """What checkout shows for a cart and why; ``problem`` says why nothing could be quoted at all."""

    channel: str
    destination: Place
    problem: str | None
    quotes: ShipmentQuotes | None
    levels: tuple[LevelOutcome, ...]

    @property
    def options(self) -> list[CheckoutOption]:
        return [outcome.option for outcome in self.levels if outcome.option is not None]

    def lines(self) -> list[str]:
        where = f"{self.destination.country} {self.destination.postal_code}".strip()
        head = [f"Channel {self.channel}, to {where}"]
        if self.problem is not None:
            return [*head, f"No options: {self.problem}"]
        shipment = self.quotes.lines() if self.quotes is not None else []
        return [*head, *shipment, *(line for outcome in self.levels for line in outcome.lines())]


@dataclass(frozen=True, slots=True)
class ShipmentDecision:
    """The service one shipment of an order goes with; ``problem`` says why none could be chosen."""

    warehouse_id: str
    problem: str | None
    quotes: ShipmentQuotes | None
    selection: Selection | None

    @property
    def meets_promise(self) -> bool:
        return self.selection is not None and self.selection.meets_promise

    def lines(self) -> list[str]:
        if self.problem is not None or self.selection is None:
            return [f"Shipment from {self.warehouse_id}: {self.problem}"]
        shipment = self.quotes.lines() if self.quotes is not None else []
        return [*shipment, *_selection_lines(self.selection)]

    def note(self) -> str:
        if self.selection is None:
            return f"{self.warehouse_id}: no service ({self.problem})"
        chosen = self.selection.chosen
        if chosen is None:
            return f"{self.warehouse_id}: no service ({self.selection.summary})"

        total = chosen.quote.total
        kept = "" if self.meets_promise else ", LATE: nothing keeps the promise"
        return (
            f"{self.warehouse_id}: {chosen.label}, {total.amount} {total.currency}, arrives by {chosen.window.latest} "
            f"(promised by {self.selection.promised_by}{kept})"
        )


@dataclass(frozen=True, slots=True)
class OrderShippingDecision:
    level: Level
    shipments: tuple[ShipmentDecision, ...]

    @property
    def needs_attention(self) -> bool:
        """Some shipment has no service, or one that arrives after the promised date."""
        return not all(shipment.meets_promise for shipment in self.shipments)

    @property
    def entries(self) -> list[dict[str, object]]:
        """``ops.shipping``'s shipments: one per shipment a service was chosen for."""
        return [
            entry
            for shipment in self.shipments
            if shipment.selection is not None
            and (entry := shipment.selection.ops_shipment(shipment.warehouse_id)) is not None
        ]

    def metadata(self) -> dict[str, object]:
        """DESIGN.md's ``ops.shipping`` value."""
        return {"v": 1, "shipments": self.entries}

    def note(self) -> str:
        return f"Shipping ({self.level}): " + "; ".join(shipment.note() for shipment in self.shipments)


def _destination_kind(residential: bool) -> str:
    return "a home (no company name)" if residential else "a business (the address names a company)"


def _holidays_of(calendar: BusinessCalendar) -> str:
    where = f"{calendar.country}-{calendar.subdivision}" if calendar.subdivision else calendar.country
    return f"{where}'s holidays"


def _count(quotes: tuple[Quote, ...]) -> str:
    return f"{len(quotes)} quote" if len(quotes) == 1 else f"{len(quotes)} quotes"


def _round_up(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def _profiled(parcel: Parcel) -> Parcel:
    sides = (parcel.dimensions.length_cm, parcel.dimensions.width_cm, parcel.dimensions.height_cm)
    return replace(
        parcel,
        weight_kg=_round_up(parcel.weight_kg, _PROFILE_WEIGHT_STEP_KG),
        dimensions=Dimensions(*(_round_up(side, _PROFILE_SIDE_STEP_CM) for side in sides)),
    )


@lru_cache(maxsize=4_096)
def _option_name(level: Level, window: DeliveryWindow, locale: str) -> str:
    """Babel takes a tenth of a millisecond per label, and a day's checkouts share a few windows."""
    return checkout_label(level, window, locale)[:_NAME_LIMIT]


def _offer(selection: Selection, pricing: PricingPolicy, cart: Cart, today: date, locale: str) -> LevelOutcome:
    """The level's checkout option when its service keeps the promise; a rule's price wins over the policy."""
    chosen = selection.chosen
    if chosen is None:
        why = (
            f"rule {selection.rule.name!r} leaves no service"
            if selection.candidates
            else "no service quotes this shipment (see what was left out)"
        )
        return LevelOutcome(selection, None, None, why)
    if not selection.meets_promise:
        return LevelOutcome(selection, None, None, f"no service arrives by {selection.promised_by}")
    if selection.shopper_price is not None:
        price = ShopperPrice(selection.shopper_price, f"rule {selection.rule.name!r}")
    else:
        price = pricing.price(chosen.quote.total, cart.value)
    window = chosen.window
    option = CheckoutOption(
        id=selection.level.value,
        name=_option_name(selection.level, window, locale),
        amount=price.amount.amount,
        currency=cart.currency,
        minimum_delivery_days=(window.earliest - today).days,
        maximum_delivery_days=(window.latest - today).days,
        description=None,
    )
    return LevelOutcome(selection, option, price, None)


def _unit_weight(line: CartLine, config: ShippingConfiguration) -> tuple[Decimal, str] | None:
    """The line's unit weight and where it was read: the variant's, its product's, its product type's in
    Saleor (the order Saleor weighs lines in), then the product type's weight in the settings."""
    product_type = line.product_type or ""
    for weight, source in (
        (line.weight_kg, "the variant's weight"),
        (line.product_weight_kg, "the product's weight"),
        (line.product_type_weight_kg, f"product type {product_type}'s weight in Saleor"),
        (config.default_weights_kg.get(product_type), f"product type {product_type}'s default weight"),
    ):
        if weight is not None:
            return weight, source
    return None


def _packing_line(line: CartLine, config: ShippingConfiguration) -> Line | str:
    """The line as packing takes it, sized by the named attributes when it has them, or why it cannot be."""
    name = line.sku or line.variant_id
    product_type = line.product_type or ""
    weighed = _unit_weight(line, config)
    if weighed is None:
        return f"line {name} has no weight, and product type {product_type!r} has no default weight"
    weight, weight_from = weighed
    try:
        measured = measured_size(line.attributes, config.dimension_attributes)
    except ParcelInputError as exc:
        default = config.default_dimensions.get(product_type)
        if default is None:
            return f"line {name}: {exc.reason}, and product type {product_type!r} has no default box"
        return Line(
            name,
            line.quantity,
            weight,
            product_type,
            default,
            f"product type {product_type}'s default size, as {exc.reason}",
            weight_from,
        )
    if measured is None:
        return Line(name, line.quantity, weight, product_type, weight_from=weight_from)
    return Line(name, line.quantity, weight, product_type, measured.dimensions, measured.source, weight_from)


@lru_cache(maxsize=1_024)
def _calendar(country: str, subdivision: str | None, weekdays: frozenset[int]) -> BusinessCalendar:
    """Built once: checking the country and subdivision against the holiday library's costs each checkout."""
    return BusinessCalendar(country, subdivision, weekdays=weekdays)


def _candidate(
    quote: Quote,
    ships: Estimate,
    country: str,
    subdivision: str | None,
    config: ShippingConfiguration,
) -> Candidate:
    calendar = _calendar(country, subdivision, quote.delivery_weekdays)
    window = delivery_window(ships.ships_earliest, ships.ships_latest, quote.transit, calendar)
    return Candidate(quote, window, config.preference(quote.carrier), quote.guaranteed)


def _parcels_key(parcels: Sequence[Parcel]) -> tuple[tuple[str, ...], ...]:
    """What pricing reads of the parcels, as written (1.0 and 1.00 kg explain differently)."""
    return tuple(
        (str(parcel.weight_kg), *(str(side) for side in parcel.dimensions.sides_longest_first)) for parcel in parcels
    )


def _packing_lines(lines: Sequence[CartLine], config: ShippingConfiguration) -> list[Line] | str:
    """The cart's lines as packing takes them, or why one cannot be packed."""
    packing = []
    for line in lines:
        packed = _packing_line(line, config)
        if isinstance(packed, str):
            return packed
        packing.append(packed)
    return packing


def _promised_by(config: ShippingConfiguration, order: PlacedOrder) -> date | None:
    """The date checkout promised for the order's level, counted from the channel's warehouse (which
    checkout quotes from) whatever warehouse ships it: each shipment, and routing's plan, answer to it."""
    channel = config.channels.get(order.channel)
    if channel is None:
        return None
    destination = order.destination
    try:
        calendar = BusinessCalendar(destination.country, subdivision_of(destination.country, destination.country_area))
    except InvalidSetting:
        return None
    warehouse = config.warehouses[channel.warehouse_id].warehouse
    return channel.promise.promised_by(order.level, order.placed_at, warehouse, calendar)


@dataclass(frozen=True, slots=True)
class _KeptAnswer:
    """A checkout's options, and the live quotes (as kept under ``live_key``) they were derived from."""

    live_key: Hashable
    live_quotes: tuple[Quote, ...]
    options: tuple[CheckoutOption, ...]


def _answer_key(saleor_api_url: SaleorApiUrl, store: _StoreShipping, cart: Cart, now: datetime) -> Hashable | None:
    """What a checkout's options depend on besides the live quotes: the store's revision, the whole
    cart (channel, currency, destination, lines), and of ``now`` only the warehouse's local day and the
    day handling starts (the ship dates, promises and delivery days follow from them). None when the
    store's values are not kept or the channel has no settings."""
    if store.revision is None:
        return None
    channel = store.config.channels.get(cart.channel)
    if channel is None:
        return None
    warehouse = store.config.warehouses[channel.warehouse_id].warehouse
    return (saleor_api_url, store.revision, cart, now.astimezone(warehouse.zone).date(), warehouse.handling_starts(now))


def _still_kept(quoting: QuotingCache, live: LiveQuoteCache, key: Hashable) -> tuple[CheckoutOption, ...] | None:
    """The options kept under ``key`` while the live quotes they came from are still those cached."""
    kept = quoting.answer(key)
    return kept.options if kept is not None and live.get(kept.live_key) is kept.live_quotes else None


def kept_checkout_options(
    quoting: QuotingCache,
    live: LiveQuoteCache,
    saleor_api_url: SaleorApiUrl,
    cart: Cart,
    now: datetime,
    confirm: Callable[[], Awaitable[None]],
) -> tuple[CheckoutOption, ...] | None:
    """``ShippingQuoter.checkout_options`` of a checkout asked again, as kept, with no I/O; None when
    it must be quoted. A checkout asked again costs no quoter, no session and no deadline this way (a
    cached checkout took 0.16–0.18 ms of CPU with them, 0.13–0.14 ms without). ``confirm`` as in
    ``QuotingCache.recent``."""
    store = quoting.recent(saleor_api_url, confirm)
    key = None if store is None else _answer_key(saleor_api_url, store, cart, now)
    return None if key is None else _still_kept(quoting, live, key)


class ShippingQuoter:
    """Checkout options and order services from a store's settings, rate tables and carrier accounts."""

    def __init__(
        self,
        settings: SettingsStore,
        tables: RateTableStore,
        carriers: CarrierQuotes | None = None,
        *,
        cache: LiveQuoteCache | None = None,
        revisions: ShippingRevisions | None = None,
        quoting_cache: QuotingCache | None = None,
        live_timeout_seconds: float = LIVE_TIMEOUT_SECONDS,
        read_done: Callable[[], Awaitable[None]] | None = None,
        confirm_apart: Callable[[SaleorApiUrl], Awaitable[None]] | None = None,
    ) -> None:
        """Without ``revisions`` every call reads the settings and tables and prices afresh. With
        ``confirm_apart`` (``confirm_store`` on a quoter of its own session: the task may outlive the
        request), a checkout whose store's revision is due answers from the kept values while it runs
        (``QuotingCache.recent``); without it that checkout confirms the revision itself. ``read_done``
        is awaited at checkout once the settings and tables are read, before any carrier is asked: the
        caller gives its database connection back there, so that checkouts waiting on carriers do not
        hold the pool the carriers' own account reads need (with all of it held, those reads waited
        until the live quotes' deadline, and every checkout of the burst got the tables after 1.6 s)."""
        self._settings = settings
        self._tables = tables
        self._carriers = carriers
        self._cache = cache if cache is not None else LiveQuoteCache()
        self._revisions = revisions
        self._quoting = quoting_cache if quoting_cache is not None else QuotingCache()
        self._live_timeout = live_timeout_seconds
        self._read_done = read_done
        self._confirm_apart = confirm_apart

    async def checkout_options(self, saleor_api_url: SaleorApiUrl, cart: Cart, now: datetime) -> list[CheckoutOption]:
        """One option per level the channel promises and a service keeps; none for an unknown destination.
        Settings and tables changed a second or two ago (``QuotingCache.recent``) may not be used yet.

        The same cart asked again while the store's revision holds, on the same local day and handling
        day, with its live quotes still in the cache as they were, gets the options it got then
        (everything they derive from): Saleor asks again whenever the checkout changes (it keeps each answer
        under the whole payload), and most changes (the e-mail, the billing address) leave the cart as it was."""
        store = await self._read_store_for(saleor_api_url, recent=True)
        key = _answer_key(saleor_api_url, store, cart, now)
        if key is not None and (options := _still_kept(self._quoting, self._cache, key)) is not None:
            return list(options)
        explanation = await self._explain(saleor_api_url, store, cart, now)
        live_key = explanation.quotes.live_key if explanation.quotes is not None else None
        if key is not None and live_key is not None and (live_quotes := self._cache.get(live_key)) is not None:
            self._quoting.keep_answer(key, _KeptAnswer(live_key, live_quotes, tuple(explanation.options)))
        return explanation.options

    async def explain(self, saleor_api_url: SaleorApiUrl, cart: Cart, now: datetime) -> CheckoutExplanation:
        """What checkout shows and why, from the settings and tables as they are now."""
        store = await self._read_store_for(saleor_api_url, recent=False)
        return await self._explain(saleor_api_url, store, cart, now)

    async def _read_store_for(self, saleor_api_url: SaleorApiUrl, *, recent: bool) -> _StoreShipping:
        """The store's values (``_store``), then the database given back (``read_done``)."""
        store = await self._store(saleor_api_url, recent=recent)
        if self._read_done is not None:
            await self._read_done()
        return store

    async def _explain(
        self, saleor_api_url: SaleorApiUrl, store: _StoreShipping, cart: Cart, now: datetime
    ) -> CheckoutExplanation:
        config = store.config
        channel = config.channels.get(cart.channel)
        if channel is None:
            return CheckoutExplanation(cart.channel, cart.destination, "the channel has no shipping settings", None, ())
        warehouse = config.warehouses[channel.warehouse_id]
        quoted = await self._quote(saleor_api_url, store, warehouse, cart.destination, cart.lines, cart.currency, now)
        if isinstance(quoted, str):
            return CheckoutExplanation(cart.channel, cart.destination, quoted, None, ())
        facts = self._facts(cart.destination, quoted, cart.value, cart.channel, cart.lines)
        today = now.astimezone(warehouse.warehouse.zone).date()
        handling_starts = warehouse.warehouse.handling_starts(now)
        outcomes = []
        for level in Level:
            promised_by = channel.promise.promised_from(level, handling_starts, quoted.destination_calendar)
            if promised_by is None:
                continue
            selection = select(level, promised_by, quoted.candidates, facts, config.rules)
            outcomes.append(_offer(selection, channel.pricing[level], cart, today, config.locale))
        return CheckoutExplanation(cart.channel, cart.destination, None, quoted, tuple(outcomes))

    async def select_for_order(
        self, saleor_api_url: SaleorApiUrl, order: PlacedOrder, leaves_at: datetime | None = None
    ) -> OrderShippingDecision:
        """The service each shipment of ``order`` goes with, at the level the shopper chose, leaving when
        routing planned it to, else at ``leaves_at`` (when the order was placed, unless said)."""
        return await self._select(saleor_api_url, order, leaves_at or order.placed_at, None)

    async def reselect_for_order(
        self, saleor_api_url: SaleorApiUrl, order: PlacedOrder, leaves_at: datetime, promised_by: date
    ) -> OrderShippingDecision:
        """The service each shipment goes with when it leaves at ``leaves_at`` (a fulfilment) and must still
        arrive by the date promised when the order was placed."""
        leaving = tuple(replace(shipment, leaves_at=leaves_at) for shipment in order.shipments)  # not as planned
        return await self._select(saleor_api_url, replace(order, shipments=leaving), leaves_at, promised_by)

    async def promised_by(self, saleor_api_url: SaleorApiUrl, order: PlacedOrder) -> date | None:
        """The date checkout promised for the order's level: counted from the channel's warehouse, which
        checkout quotes from, whatever warehouse ships it. None when the channel promises no such level."""
        return _promised_by((await self._store(saleor_api_url, recent=False)).config, order)

    async def _select(
        self, saleor_api_url: SaleorApiUrl, order: PlacedOrder, leaves_at: datetime, promised: date | None
    ) -> OrderShippingDecision:
        store = await self._store(saleor_api_url, recent=False)
        config = store.config
        channel = config.channels.get(order.channel)
        product_lines = [line for shipment in order.shipments for line in shipment.lines]
        promised_by = promised if promised is not None else _promised_by(config, order)
        decisions = []
        for shipment in order.shipments:
            warehouse = config.warehouses.get(shipment.warehouse_id)
            if channel is None or warehouse is None:
                missing = f"channel {order.channel}" if channel is None else f"warehouse {shipment.warehouse_id}"
                decisions.append(
                    ShipmentDecision(shipment.warehouse_id, f"{missing} has no shipping settings", None, None)
                )
                continue
            quoted = await self._quote(
                saleor_api_url,
                store,
                warehouse,
                order.destination,
                shipment.lines,
                order.currency,
                shipment.leaves_at or leaves_at,
            )
            if isinstance(quoted, str):
                decisions.append(ShipmentDecision(shipment.warehouse_id, quoted, None, None))
                continue
            if promised_by is None:
                problem = f"channel {order.channel} promises no {order.level} delivery"
                decisions.append(ShipmentDecision(shipment.warehouse_id, problem, quoted, None))
                continue
            facts = self._facts(order.destination, quoted, order.value, order.channel, product_lines)
            selection = select(order.level, promised_by, quoted.candidates, facts, config.rules)
            decisions.append(ShipmentDecision(shipment.warehouse_id, None, quoted, selection))
        return OrderShippingDecision(order.level, tuple(decisions))

    async def _store(self, saleor_api_url: SaleorApiUrl, *, recent: bool) -> _StoreShipping:
        """The store's configuration and tables: kept ones while its revision holds (``recent``: as
        last confirmed, if that was less than the cache's TTL ago), else read."""
        if self._revisions is None:
            return await self._read_store(saleor_api_url, None)
        if recent:
            confirm_apart = self._confirm_apart
            confirm = None if confirm_apart is None else partial(confirm_apart, saleor_api_url)
            if (kept := self._quoting.recent(saleor_api_url, confirm)) is not None:
                return kept
        # The revision is read before the values: a change landing in between makes the next
        # checkout read them again, rather than keeping old values under the new revision.
        revision = await self._revisions.revision(saleor_api_url)
        kept = self._quoting.store(saleor_api_url, revision)
        if kept is not None:
            return kept
        read = await self._read_store(saleor_api_url, revision)
        self._quoting.keep_store(saleor_api_url, read)
        return read

    async def confirm_store(self, saleor_api_url: SaleorApiUrl) -> None:
        """Confirms the store's kept revision for checkouts, reading its settings and tables again if it changed."""
        await self._store(saleor_api_url, recent=False)

    async def _read_store(self, saleor_api_url: SaleorApiUrl, revision: Hashable | None) -> _StoreShipping:
        config = await self._configuration(saleor_api_url)
        return _store_shipping(revision, config, await self._tables.rate_tables(saleor_api_url))

    async def _configuration(self, saleor_api_url: SaleorApiUrl) -> ShippingConfiguration:
        stored = await read_settings(self._settings, saleor_api_url, SECTIONS["shipping"])
        assert isinstance(stored, ShippingSettings)
        return stored.configuration()

    @staticmethod
    def _facts(
        destination: Place, quoted: ShipmentQuotes, value: Decimal, channel: str, lines: Sequence[CartLine]
    ) -> ShipmentFacts:
        product_types = frozenset(line.product_type for line in lines if line.product_type)
        return ShipmentFacts(
            destination.country, destination.postal_code, quoted.weight_kg, value, channel, product_types
        )

    async def _quote(
        self,
        saleor_api_url: SaleorApiUrl,
        store: _StoreShipping,
        warehouse: OriginWarehouse,
        destination: Place,
        lines: Sequence[CartLine],
        currency: str,
        now: datetime,
    ) -> ShipmentQuotes | str:
        """The shipment's candidates, or why it cannot be quoted at all."""
        subdivision = subdivision_of(destination.country, destination.country_area)
        config = store.config
        try:
            destination_calendar = _calendar(destination.country, subdivision, MON_FRI)
        except InvalidSetting:
            return f"no holiday calendar knows the destination country {destination.country!r}"
        packing = self._packing(saleor_api_url, store, lines)
        if packing.problem is not None:
            return packing.problem
        parcels = packing.parcels
        ships = estimate(now, warehouse.warehouse, None, destination_calendar)
        # As carriers tell them apart: an address naming a company is a business, any other a home (quoting a
        # home never understates the price).
        to = Destination(destination.country, destination.postal_code, residential=destination.residential)
        prices = self._table_prices(saleor_api_url, store, warehouse, to, subdivision, packing, currency, ships)
        # The tables were read before (``_store``): the stores may share the request's database
        # session, which runs one statement at a time, and the carriers' request may use it too.
        live_quotes, live, live_key = await self._live(
            saleor_api_url, warehouse, destination, packing.profile, currency, ships.ships_earliest
        )
        answered_live = {(quote.carrier, quote.service) for quote in live_quotes}
        left_out: list[str] = []
        # Live quotes first, then the tables' (a kept table price comes with its candidate).
        priced: list[tuple[Quote, Candidate | None]] = [(quote, None) for quote in live_quotes]
        for price in prices:
            result = price.result
            if isinstance(result, NoRate):
                left_out.append(f"{result.carrier} {result.service}: {result.reason}")
            elif (result.carrier, result.service) in answered_live:
                left_out.append(f"{result.carrier} {result.service}: the table's rate, the live one is used")
            else:
                priced.append((result, price.candidate))
        candidates = []
        for quote, candidate in priced:
            if quote.total.currency != currency:
                left_out.append(
                    f"{quote.carrier} {quote.service}: priced in {quote.total.currency}, the order pays in {currency}"
                )
                continue
            if candidate is None:
                candidate = _candidate(quote, ships, destination.country, subdivision, config)
            candidates.append(candidate)
        return ShipmentQuotes(
            warehouse,
            parcels,
            ships.ships_earliest,
            ships.ships_latest,
            destination_calendar,
            tuple(candidates),
            tuple(left_out),
            live,
            destination.residential,
            live_key,
        )

    def _packing(self, saleor_api_url: SaleorApiUrl, store: _StoreShipping, lines: Sequence[CartLine]) -> _Packing:
        """The lines packed with the store's settings, kept while its revision holds: a repeated cart
        is not packed again."""
        if store.revision is None:
            return _packing(lines, store.config)
        key = (saleor_api_url, store.revision, tuple(lines))
        packing = self._quoting.packing(key)
        if packing is None:
            packing = _packing(lines, store.config)
            self._quoting.keep_packing(key, packing)
        return packing

    def _table_prices(
        self,
        saleor_api_url: SaleorApiUrl,
        store: _StoreShipping,
        warehouse: OriginWarehouse,
        to: Destination,
        subdivision: str | None,
        packing: _Packing,
        currency: str,
        ships: Estimate,
    ) -> tuple[_TablePrice, ...]:
        """Each service of the warehouse's tables priced for the shipment, kept while the store's
        revision holds. A kept "no rate" is asked again: its reason names the whole postal code."""
        key = None
        if store.revision is not None:
            postal_prefix = normalise_postal_code(to.postal_code)[: store.postal_lengths.get(warehouse.id, 0)]
            key = (
                saleor_api_url,
                store.revision,
                warehouse.id,
                to.country,
                subdivision,  # the destination's holidays date the candidates
                to.residential,
                postal_prefix,
                packing.parcels_key,
                ships.ships_earliest,
                ships.ships_latest,
                currency,
            )
            kept = self._quoting.prices(key)
            if kept is not None:
                return tuple(
                    replace(price, result=price_shipment(price.table, price.service, to, packing.parcels))
                    if isinstance(price.result, NoRate)
                    else price
                    for price in kept
                )
        prices = []
        for table in store.tables:
            if table.warehouse_id != warehouse.id:
                continue
            for service in table.services:
                result = price_shipment(table, service, to, packing.parcels)
                candidate = (
                    _candidate(result, ships, to.country, subdivision, store.config)
                    if isinstance(result, Quote) and result.total.currency == currency
                    else None
                )
                prices.append(_TablePrice(table, service, result, candidate))
        if key is not None:
            self._quoting.keep_prices(key, tuple(prices))
        return tuple(prices)

    async def _live(
        self,
        saleor_api_url: SaleorApiUrl,
        warehouse: OriginWarehouse,
        destination: Place,
        profile: tuple[Parcel, ...],
        currency: str,
        ships_on: date,
    ) -> tuple[tuple[Quote, ...], str, Hashable | None]:
        """The live carriers' quotes for the parcels as profiled (``_profiled``), how they came (asked, from
        the cache, or not at all, and why), and the cache's key when the cache holds them."""
        key = (
            saleor_api_url,
            warehouse.id,
            destination.country,
            normalise_postal_code(destination.postal_code)[:POSTAL_PREFIX_LENGTH],
            destination.residential,
            currency,
            tuple(sorted((parcel.weight_kg, parcel.dimensions.sides_longest_first) for parcel in profile)),
            ships_on,
        )
        cached = self._cache.get(key)
        if cached is not None:
            return cached, f"{_count(cached)}, from the cache", key
        if self._carriers is None:  # a quoter that may not call out (the order pipeline) reads the cache only
            return (), "none asked, none in the cache", None
        request = RateRequest(warehouse.id, warehouse.origin, destination, destination.residential, profile, currency)
        carriers = self._carriers
        asking = self._cache.ask(
            key, lambda: carriers.quotes(saleor_api_url, request, within_seconds=self._live_timeout)
        )
        context = {"saleor_api_url": saleor_api_url, "warehouse": warehouse.id, "country": destination.country}
        try:
            # Shielded: a checkout that stops waiting leaves the request to finish for the others and the cache.
            answer = await asyncio.wait_for(asyncio.shield(asking), timeout=self._live_timeout + _GRACE_SECONDS)
        except TimeoutError:
            log.warning("live carrier quotes timed out; the rate tables answer", extra=context)
            return (), f"no answer within {self._live_timeout} s, the rate tables answer", None
        except Exception as exc:  # a broken adapter must not break checkout either
            log.warning("live carrier quotes failed; the rate tables answer", exc_info=True, extra=context)
            return (), f"failed ({exc.__class__.__name__}), the rate tables answer", None
        if answer.problems:
            log.warning("some live carriers did not answer", extra={**context, "problems": list(answer.problems)})
            return answer.quotes, f"{_count(answer.quotes)}; {'; '.join(answer.problems)}", None
        if not answer.quotes:
            return answer.quotes, _count(answer.quotes), None
        # The cache keeps it once the request settles, a turn of the loop later; kept now, this checkout's
        # options can be kept against it too, and a checkout asked again skips quoting from its second time.
        self._cache.put(key, answer.quotes)
        return answer.quotes, _count(answer.quotes), key
