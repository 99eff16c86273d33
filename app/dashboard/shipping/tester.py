"""Shipping → Rate tester: what checkout would show for an address and a cart, and why.

It runs the checkout's own quoting (settings, rate tables, live carrier accounts, selection,
pricing) on a cart typed in the form, and lists the options with every decision behind them.
Like the rate tables, it needs ``MANAGE_SHIPPING``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.dashboard.router import templates
from app.dashboard.shipping import tester_views as views
from app.dashboard.shipping.rate_table_views import ACTIONS, FRAGMENTS, TABS
from app.dashboard.shipping.rate_tables import ShippingManagerDep
from app.dashboard.view_models import parse_locale
from app.dependencies import RateTableStoreDep, RuntimeDep, SettingsStoreDep, ShippingQuoterDep
from app.services.settings import SECTIONS, read_settings
from app.services.shipping.settings import ShippingSettings

router = APIRouter()


class _Tester:
    def __init__(
        self,
        request: Request,
        viewer: ShippingManagerDep,
        settings: SettingsStoreDep,
        tables: RateTableStoreDep,
        quoter: ShippingQuoterDep,
        runtime: RuntimeDep,
        locale: str | None = None,
    ) -> None:
        self.request, self.settings, self.tables, self.runtime = request, settings, tables, runtime
        self.url = viewer.installation.saleor_api_url
        self.locale = parse_locale(locale)
        self.quoter = quoter  # checkout's own: the tables, the carrier accounts live, the shared cache

    async def defaults(self) -> dict[str, str]:
        """A first cart to try: the first channel's warehouse's country and table currency, one unit."""
        stored = await read_settings(self.settings, self.url, SECTIONS["shipping"])
        assert isinstance(stored, ShippingSettings)
        configuration = stored.configuration()
        channel = next(iter(configuration.channels.values()), None)
        warehouse = configuration.warehouses.get(channel.warehouse_id) if channel else None
        table = next(
            (t for t in await self.tables.rate_tables(self.url) if warehouse and t.warehouse_id == warehouse.id), None
        )
        product_type = next(iter(configuration.default_dimensions), "")
        return {
            "channel": channel.channel if channel else "",
            "country": warehouse.origin.country if warehouse else "",
            "postal_code": "",
            "currency": table.currency if table else "",
            "lines": f"1, {product_type}, , 50.00",
            "placed_at": "",
        }

    def render(
        self, form: views.CartForm, result: views.CartQuote | None = None, *, status_code: int = 200
    ) -> HTMLResponse:
        context = {
            "tabs": TABS,
            "tab": "rate-tester",
            "fragments": FRAGMENTS,
            "action": f"{ACTIONS}/rate-tester",
            "form": form,
            "lines_help": views.LINES_HELP,
            "result": result,
        }
        return templates.TemplateResponse(
            self.request, "fragments/shipping_rate_tester.html", context, status_code=status_code
        )


TesterDep = Annotated[_Tester, Depends(_Tester)]


@router.get(FRAGMENTS + "/rate-tester", response_class=HTMLResponse)
async def rate_tester_fragment(tester: TesterDep) -> HTMLResponse:
    return tester.render(views.CartForm(await tester.defaults()))


@router.post(ACTIONS + "/rate-tester", response_class=HTMLResponse)
async def try_cart(tester: TesterDep) -> HTMLResponse:
    form = await tester.request.form()
    values = {name: str(form.get(name) or "") for name in views.FIELDS}
    read = views.read_form(values, tester.runtime.clock.now())
    if isinstance(read, views.CartForm):
        return tester.render(read, status_code=422)
    cart, placed_at = read
    explanation = await tester.quoter.explain(tester.url, cart, placed_at)
    return tester.render(views.CartForm(values), views.cart_quote(explanation, tester.locale))
