"""Saleor-facing protocol routes: the manifest and the token exchange (PROTOCOL.md a, b.2).

No route here may redirect: Saleor counts a 3xx as a successful install.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from app.dependencies import ClockDep, InstallationStoreDep, RuntimeDep
from app.domain.ids import InvalidSaleorApiUrl, saleor_api_url
from app.saleor import headers
from app.saleor.authority import HttpSaleorAuthority
from app.saleor.manifest import build_manifest
from app.services.installations import RegisterRefused, RegisterRequest, register_installation

router = APIRouter()
log = logging.getLogger(__name__)

_REFUSAL_STATUS = {"SALEOR_URL_PROHIBITED": 403, "UNKNOWN_APP_ID": 401, "JWKS_NOT_AVAILABLE": 401}


@router.get("/api/manifest")
async def manifest(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    return build_manifest(
        runtime.settings.public_url, schema_version=request.headers.get(headers.SALEOR_SCHEMA_VERSION)
    )


@router.post("/api/register")
async def register(request: Request, runtime: RuntimeDep, store: InstallationStoreDep, clock: ClockDep) -> Response:
    api_url_header = request.headers.get(headers.SALEOR_API_URL)
    if not api_url_header:
        return PlainTextResponse("Missing saleor-api-url header", status_code=400)
    try:
        body = json.loads(await request.body())
    except ValueError:
        return PlainTextResponse("Invalid request json.", status_code=400)
    token = body.get("auth_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        return PlainTextResponse("Missing auth token.", status_code=400)
    try:
        api_url = saleor_api_url(api_url_header)
    except InvalidSaleorApiUrl as exc:
        return PlainTextResponse(f"Invalid saleor-api-url header: {exc}", status_code=400)

    try:
        outcome = await register_installation(
            RegisterRequest(
                saleor_api_url=api_url,
                token=token,
                saleor_domain=request.headers.get(headers.SALEOR_DOMAIN),
                schema_version=request.headers.get(headers.SALEOR_SCHEMA_VERSION),
            ),
            allowed_url_patterns=runtime.settings.allowed_saleor_url_patterns,
            saleor=HttpSaleorAuthority(runtime.saleor, runtime.jwks),
            store=store,
            clock=clock,
        )
    except SQLAlchemyError:
        log.exception("register: could not save the installation", extra={"saleor_api_url": api_url})
        return JSONResponse(
            {"success": False, "error": {"message": "Registration failed: could not save the auth data."}},
            status_code=500,
        )
    if isinstance(outcome, RegisterRefused):
        # Saleor shows error.message to the staff user who is installing.
        return JSONResponse(
            {"success": False, "error": {"code": outcome.code.value, "message": outcome.message}},
            status_code=_REFUSAL_STATUS[outcome.code.value],
        )
    return JSONResponse({"success": True})
