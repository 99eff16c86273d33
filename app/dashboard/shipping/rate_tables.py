"""Shipping → Rate tables: each warehouse's carrier services and prices, uploaded and downloaded as
CSV, one service edited in a form.

Rate tables price what checkout offers, which in Saleor is the business of whoever manages
shipping (``MANAGE_SHIPPING``), so the page needs that permission.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from app.dashboard.router import templates
from app.dashboard.shipping import rate_table_views as views
from app.dashboard.view_models import parse_locale
from app.dependencies import DashboardContext, RateTableStoreDep, RuntimeDep, require_permissions
from app.errors import SaleorApiError
from app.services.ports import WarehouseRef
from app.services.shipping.rate_tables import export_rate_tables, import_rate_tables, remove_service, save_service
from app.services.shipping.tables import COLUMNS, SERVICE_FIELDS, ZONE_ROW_COLUMNS, TablesRejected, service_form

router = APIRouter()
ShippingManagerDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_SHIPPING"))]
TextQuery = Annotated[str, Query(max_length=256)]
LEVELS = ("standard", "expedited", "overnight")


class _Page:
    """What every Rate tables request renders with."""

    def __init__(
        self,
        request: Request,
        viewer: ShippingManagerDep,
        store: RateTableStoreDep,
        runtime: RuntimeDep,
        locale: str | None = None,
    ) -> None:
        self.request, self.viewer, self.store, self.runtime = request, viewer, store, runtime
        self.locale = parse_locale(locale)
        self.url = viewer.installation.saleor_api_url
        self._warehouses: list[WarehouseRef] | None = None
        self._asked = False

    async def warehouses(self) -> list[WarehouseRef] | None:
        """Saleor's warehouses, asked once per request. A route that writes asks before it writes, so
        that no call to Saleor waits while the write holds its transaction open."""
        if not self._asked:
            try:
                self._warehouses = await self.runtime.saleor.gateway(
                    self.url, self.viewer.installation.token
                ).warehouses()
            except SaleorApiError:
                self._warehouses = None  # the tables still show, by warehouse ID
            self._asked = True
        return self._warehouses

    def _render(self, template: str, context: dict[str, Any], status_code: int, notice: str | None) -> HTMLResponse:
        tabs = {"tabs": views.TABS, "tab": "rate-tables", "fragments": views.FRAGMENTS}
        response = templates.TemplateResponse(
            self.request, f"fragments/{template}", {**tabs, **context}, status_code=status_code
        )
        if notice:
            response.headers["x-ops-notice"] = notice  # plain ASCII: it travels in a header
        return response

    async def tables(self, *, status_code: int = 200, notice: str | None = None, **outcome: Any) -> HTMLResponse:
        warehouses = await self.warehouses()
        context = {
            "warehouses": views.warehouse_tables(await self.store.rate_tables(self.url), warehouses, self.locale),
            "saleor_unavailable": warehouses is None,
            "columns": ",".join(COLUMNS),
            "download": f"{views.ACTIONS}/rate-tables.csv",
            "message": None,
            **outcome,
        }
        return self._render("shipping_rate_tables.html", context, status_code, notice)

    async def service_form(
        self,
        warehouse_id: str,
        fields: dict[str, str],
        zones: str,
        replacing: tuple[str, str] | None,
        *,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
        zone_errors: list[str] | None = None,
    ) -> HTMLResponse:
        warehouses = {w.id: w.name for w in await self.warehouses() or ()}
        context = {
            "warehouse": {"id": warehouse_id, "name": warehouses.get(warehouse_id, warehouse_id)},
            "fields": fields,
            "zones": zones,
            "replacing": replacing,
            "levels": LEVELS,
            "errors": errors or {},
            "zone_errors": zone_errors or [],
            "back": f"{views.FRAGMENTS}/rate-tables",
        }
        return self._render("shipping_service.html", context, status_code, None)


PageDep = Annotated[_Page, Depends(_Page)]


@router.get(views.FRAGMENTS, response_class=HTMLResponse)
@router.get(views.FRAGMENTS + "/rate-tables", response_class=HTMLResponse)
async def rate_tables_fragment(page: PageDep) -> HTMLResponse:
    return await page.tables()


@router.get(views.ACTIONS + "/rate-tables.csv")
async def rate_tables_csv(page: PageDep) -> Response:
    return Response(
        await export_rate_tables(page.store, page.url),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="rate-tables.csv"', "cache-control": "no-store"},
    )


@router.post(views.ACTIONS + "/rate-tables/import", response_class=HTMLResponse)
async def import_tables(page: PageDep) -> HTMLResponse:
    """The whole file or nothing: it replaces every table, and any problem leaves them as they were."""
    async with page.request.form(max_files=1) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await page.tables(status_code=422, import_error="Choose a CSV file to upload.")
        warehouses = await page.warehouses()
        aliases = views.warehouse_aliases(warehouses) if warehouses is not None else None
        lines = io.TextIOWrapper(upload.file, encoding="utf-8-sig", newline="")
        try:
            outcome = await import_rate_tables(page.store, page.url, lines, aliases)
        finally:
            lines.detach()
    if isinstance(outcome, TablesRejected):
        rejected = {"count": len(outcome.problems), "errors": views.problem_rows(outcome.problems)}
        return await page.tables(status_code=422, import_rejected=rejected, file=upload.filename)
    services = sum(len(table.services) for table in outcome)
    message = f"{upload.filename}: {len(outcome)} rate tables with {services} services saved."
    return await page.tables(message=message, notice=f"{len(outcome)} rate tables saved.")


@router.get(views.FRAGMENTS + "/rate-tables/service", response_class=HTMLResponse)
async def service_fragment(
    page: PageDep, warehouse: TextQuery, carrier: TextQuery = "", service: TextQuery = ""
) -> HTMLResponse:
    """The form for one service of a warehouse's table; without a carrier and service, a new one."""
    tables = await page.store.rate_tables(page.url)
    table = next((t for t in tables if t.warehouse_id == warehouse), None)
    found = next((s for s in table.services if (s.carrier, s.service) == (carrier, service)), None) if table else None
    if table is not None and found is not None:
        fields, zones = service_form(table, found)
        return await page.service_form(warehouse, fields, zones, (found.carrier, found.service))
    fields = dict.fromkeys(SERVICE_FIELDS, "")
    fields |= {"currency": table.currency if table else "", "level": "standard", "delivery_days": "Mon-Fri"}
    return await page.service_form(warehouse, fields, ",".join(ZONE_ROW_COLUMNS) + "\n", None)


