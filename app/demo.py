"""``saleor-ops demo``: a store in a box.

The app runs on the embedded SQLite in a fresh data folder; a Saleor stand-in
runs beside it on its own port. The stand-in installs the app through the real
protocol (manifest, token exchange, JWKS), then plays a seeded day of orders:
every event goes to the app's webhook endpoints over HTTP with a real
signature, and the app calls the stand-in's GraphQL API back as it would call
Saleor. The store's fulfilment partners (``app.standin.partners``) are set up as
a merchant sets them up, receive the app's signed hand-offs and answer through
its callback API; after the day the demo plays on until their last answers, and
a customer writes to support. The app, the stand-in and the partners share one
clock, the day's. Afterwards the dashboard harness shows the app's pages exactly
as the Saleor dashboard would frame them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TextIO
from uuid import uuid4

import httpx
import uvicorn

from app.api.support import store_ref
from app.config import Settings
from app.db.migrate import upgrade_to_head
from app.db.repositories.fraud import SqlFraudRepository
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.order_events import SqlOrderEventLog
from app.db.repositories.pipeline import SqlEffectOutbox
from app.db.repositories.routing import SqlRoutingSources
from app.db.repositories.saleor_names import SqlSaleorNames
from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.shipping import SqlRateTableStore
from app.db.repositories.support import SqlTicketStore
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.inventory import margin_pct
from app.main import create_app
from app.pipeline.worker import Worker
from app.runtime import Runtime
from app.services.order_costing import COGS_KEY
from app.services.ports import WarehouseRef
from app.services.receipts import OpeningBalance, take_opening_balance
from app.services.routing.planning import METADATA_KEY as ROUTING_KEY
from app.services.routing.sources import FeedRejected, SourcesRejected, add_partner, import_feed, read_feed_csv
from app.services.settings import SECTIONS, SettingsRejected, change_settings
from app.services.shipping.orders import METADATA_KEY as SHIPPING_KEY
from app.services.shipping.rate_tables import import_rate_tables
from app.services.shipping.tables import TablesRejected
from app.standin.day import DIMENSION_ATTRIBUTES, Catalogue, plan_day, seed_store
from app.standin.facade import StandIn
from app.standin.harness import HarnessConfig, create_site
from app.standin.partners import PartnerNetwork, SimulatedPartner, add_partners
from app.standin.state import FulfillmentStatus, Order, Warehouse, to_global_id

# The demo store's carriers and prices per warehouse (by slug), as a merchant keeps them.
DEMO_RATE_TABLES = Path(__file__).with_name("demo_rate_tables.csv")
# How long after the day the demo waits for the partners' last answers (a supplier's handling days).
PARTNERS_TAIL = timedelta(days=7)


@dataclass(frozen=True)
class DemoOptions:
    orders: int = 60
    seed: int = 7
    day: date = field(default_factory=lambda: datetime.now(UTC).date() - timedelta(days=1))
    serve: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    standin_port: int = 8001
    data_dir: Path | None = None

    @property
    def app_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def standin_url(self) -> str:
        return f"http://{self.host}:{self.standin_port}"


@dataclass(frozen=True)
class CostingTotals:
    """What the app wrote back as ``ops.cogs``, read from the stand-in's orders and lines."""

    orders: int
    fulfilled_lines: int  # order lines that ever shipped units
    costed_lines: int  # of those, lines carrying their ``ops.cogs`` trace
    by_currency: dict[str, tuple[Decimal, Decimal]]  # revenue, COGS

    @classmethod
    def of(cls, orders: list[Order]) -> CostingTotals:
        totals: dict[str, tuple[Decimal, Decimal]] = {}
        costed_orders = fulfilled = costed = 0
        for order in orders:
            shipped = {
                units.order_line_pk
                for fulfillment in order.fulfillments
                if fulfillment.status is not FulfillmentStatus.WAITING_FOR_APPROVAL
                for units in fulfillment.lines
            }
            fulfilled += len(shipped)
            costed += sum(1 for line in order.lines if line.pk in shipped and COGS_KEY in line.private_metadata)
            if COGS_KEY in order.private_metadata:
                costed_orders += 1
                document = json.loads(order.private_metadata[COGS_KEY])
                revenue, cogs = totals.get(document["currency"], (Decimal(0), Decimal(0)))
                totals[document["currency"]] = (
                    revenue + Decimal(document["revenue"]),
                    cogs + Decimal(document["cogs"]),
                )
        return cls(costed_orders, fulfilled, costed, totals)


