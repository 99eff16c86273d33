"""``POST /api/inventory/receipts`` and ``POST /api/inventory/moves``: goods received, and the
ledger's other moves (count gains and write-offs, transfers, returns to the supplier, landed
costs), from a purchasing system or ERP.

The body is ``{"receipts": [{sku, warehouse, quantity, unit_cost, currency, received_at,
reference}, ...]}`` or ``{"moves": [{kind, ...}, ...]}`` with numbers read exactly (never through
a float). All are booked or none: 422 lists every problem as ``{index, field, value, message}``;
200 says how many were booked and how many were already in the ledger (a retried request books
nothing twice).
"""

from __future__ import annotations

import json
from decimal import Decimal
from uuid import uuid4

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.dependencies import (
    ApiCallerDep,
    EffectOutboxDep,
    InventoryLedgerDep,
    RuntimeDep,
    SettingsStoreDep,
)
from app.domain.money import Money
from app.services.input_problems import InputProblem
from app.services.receipts import ReceiptsRejected, book_receipts
from app.services.stock_moves import MovesRejected, book_moves

router = APIRouter()
MAX_BODY_BYTES = 16 * 1024 * 1024  # 10,000 receipts take about 2 MiB


def error_items(errors: tuple[InputProblem, ...]) -> list[dict[str, object]]:
    return [{"index": e.row, "field": e.column, "value": e.value, "message": e.message} for e in errors]


def refused(status: int, code: str, message: str, errors: list[dict[str, object]] | None = None) -> JSONResponse:
    body: dict[str, object] = {"error": {"type": code, "message": message}}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


def _not_booked(code: str, count: int, errors: tuple[InputProblem, ...]) -> JSONResponse:
    return refused(422, code, f"Nothing was booked: {count} problem{'s' if count != 1 else ''}.", error_items(errors))


async def read_items(request: Request, key: str, rejected: str) -> list[object] | JSONResponse:
    """The body's ``{key: [...]}`` list, its numbers read exactly; or why it cannot be read."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return refused(413, "TOO_LARGE", f"Send at most 16 MiB per request; split the {key}.")
    try:
        payload = json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        return refused(400, "INVALID_JSON", f"The body is not JSON: {exc}")
    items = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(items, list):
        message = f'The body must be {{"{key}": [...]}}.'
        return refused(422, rejected, message, [{"index": None, "field": key, "message": message}])
    return items


@router.post("/api/inventory/receipts")
async def post_receipts(
    request: Request,
    caller: ApiCallerDep,
    ledger: InventoryLedgerDep,
    settings: SettingsStoreDep,
    effects: EffectOutboxDep,
    runtime: RuntimeDep,
) -> JSONResponse:
    items = await read_items(request, "receipts", "RECEIPTS_REJECTED")
    if isinstance(items, JSONResponse):
        return items
    url = caller.installation.saleor_api_url
    outcome = await book_receipts(
        url,
        items,
        saleor=runtime.deciding(caller.installation, effects, f"api:{uuid4()}"),
        ledger=ledger,
        settings=settings,
        now=runtime.clock.now(),
        recorded_by=f"API key {caller.key.name}",
    )
    if isinstance(outcome, ReceiptsRejected):
        return _not_booked("RECEIPTS_REJECTED", outcome.error_count, outcome.errors)
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


@router.post("/api/inventory/moves")
async def post_moves(
    request: Request,
    caller: ApiCallerDep,
    ledger: InventoryLedgerDep,
    settings: SettingsStoreDep,
    effects: EffectOutboxDep,
    runtime: RuntimeDep,
) -> JSONResponse:
    items = await read_items(request, "moves", "MOVES_REJECTED")
    if isinstance(items, JSONResponse):
        return items
    url = caller.installation.saleor_api_url
    outcome = await book_moves(
        url,
        items,
        saleor=runtime.deciding(caller.installation, effects, f"api:{uuid4()}"),
        ledger=ledger,
        settings=settings,
        now=runtime.clock.now(),
        recorded_by=f"API key {caller.key.name}",
    )
    if isinstance(outcome, MovesRejected):
        return _not_booked("MOVES_REJECTED", len(outcome.errors), outcome.errors)
    return JSONResponse(
        {
            "booked": outcome.booked,
            "duplicates": outcome.duplicates,
            "recostedOrders": outcome.recosted_orders,
            "moves": [
                {"index": item.index, "ids": list(item.ids), "status": "duplicate" if item.duplicate else "booked"}
                for item in outcome.items
            ],
        }
    )
