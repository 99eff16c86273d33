"""The order card's routing: the kept plan, its hand-offs, and re-routing by hand
(``app.services.routing.rerouting``).

The card has no order of its own: what is left to ship, and the stock Saleor reported per warehouse,
come from the latest webhook of the order the app still keeps, as the pipeline's planner saw it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import format_currency
from starlette.datastructures import FormData

from app.dashboard import view_models
from app.domain.ids import SaleorApiUrl
from app.domain.money import Money
from app.domain.routing.plan import Plan
from app.services.inventory import next_unit_costs
from app.services.ports import FraudRepository, InventoryLedger, RoutingPlans, RoutingSources
from app.services.routing.planning import UnitCosts
from app.services.routing.plans import HandOff, OrderRouting
from app.services.routing.rerouting import (
    Reroutable,
    RerouteChoice,
    ReroutePreview,
    RerouteRefused,
    choice_of,
    reroutable,
)
from app.webhooks.order_routing import order_to_route
from app.webhooks.payloads import OrderPayload

PIN_PREFIX = "pin:"
NO_WEBHOOK = (
    "Saleor Ops keeps no webhook of this order to re-route it from any more (their bodies are erased after "
    "the store's retention)."
)


async def find(
    url: SaleorApiUrl,
    order_id: str,
    order: OrderPayload | None,
    *,
    fraud: FraudRepository,
    plans: RoutingPlans,
    sources: RoutingSources,
) -> Reroutable:
    """The order as staff may re-route it; ``RerouteRefused`` saying why not."""
    if order is None:
        raise RerouteRefused(NO_WEBHOOK)
    return await reroutable(
        url, order_id, order.status, order_to_route(order), fraud=fraud, plans=plans, sources=sources
    )


def choice_from(form: FormData) -> RerouteChoice:
    """The form's sources left out (``exclude``, repeated) and pins (``pin:<line id>`` → source id)."""
    pinned = {
        key.removeprefix(PIN_PREFIX): str(value)
        for key, value in form.multi_items()
        if key.startswith(PIN_PREFIX) and isinstance(value, str)
    }
    return choice_of([str(value) for value in form.getlist("exclude")], pinned)


def unit_costs_of(ledger: InventoryLedger) -> UnitCosts:
    """What the next unit of each SKU costs by the ledger, as the planner asks it."""

    async def unit_costs(url: SaleorApiUrl, skus: Collection[str], currency: str) -> Mapping[str, Decimal]:
        return await next_unit_costs(url, skus, currency, ledger=ledger)

    return unit_costs


@dataclass(frozen=True, slots=True)
class HandOffRow:
    partner: str
    units: str
    status: str
    reason: str
    at: str


@dataclass(frozen=True, slots=True)
class PreviewView:
    current: tuple[str, ...]
    current_cost: str | None
    proposed: tuple[str, ...]
    proposed_cost: str | None
    difference: str | None
    ships: bool


def _money(amount: Money | None, locale: Locale) -> str | None:
    return None if amount is None else format_currency(amount.amount, amount.currency, locale=locale)


def preview_view(preview: ReroutePreview, locale: Locale) -> PreviewView:
    difference = preview.difference
    signed = None
    if difference is not None:
        text = format_currency(abs(difference.amount), difference.currency, locale=locale)
        signed = f"+{text}" if difference.amount > 0 else (f"−{text}" if difference.amount < 0 else "no change")
    return PreviewView(
        current=preview.current,
        current_cost=_money(preview.current_cost, locale),
        proposed=preview.proposed.explanation,
        proposed_cost=_money(preview.proposed_cost, locale),
        difference=signed,
        ships=isinstance(preview.proposed, Plan),
    )


def card(
    routing: OrderRouting,
    hand_offs: Sequence[HandOff],
    partner_names: Mapping[str, str],
    found: Reroutable | str,
    zone: ZoneInfo,
    locale: Locale,
    *,
    choice: RerouteChoice | None = None,
) -> dict[str, object]:
    """The template's ``routing``: the plan's explanation, its hand-offs, and the re-route form (or why
    there is none)."""
    explanation = routing.metadata.get("explanation")
    form = None
    if isinstance(found, Reroutable):
        chosen = choice or RerouteChoice()
        form = {
            "sources": [
                {"id": option.id, "label": option.label, "excluded": option.id in chosen.excluded}
                for option in found.sources
            ],
            "lines": [
                {"id": line.id, "sku": line.sku, "quantity": line.cart.quantity, "pinned": chosen.pinned.get(line.id)}
                for line in found.order.lines
            ],
        }
    return {
        "revision": routing.revision,
        "routed": routing.routed,
        "explanation": [str(entry) for entry in explanation] if isinstance(explanation, list) else [],
        "hand_offs": [
            HandOffRow(
                partner=partner_names.get(hand_off.partner_id, hand_off.partner_id),
                units=", ".join(f"{units.sku} × {units.quantity}" for units in hand_off.units),
                status=hand_off.status.value,
                reason=hand_off.reason,
                at=view_models.local_time(hand_off.updated_at, zone, locale),
            )
            for hand_off in hand_offs
        ],
        "form": form,
        "refused": found if isinstance(found, str) else None,
    }