@dataclass(frozen=True)
class PartnerTotals:
    """What one simulated partner received and what of its answers the app took."""

    name: str
    kind: str  # "3pl" or "dropship"
    received: int  # hand-offs
    accepted: int
    rejected: int
    shipped: int  # shipments confirmed
    cancelled: int  # hand-offs the app cancelled (the order cancelled, or re-routed) before they shipped

    @classmethod
    def of(cls, partner: SimulatedPartner) -> PartnerTotals:
        answered = partner.answered
        return cls(
            partner.name,
            partner.kind,
            len(partner.received),
            answered["accept"],
            answered["reject"],
            answered["shipments"],
            len(partner.cancelled),
        )


_SOURCE_KINDS = {"in_house": "in-house", "3pl": "3PL", "dropship": "supplier"}


@dataclass(frozen=True)
class RoutingTotals:
    """What routing did, read from the plans the app wrote back (``ops.routing``), the partners'
    side, and the fulfilments Saleor made from the partners' shipments."""

    planned: int  # orders with a plan
    by_source: dict[str, int]  # orders with units planned from each kind of source
    replanned: int  # orders planned again after a partner's rejection
    partners: tuple[PartnerTotals, ...]
    partner_fulfilments: int  # Saleor fulfilments the app created (orderFulfill) from partners' shipments
    unanswered: int  # partners' answers still to come when the demo stopped
    refused: tuple[str, ...]  # partners' answers the app refused, with its reason

    @classmethod
    def of(
        cls, orders: list[Order], partners: tuple[SimulatedPartner, ...], unanswered: int, app_pk: int
    ) -> RoutingTotals:
        by_source: Counter[str] = Counter()
        planned = replanned = 0
        for order in orders:
            written = order.private_metadata.get(ROUTING_KEY)
            if written is None:
                continue
            document = json.loads(written)
            planned += bool(document["plan"])
            by_source.update({entry["source"]["kind"] for entry in document["plan"]})
            replanned += any(line.startswith("re-planned without") for line in document["explanation"][:1])
        # Read from each order's history: a fulfilment refunded or returned since may be gone from the order.
        fulfilled = sum(
            1
            for order in orders
            for event in order.events
            if event.type == "FULFILLMENT_FULFILLED_ITEMS" and event.app_pk == app_pk
        )
        refused = tuple(reason for partner in partners for reason in partner.refused)
        return cls(
            planned, dict(by_source), replanned, tuple(map(PartnerTotals.of, partners)), fulfilled, unanswered, refused
        )

    def lines(self) -> Iterator[str]:
        kinds = ", ".join(f"{self.by_source.get(kind, 0)} {name}" for kind, name in _SOURCE_KINDS.items())
        yield f"Routing                 {self.planned} orders planned ({kinds}), {self.replanned} re-planned"
        for partner in self.partners:
            who = f"{partner.name} ({_SOURCE_KINDS[partner.kind]})"
            yield (
                f"  {who:<22}{partner.received} handed off, {partner.accepted} accepted, "
                f"{partner.rejected} rejected, {partner.shipped} shipped, {partner.cancelled} cancelled"
            )
        yield f"Fulfilled by partners   {self.partner_fulfilments} Saleor fulfilments made from their shipments"
        if self.unanswered:
            yield f"  {self.unanswered} partners' answers still to come"
        for reason in self.refused:
            yield f"  refused by the app: {reason}"


