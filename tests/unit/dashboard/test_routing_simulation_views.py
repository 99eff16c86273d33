"""The Routing → Simulator tab's builders: the number of orders read from the form, and a replay's
totals per currency and differing orders as the page shows them."""

from __future__ import annotations

import pytest
from babel import Locale

from app.dashboard.routing.simulation_views import read_orders, simulation_view
from app.domain.routing.model import OrderLine
from app.domain.routing.plan import Plan
from app.domain.routing.planner import price_allocation
from app.domain.routing.simulation import Replay
from app.services.routing.simulation import MAX_ORDERS, Simulation, Skipped
from tests.unit.domain.routing.builders import PROMISED, Rate, in_house, plan, rates, routed, third_party

MUGS = OrderLine("L1", "MUG", 2)
EAST = in_house("east", stock={"MUG": 5}, name="East")
WEST = third_party("west", stock={"MUG": 5}, per_order="1.00", name="West")
TABLE = {"east": Rate("5.00"), "west": Rate("4.00")}


def _replay(number: str, saleor_source: str) -> Replay:
    saleor = price_allocation(
        [MUGS], [EAST, WEST], rates(TABLE), {"L1": [(saleor_source, 2)]}, promised_by=PROMISED, currency="USD"
    )
    assert isinstance(saleor, Plan)
    return Replay(f"order-{number}", number, routed(plan([MUGS], [EAST, WEST], TABLE)), saleor)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("100", 100),
        (" 7 ", 7),
        (str(MAX_ORDERS), MAX_ORDERS),
        ("0", f"from 1 to {MAX_ORDERS} orders, got 0"),
        (str(MAX_ORDERS + 1), f"from 1 to {MAX_ORDERS} orders, got {MAX_ORDERS + 1}"),
        ("", f"a whole number of orders from 1 to {MAX_ORDERS}"),
        ("2.5", f"a whole number of orders from 1 to {MAX_ORDERS}"),
    ],
)
def test_the_number_of_orders_is_a_whole_number_within_bounds(typed: str, read: int | str) -> None:
    assert read_orders(typed) == read


def test_totals_and_the_orders_that_differ_as_the_page_shows_them() -> None:
    simulation = Simulation(
        (_replay("1", "east"), _replay("2", "west")), (Skipped("order-3", "3", "line L1 has no SKU"),), 4
    )
    view = simulation_view(7, simulation, Locale.parse("en_US"))
    assert (view.found, view.replayed, view.differ, view.not_reached) == (7, 2, 1, 4)
    assert [(row.measure, row.plan, row.saleor) for row in view.totals] == [
        ("Shipments", "2", "2"),
        ("Landed cost (USD)", "$10.00", "$10.00"),
        ("Promises kept", "2 of 2", "2 of 2"),
    ]
    ((row),) = view.differing
    assert (row.order_id, row.number, row.plan_cost, row.saleor_cost) == ("order-2", "2", "$5.00", "$5.00")
    assert row.explanation.startswith("same shipments and landed cost, 5.00 USD: the merchant's priority decides")
    assert [skipped.number for skipped in view.skipped] == ["3"]