@router.post(views.ACTIONS + "/rate-tables/service", response_class=HTMLResponse)
async def save_service_form(page: PageDep) -> HTMLResponse:
    form = await page.request.form()
    text = {name: str(value) for name, value in form.items() if isinstance(value, str)}
    warehouse = text.get("warehouse", "").strip()
    fields = {name: text.get(name, "") for name in SERVICE_FIELDS}
    zones = text.get("zones", "")
    replacing = (text["replacing_carrier"], text["replacing_service"]) if text.get("replacing_carrier") else None
    if not warehouse:
        return HTMLResponse("Which warehouse's table?", status_code=422)
    await page.warehouses()
    outcome = await save_service(page.store, page.url, warehouse, fields, zones, replacing)
    if isinstance(outcome, TablesRejected):
        errors, zone_errors = views.field_errors(outcome.problems)
        return await page.service_form(
            warehouse, fields, zones, replacing, status_code=422, errors=errors, zone_errors=zone_errors
        )
    message = f"{fields['carrier'].strip()} {fields['service'].strip()} saved."
    return await page.tables(message=message, notice="Rate table saved.")


@router.post(views.ACTIONS + "/rate-tables/service/remove", response_class=HTMLResponse)
async def remove_service_form(page: PageDep) -> HTMLResponse:
    form = await page.request.form()
    warehouse, carrier, service = (str(form.get(name) or "") for name in ("warehouse", "carrier", "service"))
    await page.warehouses()
    await remove_service(page.store, page.url, warehouse, carrier, service)
    return await page.tables(message=f"{carrier} {service} removed.", notice="Service removed.")
