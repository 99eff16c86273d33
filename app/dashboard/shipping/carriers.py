"""The Shipping → Carrier accounts page: the carrier accounts live rates come from, connected with
their credentials (stored encrypted, never shown back in full), removed, and checked with a sample
rate request ("Test connection").

Carrier accounts are shipping configuration, which Saleor leaves to whoever manages shipping, so the
page needs ``MANAGE_SHIPPING``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.dashboard.router import templates
from app.dashboard.shipping import carrier_views
from app.dashboard.shipping.rate_table_views import FRAGMENTS, TABS
from app.dashboard.view_models import parse_locale
from app.dependencies import (
    CarrierAccountsDep,
    CarrierQuotesDep,
    DashboardContext,
    RuntimeDep,
    SettingsStoreDep,
    require_permissions,
)
from app.services.settings import store_timezone
from app.services.shipping.carriers import (
    CarrierRefused,
    check_connection,
    connect_carrier,
    disconnect_carrier,
    read_service_levels,
)
from app.services.shipping.model import ConnectionCheck

router = APIRouter()
ShippingManagerDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_SHIPPING"))]
CONNECTION_TEST_SECONDS = 15.0
CREDENTIAL_PREFIX = "credential_"


class _Page:
    """Everything a Carrier accounts request renders with: the fragment is rebuilt after every action."""

    def __init__(
        self,
        request: Request,
        viewer: ShippingManagerDep,
        accounts: CarrierAccountsDep,
        carriers: CarrierQuotesDep,
        settings: SettingsStoreDep,
        runtime: RuntimeDep,
        locale: str | None = None,
    ) -> None:
        self.request, self.viewer, self.accounts, self.carriers = request, viewer, accounts, carriers
        self.settings, self.runtime = settings, runtime
        self.locale = parse_locale(locale)
        self.url = viewer.installation.saleor_api_url

    async def render(
        self,
        *,
        status_code: int = 200,
        message: str | None = None,
        notice: str | None = None,
        checks: dict[int, ConnectionCheck] | None = None,
        **outcome: Any,
    ) -> HTMLResponse:
        """``notice`` is the dashboard's toast, in plain ASCII: it travels in a header."""
        zone = await store_timezone(self.settings, self.url)
        specs = self.carriers.carriers()
        context = {
            "tabs": TABS,
            "tab": "carrier-accounts",
            "fragments": FRAGMENTS,
            "accounts": carrier_views.account_rows(
                await self.accounts.accounts(self.url), specs, checks or {}, zone, self.locale
            ),
            "forms": carrier_views.connect_forms(specs, CREDENTIAL_PREFIX),
            "message": message,
            "form": {},
            "form_carrier": None,
            "form_error": None,
            **outcome,
        }
        response = templates.TemplateResponse(self.request, "fragments/carriers.html", context, status_code=status_code)
        if notice:
            response.headers["x-ops-notice"] = notice
        return response


PageDep = Annotated[_Page, Depends(_Page)]


@router.get(FRAGMENTS + "/carrier-accounts", response_class=HTMLResponse)
@router.get(
    "/api/dashboard/fragments/carriers", response_class=HTMLResponse
)  # the Carriers page's, before it was a tab
async def carriers_fragment(page: PageDep) -> HTMLResponse:
    return await page.render()


@router.post("/api/dashboard/carriers", response_class=HTMLResponse)
async def connect(page: PageDep) -> HTMLResponse:
    """Refused with the field at fault, and nothing stored, when the carrier or a credential is wrong."""
    form = {name: value for name, value in (await page.request.form()).items() if isinstance(value, str)}
    carrier = form.get("carrier", "")
    levels = read_service_levels(form.get("service_levels", ""))
    outcome = (
        levels
        if isinstance(levels, CarrierRefused)
        else await connect_carrier(
            page.accounts,
            page.carriers,
            page.url,
            carrier=carrier,
            label=form.get("label", ""),
            credentials={
                name.removeprefix(CREDENTIAL_PREFIX): value
                for name, value in form.items()
                if name.startswith(CREDENTIAL_PREFIX)
            },
            test_mode=form.get("test_mode") in ("on", "true"),
            service_levels=levels,
            now=page.runtime.clock.now(),
        )
    )
    if isinstance(outcome, CarrierRefused):
        # Secrets are not sent back into the form: the merchant types them again.
        shown = {
            name: value
            for name, value in form.items()
            if not name.startswith(CREDENTIAL_PREFIX) or _is_shown(page, carrier, name)
        }
        return await page.render(
            status_code=422,
            form=shown,
            form_carrier=carrier,
            form_error=outcome,
            notice="Not connected: check the marked field.",
        )
    message = f"{outcome.label} connected. Test the connection to see that the carrier answers."
    return await page.render(message=message, notice="Carrier account connected.")


def _is_shown(page: _Page, carrier: str, form_name: str) -> bool:
    spec = next((spec for spec in page.carriers.carriers() if spec.name == carrier), None)
    field = spec.credential(form_name.removeprefix(CREDENTIAL_PREFIX)) if spec else None
    return field is not None and not field.secret


@router.post("/api/dashboard/carriers/{account_id}/remove", response_class=HTMLResponse)
async def remove(account_id: int, page: PageDep) -> HTMLResponse:
    if not await disconnect_carrier(page.accounts, page.url, account_id):
        return await page.render(status_code=404, message="That carrier account is not connected.")
    message = "Carrier account removed: live rates no longer come from it."
    return await page.render(message=message, notice=message)


@router.post("/api/dashboard/carriers/{account_id}/test", response_class=HTMLResponse)
async def check_account(account_id: int, page: PageDep) -> HTMLResponse:
    check = await check_connection(
        page.accounts, page.carriers, page.url, account_id, within_seconds=CONNECTION_TEST_SECONDS
    )
    if check is None:
        return await page.render(status_code=404, message="That carrier account is not connected.")
    notice = "Connection works." if check.ok else "The carrier refused the connection test."
    return await page.render(checks={account_id: check}, notice=notice)
