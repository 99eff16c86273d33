"""``POST /api/routing/suppliers/{supplier_id}/offers``: a dropship supplier's feed, sent by the store's
systems (or the supplier's, given a key of its own) with the store's API key, as receipts are.

The body is ``{"offers": [{sku, unit_price, currency, handling_days, stock}, ...]}`` with numbers read
exactly. The feed replaces the supplier's offers, all of them or none: 422 lists every problem as
``{index, field, value, message}``; 404 when the key's store has no such supplier.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.api.inventory import error_items, read_items, refused
from app.dependencies import ApiCallerDep, RoutingSourceStoreDep, RuntimeDep
from app.services.routing.sources import FeedRejected, import_feed, read_feed_items

router = APIRouter()


@router.post("/api/routing/suppliers/{supplier_id}/offers")
async def post_offers(
    supplier_id: str, request: Request, caller: ApiCallerDep, sources: RoutingSourceStoreDep, runtime: RuntimeDep
) -> JSONResponse:
    items = await read_items(request, "offers", "OFFERS_REJECTED")
    if isinstance(items, JSONResponse):
        return items
    outcome = await import_feed(
        sources,
        caller.installation.saleor_api_url,
        supplier_id,
        lambda: read_feed_items(items),
        now=runtime.clock.now(),
    )
    if outcome is None:
        return refused(404, "UNKNOWN_SUPPLIER", "This store has no dropship supplier with that id.")
    if isinstance(outcome, FeedRejected):
        count = len(outcome.problems)
        message = f"Nothing was stored: {count} problem{'s' if count != 1 else ''}."
        return refused(422, "OFFERS_REJECTED", message, error_items(outcome.problems))
    return JSONResponse({"supplier": outcome.supplier.id, "offers": outcome.offers})
