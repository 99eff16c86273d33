"""Interfaces the services depend on; adapters in app.db, app.graphql and app.saleor implement them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Hashable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from email.message import EmailMessage
from typing import Protocol

from app.domain.fraud import ListEntry, ListKind, OrderFacts, Reason, RiskAssessment, Stage, VelocityProbe
from app.domain.ids import AppId, SaleorApiUrl, SaleorId
from app.domain.installation import Installation
from app.domain.inventory import CostPool, Move, Posting
from app.domain.money import Money
from app.domain.order_event import FailedDelivery, ReceivedOrderEvent
from app.domain.shipping.rates import RateTable
from app.domain.support.macros import Macro, MacroId
from app.domain.support.model import StoreReason
from app.domain.support.reports import GroupBy, SupportReport, TicketMeasures
from app.domain.support.ticket import Ticket, TicketId
from app.services.routing.model import KeptOffer, Partner, RoutingSetup, SupplierOffer
from app.services.routing.plans import HandOff, HandOffStatus, OpenHandOff, OrderRouting, PartnerShipment
from app.services.shipping.model import (
    CarrierAccount,
    CarrierSpec,
    Cart,
    CheckoutOption,
    ConnectionCheck,
    LiveQuotes,
    NewCarrierAccount,
    OrderShipping,
    RateRequest,
)
from app.services.support.model import InboxPage, InboxQuery, SlaDue


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class InstallationStore(Protocol):
    async def get(self, saleor_api_url: SaleorApiUrl) -> Installation | None: ...
    async def save(self, installation: Installation) -> None: ...
    async def replace_jwks(self, saleor_api_url: SaleorApiUrl, jwks: str, now: datetime) -> None: ...
    async def mark_revoked(self, saleor_api_url: SaleorApiUrl, now: datetime) -> None: ...
    async def uninstall(self, saleor_api_url: SaleorApiUrl, now: datetime) -> None:
        """Erase the token and mark the store revoked and uninstalled (an earlier mark is kept)."""

    async def delete(self, saleor_api_url: SaleorApiUrl) -> bool: ...


class DeliveryLog(Protocol):
    async def record(self, event: ReceivedOrderEvent) -> bool: ...


class OrderEventLog(DeliveryLog, Protocol):
    async def record_failed(self, delivery: FailedDelivery) -> bool: ...


@dataclass(frozen=True, slots=True)
class SettingsChange:
    section: str
    changed_at: datetime
    changed_by: str
    before: str
    after: str


class SettingsStore(Protocol):
    async def get(self, saleor_api_url: SaleorApiUrl, section: str) -> dict[str, object] | None: ...
    async def save(self, saleor_api_url: SaleorApiUrl, change: SettingsChange) -> None:
        """Write ``change.after`` as the section's values and keep ``change`` in the history."""

    async def history(self, saleor_api_url: SaleorApiUrl, limit: int) -> list[SettingsChange]: ...


@dataclass(frozen=True, slots=True)
class KeptStore:
    """A store the app keeps records of, as housekeeping sees it."""

    saleor_api_url: SaleorApiUrl
    uninstalled_at: datetime | None


class RetentionStore(Protocol):
    """What housekeeping erases and deletes.

    Each prune changes at most ``limit`` rows and says how many it changed, so that a big store is
    pruned in many short transactions rather than one long one.
    """

    async def stores(self) -> list[KeptStore]: ...
    async def delete_uninstalled(self, url: SaleorApiUrl, *, uninstalled_before: datetime) -> bool:
        """Delete the store with all it owns, if it is uninstalled since before then (not reinstalled)."""

    async def prune_delivery_payloads(self, url: SaleorApiUrl, *, processed_before: datetime, limit: int) -> int:
        """Erase the bodies of deliveries processed before then; the rows stay."""

    async def prune_failed_delivery_payloads(self, url: SaleorApiUrl, *, received_before: datetime, limit: int) -> int:
        """Erase the bodies of deliveries Saleor could not render, received before then; the rows stay."""

    async def prune_effect_payloads(self, url: SaleorApiUrl, *, done_before: datetime, limit: int) -> int:
        """Erase what effects delivered before then wrote to Saleor (Saleor keeps it); the rows stay."""

    async def forget_velocity_keys(self, url: SaleorApiUrl, *, seen_before: datetime, limit: int) -> int:
        """Delete velocity keys seen before then, except those of orders the app still holds."""


