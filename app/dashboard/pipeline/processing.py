"""The Order processing page: the store's webhooks still to be processed and the changes still to
reach Saleor, with why an attempt failed and how often; staff retry one or all of them.

Nothing the app gave up on is dropped: it stays here, failed, until someone retries it. A retry
makes the item due now and wakes the worker; the page then shows it as it stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.dashboard.pipeline import processing_views as views
from app.dashboard.router import templates
from app.dashboard.view_models import parse_locale
from app.dependencies import (
    DashboardContext,
    DeliveryQueueDep,
    EffectOutboxDep,
    PipelineReportsDep,
    RuntimeDep,
    SessionDep,
    SettingsStoreDep,
    require_permissions,
)
from app.services.settings import store_timezone

router = APIRouter()
# Retrying sends the store's orders' changes to Saleor again, so it needs what changing orders needs.
OperatorDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_ORDERS"))]
LISTED = 100  # of each, the newest; the counts above the lists tell how many there are


@dataclass
class _Page:
    """Everything the page renders and retries with: it is rebuilt after every retry."""

    request: Request
    viewer: DashboardContext
    reports: PipelineReportsDep
    queue: DeliveryQueueDep
    outbox: EffectOutboxDep
    settings: SettingsStoreDep
    runtime: RuntimeDep
    session: SessionDep
    locale: str | None = None

    async def render(self, *, message: str | None = None, status_code: int = 200) -> HTMLResponse:
        url = self.viewer.installation.saleor_api_url
        now = self.runtime.clock.now()
        zone, language = await store_timezone(self.settings, url), parse_locale(self.locale)
        deliveries = await self.reports.delivery_counts(url, done_since=now - timedelta(days=1))
        effects = await self.reports.effect_counts(url, done_since=now - timedelta(days=1))
        context = {
            "deliveries": views.delivery_rows(await self.reports.deliveries_not_done(url, LISTED), now, zone, language),
            "effects": views.effect_rows(await self.reports.effects_not_done(url, LISTED), now, zone, language),
            "delivery_stats": views.delivery_stats(deliveries),
            "effect_stats": views.effect_stats(effects),
            "deliveries_not_done": deliveries.not_done,
            "effects_not_done": effects.not_done,
            "can_retry_all": deliveries.retrying + deliveries.failed + effects.retrying + effects.failed > 0,
            "listed": LISTED,
            "timezone": zone.key,
            "message": message,
        }
        response = templates.TemplateResponse(self.request, "fragments/pipeline.html", context, status_code=status_code)
        if message:
            response.headers["x-ops-notice"] = message
        return response

    async def retried(self, *, deliveries: int, effects: int, asked_for_one: bool) -> HTMLResponse:
        """The page after a retry: committed first, so that the worker it wakes finds the items due."""
        if deliveries + effects == 0:
            message = "That one is no longer waiting or failed." if asked_for_one else "Nothing to retry."
            return await self.render(message=message, status_code=422)
        await self.session.commit()
        self.runtime.wake_workers()
        retried = [
            f"{deliveries} webhook{'' if deliveries == 1 else 's'}" if deliveries else "",
            f"{effects} change{'' if effects == 1 else 's'} to Saleor" if effects else "",
        ]
        return await self.render(message="Trying again now: " + " and ".join(part for part in retried if part) + ".")


async def _operator_page(
    request: Request,
    viewer: OperatorDep,
    reports: PipelineReportsDep,
    queue: DeliveryQueueDep,
    outbox: EffectOutboxDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    session: SessionDep,
    locale: str | None = None,
) -> _Page:
    return _Page(request, viewer, reports, queue, outbox, settings, runtime, session, locale)


PageDep = Annotated[_Page, Depends(_operator_page)]


@router.get("/api/dashboard/fragments/pipeline", response_class=HTMLResponse)
async def pipeline_fragment(page: PageDep) -> HTMLResponse:
    return await page.render()


@router.post("/api/dashboard/pipeline/deliveries/{delivery_id}/retry", response_class=HTMLResponse)
async def retry_delivery(page: PageDep, delivery_id: int) -> HTMLResponse:
    url, now = page.viewer.installation.saleor_api_url, page.runtime.clock.now()
    retried = await page.queue.retry(url, [delivery_id], now)
    return await page.retried(deliveries=retried, effects=0, asked_for_one=True)


@router.post("/api/dashboard/pipeline/effects/{effect_id}/retry", response_class=HTMLResponse)
async def retry_effect(page: PageDep, effect_id: int) -> HTMLResponse:
    url, now = page.viewer.installation.saleor_api_url, page.runtime.clock.now()
    retried = await page.outbox.retry(url, [effect_id], now)
    return await page.retried(deliveries=0, effects=retried, asked_for_one=True)


@router.post("/api/dashboard/pipeline/retry", response_class=HTMLResponse)
async def retry_all(page: PageDep) -> HTMLResponse:
    """Every waiting, retrying or failed webhook and change of the store, due now."""
    url, now = page.viewer.installation.saleor_api_url, page.runtime.clock.now()
    deliveries = await page.queue.retry(url, None, now)
    effects = await page.outbox.retry(url, None, now)
    return await page.retried(deliveries=deliveries, effects=effects, asked_for_one=False)
