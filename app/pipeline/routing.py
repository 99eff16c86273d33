"""Routing: which source ships which units of an order, planned once fraud clears it, before shipping
chooses its services (``app.services.routing.planning``).

Like shipping, an order fraud approves is planned in the same transaction as its assessment, and one
held for review on the ORDER_UPDATED Saleor sends after the review's note. Quotes come from the rate
tables and the live answers checkout already fetched: no carrier is asked here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal

from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.routing_plans import SqlRoutingPlans
from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.shipping import SqlRateTableStore
from app.domain.ids import SaleorApiUrl
from app.pipeline.fraud import FraudReadPerBatch
from app.pipeline.processing import Processing, Subscription
from app.services.inventory import next_unit_costs
from app.services.routing.planning import ShippingOriginQuotes, plan_order, replan_rejected
from app.services.shipping.quoting import ShippingQuoter
from app.webhooks.order_routing import order_to_route


async def routes_orders(processing: Processing) -> bool:
    """Whether the store has a 3PL or supplier; without one, Saleor's allocation stands and the store's
    orders cost routing (and shipping, which follows its plans) one read per batch, not a few per order."""
    url, sources = processing.delivery.saleor_api_url, processing.routing_sources
    return await processing.reads.once(("routing partners", url), lambda: sources.has_partners(url))


async def plan(processing: Processing) -> None:
    order, url = processing.payload.order, processing.delivery.saleor_api_url
    if not await routes_orders(processing):
        return
    if order.status in ("CANCELED", "DRAFT"):
        return
    to_route = order_to_route(order)
    if to_route is None:
        return
    session = processing.session
    ledger = SqlInventoryLedger(session)

    async def unit_costs(url: SaleorApiUrl, skus: Collection[str], currency: str) -> Mapping[str, Decimal]:
        return await next_unit_costs(url, skus, currency, ledger=ledger)

    quoter = ShippingQuoter(SqlSettingsStore(session), SqlRateTableStore(session), None, cache=processing.live_quotes)
    plans, sources, quotes = SqlRoutingPlans(session), processing.routing_sources, ShippingOriginQuotes(quoter)
    routing = await plans.get(url, order.id)
    if routing is not None:  # planned: what may come now is a partner's rejection, noted on the order
        await replan_rejected(
            url,
            routing,
            to_route,
            sources=sources,
            plans=plans,
            quotes=quotes,
            unit_costs=unit_costs,
            saleor=processing.saleor,
            partners=processing.saleor,
            now=processing.now,
        )
        return
    await plan_order(
        url,
        order.id,
        to_route,
        fraud=FraudReadPerBatch(processing),
        sources=sources,
        plans=plans,
        quotes=quotes,
        unit_costs=unit_costs,
        saleor=processing.saleor,
        partners=processing.saleor,
        now=processing.now,
    )


on_order = Subscription(
    "routing", frozenset({"order_created", "order_paid", "order_fully_paid", "order_updated"}), plan
)
