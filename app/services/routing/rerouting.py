"""Re-routing by hand from the order card: staff leave sources out and may pin a line to one source,
see the new plan of the units not shipped yet (its explanation per line and its landed cost against
the current plan's, both priced now) and confirm it.

Confirming plans again rather than trusting the preview, and keeps the result as the order's next
revision: each open hand-off the new plan does not keep as it is gets cancelled at its partner
(``cancel_hand_offs``), each new partner shipment is handed off, and ``ops.routing`` with one note
goes to Saleor, all as effects. The sources left out stay left out of later re-plans.

A pin is kept by hiding the line's SKU from every other source; two lines of one SKU pinned apart
share the sources both allow.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.money import Money
from app.domain.routing.model import SourceKind
from app.domain.routing.plan import Plan, Unroutable
from app.services.ports import FraudRepository, RoutingPlans, RoutingSources, SaleorWriter
from app.services.routing.hand_offs import HandOffWriter, cancel_hand_offs, described, hand_off_shipments
from app.services.routing.model import RoutingSetup
from app.services.routing.planning import (
    NOTE_PREFIX,
    OrderToRoute,
    OriginQuotes,
    Routed,
    UnitCosts,
    for_partners,
    plan_lines,
    routed_shipments,
    write_routing,
)
from app.services.routing.plans import HandOff, OrderRouting
from app.services.shipping.orders import Clearance, fraud_clearance

CANCELLED_STATUS = "CANCELED"


class RerouteRefused(Exception):
    """Why the order cannot be re-routed as asked; nothing was changed."""


@dataclass(frozen=True, slots=True)
class RerouteChoice:
    """The sources (Saleor warehouse ids) to leave out, and the lines pinned to one source each."""

    excluded: frozenset[str] = frozenset()
    pinned: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceOption:
    id: str
    label: str  # "East DC", "3PL West", "supplier Acme"


@dataclass(frozen=True, slots=True)
class ReroutePreview:
    """The current plan (as kept, priced now when every line still has a source) against the new one."""

    current: tuple[str, ...]
    current_cost: Money | None
    proposed: Plan | Unroutable

    @property
    def proposed_cost(self) -> Money | None:
        return self.proposed.landed_cost if isinstance(self.proposed, Plan) else None

    @property
    def difference(self) -> Money | None:
        """What the new plan costs more (negative: less) than the current one."""
        if self.current_cost is None or self.proposed_cost is None:
            return None
        return self.proposed_cost - self.current_cost


@dataclass(frozen=True, slots=True)
class Reroutable:
    """An order staff may re-route: its plan, what is left to ship, and the sources to choose among."""

    routing: OrderRouting
    order: OrderToRoute
    setup: RoutingSetup
    sources: tuple[SourceOption, ...]


_PREFIXES = {SourceKind.IN_HOUSE: "", SourceKind.THIRD_PARTY: "3PL ", SourceKind.DROPSHIP: "supplier "}


def _options(order: OrderToRoute, setup: RoutingSetup) -> tuple[SourceOption, ...]:
    partners = {partner.warehouse_id: partner for partner in setup.partners}
    options = [SourceOption(p.warehouse_id, _PREFIXES[p.kind] + p.name) for p in setup.partners]
    options += [
        SourceOption(warehouse, order.warehouse_names.get(warehouse) or warehouse)
        for warehouse in order.stock
        if warehouse not in partners
    ]
    return tuple(sorted(options, key=lambda option: option.label.casefold()))


async def reroutable(
    url: SaleorApiUrl,
    order_id: str,
    status: str,
    order: OrderToRoute | str | None,
    *,
    fraud: FraudRepository,
    plans: RoutingPlans,
    sources: RoutingSources,
) -> Reroutable:
    """The order as staff may re-route it; ``RerouteRefused`` saying why not. ``order`` is what is left
    to ship of it (None: nothing), or why it cannot be routed."""
    if status == CANCELLED_STATUS:
        raise RerouteRefused("The order is cancelled: there is nothing to re-route.")
    routing = await plans.get(url, order_id)
    if routing is None:
        raise RerouteRefused("The order has no routing plan yet: it is planned once fraud clears it.")
    if order is None:
        raise RerouteRefused("Every unit of the order has shipped: nothing is left to re-route.")
    if isinstance(order, str):
        raise RerouteRefused(f"The order cannot be routed: {order}.")
    clearance, why = await fraud_clearance(url, order_id, fraud)
    if clearance is not Clearance.CLEARED:
        raise RerouteRefused(f"Fraud does not let the order ship ({why}): nothing is sent to partners for it.")
    setup = await sources.setup(url, {line.sku for line in order.lines})
    return Reroutable(routing, order, setup, _options(order, setup))


def _check(choice: RerouteChoice, found: Reroutable) -> None:
    known = {option.id for option in found.sources}
    lines = {line.id for line in found.order.lines}
    unknown = sorted(choice.excluded - known)
    if unknown:
        raise RerouteRefused(f"Unknown source {', '.join(unknown)}: choose among the order's sources.")
    if choice.excluded >= known:
        raise RerouteRefused("Every source is left out: keep at least one.")
    for line_id, source in sorted(choice.pinned.items()):
        if line_id not in lines:
            raise RerouteRefused(f"Line {line_id} is not left to ship in this order.")
        if source not in known:
            raise RerouteRefused(f"Line {line_id} is pinned to unknown source {source}.")
        if source in choice.excluded:
            raise RerouteRefused(f"Line {line_id} is pinned to a source that is left out.")


def _allowing(found: Reroutable, allowed: Mapping[str, Collection[str]]) -> tuple[OrderToRoute, RoutingSetup]:
    """The order's stock and the suppliers' offers with each line's SKU left only at its allowed sources."""
    by_sku: dict[str, set[str]] = {}
    for line in found.order.lines:
        if line.id in allowed:
            sources = set(allowed[line.id])
            by_sku[line.sku] = by_sku[line.sku] & sources if line.sku in by_sku else sources
    stock = {
        warehouse: {sku: (units if sku not in by_sku or warehouse in by_sku[sku] else 0) for sku, units in held.items()}
        for warehouse, held in found.order.stock.items()
    }
    warehouses = {partner.id: partner.warehouse_id for partner in found.setup.partners}
    offers = {
        supplier: {
            sku: offer
            for sku, offer in by_sku_offers.items()
            if sku not in by_sku or warehouses.get(supplier) in by_sku[sku]
        }
        for supplier, by_sku_offers in found.setup.offers.items()
    }
    return replace(found.order, stock=stock), replace(found.setup, offers=offers)


