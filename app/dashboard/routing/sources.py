"""Routing → Sources: the store's Saleor warehouses with the role each plays in routing (in-house at a
priority, run by a 3PL, standing for a dropship supplier), partners added, edited and removed, their
signing secrets shown once and rotated, and each supplier's feed of offers uploaded as CSV.

Every source is a Saleor warehouse the merchant picks: creating one would need ``MANAGE_PRODUCTS``,
which the app does not ask for. Routing decides how orders are fulfilled, which Saleor leaves to
whoever manages orders, so the page needs ``MANAGE_ORDERS``.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from app.dashboard.router import templates
from app.dashboard.routing import source_views as views
from app.dashboard.shipping.rate_table_views import problem_rows
from app.dashboard.view_models import parse_locale
from app.dependencies import (
    DashboardContext,
    RoutingPlansDep,
    RoutingSourceStoreDep,
    RuntimeDep,
    SettingsStoreDep,
    require_permissions,
)
from app.domain.routing.model import SourceKind
from app.errors import SaleorApiError
from app.services.ports import WarehouseRef
from app.services.routing.sources import (
    PARTNER_FIELDS,
    FeedRejected,
    PartnerBusy,
    SourcesRejected,
    add_partner,
    import_feed,
    read_feed_csv,
    remove_partner,
    rotate_secret,
    set_in_house_priority,
    supplier,
    update_partner,
)
from app.services.settings import store_timezone
from app.services.support.mail import mail_settings

router = APIRouter()
RoutingManagerDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_ORDERS"))]
IdQuery = Annotated[str, Query(max_length=64)]


class _Page:
    """What every Sources request renders with."""

    def __init__(
        self,
        request: Request,
        viewer: RoutingManagerDep,
        sources: RoutingSourceStoreDep,
        settings: SettingsStoreDep,
        runtime: RuntimeDep,
        locale: str | None = None,
    ) -> None:
        self.request, self.viewer, self.sources, self.settings, self.runtime = (
            request,
            viewer,
            sources,
            settings,
            runtime,
        )
        self.locale = parse_locale(locale)
        self.url = viewer.installation.saleor_api_url
        self._warehouses: list[WarehouseRef] | None = None
        self._asked = False

    async def warehouses(self) -> list[WarehouseRef] | None:
        """Saleor's warehouses, asked once per request and before any write, so that no call to Saleor
        waits while a write holds its transaction open; None when Saleor did not answer."""
        if not self._asked:
            try:
                self._warehouses = await self.runtime.saleor.gateway(
                    self.url, self.viewer.installation.token
                ).warehouses()
            except SaleorApiError:
                self._warehouses = None
            self._asked = True
        return self._warehouses

    def _render(self, template: str, context: dict[str, Any], status_code: int, notice: str | None) -> HTMLResponse:
        tabs = {"tabs": views.TABS, "tab": "sources", "fragments": views.FRAGMENTS, "actions": views.ACTIONS}
        response = templates.TemplateResponse(
            self.request, f"fragments/{template}", {**tabs, **context}, status_code=status_code
        )
        if notice:
            response.headers["x-ops-notice"] = notice  # plain ASCII: it travels in a header
        return response

    async def sources_page(self, *, status_code: int = 200, notice: str | None = None, **outcome: Any) -> HTMLResponse:
        warehouses = await self.warehouses()
        partners = await self.sources.partners(self.url)
        rows = views.warehouse_rows(warehouses, partners, await self.sources.in_house(self.url))
        by_e_mail = views.taking_e_mail(partners)
        context = {
            "warehouses": rows,
            "partners": views.partner_rows(partners, {row.id: row.name for row in rows}, self.locale),
            "saleor_unavailable": warehouses is None,
            # Purchase orders go out through support's SMTP server: without one they wait, retried.
            "mail_unset": by_e_mail if by_e_mail and await mail_settings(self.settings, self.url) is None else [],
            "message": None,
            "remove_refused": None,
            "secret": None,
            "in_house_errors": {},
            "in_house_form": {},
            **outcome,
        }
        return self._render("routing_sources.html", context, status_code, notice)

    async def partner_form(
        self,
        fields: dict[str, str],
        *,
        partner_id: str | None,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
    ) -> HTMLResponse:
        warehouses = await self.warehouses()
        context = {
            "fields": fields,
            "partner_id": partner_id,
            "is_3pl": fields.get("kind") == SourceKind.THIRD_PARTY.value,
            "warehouse_choices": [(w.id, w.name) for w in warehouses or ()],
            "saleor_unavailable": warehouses is None,
            "errors": errors or {},
        }
        return self._render("routing_partner.html", context, status_code, notice)

    async def offers_page(
        self, supplier_id: str, *, status_code: int = 200, notice: str | None = None, **outcome: Any
    ) -> HTMLResponse:
        found = await supplier(self.sources, self.url, supplier_id)
        if found is None:
            return await self.sources_page(status_code=404, message="That dropship supplier is not set up.")
        zone = await store_timezone(self.settings, self.url)
        context = {
            "supplier": found,
            "offers": views.offer_list(await self.sources.offers(self.url, found.id), zone, self.locale),
            "shown_offers": views.SHOWN_OFFERS,
            "columns": ",".join(("sku", "unit_price", "currency", "handling_days", "stock")),
            "message": None,
            **outcome,
        }
        return self._render("routing_offers.html", context, status_code, notice)


PageDep = Annotated[_Page, Depends(_Page)]


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: value for name in PARTNER_FIELDS if isinstance(value := form.get(name), str)}


@router.get(views.FRAGMENTS, response_class=HTMLResponse)
@router.get(views.FRAGMENTS + "/sources", response_class=HTMLResponse)
async def sources_fragment(page: PageDep) -> HTMLResponse:
    return await page.sources_page()


@router.get(views.FRAGMENTS + "/sources/partner", response_class=HTMLResponse)
async def partner_fragment(page: PageDep, id: IdQuery = "", kind: IdQuery = "") -> HTMLResponse:
    """A partner's edit form (``id``), or a new 3PL's or supplier's (``kind``)."""
    if id:
        partner = await page.sources.partner(page.url, id)
        if partner is None:
            return await page.sources_page(status_code=404, message="That partner is not set up.")
        return await page.partner_form(views.partner_form(partner), partner_id=partner.id)
    new_kind = next((k for k in (SourceKind.THIRD_PARTY, SourceKind.DROPSHIP) if k.value == kind), None)
    if new_kind is None:
        return await page.sources_page(status_code=404, message="Add a 3PL or a dropship supplier.")
    return await page.partner_form(views.empty_partner_form(new_kind), partner_id=None)


