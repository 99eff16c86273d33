"""Pages inside the Saleor dashboard iframe.

A page shell (``/dashboard…``) carries no store data: its script waits for the
dashboard's token (AppBridge) and fetches server-rendered fragments from
``/api/dashboard/…`` with it. Every fragment and action verifies that token.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import Locale
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app import __version__
from app.dashboard import view_models
from app.dashboard.pipeline import processing_views as pipeline_views
from app.dashboard.routing import rerouting
from app.dependencies import (
    DashboardContext,
    DashboardContextDep,
    EffectOutboxDep,
    FraudRepositoryDep,
    InstallationStoreDep,
    InventoryLedgerDep,
    OrderEventLogDep,
    PipelineReportsDep,
    RoutingOriginQuotesDep,
    RoutingPlansDep,
    RoutingSourcesDep,
    RuntimeDep,
    SaleorNamesDep,
    SettingsStoreDep,
    ShippingDecisionsDep,
    require_permissions,
)
from app.domain.ids import InvalidSaleorApiUrl, SaleorApiUrl, SaleorId, saleor_api_url, saleor_origin
from app.domain.order_event import ReceivedOrderEvent
from app.errors import PermissionDeniedError
from app.services.costing_settings import CostingSettings
from app.services.inventory import change_methods
from app.services.order_costing import ledger_document
from app.services.routing.rerouting import Reroutable, RerouteChoice, RerouteRefused, confirm_reroute, preview_reroute
from app.services.settings import (
    READS_EVERY_SECTION,
    SECTIONS,
    SettingsRejected,
    change_settings,
    read_settings,
    readable_sections,
    store_timezone,
)
from app.webhooks.order_routing import latest_order

log = logging.getLogger(__name__)
router = APIRouter()
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

ViewerDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_ORDERS"))]


async def _settings_reader(context: DashboardContextDep) -> DashboardContext:
    """Whoever may read some section of the settings: every one with MANAGE_ORDERS, else those they may change."""
    if not readable_sections(context.user.user_permissions):
        raise PermissionDeniedError([READS_EVERY_SECTION])
    return context


SettingsReaderDep = Annotated[DashboardContext, Depends(_settings_reader)]
RECENT_EVENTS = 10
SETTINGS_HISTORY = 20
SHELLS = {
    "home": "Saleor Ops",
    "reviews": "Fraud review",
    "receipts": "Receipts",
    "inventory": "Cost & valuation",
    "pipeline": "Order processing",
    "shipping": "Shipping",
    "carriers": "Shipping · Carrier accounts",
    "routing": "Routing",
    "support": "Support",
    "support-mail": "Support · E-mail",
    "settings": "Settings",
    "order": "Order",
}


async def _frame_ancestors(request: Request, runtime: RuntimeDep, store: InstallationStoreDep) -> str:
    """The dashboards allowed to frame a page: the store's own origin and configured ones."""
    origins = list(runtime.settings.dashboard_origin_list)
    try:
        api_url = saleor_api_url(request.query_params.get("saleorApiUrl", ""))
    except InvalidSaleorApiUrl:
        api_url = None
    if api_url is not None and await store.get(api_url) is not None:
        origins.append(saleor_origin(api_url))
    framing = framing_origin(request)
    if framing is not None and framing not in origins and framing not in runtime.refused_frame_origins:
        runtime.refused_frame_origins.add(framing)
        log.warning(
            "%s framed a dashboard page but may not: the browser shows it an empty frame. If it is the Saleor "
            "dashboard of %s, served apart from its API, add it to APP_DASHBOARD_ORIGINS.",
            framing,
            api_url or "a store the app does not know",
            extra={"origin": framing, "path": request.url.path},
        )
    return " ".join(origins) or "'none'"


def framing_origin(request: Request) -> str | None:
    """The origin of the page framing this one, as the browser tells it: an iframe request's Referer."""
    if request.headers.get("sec-fetch-dest") != "iframe":
        return None
    referer = urlsplit(request.headers.get("referer", ""))
    return f"{referer.scheme}://{referer.netloc}" if referer.scheme in ("http", "https") and referer.netloc else None


def _shell(request: Request, page: str, frame_ancestors: str, mount: str = "page") -> HTMLResponse:
    """``mount`` is where the dashboard shows the page: ``page`` (its own, with tabs), ``widget`` or ``popup``."""
    response = templates.TemplateResponse(
        request, "shell.html", {"page": page, "mount": mount, "title": SHELLS[page], "version": __version__}
    )
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )
    return response


FrameAncestorsDep = Annotated[str, Depends(_frame_ancestors)]


