"""Routing → Simulator: the latest orders replayed under the sources and shipping settings as they are
now, against what Saleor allocated (``app.services.routing.simulation``). It reads the orders the app
kept and writes nothing; like the other routing pages it needs ``MANAGE_ORDERS``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.dashboard.router import templates
from app.dashboard.routing import simulation_views as views
from app.dashboard.routing.source_views import ACTIONS, FRAGMENTS, TABS
from app.dashboard.routing.sources import RoutingManagerDep
from app.dashboard.view_models import parse_locale
from app.dependencies import InventoryLedgerDep, OrderEventLogDep, RoutingSourcesDep, SimulationQuotesDep
from app.domain.ids import SaleorApiUrl
from app.services.inventory import next_unit_costs
from app.services.routing.simulation import MAX_ORDERS, simulate
from app.webhooks.order_routing import past_order

router = APIRouter()


class _Simulator:
    def __init__(
        self,
        request: Request,
        viewer: RoutingManagerDep,
        events: OrderEventLogDep,
        sources: RoutingSourcesDep,
        quotes: SimulationQuotesDep,
        ledger: InventoryLedgerDep,
        locale: str | None = None,
    ) -> None:
        self.request, self.events, self.sources, self.quotes, self.ledger = request, events, sources, quotes, ledger
        self.url = viewer.installation.saleor_api_url
        self.locale = parse_locale(locale)

    async def unit_costs(self, url: SaleorApiUrl, skus: Collection[str], currency: str) -> Mapping[str, Decimal]:
        return await next_unit_costs(url, skus, currency, ledger=self.ledger)

    def render(
        self,
        orders: str,
        *,
        error: str | None = None,
        result: views.SimulationView | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        context = {
            "tabs": TABS,
            "tab": "simulation",
            "fragments": FRAGMENTS,
            "action": f"{ACTIONS}/simulation",
            "orders": orders,
            "max_orders": MAX_ORDERS,
            "error": error,
            "result": result,
        }
        return templates.TemplateResponse(
            self.request, "fragments/routing_simulation.html", context, status_code=status_code
        )


SimulatorDep = Annotated[_Simulator, Depends(_Simulator)]


@router.get(FRAGMENTS + "/simulation", response_class=HTMLResponse)
async def simulation_fragment(simulator: SimulatorDep) -> HTMLResponse:
    return simulator.render(str(views.DEFAULT_ORDERS))


@router.post(ACTIONS + "/simulation", response_class=HTMLResponse)
async def run_simulation(simulator: SimulatorDep) -> HTMLResponse:
    form = await simulator.request.form()
    typed = str(form.get("orders") or "")
    count = views.read_orders(typed)
    if isinstance(count, str):
        return simulator.render(typed, error=count, status_code=422)
    events = await simulator.events.first_of_recent_orders(simulator.url, count)
    orders = [past_order(event) for event in events]
    simulation = await simulate(
        simulator.url,
        orders,
        sources=simulator.sources,
        quotes=simulator.quotes,
        unit_costs=simulator.unit_costs,
    )
    return simulator.render(typed, result=views.simulation_view(len(orders), simulation, simulator.locale))
