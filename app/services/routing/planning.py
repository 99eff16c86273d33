"""A plan per order: once fraud clears it, which source ships which units of each line (the pure
planner, ``app.domain.routing.route``), kept once and written to Saleor (``ops.routing`` and one note).

Sources are the store's Saleor warehouses (in-house, or run by a 3PL partner) with the stock Saleor
reports for the order's variants, and its dropship suppliers with their feeds' offers. Each shipment
is priced from its origin by the shipping capability at the level the shopper bought, arriving by the
date checkout promised; nothing here calls a carrier (the pipeline's quoter reads rate tables and the
live answers checkout already fetched).

The planner asks for quotes synchronously, so they are fetched first: per source, every set of the
order's lines it holds stock for, when it holds at most ``QUOTED_SUBSETS_MAX_LINES`` of them; beyond,
each line alone and all of them together, the latter standing in for any other set (a bigger
shipment never costs less nor arrives sooner, so it bounds the others from above). Each set is
quoted at the lines' full quantities, which bounds a split's share from above the same way. A
supplier's shipment leaves once its slowest SKU's handling days have passed.

A partner that rejects its share, or lets its acceptance window pass (``app.services.routing.lifecycle``),
leaves its units to the next plan of the order, made on the next event Saleor sends about it (the note
written on the rejection or the expiry makes one), without that partner.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import combinations
from typing import Protocol

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.money import Money
from app.domain.routing.model import (
    InvalidSource,
    OrderLine,
    OriginQuote,
    PickPackFees,
    Quoter,
    Shipment,
    Source,
    SourceKind,
    SupplierItem,
)
from app.domain.routing.plan import Plan, Unroutable
from app.domain.routing.planner import route
from app.services.ports import FraudRepository, RoutingPlans, RoutingSources, SaleorWriter
from app.services.routing.hand_offs import HandOffWriter, OrderForPartners, hand_off_shipments
from app.services.routing.model import Partner, RoutingSetup
from app.services.routing.plans import HandOff, HandOffStatus, OrderRouting, RoutedShipment, RoutedUnits
from app.services.shipping.model import CartLine, OrderShipment, PlacedOrder
from app.services.shipping.orders import Clearance, fraud_clearance
from app.services.shipping.quoting import ShippingQuoter

log = logging.getLogger(__name__)

METADATA_KEY = "ops.routing"
NOTE_PREFIX = "Saleor Ops routing"
QUOTED_SUBSETS_MAX_LINES = 5


@dataclass(frozen=True, slots=True)
class LineToRoute:
    id: str
    sku: str
    cart: CartLine  # its units still to ship, as the shipping quoter weighs and prices them
    name: str = ""  # the product's, as partners read it


@dataclass(frozen=True, slots=True)
class OrderToRoute:
    """An order's lines still to ship, where it goes at which level (``placed``, its shipments unused),
    and what each Saleor warehouse can ship of its SKUs now (``stock``, by warehouse id then SKU)."""

    order_id: str
    placed: PlacedOrder
    lines: tuple[LineToRoute, ...]
    stock: Mapping[SaleorId, Mapping[str, int]]
    warehouse_names: Mapping[SaleorId, str]
    number: str = ""
    ship_to: Mapping[str, str] = field(default_factory=dict)  # the address partners ship to


class UnitCosts(Protocol):
    async def __call__(self, url: SaleorApiUrl, skus: Collection[str], currency: str) -> Mapping[str, Decimal]:
        """What the next unit of each SKU costs the merchant by the ledger, where it knows
        (``app.services.inventory.next_unit_costs``)."""


class OriginQuotes(Protocol):
    async def promised_by(self, saleor_api_url: SaleorApiUrl, order: PlacedOrder) -> date | None: ...
    async def quote(
        self,
        saleor_api_url: SaleorApiUrl,
        order: PlacedOrder,
        shipment: OrderShipment,
        leaves_at: datetime,
        promised_by: date,
    ) -> OriginQuote | None:
        """The service the shipment would go with, at the order's level; None when none is quoted."""


class ShippingOriginQuotes:
    """``OriginQuotes`` from the shipping capability: the service it would choose for the shipment."""

    def __init__(self, quoter: ShippingQuoter) -> None:
        self._quoter = quoter

    async def promised_by(self, saleor_api_url: SaleorApiUrl, order: PlacedOrder) -> date | None:
        return await self._quoter.promised_by(saleor_api_url, order)

    async def quote(
        self,
        saleor_api_url: SaleorApiUrl,
        order: PlacedOrder,
        shipment: OrderShipment,
        leaves_at: datetime,
        promised_by: date,
    ) -> OriginQuote | None:
        decided = await self._quoter.reselect_for_order(
            saleor_api_url, replace(order, shipments=(shipment,)), leaves_at, promised_by
        )
        (decision,) = decided.shipments
        chosen = decision.selection.chosen if decision.selection is not None else None
        if chosen is None:
            return None
        return OriginQuote(chosen.quote.total, chosen.window.latest, chosen.label)