class RetentionWork(Protocol):
    """One transaction of housekeeping, committed when its context ends without an error."""

    @property
    def retention(self) -> RetentionStore: ...
    @property
    def settings(self) -> SettingsStore: ...


RetentionTransaction = Callable[[], AbstractAsyncContextManager[RetentionWork]]


@dataclass(frozen=True, slots=True)
class AppIdentity:
    app_id: AppId
    saleor_version: str | None


class SaleorAuthority(Protocol):
    """What registration asks of the Saleor instance that claims to install us."""

    async def identify_app(self, saleor_api_url: SaleorApiUrl, token: str) -> AppIdentity: ...
    async def fetch_jwks(self, saleor_api_url: SaleorApiUrl) -> str: ...


class SaleorWriter(Protocol):
    """What a decision writes into a store: kept as effects (``app.services.pipeline.Outbox``) and
    delivered later by the dispatcher through a ``SaleorGateway``."""

    async def add_order_note(self, order_id: SaleorId, message: str) -> None: ...
    async def confirm_order(self, order_id: SaleorId) -> None: ...
    async def record_fraud_decision(
        self, order_id: SaleorId, metadata: dict[str, str], note: str, *, confirm: bool
    ) -> None:
        """Metadata, note and (when ``confirm``) the order's release, in one request."""

    async def cancel_order(self, order_id: SaleorId) -> None: ...
    async def record_shipping(self, order_id: SaleorId, metadata: dict[str, str], note: str) -> None:
        """``ops.shipping`` and its note, in one request."""

    async def record_routing(self, order_id: SaleorId, metadata: dict[str, str], note: str) -> None:
        """``ops.routing`` and its note, in one request."""

    async def fulfill_order(
        self,
        order_id: SaleorId,
        warehouse_id: SaleorId,
        lines: Mapping[str, int],
        tracking_number: str,
        *,
        allow_stock_to_be_exceeded: bool,
    ) -> None:
        """One fulfilment of ``lines`` (order line id → units) from the warehouse, with its tracking number."""

    async def record_cogs(
        self,
        order_id: SaleorId,
        metadata: dict[str, str],
        line_metadata: Mapping[SaleorId, dict[str, str]],
        note: str,
    ) -> None:
        """``ops.cogs`` on the order, each line's trace on the line, and one note, in one request."""


class SaleorGateway(SaleorWriter, Protocol):
    """What the app asks of a store's GraphQL API (``GqlSaleorGateway`` implements it)."""

    async def order_notes(self, order_id: SaleorId) -> set[str]:
        """The messages of the order's notes."""

    async def update_private_metadata(self, object_id: SaleorId, items: dict[str, str]) -> None:
        """Set these keys of an order's or an order line's private metadata."""

    async def tracking_numbers(self, order_id: SaleorId) -> set[tuple[str, str]]:
        """(warehouse id, tracking number) of each of the order's fulfilments."""

    async def warehouses(self) -> list[WarehouseRef]:
        """Every warehouse of the store (paged through GraphQL)."""

    async def channels(self) -> list[ChannelRef]:
        """Every channel of the store, by slug."""

    def stock_levels(self) -> AsyncIterator[StockLevel]:
        """Every stock record (variant × warehouse) with the variant's cost prices, paged."""


@dataclass(frozen=True, slots=True)
class WarehouseRef:
    id: str
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class ChannelRef:
    slug: str
    name: str
    currency: str


@dataclass(frozen=True, slots=True)
class SaleorName:
    """What the store calls one of its Saleor objects: a warehouse (with its slug) or a variant."""

    saleor_id: str
    name: str
    slug: str | None = None