def _late(order: Order) -> bool:
    """A shipment of the order's ``ops.shipping`` arrives after the date promised."""
    written = order.private_metadata.get(SHIPPING_KEY)
    return written is not None and not all(s["meetsPromise"] for s in json.loads(written)["shipments"])


@dataclass
class DemoSummary:
    """What happened, read back from the stand-in's store and the app's database."""

    data_dir: Path
    orders: int
    order_statuses: dict[str, int]
    fulfilled_lines: int
    deliveries: dict[str, int]
    failed_deliveries: int
    checkouts: int  # orders shoppers checked out, asking the app for delivery options
    app_shipping: int  # of those, the ones shipped with an option the app offered
    shipping_chosen: int  # orders whose carrier services the app chose (``ops.shipping``)
    shipping_late: int  # of those, the ones with a shipment that no longer keeps its promise
    recorded_events: dict[str, int]
    decisions: dict[str, int]  # the latest fraud decision per order
    held_orders: int
    awaiting_payment: int  # approved, held by the channel until the check that sees the payment
    opening: OpeningBalance
    costing: CostingTotals
    routing: RoutingTotals
    tickets: dict[str, Counter[str]]  # support tickets by why they were opened, then by status
    harness_url: str

    def lines(self) -> Iterator[str]:
        yield f"Orders placed           {self.orders}"
        for status, count in sorted(self.order_statuses.items()):
            yield f"  {status.lower().replace('_', ' '):<22}{count}"
        yield f"Order lines fulfilled   {self.fulfilled_lines}"
        yield f"Checkouts               {self.checkouts}, {self.app_shipping} shipped with an option the app offered"
        yield f"Shipping chosen         {self.shipping_chosen} orders, {self.shipping_late} not keeping the promise"
        decided = ", ".join(f"{self.decisions.get(d, 0)} {d}" for d in ("approve", "review", "reject"))
        yield f"Fraud decisions         {decided}"
        yield f"Held for review         {self.held_orders}"
        yield f"Waiting for payment     {self.awaiting_payment}"
        opening, costing = self.opening, self.costing
        yield f"Opening stock value     {opening.value} {opening.currency} ({opening.booked} stock records)"
        shipped = f"{costing.costed_lines} of {costing.fulfilled_lines} shipped"
        yield f"Lines costed            {shipped} ({costing.orders} orders)"
        for currency, (revenue, cogs) in sorted(costing.by_currency.items()):
            margin = revenue - cogs
            share = f" ({margin_pct(revenue, cogs)}%)" if revenue else ""
            yield f"  sales {revenue} {currency}, cost of goods {cogs}, gross margin {margin}{share}"
        yield from self.routing.lines()
        yield f"Support tickets         {sum(sum(s.values()) for s in self.tickets.values())}"
        for reason, statuses in sorted(self.tickets.items()):
            counted = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
            yield f"  {reason.replace('_', ' '):<22}{counted}"
        yield f"Webhooks delivered      {sum(self.deliveries.values())} ({self.failed_deliveries} refused)"
        for event, count in sorted(self.deliveries.items()):
            recorded = self.recorded_events.get(event.lower())
            kept = f", {recorded} recorded by the app" if recorded is not None else ""
            yield f"  {event:<22}{count}{kept}"
        yield f"Data folder             {self.data_dir}"


