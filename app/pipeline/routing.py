"""Routing: which source ships which units of an order, planned once fraud clears it, before shipping
chooses its services (``app.services.routing.planning``).

Like shipping, an order fraud approves is planned in the same transaction as its assessment, and one
held for review on the ORDER_UPDATED Saleor sends after the review's note. Quotes come from the rate
tables and the live answers checkout already fetched: no carrier is asked here.

Once planned, each event of the order follows its hand-offs (``app.services.routing.lifecycle``): an
order Saleor cancelled, or whose review fraud closed as anything but approved, has its open hand-offs
cancelled at the partners; one fraud holds again is left as it is; otherwise the units of hand-offs a
partner rejected or let expire are re-planned, with a support ticket per order and reason, whose cause
clears once nothing waits on a partner any more.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal

from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.routing_plans import SqlRoutingPlans
from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.shipping import SqlRateTableStore
from app.db.repositories.support import SqlTicketStore
from app.domain.ids import SaleorApiUrl
from app.pipeline.fraud import FraudReadPerBatch
from app.pipeline.processing import Processing, SettingsReadOncePerBatch, Subscription
from app.pipeline.support import open_ticket
from app.services.inventory import next_unit_costs
from app.services.routing.hand_offs import described
from app.services.routing.lifecycle import PARTNER_REASONS, cancel_order_hand_offs, settle_partner_tickets
from app.services.routing.planning import Routed, ShippingOriginQuotes, UnitCosts, plan_order, replan_rejected
from app.services.routing.plans import OrderRouting
from app.services.shipping.orders import Clearance, fraud_clearance
from app.services.shipping.quoting import ShippingQuoter
from app.webhooks.order_routing import order_for_partners, order_to_route

CANCELLED_IN_SALEOR = "the order was cancelled in Saleor"


async def routes_orders(processing: Processing) -> bool:
    """Whether the store has a 3PL or supplier; without one, Saleor's allocation stands and the store's
    orders cost routing (and shipping, which follows its plans) one read per batch, not a few per order."""
    url, sources = processing.delivery.saleor_api_url, processing.routing_sources
    return await processing.reads.once(("routing partners", url), lambda: sources.has_partners(url))


async def plan(processing: Processing) -> None:
    order, url = processing.payload.order, processing.delivery.saleor_api_url
    if order.status == "DRAFT" or not await routes_orders(processing):
        return
    plans, sources = SqlRoutingPlans(processing.session), processing.routing_sources
    if order.status == "CANCELED":
        await cancel_order_hand_offs(
            url,
            order.id,
            CANCELLED_IN_SALEOR,
            order=order_for_partners(order),
            plans=plans,
            sources=sources,
            saleor=processing.saleor,
            partners=processing.saleor,
            now=processing.now,
        )
        return
    routing = await plans.get(url, order.id)
    if routing is not None:
        await _follow(processing, routing)
        return
    await _plan(processing)


async def _follow(processing: Processing, routing: OrderRouting) -> None:
    """A planned order's next event: cancel what fraud no longer lets ship, or re-plan what partners dropped."""
    order, url = processing.payload.order, processing.delivery.saleor_api_url
    plans, sources = SqlRoutingPlans(processing.session), processing.routing_sources
    clearance, why = await fraud_clearance(url, order.id, FraudReadPerBatch(processing))
    if clearance is Clearance.REFUSED:
        await cancel_order_hand_offs(
            url,
            order.id,
            f"fraud: {why}",
            order=order_for_partners(order),
            plans=plans,
            sources=sources,
            saleor=processing.saleor,
            partners=processing.saleor,
            now=processing.now,
        )
        return
    if clearance is not Clearance.CLEARED:
        return  # held again: nothing is re-planned or sent while fraud holds the order
    replanned = await _replan(processing, routing)
    if isinstance(replanned, Routed):
        partners = {partner.id: partner for partner in (await sources.setup(url, ())).partners}
        for status, reason in PARTNER_REASONS.items():
            dropped = [hand_off for hand_off in replanned.dropped if hand_off.status is status]
            if dropped:
                details = (
                    f"{described(dropped, partners)}: "
                    + "; ".join(hand_off.reason or "no reason given" for hand_off in dropped)
                    + f".\n{replanned.note}"
                )
                await open_ticket(processing, reason, details)
        return
    await settle_partner_tickets(
        url,
        order.id,
        plans=plans,
        desk=SqlTicketStore(processing.session),
        settings=SettingsReadOncePerBatch(processing.session, processing.reads),
        now=processing.now,
    )


async def _replan(processing: Processing, routing: OrderRouting) -> Routed | None:
    order, url = processing.payload.order, processing.delivery.saleor_api_url
    to_route = order_to_route(order)
    if to_route is None:
        return None  # all of it shipped
    replanned = await replan_rejected(
        url,
        routing,
        to_route,
        sources=processing.routing_sources,
        plans=SqlRoutingPlans(processing.session),
        quotes=_quotes(processing),
        unit_costs=_unit_costs(processing),
        saleor=processing.saleor,
        partners=processing.saleor,
        now=processing.now,
    )
    return replanned if isinstance(replanned, Routed) else None


def _quotes(processing: Processing) -> ShippingOriginQuotes:
    session = processing.session
    quoter = ShippingQuoter(SqlSettingsStore(session), SqlRateTableStore(session), None, cache=processing.live_quotes)
    return ShippingOriginQuotes(quoter)


def _unit_costs(processing: Processing) -> UnitCosts:
    ledger = SqlInventoryLedger(processing.session)

    async def unit_costs(url: SaleorApiUrl, skus: Collection[str], currency: str) -> Mapping[str, Decimal]:
        return await next_unit_costs(url, skus, currency, ledger=ledger)

    return unit_costs


async def _plan(processing: Processing) -> None:
    order, url = processing.payload.order, processing.delivery.saleor_api_url
    to_route = order_to_route(order)
    if to_route is None:
        return
    await plan_order(
        url,
        order.id,
        to_route,
        fraud=FraudReadPerBatch(processing),
        sources=processing.routing_sources,
        plans=SqlRoutingPlans(processing.session),
        quotes=_quotes(processing),
        unit_costs=_unit_costs(processing),
        saleor=processing.saleor,
        partners=processing.saleor,
        now=processing.now,
    )


on_order = Subscription(
    "routing", frozenset({"order_created", "order_paid", "order_fully_paid", "order_updated"}), plan
)