@dataclass(frozen=True, slots=True)
class Routed:
    routing: OrderRouting
    note: str
    hand_offs: tuple[HandOff, ...] = ()
    dropped: tuple[HandOff, ...] = ()  # re-planned: the hand-offs whose partners rejected or let them expire


@dataclass(frozen=True, slots=True)
class NotRouted:
    reason: str


def _sources(order: OrderToRoute, setup: RoutingSetup, currency: str) -> list[Source]:
    partners = {partner.warehouse_id: partner for partner in setup.partners}
    sources = [_partner_source(partner, order, setup, currency) for partner in setup.partners]
    for warehouse, stock in order.stock.items():
        if warehouse not in partners:
            name = order.warehouse_names.get(warehouse) or warehouse
            sources.append(
                Source(warehouse, name, SourceKind.IN_HOUSE, stock, priority=setup.in_house.get(warehouse, 0))
            )
    return sources


def _partner_source(partner: Partner, order: OrderToRoute, setup: RoutingSetup, currency: str) -> Source:
    if partner.kind is SourceKind.DROPSHIP:
        offers = setup.offers.get(partner.id, {})
        return Source(
            partner.warehouse_id,
            partner.name,
            partner.kind,
            {sku: offer.stock for sku, offer in offers.items()},
            priority=partner.priority,
            catalogue={sku: SupplierItem(offer.unit_price, offer.handling_days) for sku, offer in offers.items()},
            acceptance_window=partner.acceptance_window,
        )
    zero = Money(Decimal(0), currency)
    return Source(
        partner.warehouse_id,
        partner.name,
        partner.kind,
        order.stock.get(partner.warehouse_id, {}),
        priority=partner.priority,
        fees=partner.fees or PickPackFees(zero, zero),  # a 3PL that charges nothing per pick
        acceptance_window=partner.acceptance_window,
    )


def _line_sets(lines: Sequence[LineToRoute]) -> list[tuple[LineToRoute, ...]]:
    if len(lines) <= QUOTED_SUBSETS_MAX_LINES:
        return [subset for size in range(1, len(lines) + 1) for subset in combinations(lines, size)]
    return [*((line,) for line in lines), tuple(lines)]


async def _quotes(
    url: SaleorApiUrl,
    order: OrderToRoute,
    sources: Sequence[Source],
    quotes: OriginQuotes,
    promised_by: date,
    now: datetime,
) -> dict[tuple[str, frozenset[str]], OriginQuote]:
    table: dict[tuple[str, frozenset[str]], OriginQuote] = {}
    for source in sources:
        held = [line for line in order.lines if source.in_stock(line.sku) > 0]
        for lines in _line_sets(held):
            handling = max(
                (source.catalogue[line.sku].handling_days for line in lines if line.sku in source.catalogue), default=0
            )
            shipment = OrderShipment(source.id, tuple(line.cart for line in lines))
            quote = await quotes.quote(url, order.placed, shipment, now + timedelta(days=handling), promised_by)
            if quote is not None:
                table[(source.id, frozenset(line.id for line in lines))] = quote
    return table


def _quoter(
    table: Mapping[tuple[str, frozenset[str]], OriginQuote], order: OrderToRoute
) -> Callable[[Shipment], OriginQuote | None]:
    def quote(shipment: Shipment) -> OriginQuote | None:
        source = shipment.source
        held = [line.id for line in order.lines if source.in_stock(line.sku) > 0]
        if len(held) <= QUOTED_SUBSETS_MAX_LINES:
            return table.get((source.id, shipment.line_ids))
        # Only single lines and all of them were quoted: all of them bound any other set.
        return table.get((source.id, shipment.line_ids)) or table.get((source.id, frozenset(held)))

    return quote


@dataclass(frozen=True, slots=True)
class PlanningInputs:
    """What the planner weighs an order's lines with: the sources, the quotes fetched for them, the
    promised date and the ledger's unit costs. The simulator prices Saleor's allocation with the same."""

    lines: tuple[OrderLine, ...]
    sources: tuple[Source, ...]
    quoter: Quoter
    promised_by: date
    currency: str
    unit_costs: Mapping[str, Money]


