"""``GET /api/openapi.json``: the OpenAPI document of the app's HTTP API for a store's other systems, its
partners and its storefront; not of the routes Saleor and the dashboard call, which follow Saleor's
protocol instead."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic.json_schema import models_json_schema

from app.api import partner_messages, routing_callbacks

router = APIRouter()
PUBLIC_PREFIXES = ("/api/inventory/", "/api/routing/", "/api/stores/")
DESCRIPTION = """\
- **Inventory** (`/api/inventory/…`) and **suppliers' feeds** (`/api/routing/suppliers/…`): the store's
  API key, `Authorization: Bearer <key>`, made in the dashboard.
- **Partner callbacks** (`/api/routing/hand-offs/…`): signed with the partner's secret. `X-Ops-Timestamp`
  (Unix seconds, within 5 minutes of now) and `X-Ops-Signature`, the hex HMAC-SHA256 of
  `f"{timestamp}.{body}"` over the raw body. A refused request changes nothing and says why in `detail`;
  repeating what was done already answers 200 and changes nothing.
- **Partner messages** (`webhooks` below): what the app posts to a partner's endpoint, signed the same
  way with its secret: a hand-off (`type` `hand_off`) and the cancel of one (`type` `hand_off.cancel`).
- **Support** (`/api/stores/{store}/support/…`): customers' requests, checked against the order's number
  and e-mail; inbound mail, verified with the store's Mailgun signing key.
"""


@router.get("/api/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(_document(request.app))


@cache
def _document(app: FastAPI) -> dict[str, Any]:
    whole: dict[str, Any] = app.openapi()
    paths = {path: item for path, item in whole["paths"].items() if path.startswith(PUBLIC_PREFIXES)}
    _, bodies = models_json_schema(
        [(model, "validation") for model in (*routing_callbacks.BODY_MODELS, *partner_messages.MESSAGES)],
        ref_template="#/components/schemas/{model}",
    )
    components = {**whole.get("components", {})}
    components["schemas"] = {**components.get("schemas", {}), **bodies["$defs"]}
    info = {**whole["info"], "title": "Saleor Ops API", "description": DESCRIPTION}
    webhooks = partner_messages.webhooks()
    return {**whole, "info": info, "paths": paths, "webhooks": webhooks, "components": components}