class SaleorNames(Protocol):
    """Names learned from what Saleor sends and answers, keyed by the object's Saleor id."""

    async def remember(self, url: SaleorApiUrl, names: Iterable[SaleorName], now: datetime) -> None: ...
    async def lookup(self, url: SaleorApiUrl, ids: Collection[str]) -> dict[str, SaleorName]: ...


def variant_name(saleor_id: str, product: str | None, variant: str | None) -> SaleorName | None:
    """A variant as the dashboard names it: "Product / Variant", or the product alone."""
    parts = [part.strip() for part in (product, variant) if part and part.strip()]
    return SaleorName(saleor_id, " / ".join(parts)) if parts else None


@dataclass(frozen=True, slots=True)
class StockLevel:
    """One variant's stock in one warehouse, as Saleor counts it, with the variant's cost prices."""

    variant_id: str
    sku: str | None
    product_type: str | None
    warehouse_id: str
    quantity: int
    # Channel slug → the variant's cost price in that channel (only channels where one is set).
    cost_prices: Mapping[str, Money]
    warehouse: SaleorName | None = None  # its name and slug, to show instead of its id
    variant: SaleorName | None = None  # "Product / Variant", to show a variant without a SKU by name


@dataclass(frozen=True, slots=True)
class StoreHistory:
    order_count: int  # the store's other orders, counted up to what was asked
    median_total: Decimal | None  # of its most recent orders in the order's currency


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    store_order_count: int  # the store's other orders, counted up to what was asked
    store_median_total: Decimal | None
    customer_order_count: int  # earlier orders that were paid and approved (see History)
    customer_average_total: Decimal | None
    customer_fraud_count: int  # earlier orders rejected, refunded as fraud or disputed


@dataclass(frozen=True, slots=True)
class StoredAssessment:
    order_id: str
    order_number: str
    stage: Stage
    score: int
    decision: str
    deciding_rule: str
    reasons: tuple[Reason, ...]
    total: Decimal
    currency: str
    email: str | None
    expected_loss: Decimal | None
    margin: Decimal | None
    assessed_at: datetime


# A review's closing reason when Saleor, not a person in the app, cancelled the order.
CANCELLED_IN_SALEOR = "cancelled_in_saleor"


@dataclass(frozen=True, slots=True)
class FraudReview:
    order_id: str
    order_number: str
    status: str  # awaiting_payment (held until its payment is assessed) | open (in review) | closed
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    closed_by: str | None
    closed_reason: str | None
    note: str