async def planning_inputs(
    url: SaleorApiUrl,
    order: OrderToRoute,
    lines: Sequence[LineToRoute],
    *,
    setup: RoutingSetup,
    quotes: OriginQuotes,
    unit_costs: UnitCosts,
    now: datetime,
) -> PlanningInputs | Unroutable:
    currency = order.placed.currency
    promised_by = await quotes.promised_by(url, order.placed)
    if promised_by is None:
        return Unroutable((f"no plan: channel {order.placed.channel} promises no {order.placed.level} delivery",))
    try:
        sources = _sources(order, setup, currency)
        to_route = replace(order, lines=tuple(lines))
        table = await _quotes(url, to_route, sources, quotes, promised_by, now)
    except InvalidSource as exc:  # a supplier without a price, a quote that makes no sense
        return Unroutable((f"no plan: {exc}",))
    costs = await unit_costs(url, {line.sku for line in lines}, currency)
    return PlanningInputs(
        tuple(OrderLine(line.id, line.sku, line.cart.quantity) for line in lines),
        tuple(sources),
        _quoter(table, to_route),
        promised_by,
        currency,
        {sku: Money(cost, currency) for sku, cost in costs.items()},
    )


async def plan_lines(
    url: SaleorApiUrl,
    order: OrderToRoute,
    lines: Sequence[LineToRoute],
    excluded: Mapping[str, str],
    *,
    setup: RoutingSetup,
    quotes: OriginQuotes,
    unit_costs: UnitCosts,
    now: datetime,
) -> Plan | Unroutable:
    inputs = await planning_inputs(url, order, lines, setup=setup, quotes=quotes, unit_costs=unit_costs, now=now)
    if isinstance(inputs, Unroutable):
        return inputs
    known = {source.id for source in inputs.sources}
    try:
        return route(
            inputs.lines,
            inputs.sources,
            inputs.quoter,
            promised_by=inputs.promised_by,
            planned_on=now.date(),
            currency=inputs.currency,
            unit_costs=inputs.unit_costs,
            excluded={source: why for source, why in excluded.items() if source in known},
        )
    except InvalidSource as exc:  # a source set up in another currency, a supplier without a price
        return Unroutable((f"no plan: {exc}",))


def routed_shipments(plan: Plan, setup: RoutingSetup, now: datetime) -> tuple[RoutedShipment, ...]:
    partners = {partner.warehouse_id: partner.id for partner in setup.partners}
    return tuple(
        RoutedShipment(
            SaleorId(shipment.source.id),
            shipment.source.kind,
            partners.get(SaleorId(shipment.source.id)),
            tuple(RoutedUnits(units.line.id, units.line.sku, units.quantity) for units in shipment.units),
            now + timedelta(days=Shipment(shipment.source, shipment.units).handling_days),  # as it was quoted
        )
        for shipment in plan.shipments
    )


def _note(head: str, outcome: Plan | Unroutable) -> str:
    return f"{NOTE_PREFIX}{head}: " + "; ".join(outcome.explanation)


def for_partners(order: OrderToRoute | str) -> OrderForPartners:
    """What partners are told of the order (nothing when it cannot be routed: no shipment is handed off)."""
    if isinstance(order, str):
        return OrderForPartners("", {}, {})
    return OrderForPartners(order.number, order.ship_to, {line.id: line.name for line in order.lines})


async def write_routing(saleor: SaleorWriter, order_id: str, metadata: Mapping[str, object], note: str) -> None:
    await saleor.record_routing(SaleorId(order_id), {METADATA_KEY: json.dumps(metadata)}, note)


async def plan_order(
    url: SaleorApiUrl,
    order_id: str,
    order: OrderToRoute | str,
    *,
    fraud: FraudRepository,
    sources: RoutingSources,
    plans: RoutingPlans,
    quotes: OriginQuotes,
    unit_costs: UnitCosts,
    saleor: SaleorWriter,
    partners: HandOffWriter,
    now: datetime,
) -> Routed | NotRouted:
    """Plan the order once fraud clears it; ``order`` is what routing needs of it, or why it cannot be
    routed (said on the order). Kept once, written once, each partner's shipment handed off once:
    later events and redeliveries plan and send nothing."""
    if await plans.get(url, order_id) is not None:
        return NotRouted("planned already")
    clearance, why = await fraud_clearance(url, order_id, fraud)
    if clearance is not Clearance.CLEARED:
        return NotRouted(f"fraud: {why}")
    setup = await sources.setup(url, {line.sku for line in order.lines} if not isinstance(order, str) else set())
    if not setup.partners:
        return NotRouted("the store has no 3PL or supplier: Saleor's allocation stands")
    outcome = (
        Unroutable((f"no plan: {order}",))
        if isinstance(order, str)
        else await plan_lines(url, order, order.lines, {}, setup=setup, quotes=quotes, unit_costs=unit_costs, now=now)
    )
    routed = isinstance(outcome, Plan)
    routing = OrderRouting(
        order_id=order_id,
        revision=1,
        routed=routed,
        shipments=routed_shipments(outcome, setup, now) if isinstance(outcome, Plan) else (),
        metadata=outcome.to_metadata(),
        decided_at=now,
        updated_at=now,
    )
    if not await plans.add(url, routing):
        return NotRouted("planned already")
    handed = await hand_off_shipments(
        url, routing, routing.shipments, setup, order=for_partners(order), plans=plans, writer=partners, now=now
    )
    note = _note("", outcome)
    await write_routing(saleor, order_id, routing.metadata, note)
    log.info(
        "order routed",
        extra={"saleor_api_url": url, "order_id": order_id, "routed": routed, "shipments": len(routing.shipments)},
    )
    return Routed(routing, note, handed)