@router.get("/dashboard", response_class=HTMLResponse)
@router.get("/dashboard/", response_class=HTMLResponse)
async def home_page(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    return _shell(request, "home", frame_ancestors)


@router.get("/dashboard/settings", response_class=HTMLResponse)
async def settings_page(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    return _shell(request, "settings", frame_ancestors)


@router.get("/dashboard/reviews", response_class=HTMLResponse)
async def reviews_page(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    return _shell(request, "reviews", frame_ancestors)


@router.get("/dashboard/receipts", response_class=HTMLResponse)
async def receipts_page(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    return _shell(request, "receipts", frame_ancestors)


@router.get("/dashboard/inventory", response_class=HTMLResponse)
async def inventory_page(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    return _shell(request, "inventory", frame_ancestors)


@router.get("/dashboard/pipeline", response_class=HTMLResponse)
async def pipeline_page(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    return _shell(request, "pipeline", frame_ancestors)


@router.get("/dashboard/shipping", response_class=HTMLResponse)
async def shipping_page(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    return _shell(request, "shipping", frame_ancestors)


@router.get("/dashboard/carriers", response_class=HTMLResponse)
async def carriers_page(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    return _shell(request, "carriers", frame_ancestors)


@router.get("/dashboard/routing", response_class=HTMLResponse)
async def routing_page(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    return _shell(request, "routing", frame_ancestors)


@router.get("/dashboard/support-mail", response_class=HTMLResponse)
async def support_mail_page(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    return _shell(request, "support-mail", frame_ancestors)


@router.get("/dashboard/support", response_class=HTMLResponse)
async def support_page(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    return _shell(request, "support", frame_ancestors)


@router.get("/dashboard/order", response_class=HTMLResponse)
async def order_widget(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    """The order card in the order page's widgets (Saleor 3.22+)."""
    return _shell(request, "order", frame_ancestors, mount="widget")


@router.get("/dashboard/order/popup", response_class=HTMLResponse)
async def order_popup(request: Request, frame_ancestors: FrameAncestorsDep) -> HTMLResponse:
    """The order card in the dialog the order page's menu opens (Saleor 3.20–3.21): 600 px high, titled."""
    return _shell(request, "order", frame_ancestors, mount="popup")


@router.get("/api/dashboard/fragments/home", response_class=HTMLResponse)
async def home_fragment(
    request: Request,
    viewer: ViewerDep,
    events: OrderEventLogDep,
    fraud: FraudRepositoryDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    pipeline: PipelineReportsDep,
    locale: str | None = None,
) -> HTMLResponse:
    url = viewer.installation.saleor_api_url
    day_ago = runtime.clock.now() - timedelta(days=1)
    zone, language = await store_timezone(settings, url), view_models.parse_locale(locale)
    context = view_models.home_context(
        viewer.installation,
        await events.recent(url, RECENT_EVENTS),
        await events.counts_since(url, day_ago),
        zone,
        language,
    )
    context["failed"] = view_models.failed_delivery_rows(await events.recent_failed(url, RECENT_EVENTS), zone, language)
    context["decisions"] = view_models.decision_counts(await fraud.latest_decision_counts(url, since=day_ago))
    held = await fraud.count_held(url)
    context["open_reviews"] = held.get("open", 0)
    context["awaiting_payment"] = held.get("awaiting_payment", 0)
    context["backlog"] = pipeline_views.backlog_notice(
        await pipeline.delivery_counts(url), await pipeline.effect_counts(url)
    )
    return templates.TemplateResponse(request, "fragments/home.html", context)


@dataclass(frozen=True, slots=True)
class _OrderCardReads:
    """What the order card reads, as the card's routes get it."""

    events: OrderEventLogDep
    fraud: FraudRepositoryDep
    settings: SettingsStoreDep
    ledger: InventoryLedgerDep
    shipping: ShippingDecisionsDep
    names: SaleorNamesDep
    plans: RoutingPlansDep
    sources: RoutingSourcesDep


OrderCardReadsDep = Annotated[_OrderCardReads, Depends()]
OrderIdQuery = Annotated[str, Query(alias="orderId", min_length=1, max_length=256)]


@router.get("/api/dashboard/fragments/order", response_class=HTMLResponse)
async def order_fragment(
    request: Request, viewer: ViewerDep, reads: OrderCardReadsDep, order_id: OrderIdQuery, locale: str | None = None
) -> HTMLResponse:
    return await _order_card(request, viewer, reads, order_id, locale)


async def _order_card(
    request: Request,
    viewer: DashboardContext,
    reads: _OrderCardReads,
    order_id: str,
    locale: str | None,
    *,
    reroute: dict[str, object] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The card; ``reroute`` the re-route's outcome (``choice``, ``preview``, ``message``, ``error``)."""
    url = viewer.installation.saleor_api_url
    zone, language = await store_timezone(reads.settings, url), view_models.parse_locale(locale)
    assessments = await reads.fraud.assessments(url, order_id)
    decision = await reads.shipping.get(url, order_id)
    warehouses = (
        {}
        if decision is None
        else {
            saleor_id: name.name
            for saleor_id, name in (await reads.names.lookup(url, [s.source for s in decision.shipments])).items()
        }
    )
    cogs = await ledger_document(url, order_id, ledger=reads.ledger)
    review = await reads.fraud.review(url, order_id)
    events = await reads.events.for_order(url, SaleorId(order_id))
    context = {
        "events": view_models.event_rows(events, zone, language),
        "assessments": [view_models.assessment_view(a, zone, language) for a in reversed(assessments)],
        "review": review,
        "review_opened_at": None if review is None else view_models.local_time(review.opened_at, zone, language),
        "cogs": None if cogs is None else view_models.cogs_view(cogs, language),
        "shipping": None if decision is None else view_models.shipping_view(decision, warehouses, zone, language),
        "routing": await _routing_card(url, order_id, events, reads, zone, language, reroute or {}),
        "reroute": reroute or {},
        "order_id": order_id,  # the order's support tickets are loaded into the card by this id
    }
    return templates.TemplateResponse(request, "fragments/order_card.html", context, status_code=status_code)


async def _routing_card(
    url: SaleorApiUrl,
    order_id: str,
    events: list[ReceivedOrderEvent],
    reads: _OrderCardReads,
    zone: ZoneInfo,
    language: Locale,
    reroute: dict[str, object],
) -> dict[str, object] | None:
    routing = await reads.plans.get(url, order_id)
    if routing is None:
        return None
    try:
        found: Reroutable | str = await rerouting.find(
            url,
            order_id,
            latest_order(events),
            fraud=reads.fraud,
            plans=reads.plans,
            sources=reads.sources,
        )
    except RerouteRefused as refused:
        found = str(refused)
    partners = {partner.id: partner.name for partner in (await reads.sources.setup(url, ())).partners}
    choice = reroute.get("choice")
    return rerouting.card(
        routing,
        await reads.plans.hand_offs(url, order_id),
        partners,
        found,
        zone,
        language,
        choice=choice if isinstance(choice, RerouteChoice) else None,
    )


@router.post("/api/dashboard/order/reroute", response_class=HTMLResponse)
async def reroute_order(
    request: Request,
    viewer: ViewerDep,
    reads: OrderCardReadsDep,
    order_id: OrderIdQuery,
    quotes: RoutingOriginQuotesDep,
    effects: EffectOutboxDep,
    runtime: RuntimeDep,
    locale: str | None = None,
) -> HTMLResponse:
    """Preview (``action=preview``) or confirm (``action=confirm``) the order's plan with the form's
    sources left out and lines pinned; a refusal says why and changes nothing (422)."""
    form = await request.form()
    url, now = viewer.installation.saleor_api_url, runtime.clock.now()
    choice = rerouting.choice_from(form)
    language = view_models.parse_locale(locale)
    unit_costs = rerouting.unit_costs_of(reads.ledger)
    by = viewer.user.email
    try:
        found = await rerouting.find(
            url,
            order_id,
            latest_order(await reads.events.for_order(url, SaleorId(order_id))),
            fraud=reads.fraud,
            plans=reads.plans,
            sources=reads.sources,
        )
        if form.get("action") != "confirm":
            preview = await preview_reroute(url, found, choice, by=by, quotes=quotes, unit_costs=unit_costs, now=now)
            outcome = {"choice": choice, "preview": rerouting.preview_view(preview, language)}
            return await _order_card(request, viewer, reads, order_id, locale, reroute=outcome)
        # Each revision is re-routed once: the order's revision names this decision's effects.
        writer = runtime.deciding(viewer.installation, effects, f"reroute:{order_id}:{found.routing.revision + 1}")
        routed = await confirm_reroute(
            url,
            found,
            choice,
            by=by,
            plans=reads.plans,
            quotes=quotes,
            unit_costs=unit_costs,
            saleor=writer,
            partners=writer,
            now=now,
        )
    except RerouteRefused as refused:
        outcome = {"choice": choice, "error": str(refused)}
        return await _order_card(request, viewer, reads, order_id, locale, reroute=outcome, status_code=422)
    runtime.wake_workers()
    sent = len(routed.hand_offs)
    message = f"Re-routed: {len(routed.routing.shipments)} shipment(s), {sent} new hand-off(s) sent."
    response = await _order_card(request, viewer, reads, order_id, locale, reroute={"message": message})
    response.headers["x-ops-notice"] = message
    response.headers["x-ops-order-changed"] = order_id
    return response


def _widget(extra: object) -> str:
    return str(extra.get("widget", "text")) if isinstance(extra, dict) else "text"


def _form_value(value: object, widget: str) -> object:
    """A stored value as its form field shows it: structures as JSON, lists of names comma-separated."""
    if isinstance(value, str):
        return value
    if widget == "json":
        return json.dumps(value, indent=1, ensure_ascii=False) if value else ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


async def _settings_fragment(
    request: Request,
    viewer: DashboardContext,
    settings: SettingsStoreDep,
    locale: str | None,
    *,
    rejected: SettingsRejected | None = None,
    saved: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    url = viewer.installation.saleor_api_url
    zone = await store_timezone(settings, url)
    readable = readable_sections(viewer.user.user_permissions)
    sections: list[dict[str, Any]] = []
    for section in readable:
        stored = await read_settings(settings, url, section)
        current = stored.model_dump(mode="json")
        is_rejected = rejected is not None and rejected.section.key == section.key
        values = {**current, **rejected.submitted} if rejected is not None and is_rejected else current
        sections.append(
            {
                "key": section.key,
                "title": section.title,
                "fields": [
                    {
                        "name": name,
                        "label": info.title or name,
                        "help": info.description or "",
                        "value": _form_value(values.get(name, ""), _widget(info.json_schema_extra)),
                        "widget": _widget(info.json_schema_extra),
                        "choices": section.choices.get(name, []),
                        "error": rejected.errors.get(name) if rejected is not None and is_rejected else None,
                    }
                    for name, info in section.model.model_fields.items()
                ],
                "can_edit": section.permission in viewer.user.user_permissions,
                "permission": section.permission,
                "errors": rejected.errors if rejected is not None and is_rejected else {},
                "notices": stored.notices() if isinstance(stored, CostingSettings) else (),
            }
        )
    titles = {s.key: s.title for s in readable}
    history = view_models.change_rows(
        [change for change in await settings.history(url, SETTINGS_HISTORY) if change.section in titles],
        titles,
        zone,
        view_models.parse_locale(locale),
    )
    return templates.TemplateResponse(
        request,
        "fragments/settings.html",
        {"sections": sections, "history": history, "saved": saved},
        status_code=status_code,
    )


@router.get("/api/dashboard/fragments/settings", response_class=HTMLResponse)
async def settings_fragment(
    request: Request, viewer: SettingsReaderDep, settings: SettingsStoreDep, locale: str | None = None
) -> HTMLResponse:
    return await _settings_fragment(request, viewer, settings, locale)


@router.post("/api/dashboard/settings/{section_key}", response_class=HTMLResponse)
async def save_settings(
    request: Request,
    section_key: str,
    viewer: SettingsReaderDep,
    settings: SettingsStoreDep,
    ledger: InventoryLedgerDep,
    runtime: RuntimeDep,
    locale: str | None = None,
) -> HTMLResponse:
    """Validate a whole section; on any error nothing is saved and the form comes back with the reasons."""
    section = SECTIONS.get(section_key)
    if section is None:
        return HTMLResponse("Unknown settings section.", status_code=404)
    if section.permission not in viewer.user.user_permissions:
        raise PermissionDeniedError([section.permission])
    form = await request.form()
    submitted = {key: value for key, value in form.items() if isinstance(value, str)}
    # An unticked checkbox sends nothing; the section's value is then false.
    for name, info in section.model.model_fields.items():
        if _widget(info.json_schema_extra) == "checkbox":
            submitted[name] = "true" if submitted.get(name) in ("on", "true") else "false"
    outcome = await change_settings(
        settings,
        viewer.installation.saleor_api_url,
        section,
        submitted,
        changed_by=viewer.user.email,
        now=runtime.clock.now(),
    )
    if isinstance(outcome, SettingsRejected):
        return await _settings_fragment(request, viewer, settings, locale, rejected=outcome, status_code=422)
    message = f"{section.title} settings saved." if outcome.changed else "Nothing changed."
    if outcome.changed and isinstance(outcome.values, CostingSettings):
        revalued = await change_methods(
            viewer.installation.saleor_api_url,
            outcome.values.policy(),
            ledger=ledger,
            by=viewer.user.email,
            now=runtime.clock.now(),
        )
        message += f" Stock pools revalued under the new method: {len(revalued.postings)}."
        message = " ".join([message, *outcome.values.notices()])
    response = await _settings_fragment(request, viewer, settings, locale, saved=message)
    response.headers["x-ops-notice"] = message
    return response


@router.get("/", response_class=HTMLResponse)
@router.get("/about", response_class=HTMLResponse)
@router.get("/about/privacy", response_class=HTMLResponse)
@router.get("/about/support", response_class=HTMLResponse)
async def about(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """The site root, the manifest's homepage, data privacy and support pages (public, outside the dashboard)."""
    section = request.url.path.removeprefix("/about").strip("/") or "about"
    context = {
        "version": __version__,
        "section": section,
        "manifest_url": f"{runtime.settings.public_url}/api/manifest",
        "grace_days": runtime.settings.uninstalled_grace_days,
    }
    return templates.TemplateResponse(request, "about.html", context)