class _Server(uvicorn.Server):
    """Two servers share one loop here, so signals are the demo's to handle, not uvicorn's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def _serving(app: object, host: str, port: int) -> AsyncIterator[_Server]:
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))  # type: ignore[arg-type]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start (a port in use, say)
            raise RuntimeError(f"server on port {port} stopped before it started")
        await asyncio.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        await task


class _Progress:
    def __init__(self, total: int, out: TextIO) -> None:
        self.total, self.out, self.done = total, out, 0
        self.live = out.isatty()

    def step(self, description: str) -> None:
        self.done += 1
        if self.live:
            filled = self.done * 30 // max(self.total, 1)
            bar = "#" * filled + "-" * (30 - filled)
            self.out.write(f"\r  [{bar}] {self.done}/{self.total} {description[:40]:<40}")
            self.out.flush()

    def finish(self) -> None:
        if self.live:
            self.out.write("\n")


class _DayClock:
    """The day's time, the stand-in's, the partners' and the app's alike: the moment being played, and
    once the day is played (``run_on``), that moment plus the time passed since, as on the wall."""

    def __init__(self, start: datetime) -> None:
        self.moment = start
        self._running_since: float | None = None

    def __call__(self) -> datetime:
        return self.now()

    def now(self) -> datetime:
        if self._running_since is None:
            return self.moment
        return self.moment + timedelta(seconds=time.monotonic() - self._running_since)

    def run_on(self) -> None:
        self._running_since = time.monotonic()


def prepare(options: DemoOptions) -> Settings:
    """A fresh data folder and a migrated database; runs before the event loop starts."""
    data_dir = options.data_dir or Path("var") / datetime.now(UTC).strftime("demo-%Y%m%d-%H%M%S")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise SystemExit(f"{data_dir} is not empty; the demo starts from a fresh data folder")
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite+aiosqlite:///{data_dir.resolve()}/saleor-ops.db"
    upgrade_to_head(database_url)
    return Settings(
        database_url=database_url,
        public_url=options.app_url,
        data_dir=data_dir,
        allowed_saleor_urls=f"{options.standin_url}/graphql/",
        log_level="WARNING",
        log_json=False,
        _env_file=None,
    )


async def _app_outcome(runtime: Runtime, url: SaleorApiUrl) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """What the app kept: order events by kind, the latest decision per order, and orders held, by why."""
    async with runtime.sessions() as session:
        fraud = SqlFraudRepository(session)
        recorded = await SqlOrderEventLog(session).counts_since(url, datetime.min.replace(tzinfo=UTC))
        return recorded, await fraud.latest_decision_counts(url), await fraud.count_held(url)


async def _opening_balance(runtime: Runtime, url: SaleorApiUrl, at: datetime) -> OpeningBalance:
    """What a merchant does first: value the stock Saleor counts at its cost prices."""
    async with runtime.sessions.begin() as session:
        installation = await SqlInstallationStore(session, runtime.cipher).get(url)
        assert installation is not None
        return await take_opening_balance(
            url,
            saleor=runtime.deciding(installation, SqlEffectOutbox(session), f"opening-balance:{uuid4()}"),
            ledger=SqlInventoryLedger(session),
            settings=SqlSettingsStore(session),
            names=SqlSaleorNames(session),
            channel=None,
            at=at,
            now=at,
            recorded_by="demo",
        )


async def _rate_tables(runtime: Runtime, url: SaleorApiUrl, warehouses_of_store: Iterable[Warehouse]) -> str:
    """The merchant's rate tables for every warehouse, imported as a merchant's file would be."""
    warehouses = {w.slug: to_global_id("Warehouse", w.pk) for w in warehouses_of_store}
    with DEMO_RATE_TABLES.open(newline="") as lines:
        async with runtime.sessions.begin() as session:
            tables = await import_rate_tables(SqlRateTableStore(session), url, lines, warehouses)
    if isinstance(tables, TablesRejected):
        raise RuntimeError(f"{DEMO_RATE_TABLES.name} does not import: {'; '.join(map(str, tables.problems))}")
    services = sum(len(table.services) for table in tables)
    return f"Rate tables imported from {DEMO_RATE_TABLES.name}: {services} carrier services in {len(tables)} warehouses"


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# The partners' warehouses' calendars: their time zones and when their carriers last collect.
_PARTNER_CALENDARS = {"OH": ("America/New_York", "16:00"), "TX": ("America/Chicago", "14:00")}


def _partner_calendar(partner: SimulatedPartner) -> dict[str, object]:
    address = partner.warehouse.address
    time_zone, cutoff = _PARTNER_CALENDARS[address.country_area]
    return {
        "id": to_global_id("Warehouse", partner.warehouse.pk),
        "name": partner.warehouse.name,
        "origin": {
            "country": address.country,
            "postal_code": address.postal_code,
            "city": address.city,
            "country_area": address.country_area,
        },
        "time_zone": time_zone,
        "holiday_subdivision": address.country_area,
        "cutoffs": dict.fromkeys(_WEEKDAYS, cutoff),
        "handling_days_min": 0,
        "handling_days_max": 0,
    }


def _demo_shipping(catalogue: Catalogue, partners: tuple[SimulatedPartner, ...] = ()) -> dict[str, object]:
    """The roastery's shipping settings: every warehouse's calendar, what the channel promises and
    charges per level, its boxes and its product types' packed sizes."""
    weekdays = _WEEKDAYS
    main, tpl = (to_global_id("Warehouse", w.pk) for w in (catalogue.main, catalogue.tpl))
    others = [_partner_calendar(p) for p in partners if p.warehouse.pk not in (catalogue.main.pk, catalogue.tpl.pk)]
    return {
        "locale": "en_US",
        "warehouses": [
            {
                "id": main,
                "name": catalogue.main.name,
                "origin": {"country": "US", "postal_code": "78702", "city": "Austin", "country_area": "TX"},
                "time_zone": "America/Chicago",
                "holiday_subdivision": "TX",
                "cutoffs": dict.fromkeys(weekdays, "14:00"),
                "handling_days_min": 0,
                "handling_days_max": 0,
            },
            {
                "id": tpl,
                "name": catalogue.tpl.name,
                "origin": {"country": "US", "postal_code": "43207", "city": "Columbus", "country_area": "OH"},
                "time_zone": "America/New_York",
                "holiday_subdivision": "OH",
                "cutoffs": dict.fromkeys(weekdays, "16:00"),
                "handling_days_min": 0,
                "handling_days_max": 0,
            },
            *others,
        ],
        "channels": [
            {
                "channel": "default-channel",
                "warehouse": main,
                "levels": {
                    "standard": {"promise_days": 5, "free_above": "75"},
                    "expedited": {"promise_days": 3, "markup_pct": "10"},
                    "overnight": {"promise_days": 1, "markup_fixed": "2.00"},
                },
            }
        ],
        "boxes": [
            {"name": "Small", "length_cm": 25, "width_cm": 20, "height_cm": 10, "max_weight_kg": 5, "tare_kg": "0.15"},
            {"name": "Medium", "length_cm": 40, "width_cm": 30, "height_cm": 20, "max_weight_kg": 15, "tare_kg": "0.4"},
            {"name": "Large", "length_cm": 60, "width_cm": 40, "height_cm": 40, "max_weight_kg": 30, "tare_kg": "0.9"},
        ],
        "product_types": [
            {"product_type": "Coffee", "length_cm": 18, "width_cm": 10, "height_cm": 8},
            {"product_type": "Brewing", "length_cm": 25, "width_cm": 20, "height_cm": 15},
            {"product_type": "Machines", "length_cm": 45, "width_cm": 35, "height_cm": 40},
            {"product_type": "Merch", "length_cm": 30, "width_cm": 25, "height_cm": 4},
        ],
        "dimension_attributes": ", ".join(DIMENSION_ATTRIBUTES),
        "carrier_preference": ["UPS", "USPS"],
        "rules": [{"name": "Machines go by UPS", "product_types": ["Machines"], "only_carriers": ["UPS"]}],
    }