@router.post(views.ACTIONS + "/partners", response_class=HTMLResponse)
async def add(page: PageDep) -> HTMLResponse:
    """Refused by field, and nothing kept, on any problem; the new secret is shown this once."""
    form = await _form(page.request)
    warehouses = await page.warehouses()
    outcome = await add_partner(page.sources, page.url, form, warehouses, now=page.runtime.clock.now())
    if isinstance(outcome, SourcesRejected):
        return await page.partner_form(
            form, partner_id=None, status_code=422, errors=dict(outcome.errors), notice="Not saved: check the fields."
        )
    message = f"{outcome.partner.name} added."
    return await page.sources_page(message=message, secret=outcome, notice="Partner added.")


@router.post(views.ACTIONS + "/partners/{partner_id}", response_class=HTMLResponse)
async def edit(partner_id: str, page: PageDep) -> HTMLResponse:
    form = await _form(page.request)
    warehouses = await page.warehouses()
    outcome = await update_partner(page.sources, page.url, partner_id, form, warehouses, now=page.runtime.clock.now())
    if outcome is None:
        return await page.sources_page(status_code=404, message="That partner is not set up.")
    if isinstance(outcome, SourcesRejected):
        current = await page.sources.partner(page.url, partner_id)
        kept_kind = {"kind": current.kind.value} if current is not None else {}
        return await page.partner_form(
            {**form, **kept_kind},
            partner_id=partner_id,
            status_code=422,
            errors=dict(outcome.errors),
            notice="Not saved: check the fields.",
        )
    return await page.sources_page(message=f"{outcome.name} saved.", notice="Partner saved.")