class FraudRepository(Protocol):
    async def save_assessment(
        self, url: SaleorApiUrl, assessment: RiskAssessment, facts: OrderFacts, order_number: str
    ) -> bool: ...
    async def save_assessment_and_hold(
        self, url: SaleorApiUrl, assessment: RiskAssessment, facts: OrderFacts, order_number: str, *, at: datetime
    ) -> tuple[bool, bool]:
        """``save_assessment``, then ``hold_for_payment`` only if the assessment was new: (new, held)."""

    async def assessments(self, url: SaleorApiUrl, order_id: str) -> list[StoredAssessment]: ...
    async def assessments_of(
        self, url: SaleorApiUrl, order_ids: Sequence[str]
    ) -> dict[str, list[StoredAssessment]]: ...
    async def customer_history(self, url: SaleorApiUrl, facts: OrderFacts, *, count_to: int) -> CustomerHistory:
        """``store_order_count`` stops at ``count_to``: past the orders a policy needs, only "enough" matters."""

    async def record_velocity(
        self, url: SaleorApiUrl, probes: Sequence[VelocityProbe], *, order_id: str, at: datetime
    ) -> dict[VelocityProbe, int]:
        """Keep the order's velocity keys and count the other orders per probe, atomically."""

    async def record_velocity_and_history(
        self, url: SaleorApiUrl, probes: Sequence[VelocityProbe], facts: OrderFacts, *, at: datetime, count_to: int
    ) -> tuple[dict[VelocityProbe, int], CustomerHistory]:
        """``record_velocity`` for the order, then its ``customer_history``."""

    async def identifiers(self, url: SaleorApiUrl, order_id: str) -> dict[str, str]: ...
    async def identifiers_of(self, url: SaleorApiUrl, order_ids: Sequence[str]) -> dict[str, dict[str, str]]: ...
    async def list_entries(self, url: SaleorApiUrl) -> list[ListEntry]: ...
    async def add_list_entry(self, url: SaleorApiUrl, entry: ListEntry, *, by: str, at: datetime) -> None: ...
    async def remove_list_entry(self, url: SaleorApiUrl, kind: ListKind, value: str) -> bool: ...
    async def open_review(
        self, url: SaleorApiUrl, order_id: str, order_number: str, *, by: str, at: datetime
    ) -> bool: ...
    async def hold_for_payment(self, url: SaleorApiUrl, order_id: str, order_number: str, *, at: datetime) -> bool:
        """Note that the app holds an approved order until its payment is assessed; False if already held."""

    async def release_hold(self, url: SaleorApiUrl, order_id: str) -> None:
        """The payment was assessed and approved: the order no longer waits for it."""

    async def close_as_cancelled(self, url: SaleorApiUrl, order_id: str, order_number: str, *, at: datetime) -> None:
        """Saleor cancelled the order: whatever held it is closed, and it is marked so that events
        issued before the cancel but delivered after it are not assessed."""

    async def review(self, url: SaleorApiUrl, order_id: str) -> FraudReview | None: ...
    async def close_review(
        self, url: SaleorApiUrl, order_id: str, *, reason: str, by: str, at: datetime, note: str
    ) -> bool: ...
    async def open_reviews(self, url: SaleorApiUrl, limit: int) -> list[FraudReview]: ...


# A move's place in its pool's history: (instant, phase of its kind, ledger sequence).
Position = tuple[datetime, int, int]
PoolKey = tuple[str, str]  # (SKU, warehouse)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A move to book, with where it came from.

    ``move.id`` is the natural key: booking an id already in the ledger is a no-op, so a
    redelivered webhook or a re-imported row books nothing twice.
    """

    move: Move
    source: str  # saleor | csv | form | api | opening | settings
    recorded_by: str
    order_id: str | None = None
    product_type: str | None = None
    # Saleor's cost price of the variant: the last known cost of a pool that has never had any.
    seed_unit_cost: Decimal | None = None
    # Net unit sale price of an issue or customer return, in the move's currency: revenue for reports.
    unit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class StoredPool:
    pool: CostPool
    product_type: str | None
    last: Position | None  # of the latest move applied; None for a pool not yet saved
    moves_since_snapshot: int


class InventoryLedger(Protocol):
    """The cost ledger's storage: moves with their postings, pool states and pool snapshots."""

    async def known_move_ids(self, url: SaleorApiUrl, move_ids: Collection[str]) -> set[str]: ...
    async def pools(
        self, url: SaleorApiUrl, keys: Collection[PoolKey], *, for_update: bool = False
    ) -> dict[PoolKey, StoredPool]: ...
    async def all_pools(self, url: SaleorApiUrl) -> list[StoredPool]: ...
    async def pools_of_skus(self, url: SaleorApiUrl, skus: Collection[str]) -> list[StoredPool]:
        """Every pool (any warehouse) of these SKUs."""

    async def open_pools(self, url: SaleorApiUrl, pools: Sequence[StoredPool], now: datetime) -> None:
        """Store these empty pools unless another transaction stored them first."""

    async def save_pools(self, url: SaleorApiUrl, pools: Sequence[StoredPool], now: datetime) -> None: ...
    async def append(
        self, url: SaleorApiUrl, booked: Sequence[tuple[LedgerEntry, Posting]], now: datetime
    ) -> list[int]:
        """Store new moves with their postings, in the given order; their ledger sequence numbers."""

    async def snapshot_before(
        self, url: SaleorApiUrl, key: PoolKey, at: datetime, phase: int
    ) -> tuple[Position, CostPool] | None:
        """The latest snapshot taken at or before (at, phase)."""

    async def save_snapshots(self, url: SaleorApiUrl, snapshots: Sequence[tuple[Position, CostPool]]) -> None: ...
    async def drop_snapshots_after(self, url: SaleorApiUrl, key: PoolKey, position: Position) -> None: ...
    async def postings_after(self, url: SaleorApiUrl, key: PoolKey, position: Position) -> list[Posting]:
        """The pool's postings after ``position``, in ledger order, with their moves' sequence numbers."""

    async def repost(self, url: SaleorApiUrl, postings: Sequence[Posting]) -> None:
        """Replace the stored postings (and linked ``cost_of``) of existing moves, by sequence number."""

    async def order_postings(self, url: SaleorApiUrl, order_id: str) -> list[Posting]:
        """The order's moves' postings, every later posting that corrects one of them, and the
        landed costs booked later on the receipts they took from, in ledger order."""

    async def postings_of(self, url: SaleorApiUrl, move_ids: Collection[str]) -> dict[str, Posting]: ...
    async def receipts_named(self, url: SaleorApiUrl, names: Collection[str]) -> list[Move]:
        """The receipts whose move id or reference is one of ``names``."""

    async def orders_of(self, url: SaleorApiUrl, move_ids: Collection[str]) -> set[str]:
        """The Saleor orders these moves belong to."""

    async def stocked(self, url: SaleorApiUrl, keys: Collection[PoolKey]) -> set[PoolKey]:
        """The pools among ``keys`` whose stock the store ever recorded (``STOCKING_KINDS``)."""

    async def sale_prices(self, url: SaleorApiUrl, order_id: str) -> dict[str, tuple[str, Decimal, str]]:
        """Order line → (SKU, net unit price, currency), from the order's issues that carry a price."""


