"""Composition root: ``create_app(settings)`` builds the ASGI app and everything it holds."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError, OperationalError

from app import __version__
from app.api import inventory as inventory_api
from app.api import openapi as openapi_document
from app.api import routing as routing_api
from app.api import routing_callbacks as routing_callbacks_api
from app.api import support as support_api
from app.api.inventory import error_items
from app.config import Settings
from app.dashboard import router as dashboard
from app.dashboard.fraud import reviews as dashboard_fraud
from app.dashboard.inventory import receipts as dashboard_receipts
from app.dashboard.inventory import reports as dashboard_inventory
from app.dashboard.pipeline import processing as dashboard_pipeline
from app.dashboard.routing import simulation as dashboard_routing_simulation
from app.dashboard.routing import sources as dashboard_routing
from app.dashboard.shipping import carriers as dashboard_carriers
from app.dashboard.shipping import rate_tables as dashboard_shipping
from app.dashboard.shipping import settings as dashboard_shipping_settings
from app.dashboard.shipping import tester as dashboard_shipping_tester
from app.dashboard.support import macros as dashboard_support_macros
from app.dashboard.support import mail as dashboard_support_mail
from app.dashboard.support import order_card as dashboard_support_order
from app.dashboard.support import reports as dashboard_support_reports
from app.dashboard.support import tickets as dashboard_support
from app.errors import (
    JwksUnavailableError,
    NotInstalledError,
    PermissionDeniedError,
    SaleorApiError,
    SaleorUnauthorizedError,
    SaleorUnavailableError,
    SignatureError,
)
from app.health import router as health_router
from app.logs import configure_logging
from app.pipeline.build import build_worker
from app.runtime import Runtime
from app.saleor.routes import router as saleor_router
from app.saleor.webhook_auth import WebhookRejected
from app.services.ports import Clock
from app.services.receipts import NothingBooked
from app.webhooks import ORDER_EVENTS, app_deleted
from app.webhooks.order_event import OrderWebhookIntake
from app.webhooks.shipping_list_methods_for_checkout import CheckoutWebhookIntake

log = logging.getLogger(__name__)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": code, "message": message}}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    """The one place errors become HTTP statuses (app-sdk's map for Saleor-facing routes)."""

    @app.exception_handler(WebhookRejected)
    async def webhook_rejected(request: Request, exc: WebhookRejected) -> JSONResponse:
        log.warning("webhook rejected", extra={"path": request.url.path, "code": exc.code, "reason": exc.message})
        return _error(exc.status_code, exc.code, exc.message)

    @app.exception_handler(NotInstalledError)
    async def not_installed(request: Request, exc: NotInstalledError) -> JSONResponse:
        return _error(401, "NOT_REGISTERED", str(exc))

    @app.exception_handler(JwksUnavailableError)
    async def jwks_unavailable(request: Request, exc: JwksUnavailableError) -> JSONResponse:
        return _error(503, "JWKS_NOT_AVAILABLE", "Could not fetch Saleor's signing keys; try again.")

    @app.exception_handler(SignatureError)
    async def bad_token(request: Request, exc: SignatureError) -> JSONResponse:
        return _error(401, "INVALID_TOKEN", f"Validation error: {exc}")

    @app.exception_handler(PermissionDeniedError)
    async def permission_denied(request: Request, exc: PermissionDeniedError) -> JSONResponse:
        return _error(403, "PERMISSION_DENIED", f"You need the {', '.join(exc.missing)} permission for this.")

    @app.exception_handler(SaleorApiError)
    async def saleor_failed(request: Request, exc: SaleorApiError) -> JSONResponse:
        log.error("saleor api call failed", extra={"path": request.url.path, "reason": str(exc)})
        if isinstance(exc, SaleorUnauthorizedError):
            return _error(401, "APP_TOKEN_REVOKED", "Saleor no longer accepts this app's token.")
        if isinstance(exc, SaleorUnavailableError):
            return _error(503, "SALEOR_UNAVAILABLE", "Saleor did not answer; try again.")
        return _error(502, "SALEOR_ERROR", str(exc))

    @app.exception_handler(NothingBooked)
    async def nothing_booked(request: Request, exc: NothingBooked) -> JSONResponse:
        # The request's session has already rolled back whatever the request had booked.
        error = {"type": "NOT_BOOKED", "message": f"Nothing was booked: {exc}"}
        return JSONResponse({"error": error, "errors": error_items(exc.errors)}, status_code=422)

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # Transient by nature: a 5xx makes Saleor deliver the webhook again.
        log.error("database error", extra={"path": request.url.path, "reason": exc.__class__.__name__})
        return _error(503, "DATABASE_UNAVAILABLE", "The database is unavailable; try again.")


@contextmanager
def _collector_for_serving() -> Iterator[None]:
    """Python's cycle collector tuned for answering requests. Its full passes walked every object the
    process holds (~350,000: the modules Karrio, pydantic and SQLAlchemy load, the app, the runtime)
    about once a second under checkout load, stalling each request in flight for ~250 ms. What is
    built by startup lives as long as the process, so it is frozen out of those passes; and the young
    generation is collected every 10,000 net allocations instead of 700, so that far fewer objects of
    requests still in flight are promoted towards the full passes, which then come rarely."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, http: httpx.AsyncClient | None = None
) -> FastAPI:
    """``http`` replaces the outbound client, e.g. one whose transport is a Saleor stand-in."""
    settings = settings or Settings()
    configure_logging(settings.log_level, as_json=settings.log_json)
    runtime = Runtime.build(settings, clock=clock, http=http)
    worker = build_worker(runtime)
    runtime.wake_workers = worker.wake

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop)) if settings.worker_in_process else None
        with _collector_for_serving():
            yield
        stop.set()
        if running is not None:
            await running
        await runtime.close()

    app = FastAPI(
        title="Saleor Ops",
        version=__version__,
        lifespan=lifespan,
        redirect_slashes=False,  # a 307 would count as success to Saleor and lose the install
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # The app exports no OpenTelemetry; asking on every request whether it does cost ~40 us.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime
    app.state.worker = worker
    _install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(saleor_router)
    app.include_router(app_deleted.router)
    app.include_router(dashboard.router)
    app.include_router(dashboard_fraud.router)
    app.include_router(dashboard_inventory.router)
    app.include_router(dashboard_pipeline.router)
    app.include_router(dashboard_receipts.router)
    app.include_router(dashboard_shipping.router)
    app.include_router(dashboard_shipping_tester.router)
    app.include_router(dashboard_shipping_settings.router)
    app.include_router(dashboard_carriers.router)
    app.include_router(dashboard_routing.router)
    app.include_router(dashboard_routing_simulation.router)
    app.include_router(dashboard_support_mail.router)
    app.include_router(dashboard_support.router)
    app.include_router(dashboard_support_macros.router)
    app.include_router(dashboard_support_order.router)
    app.include_router(dashboard_support_reports.router)
    app.include_router(inventory_api.router)
    app.include_router(routing_api.router)
    app.include_router(support_api.router)
    app.include_router(routing_callbacks_api.router)
    app.include_router(openapi_document.router)
    app.mount("/static", StaticFiles(packages=[("app.dashboard", "static")]), name="static")
    app.add_middleware(OrderWebhookIntake, runtime=runtime, definitions=ORDER_EVENTS)
    app.add_middleware(CheckoutWebhookIntake, runtime=runtime)
    return app