async def preview_reroute(
    url: SaleorApiUrl,
    found: Reroutable,
    choice: RerouteChoice,
    *,
    by: str,
    quotes: OriginQuotes,
    unit_costs: UnitCosts,
    now: datetime,
) -> ReroutePreview:
    """The plan the choice makes of the units not shipped yet, against the current one."""
    _check(choice, found)
    routing = found.routing
    current_sources: dict[str, set[str]] = {}
    for shipment in routing.shipments:
        for units in shipment.units:
            current_sources.setdefault(units.line_id, set()).add(shipment.warehouse_id)
    current_cost = None
    if all(line.id in current_sources for line in found.order.lines):
        order, setup = _allowing(found, current_sources)
        current = await plan_lines(
            url, order, order.lines, routing.excluded, setup=setup, quotes=quotes, unit_costs=unit_costs, now=now
        )
        current_cost = current.landed_cost if isinstance(current, Plan) else None
    order, setup = _allowing(found, {line: (source,) for line, source in choice.pinned.items()})
    excluded = _excluded(routing, choice, by)
    proposed = await plan_lines(
        url, order, order.lines, excluded, setup=setup, quotes=quotes, unit_costs=unit_costs, now=now
    )
    explanation = routing.metadata.get("explanation")
    kept = tuple(str(entry) for entry in explanation) if isinstance(explanation, list) else ()
    return ReroutePreview(kept, current_cost, proposed)