class CarrierQuotes(Protocol):
    """Live rates from the carrier accounts a store connected; never raises for a carrier's failure
    (it becomes a problem in the answer), and answers within ``within_seconds``."""

    async def quotes(
        self, saleor_api_url: SaleorApiUrl, request: RateRequest, *, within_seconds: float
    ) -> LiveQuotes: ...


class RateTableStore(Protocol):
    """Each warehouse's rate table, per store. Reading is one query (checkout reads through a cache)."""

    async def rate_tables(self, saleor_api_url: SaleorApiUrl) -> list[RateTable]:
        """The store's tables, in the order they were given."""

    async def replace_rate_tables(self, saleor_api_url: SaleorApiUrl, tables: Sequence[RateTable]) -> None:
        """Keep exactly ``tables`` (one per warehouse), in the caller's transaction: all of them or,
        when it fails and rolls back, none."""


class CarrierAccounts(Protocol):
    """A store's connected carrier accounts, credentials encrypted at rest."""

    async def add(self, url: SaleorApiUrl, account: NewCarrierAccount, at: datetime) -> CarrierAccount: ...
    async def accounts(self, url: SaleorApiUrl, *, active_only: bool = False) -> list[CarrierAccount]:
        """Oldest first."""

    async def get(self, url: SaleorApiUrl, account_id: int) -> CarrierAccount | None: ...
    async def remove(self, url: SaleorApiUrl, account_id: int) -> bool: ...


class CarrierConnector(Protocol):
    """The carriers live rates can come from, and a check that an account's credentials work."""

    def carriers(self) -> Sequence[CarrierSpec]: ...
    async def check(self, account: CarrierAccount, *, within_seconds: float) -> ConnectionCheck:
        """A small sample rate request through the account; never raises for the carrier's failure."""


class CheckoutShipping(Protocol):
    """The delivery options a store offers a checkout's cart at ``now``: one per level that can be
    met, priced and named for the shopper; [] when none can (Saleor then offers its own methods)."""

    async def checkout_options(
        self, saleor_api_url: SaleorApiUrl, cart: Cart, now: datetime
    ) -> list[CheckoutOption]: ...