async def _shipping_settings(
    runtime: Runtime, url: SaleorApiUrl, catalogue: Catalogue, partners: tuple[SimulatedPartner, ...], at: datetime
) -> str:
    """Saved as a merchant would on the Settings page, so that checkouts get the app's options."""
    settings = _demo_shipping(catalogue, partners)
    async with runtime.sessions.begin() as session:
        saved = await change_settings(
            SqlSettingsStore(session), url, SECTIONS["shipping"], settings, changed_by="demo", now=at
        )
    if isinstance(saved, SettingsRejected):
        raise RuntimeError(f"the demo's shipping settings are refused: {saved.errors}")
    return "Shipping settings saved: every warehouse's calendar, the channel's promises and prices, boxes"


_PARTNER_TERMS = {
    # The merchant's terms with each partner: acceptance window (hours), priority, pick-and-pack fees.
    "ShipHero": {"acceptance_hours": "24", "priority": "0", "fee_per_order": "2.50", "fee_per_unit": "0.35"},
    "Red Stag": {"acceptance_hours": "24", "priority": "0", "fee_per_order": "1.75", "fee_per_unit": "0.25"},
    "Grindworks": {"acceptance_hours": "48", "priority": "0"},
}


async def _partners(
    runtime: Runtime,
    url: SaleorApiUrl,
    store_warehouses: Iterable[Warehouse],
    network: PartnerNetwork,
    partners_url: str,
    at: datetime,
) -> str:
    """The partners added as a merchant adds them on Routing → Sources, each given the secret the app
    generated, and the supplier's feed uploaded as its CSV file."""
    warehouses = [WarehouseRef(to_global_id("Warehouse", w.pk), w.slug, w.name) for w in store_warehouses]
    offers = 0
    async with runtime.sessions.begin() as session:
        sources = SqlRoutingSources(session, cipher=runtime.cipher)
        for partner in network.partners.values():
            form = {
                "name": partner.name,
                "kind": partner.kind,
                "warehouse_id": to_global_id("Warehouse", partner.warehouse.pk),
                "hand_off": "webhook",
                "address": network.endpoint(partners_url, partner),
                "fee_currency": "USD" if partner.kind == "3pl" else "",
                **_PARTNER_TERMS[partner.name],
            }
            added = await add_partner(sources, url, form, warehouses, now=at)
            if isinstance(added, SourcesRejected):
                raise RuntimeError(f"the demo's partner {partner.name} is refused: {dict(added.errors)}")
            partner.secret = added.secret
            if partner.offers:
                feed = partner.feed_csv().splitlines(keepends=True)
                imported = await import_feed(sources, url, added.partner.id, partial(read_feed_csv, feed), now=at)
                if imported is None or isinstance(imported, FeedRejected):
                    raise RuntimeError(f"{partner.name}'s feed does not import: {imported}")
                offers += imported.offers
    names = ", ".join(f"{p.name} ({_SOURCE_KINDS[p.kind]})" for p in network.partners.values())
    return f"Partners added: {names}; the supplier's feed of {offers} offers imported"