def _excluded(routing: OrderRouting, choice: RerouteChoice, by: str) -> dict[str, str]:
    return {**routing.excluded, **dict.fromkeys(choice.excluded, f"left out by hand by {by}")}


def _same(hand_off: HandOff, shipment_units: Collection[tuple[str, int]]) -> bool:
    return sorted((u.line_id, u.quantity) for u in hand_off.units) == sorted(shipment_units)


async def confirm_reroute(
    url: SaleorApiUrl,
    found: Reroutable,
    choice: RerouteChoice,
    *,
    by: str,
    plans: RoutingPlans,
    quotes: OriginQuotes,
    unit_costs: UnitCosts,
    saleor: SaleorWriter,
    partners: HandOffWriter,
    now: datetime,
) -> Routed:
    """Keep the choice's plan as the order's next revision, cancel the hand-offs it no longer uses and
    hand off its new partner shipments; ``RerouteRefused`` (nothing changed) when no plan ships the
    rest of the order that way, or the plan changed since ``found`` was read."""
    preview = await preview_reroute(url, found, choice, by=by, quotes=quotes, unit_costs=unit_costs, now=now)
    plan = preview.proposed
    if not isinstance(plan, Plan):
        raise RerouteRefused("No plan ships the rest of the order that way: " + "; ".join(plan.explanation))
    routing, setup = found.routing, found.setup
    shipments = routed_shipments(plan, setup, now)
    head = f"re-routed by hand by {by}"
    if choice.excluded:
        head += " without " + ", ".join(sorted(choice.excluded))
    revised = replace(
        routing,
        revision=routing.revision + 1,
        routed=True,
        shipments=shipments,
        metadata={**plan.to_metadata(), "explanation": [head, *plan.explanation]},
        excluded=_excluded(routing, choice, by),
        updated_at=now,
    )
    if not await plans.revise(url, revised):
        raise RerouteRefused("The order's plan changed meanwhile: preview the re-route again.")
    # A hand-off the new plan keeps as it is (same partner, same units) stands; the others are cancelled.
    open_ = [hand_off for hand_off in await plans.hand_offs(url, routing.order_id) if hand_off.is_open]
    unchanged = {
        shipment: hand_off
        for shipment in shipments
        for hand_off in open_
        if hand_off.warehouse_id == shipment.warehouse_id
        and _same(hand_off, [(u.line_id, u.quantity) for u in shipment.units])
    }
    kept = {hand_off.id for hand_off in unchanged.values()}
    known = {partner.id: partner for partner in setup.partners}
    cancelled = await cancel_hand_offs(
        url,
        [hand_off for hand_off in open_ if hand_off.id not in kept],
        head,
        order=for_partners(found.order),
        partners=known,
        plans=plans,
        writer=partners,
        now=now,
    )
    handed = await hand_off_shipments(
        url,
        revised,
        tuple(shipment for shipment in shipments if shipment not in unchanged),
        setup,
        order=for_partners(found.order),
        plans=plans,
        writer=partners,
        now=now,
    )
    parts = [f"{NOTE_PREFIX} {head}: " + "; ".join(plan.explanation)]
    if cancelled:
        parts.append(f"cancelled at the partner: {described(cancelled, known)}")
    note = "; ".join(parts)
    await write_routing(saleor, routing.order_id, revised.metadata, note)
    return Routed(revised, note, handed)


def choice_of(excluded: Collection[str], pinned: Mapping[str, str]) -> RerouteChoice:
    """A choice from a form's fields: pins to no source ("") left out."""
    return RerouteChoice(frozenset(excluded), {line: SaleorId(source) for line, source in pinned.items() if source})