@router.post(views.ACTIONS + "/partners/{partner_id}/remove", response_class=HTMLResponse)
async def remove(partner_id: str, page: PageDep, plans: RoutingPlansDep) -> HTMLResponse:
    """Refused, with the hand-offs it still has to ship, while the partner has any."""
    outcome = await remove_partner(page.sources, plans, page.url, partner_id)
    if outcome is None:
        return await page.sources_page(status_code=404, message="That partner is not set up.")
    if isinstance(outcome, PartnerBusy):
        zone = await store_timezone(page.settings, page.url)
        refused = views.remove_refused(outcome, zone, page.locale)
        return await page.sources_page(status_code=409, remove_refused=refused, notice="Partner not removed.")
    message = f"{outcome.name} removed: routing no longer sends it shipments, and its warehouse is in-house again."
    return await page.sources_page(message=message, notice="Partner removed.")


@router.post(views.ACTIONS + "/partners/{partner_id}/rotate-secret", response_class=HTMLResponse)
async def rotate(partner_id: str, page: PageDep) -> HTMLResponse:
    partner = await page.sources.partner(page.url, partner_id)
    secret = (
        None
        if partner is None
        else await rotate_secret(page.sources, page.url, partner_id, now=page.runtime.clock.now())
    )
    if partner is None or secret is None:
        return await page.sources_page(status_code=404, message="That partner is not set up.")
    shown = {"partner": partner, "secret": secret}
    message = f"{partner.name} has a new signing secret: the old one no longer works."
    return await page.sources_page(message=message, secret=shown, notice="Secret rotated.")


@router.post(views.ACTIONS + "/in-house", response_class=HTMLResponse)
async def in_house_priority(page: PageDep) -> HTMLResponse:
    form = await page.request.form()
    warehouse_id, priority = (str(form.get(name) or "") for name in ("warehouse_id", "priority"))
    warehouses = await page.warehouses()
    rejected = await set_in_house_priority(page.sources, page.url, warehouse_id, priority, warehouses)
    if rejected is not None:
        return await page.sources_page(
            status_code=422,
            in_house_errors={warehouse_id: dict(rejected.errors)},
            in_house_form={warehouse_id: priority},
            notice="Not saved: check the priority.",
        )
    return await page.sources_page(message="In-house priority saved.", notice="Priority saved.")


@router.get(views.FRAGMENTS + "/sources/offers", response_class=HTMLResponse)
async def offers_fragment(page: PageDep, supplier: IdQuery) -> HTMLResponse:
    return await page.offers_page(supplier)


@router.post(views.ACTIONS + "/suppliers/{supplier_id}/feed", response_class=HTMLResponse)
async def upload_feed(supplier_id: str, page: PageDep) -> HTMLResponse:
    """The whole file or nothing: it replaces the supplier's offers, and any problem leaves them as they were."""
    async with page.request.form(max_files=1) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await page.offers_page(supplier_id, status_code=422, import_error="Choose a CSV file to upload.")
        lines = io.TextIOWrapper(upload.file, encoding="utf-8-sig", newline="")
        try:
            outcome = await import_feed(
                page.sources, page.url, supplier_id, lambda: read_feed_csv(lines), now=page.runtime.clock.now()
            )
        finally:
            lines.detach()
    if outcome is None:
        return await page.sources_page(status_code=404, message="That dropship supplier is not set up.")
    if isinstance(outcome, FeedRejected):
        rejected = {"count": len(outcome.problems), "errors": problem_rows(outcome.problems)}
        return await page.offers_page(
            supplier_id, status_code=422, import_rejected=rejected, file=upload.filename, notice="Nothing imported."
        )
    message = f"{upload.filename}: {outcome.offers} offers replace {outcome.supplier.name}'s feed."
    return await page.offers_page(supplier_id, message=message, notice="Feed imported.")