async def run_demo(
    options: DemoOptions,
    settings: Settings,
    standin: StandIn,
    clock: _DayClock,
    *,
    out: TextIO,
    until: Callable[[], asyncio.Future[None]] | None = None,
) -> DemoSummary:
    """Install the app into the stand-in, play the day, and keep serving until ``until`` resolves."""
    harness = HarnessConfig(
        app_url=options.app_url,
        saleor_api_url=standin.api_url,
        app_id="",
        key=standin.key,
        saleor_version=standin.store.shop.version,
        latest_order_id=lambda: _latest_order_id(standin),
        store=standin.store,
    )
    network = PartnerNetwork(clock, seed=options.seed)
    standin_site = network.beside(create_site(standin.asgi, harness))
    # The app keeps the day's time too, so that what it plans and checks happens on the day played.
    app = create_app(settings, clock=clock)
    runtime: Runtime = app.state.runtime
    worker: Worker = app.state.worker
    async with (
        _serving(app, options.host, options.port),
        _serving(standin_site, options.host, options.standin_port),
        httpx.AsyncClient(timeout=30) as to_app,
    ):
        standin.http = to_app
        print(f"Saleor Ops on {options.app_url}; Saleor stand-in on {options.standin_url}", file=out)
        installed = await standin.install(f"{options.app_url}/api/manifest")
        harness.app_id = to_global_id("App", installed.pk)
        print(f"Installed into the stand-in as {harness.app_id}", file=out)

        url = SaleorApiUrl(standin.api_url)
        catalogue = seed_store(standin.store, seed=options.seed, day=options.day)
        network.join(add_partners(standin.store, catalogue))
        opening = await _opening_balance(runtime, url, clock())
        print(
            f"Opening balance taken from the stand-in's stock: {opening.booked} stock records, "
            f"{opening.value} {opening.currency}",
            file=out,
        )
        warehouses = list(standin.store.warehouses.values())
        print(await _rate_tables(runtime, url, warehouses), file=out)
        partners = tuple(network.partners.values())
        print(await _shipping_settings(runtime, url, catalogue, partners, clock()), file=out)
        print(await _partners(runtime, url, warehouses, network, options.standin_url, clock()), file=out)
        steps = plan_day(standin.store, catalogue, seed=options.seed, orders=options.orders, day=options.day)
        print(f"Playing {options.day} (seed {options.seed}): {len(steps)} steps, {options.orders} orders", file=out)
        progress = _Progress(len(steps), out)
        delivered: Counter[str] = Counter()
        failed = 0

        async def settle() -> None:
            nonlocal failed
            for delivery in await standin.deliver_pending():
                delivered[delivery.event] += 1
                failed += not delivery.response.is_success
            # The worker runs beside the server; waiting for it here keeps a seeded day the same day.
            await worker.drain()

        async def partners_answer(until: datetime) -> None:
            """The partners' answers due by ``until``, each at its own moment."""
            while (due := network.next_due()) is not None and due <= until:
                clock.moment = max(clock.moment, due)
                await network.answer_due(to_app, options.app_url, clock.moment)
                await settle()

        for step in steps:
            await partners_answer(step.at)
            clock.moment = step.at
            # Shoppers' checkouts ask the app for delivery options on the way (a sync webhook).
            await step.play(standin.store, standin.list_delivery_methods)
            await settle()
            progress.step(step.description)
        progress.finish()
        # The partners' parcels that leave in the days after, and what the app makes of their answers
        # (a rejection's note is an event, its new plan a hand-off, answered in turn).
        tail_ends = clock.moment + PARTNERS_TAIL
        while True:
            await partners_answer(tail_ends)
            await settle()
            due = network.next_due()
            if not standin.store.outbox and (due is None or due > tail_ends):
                break
        print(await _customer_writes(to_app, options.app_url, url, network, standin), file=out)

        orders = list(standin.store.orders.values())
        recorded, decisions, held = await _app_outcome(runtime, url)
        summary = DemoSummary(
            data_dir=settings.data_dir,
            orders=len(orders),
            order_statuses=dict(Counter(o.status.value for o in orders)),
            fulfilled_lines=sum(1 for o in orders for line in o.lines if line.quantity_fulfilled > 0),
            deliveries=dict(delivered),
            failed_deliveries=failed,
            checkouts=sum(1 for step in steps if step.shop is not None),
            app_shipping=sum(1 for o in orders if o.shipping_method is not None and o.shipping_method.external_id),
            shipping_chosen=sum(1 for o in orders if SHIPPING_KEY in o.private_metadata),
            shipping_late=sum(1 for o in orders if _late(o)),
            recorded_events=recorded,
            decisions=decisions,
            held_orders=held.get("open", 0),
            awaiting_payment=held.get("awaiting_payment", 0),
            opening=opening,
            costing=CostingTotals.of(orders),
            routing=RoutingTotals.of(orders, partners, network.waiting, installed.pk),
            tickets=await _tickets(runtime, url, orders),
            harness_url=f"{options.standin_url}/?page=/dashboard",
        )
        print("\n".join(summary.lines()), file=out)
        if options.serve and until is not None:
            print(f"\nOpen {summary.harness_url} to see the app inside a stand-in dashboard.", file=out)
            print("Press Ctrl-C to stop.", file=out)
            clock.run_on()
            answering = asyncio.create_task(_answer_while_serving(network, standin, to_app, options.app_url, clock))
            try:
                await until()
            finally:
                answering.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await answering
    return summary