async def replan_rejected(
    url: SaleorApiUrl,
    routing: OrderRouting,
    order: OrderToRoute | str,
    *,
    sources: RoutingSources,
    plans: RoutingPlans,
    quotes: OriginQuotes,
    unit_costs: UnitCosts,
    saleor: SaleorWriter,
    partners: HandOffWriter,
    now: datetime,
) -> Routed | NotRouted:
    """Plan again the units of hand-offs their partners rejected or let expire unanswered, without those
    partners (nor any that dropped this order before); the plan's other shipments stand. Once per drop."""
    rejected = [
        hand_off
        for hand_off in await plans.hand_offs(url, routing.order_id)
        if hand_off.is_dropped and hand_off.warehouse_id not in routing.excluded
    ]
    if not rejected:
        return NotRouted("planned already")
    excluded: dict[str, str] = {**routing.excluded, **{h.warehouse_id: _why_dropped(h) for h in rejected}}
    units: dict[str, int] = {}
    for hand_off in rejected:
        for part in hand_off.units:
            units[part.line_id] = units.get(part.line_id, 0) + part.quantity
    setup = await sources.setup(url, {line.sku for line in order.lines} if not isinstance(order, str) else set())
    if isinstance(order, str):
        outcome: Plan | Unroutable = Unroutable((f"no plan: {order}",))
    else:
        lines = [
            replace(line, cart=replace(line.cart, quantity=min(units[line.id], line.cart.quantity)))
            for line in order.lines
            if line.id in units
        ]
        outcome = (
            await plan_lines(url, order, lines, excluded, setup=setup, quotes=quotes, unit_costs=unit_costs, now=now)
            if lines
            else Unroutable(("nothing left to re-plan: the rejected lines were shipped otherwise",))
        )
    kept = tuple(shipment for shipment in routing.shipments if shipment.warehouse_id not in excluded)
    added = routed_shipments(outcome, setup, now) if isinstance(outcome, Plan) else ()
    gone = {hand_off.warehouse_id for hand_off in rejected}
    kept_entries = [entry for entry in _entries(routing.metadata) if _source_id(entry) not in gone]
    head = "re-planned without " + ", ".join(sorted(f"{warehouse} ({why})" for warehouse, why in excluded.items()))
    explanation = (head, *outcome.explanation)
    revised = replace(
        routing,
        revision=routing.revision + 1,
        routed=isinstance(outcome, Plan),
        shipments=kept + added,
        metadata={
            "v": 1,
            "plan": kept_entries + _entries(outcome.to_metadata()),
            "shipments": len(kept + added),
            "explanation": list(explanation),
        },
        excluded=excluded,
        updated_at=now,
    )
    if not await plans.revise(url, revised):
        return NotRouted("re-planned already")
    handed = await hand_off_shipments(
        url, revised, added, setup, order=for_partners(order), plans=plans, writer=partners, now=now
    )
    note = f"{NOTE_PREFIX} " + "; ".join(explanation)
    await write_routing(saleor, routing.order_id, revised.metadata, note)
    log.info("order re-routed", extra={"saleor_api_url": url, "order_id": routing.order_id, "rejected": len(rejected)})
    return Routed(revised, note, handed, tuple(rejected))


def _why_dropped(hand_off: HandOff) -> str:
    if hand_off.status is HandOffStatus.EXPIRED:
        return f"let the hand-off expire ({hand_off.reason})"
    return f"rejected the hand-off ({hand_off.reason or 'no reason given'})"


def _entries(metadata: Mapping[str, object]) -> list[dict[str, object]]:
    entries = metadata.get("plan")
    return [dict(entry) for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []


def _source_id(entry: Mapping[str, object]) -> object:
    source = entry.get("source")
    return source.get("id") if isinstance(source, dict) else None