class ShippingDecisions(Protocol):
    """The services chosen for each order's shipments, one record per order."""

    async def get(self, url: SaleorApiUrl, order_id: str) -> OrderShipping | None: ...
    async def add(self, url: SaleorApiUrl, decision: OrderShipping) -> bool:
        """Keep the order's first decision; False when it has one already (a redelivery)."""

    async def replace(self, url: SaleorApiUrl, decision: OrderShipping) -> None:
        """Overwrite the order's decision (a fulfilment re-checked it, or routing re-planned the order)."""


class ShippingRevisions(Protocol):
    """A value that changes whenever a store's shipping settings or rate tables change, in whichever
    process: quoting keeps what it derives from them while the value stays the same."""

    async def revision(self, saleor_api_url: SaleorApiUrl) -> Hashable: ...


class RoutingSources(Protocol):
    """A store's partners, in-house priorities and supplier offers."""

    async def has_partners(self, saleor_api_url: SaleorApiUrl) -> bool:
        """Whether the store has a 3PL or supplier: without one, Saleor's allocation stands."""

    async def setup(self, saleor_api_url: SaleorApiUrl, skus: Collection[str]) -> RoutingSetup:
        """What routing an order of these SKUs needs, read in one go."""

    async def partner_secret(self, saleor_api_url: SaleorApiUrl, partner_id: str) -> str | None:
        """The partner's signing secret (hand-offs and callbacks), decrypted; None for an unknown partner."""


class RoutingSourceStore(RoutingSources, Protocol):
    """The sources as the merchant keeps them (``app.services.routing.sources``)."""

    async def partners(self, saleor_api_url: SaleorApiUrl) -> list[Partner]:
        """Every partner of the store, by name."""

    async def partner(self, saleor_api_url: SaleorApiUrl, partner_id: str) -> Partner | None: ...
    async def add_partner(self, saleor_api_url: SaleorApiUrl, partner: Partner, secret: str, at: datetime) -> bool:
        """Keep a new partner with its signing secret; its warehouse stops being in-house. False, and
        nothing kept, when another partner of the store has its name or warehouse (added meanwhile)."""

    async def update_partner(self, saleor_api_url: SaleorApiUrl, partner: Partner, at: datetime) -> bool:
        """Replace the partner's terms (its secret stays); False for an unknown partner."""

    async def remove_partner(self, saleor_api_url: SaleorApiUrl, partner_id: str) -> bool:
        """Forget the partner and its offers; False for an unknown partner."""

    async def replace_secret(self, saleor_api_url: SaleorApiUrl, partner_id: str, secret: str, at: datetime) -> bool:
        """False for an unknown partner."""

    async def in_house(self, saleor_api_url: SaleorApiUrl) -> dict[SaleorId, int]:
        """The priorities the merchant set of its own warehouses."""

    async def set_in_house_priority(
        self, saleor_api_url: SaleorApiUrl, warehouse_id: SaleorId, priority: int
    ) -> None: ...
    async def offers(self, saleor_api_url: SaleorApiUrl, supplier_id: str) -> list[KeptOffer]:
        """The supplier's offers, by SKU."""

    async def replace_offers(
        self, saleor_api_url: SaleorApiUrl, supplier_id: str, offers: Sequence[SupplierOffer], at: datetime
    ) -> None:
        """The supplier's offers become ``offers`` (a feed replaces the one before)."""


