"""``GET /api/openapi.json``: the OpenAPI document of the app's HTTP API for a store's other systems, its
partners and its storefront (inventory, suppliers' feeds, customers' support requests, inbound mail);
not of the routes Saleor and the dashboard call, which follow Saleor's protocol instead."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter()
PUBLIC_PREFIXES = ("/api/inventory/", "/api/routing/", "/api/stores/")


@router.get("/api/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> JSONResponse:
    whole: dict[str, Any] = request.app.openapi()  # built once per process, then kept by FastAPI
    paths = {path: item for path, item in whole["paths"].items() if path.startswith(PUBLIC_PREFIXES)}
    return JSONResponse({**whole, "info": {**whole["info"], "title": "Saleor Ops API"}, "paths": paths})
