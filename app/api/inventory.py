"""``POST /api/inventory/receipts``: goods received, from a purchasing system or ERP.

The body is ``{"receipts": [{sku, warehouse, quantity, unit_cost, currency, received_at,
reference}, ...]}`` with numbers read exactly (never through a float). All are booked or none:
422 lists every problem as ``{index, field, value, message}``; 200 says how many were booked and
how many were already in the ledger (a retried request books nothing twice).
"""

from __future__ import annotations

import json
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.dependencies import ApiCallerDep, InventoryLedgerDep, RuntimeDep, SettingsStoreDep
from app.domain.money import Money
from app.services.receipt_import import ReceiptError
from app.services.receipts import ReceiptsRejected, book_receipts

router = APIRouter()
MAX_BODY_BYTES = 16 * 1024 * 1024  # 10,000 receipts take about 2 MiB


def error_items(errors: tuple[ReceiptError, ...]) -> list[dict[str, object]]:
    return [{"index": e.row, "field": e.column, "value": e.value, "message": e.message} for e in errors]


def _refused(status: int, code: str, message: str, errors: list[dict[str, object]] | None = None) -> JSONResponse:
    body: dict[str, object] = {"error": {"type": code, "message": message}}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


@router.post("/api/inventory/receipts")
async def post_receipts(
    request: Request, caller: ApiCallerDep, ledger: InventoryLedgerDep, settings: SettingsStoreDep, runtime: RuntimeDep
) -> JSONResponse:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return _refused(413, "TOO_LARGE", "Send at most 16 MiB per request; split the receipts.")
    try:
        payload = json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        return _refused(400, "INVALID_JSON", f"The body is not JSON: {exc}")
    items = payload.get("receipts") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        message = 'The body must be {"receipts": [...]}.'
        return _refused(422, "RECEIPTS_REJECTED", message, [{"index": None, "field": "receipts", "message": message}])
    url = caller.installation.saleor_api_url
    outcome = await book_receipts(
        url,
        items,
        saleor=runtime.saleor.gateway(url, caller.installation.token),
        ledger=ledger,
        settings=settings,
        now=runtime.clock.now(),
        recorded_by=f"API key {caller.key.name}",
    )
    if isinstance(outcome, ReceiptsRejected):
        message = f"Nothing was booked: {outcome.error_count} problem{'s' if outcome.error_count != 1 else ''}."
        return _refused(422, "RECEIPTS_REJECTED", message, error_items(outcome.errors))
    return JSONResponse(
        {
            "booked": outcome.booked,
            "duplicates": outcome.already_imported,
            "recostedOrders": outcome.recosted_orders,
            # Rounded to the currency: a reply is a boundary.
            "value": {
                currency: str(Money(amount, currency).quantized().amount)
                for currency, amount in sorted(outcome.value.items())
            },
            "receipts": [
                {"index": index, "id": move_id, "status": "duplicate" if move_id in outcome.duplicate_ids else "booked"}
                for index, move_id in enumerate(outcome.move_ids)
            ],
        }
    )