async def _answer_while_serving(
    network: PartnerNetwork, standin: StandIn, to_app: httpx.AsyncClient, app_url: str, clock: _DayClock
) -> None:
    """While the demo serves, partners answer when their time comes and Saleor's events reach the app."""
    while True:
        await network.answer_due(to_app, app_url, clock.now())
        await standin.deliver_pending()
        await asyncio.sleep(1)


async def _customer_writes(
    to_app: httpx.AsyncClient, app_url: str, url: SaleorApiUrl, network: PartnerNetwork, standin: StandIn
) -> str:
    """A customer asks after a parcel a partner sent, on the storefront's support form (the public API)."""
    tracking = {number for partner in network.partners.values() for number in partner.tracking_numbers}
    sent = sorted(
        (order for order in standin.store.orders.values() if order.user_email),
        key=lambda order: (not any(f.tracking_number in tracking for f in order.fulfillments), order.number),
    )
    if not sent:
        return "No order to write to support about"
    order = sent[0]
    response = await to_app.post(
        f"{app_url}/api/stores/{store_ref(url)}/support/requests",
        json={
            "order_number": str(order.number),
            "email": order.user_email,
            "subject": "Where is my parcel?",
            "message": "The tracking page has not moved since yesterday. Is my order on its way?",
        },
    )
    if response.status_code != 201:
        raise RuntimeError(f"the customer's request was refused: {response.status_code} {response.text}")
    return f"A customer wrote to support about #{order.number}: ticket {response.json()['ticket']}"