class RoutingPlans(Protocol):
    """Orders' routing plans, one per order, and the hand-offs made of them."""

    async def get(self, saleor_api_url: SaleorApiUrl, order_id: str) -> OrderRouting | None: ...
    async def add(self, saleor_api_url: SaleorApiUrl, routing: OrderRouting) -> bool:
        """Keep the order's first plan; False (and nothing kept) when it has one already."""

    async def revise(self, saleor_api_url: SaleorApiUrl, routing: OrderRouting) -> bool:
        """Replace the kept plan by ``routing`` if the kept one is its previous revision; False otherwise."""

    async def add_hand_off(self, saleor_api_url: SaleorApiUrl, hand_off: HandOff) -> None: ...
    async def hand_offs(self, saleor_api_url: SaleorApiUrl, order_id: str) -> list[HandOff]:
        """The order's hand-offs, oldest first."""

    async def hand_off(self, hand_off_id: str) -> tuple[SaleorApiUrl, HandOff] | None:
        """The hand-off a partner calls back about, with its store; locked until the transaction ends."""

    async def save_hand_off(self, saleor_api_url: SaleorApiUrl, hand_off: HandOff) -> None:
        """Keep the hand-off's new status, reason and units shipped."""

    async def open_hand_offs(self, saleor_api_url: SaleorApiUrl, partner_id: str) -> list[OpenHandOff]:
        """The partner's hand-offs it has still to ship (``HandOff.is_open``), oldest first."""

    async def end_hand_off(self, saleor_api_url: SaleorApiUrl, ended: HandOff, was: HandOffStatus) -> bool:
        """Keep ``ended``'s status and reason if the kept hand-off's status is still ``was``; False otherwise
        (someone else ended or answered it first)."""

    async def unanswered(
        self, saleor_api_url: SaleorApiUrl, partner_id: str, sent_before: datetime, limit: int
    ) -> list[HandOff]:
        """The partner's hand-offs still waiting for an answer that it got before ``sent_before`` (not those
        still being posted to it), oldest first."""

    async def shipment(self, hand_off_id: str, shipment_id: str) -> PartnerShipment | None: ...
    async def add_shipment(self, saleor_api_url: SaleorApiUrl, shipment: PartnerShipment) -> None: ...
    async def first_sight(self, saleor_api_url: SaleorApiUrl, signature: str, now: datetime) -> bool:
        """Remember a callback's signature; False when it was seen before (a replay). Signatures older
        than a callback may be are forgotten."""


class TicketStore(Protocol):
    """A store's support tickets with their threads and status history."""

    async def next_id(self, saleor_api_url: SaleorApiUrl) -> TicketId:
        """A fresh id, the store's next ticket number ("1042")."""

    async def get(self, saleor_api_url: SaleorApiUrl, ticket_id: TicketId) -> Ticket | None: ...
    async def opened_by_store(self, saleor_api_url: SaleorApiUrl, store_key: str) -> Ticket | None:
        """The ticket the store opened under ``store_key`` (``store_ticket_key``), if any."""

    async def add(self, saleor_api_url: SaleorApiUrl, ticket: Ticket, *, store_key: str | None = None) -> bool:
        """Keep a new ticket; False (and nothing kept) when one is already kept under ``store_key``."""

    async def save(self, saleor_api_url: SaleorApiUrl, ticket: Ticket) -> None:
        """Replace the kept ticket by ``ticket`` (the result of ``apply_ticket_event``)."""


@dataclass(frozen=True, slots=True)
class OrderContact:
    """An order as a customer's request is checked against it: its number and who placed it."""

    order_id: SaleorId
    number: str
    email: str | None
    customer_id: SaleorId | None


@dataclass(frozen=True, slots=True)
class SupportOrder:
    """An order as a ticket's page shows it: what macros fill in and which actions its state allows.

    ``status`` is Saleor's ``OrderStatus``; ``goods_out`` is true while a fulfilment is not cancelled
    (Saleor then refuses to cancel the order). ``refund_transaction`` is the payment transaction that charged
    the most, ``charged`` what it charged: a refund is granted against it, up to that (None: nothing charged
    through a transaction, e.g. an order paid the legacy way)."""

    order_id: SaleorId
    number: str
    status: str
    customer_name: str | None
    customer_email: str | None
    tracking_number: str | None
    goods_out: bool
    refund_transaction: str | None = None
    charged: Money | None = None


