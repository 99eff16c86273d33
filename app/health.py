from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.dependencies import RuntimeDep

router = APIRouter()
log = logging.getLogger(__name__)


@router.get("/health")
async def health(runtime: RuntimeDep) -> JSONResponse:
    """200 when the database answers; 503 otherwise, so a load balancer takes the replica out."""
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        log.error("health check: database unreachable", extra={"reason": exc.__class__.__name__})
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