async def _tickets(runtime: Runtime, url: SaleorApiUrl, orders: list[Order]) -> dict[str, Counter[str]]:
    """The day's support tickets, by why they were opened (the store's reason, or the customer's channel)."""
    seen: dict[str, tuple[str, str]] = {}
    async with runtime.sessions() as session:
        tickets = SqlTicketStore(session)
        for order in orders:
            for ticket in await tickets.for_order(url, SaleorId(to_global_id("Order", order.pk))):
                why = ticket.store_reason.value if ticket.store_reason else f"customer ({ticket.channel.value})"
                seen[ticket.id] = (why, ticket.status.value)
    counted: dict[str, Counter[str]] = {}
    for why, status in seen.values():
        counted.setdefault(why, Counter())[status] += 1
    return counted


def _latest_order_id(standin: StandIn) -> str | None:
    orders = list(standin.store.orders.values())
    return to_global_id("Order", max(orders, key=lambda order: order.number).pk) if orders else None


def play(options: DemoOptions, *, out: TextIO = sys.stderr) -> tuple[DemoSummary, StandIn]:
    """The whole demo, from a fresh data folder to Ctrl-C (or to the summary with ``serve=False``)."""
    settings = prepare(options)
    clock = _DayClock(datetime.combine(options.day, datetime.min.time(), UTC))
    standin = StandIn(api_url=f"{options.standin_url}/graphql/", clock=clock)

    async def run() -> DemoSummary:
        loop = asyncio.get_running_loop()
        stop: asyncio.Future[None] = loop.create_future()

        def stop_serving() -> None:
            if not stop.done():
                stop.set_result(None)

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop_serving)
        try:
            return await run_demo(options, settings, standin, clock, out=out, until=lambda: stop)
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    summary = asyncio.run(run())
    print("Stopped." if options.serve else "Done.", file=out)
    return summary, standin


def main(options: DemoOptions) -> int:
    summary, _ = play(options)
    return 1 if summary.failed_deliveries or summary.routing.refused else 0