class SupportSaleor(Protocol):
    """Saleor as a staff user reaches it from a ticket, with their own dashboard token."""

    async def support_order(self, order_id: SaleorId) -> SupportOrder | None:
        """None when Saleor has no such order (or the user may not see it)."""

    async def cancel_order(self, order_id: SaleorId) -> None: ...
    async def add_order_note(self, order_id: SaleorId, message: str) -> None: ...
    async def grant_refund(self, order_id: SaleorId, transaction_id: str, amount: Money, reason: str) -> None:
        """Grant a refund of ``amount`` on the order against the transaction (sent later by the payment app)."""


class OrderLookup(Protocol):
    async def order_by_number(self, number: str) -> OrderContact | None:
        """The store's order with this number (digits), None when there is none."""


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where a store's support mail goes out: ``security`` is "starttls", "tls" (implicit) or "none"."""

    host: str
    port: int
    security: str
    username: str | None
    password: str | None = field(repr=False)


class MailNotSent(Exception):
    """The mail server refused the message or could not be reached; the reason is the message."""


class MailSender(Protocol):
    async def send(self, server: SmtpServer, message: EmailMessage) -> None:
        """Hand ``message`` to ``server``; ``MailNotSent`` when it was not taken."""


class SlaTicketStore(TicketStore, Protocol):
    """Tickets kept with their SLA due and report measures, as every change through the desk leaves them."""

    async def get_for_update(self, saleor_api_url: SaleorApiUrl, ticket_id: TicketId) -> Ticket | None:
        """The ticket, locked until the transaction ends: two people changing one ticket wait for each other."""

    async def set_sla(
        self, saleor_api_url: SaleorApiUrl, ticket_id: TicketId, due: SlaDue, measures: TicketMeasures
    ) -> None:
        """Keep what the inbox sorts by and what reports read, as the ticket stands after its latest change."""


class SupportDesk(SlaTicketStore, Protocol):
    """The team's side of the tickets: what the inbox lists and housekeeping closes, each ticket's SLA."""

    async def sla_due(self, saleor_api_url: SaleorApiUrl, ticket_id: TicketId) -> SlaDue | None: ...
    async def inbox(self, saleor_api_url: SaleorApiUrl, query: InboxQuery) -> InboxPage:
        """The tickets the query keeps, by what breaches first (those without a deadline last), then by number."""

    async def solved_before(self, saleor_api_url: SaleorApiUrl, before: datetime, limit: int) -> list[TicketId]:
        """Solved tickets last solved at or before ``before``, oldest first."""

    async def for_order(self, saleor_api_url: SaleorApiUrl, order_id: SaleorId) -> list[Ticket]:
        """The tickets linked to an order, newest first."""

    async def order_numbers(self, saleor_api_url: SaleorApiUrl, order_ids: Collection[SaleorId]) -> dict[SaleorId, str]:
        """The numbers of the orders the app has heard of, by id."""

    async def assignees(self, saleor_api_url: SaleorApiUrl) -> list[str]:
        """The staff the store's tickets are assigned to, in order."""

    async def store_causes_open(self, saleor_api_url: SaleorApiUrl, reason: StoreReason) -> list[SaleorId]:
        """The orders whose store ticket for ``reason`` has not heard yet that its cause cleared (not closed,
        no store note in its thread), in order."""


class SupportReportSource(Protocol):
    """Support reports over the measures the desk keeps with each ticket."""

    async def report(
        self,
        saleor_api_url: SaleorApiUrl,
        start: datetime,
        end: datetime,
        group_by: GroupBy,
        zone: tzinfo,
        now: datetime,
    ) -> SupportReport:
        """The tickets created in [start, end) grouped as ``summarize`` groups them, at ``now``."""


class MacroStore(Protocol):
    """A store's support macros, by name."""

    async def list(self, saleor_api_url: SaleorApiUrl) -> list[Macro]: ...
    async def get(self, saleor_api_url: SaleorApiUrl, macro_id: MacroId) -> Macro | None: ...
    async def save(self, saleor_api_url: SaleorApiUrl, macro: Macro) -> None:
        """Keep a new macro or replace the one with its id."""

    async def delete(self, saleor_api_url: SaleorApiUrl, macro_id: MacroId) -> bool:
        """False when the store has no such macro."""
