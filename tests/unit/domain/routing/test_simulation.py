"""Saleor's allocation priced as plans are, and the replay of an order against it: whether they differ,
why, and the totals over many orders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.domain.routing.model import OrderLine, Source
from app.domain.routing.plan import Plan, Search
from app.domain.routing.planner import price_allocation
from app.domain.routing.simulation import Replay, totals
from tests.unit.domain.routing.builders import (
    PROMISED,
    Rate,
    in_house,
    plan,
    rates,
    routed,
    supplier,
    third_party,
    usd,
)

MUGS = OrderLine("L1", "MUG", 2)
TEES = OrderLine("L2", "TEE", 1)
EAST = in_house("east", stock={"MUG": 5, "TEE": 5}, name="East")
WEST = third_party("west", stock={"MUG": 5, "TEE": 5}, per_order="1.00", per_unit="0.50", name="West")
TABLE = {"east": Rate("5.00", days=2), "west": Rate("4.00", days=6)}


def _saleors(
    allocation: Mapping[str, Sequence[tuple[str, int]]],
    *,
    lines: Sequence[OrderLine] = (MUGS, TEES),
    sources: Sequence[Source] = (EAST, WEST),
    table: Mapping[str, Rate | None] = TABLE,
) -> Plan | str:
    return price_allocation(
        lines,
        sources,
        rates(table, default=None),
        allocation,
        promised_by=PROMISED,
        currency="USD",
    )


class TestPriceAllocation:
    def test_prices_each_warehouse_s_shipment_as_the_planner_prices_its_own(self) -> None:
        saleor = _saleors({"L1": [("west", 2)], "L2": [("east", 1)]})
        assert isinstance(saleor, Plan)
        assert saleor.search is Search.NONE
        # Shipments in the merchant's source order: east, then west with its fees (1.00 + 2 × 0.50).
        assert [(s.source.id, s.landed_cost) for s in saleor.shipments] == [
            ("east", usd("5.00")),
            ("west", usd("6.00")),
        ]
        assert saleor.latest_arrival > PROMISED
        assert not saleor.meets_promise

    def test_the_planner_s_plan_of_the_same_units_costs_the_same(self) -> None:
        planned = routed(plan([MUGS, TEES], [EAST, WEST], TABLE, default=None))
        saleor = _saleors({"L1": [("east", 2)], "L2": [("east", 1)]})
        assert isinstance(saleor, Plan)
        assert [s.source.id for s in planned.shipments] == ["east"]
        assert saleor.landed_cost == planned.landed_cost

    def test_a_split_line_ships_from_each_warehouse(self) -> None:
        saleor = _saleors({"L1": [("east", 1), ("west", 1)], "L2": [("east", 1)]})
        assert isinstance(saleor, Plan)
        assert [(s.source.id, [(u.line.id, u.quantity) for u in s.units]) for s in saleor.shipments] == [
            ("east", [("L1", 1), ("L2", 1)]),
            ("west", [("L1", 1)]),
        ]

    def test_a_warehouse_that_is_no_source_any_more_is_said(self) -> None:
        assert (
            _saleors({"L1": [("gone", 2)], "L2": [("east", 1)]}) == "L1 (MUG): allocated to gone, which is not a source"
        )

    def test_units_saleor_did_not_allocate_are_said(self) -> None:
        assert _saleors({"L1": [("east", 1)], "L2": [("east", 1)]}) == "L1 (MUG × 2): 1 allocated"
        assert _saleors({"L1": [("east", 2)]}) == "L2 (TEE × 1): 0 allocated"

    def test_an_origin_without_a_rate_is_said(self) -> None:
        unrated = _saleors({"L1": [("west", 2)], "L2": [("west", 1)]}, table={"east": Rate()})
        assert unrated == "3PL West: its shipment has no quote"

    def test_a_supplier_s_price_counts_as_its_goods(self) -> None:
        acme = supplier("acme", stock={"MUG": 5}, prices={"MUG": "3.00"}, name="Acme")
        saleor = _saleors({"L1": [("acme", 2)]}, lines=[MUGS], sources=[EAST, acme], table={"acme": Rate("4.00")})
        assert isinstance(saleor, Plan)
        assert saleor.landed_cost == usd("10.00")


def _replay(allocation: Mapping[str, Sequence[tuple[str, int]]], number: str = "1001") -> Replay:
    planned = routed(plan([MUGS, TEES], [EAST, WEST], TABLE, default=None))
    saleor = _saleors(allocation)
    assert isinstance(saleor, Plan)
    return Replay(f"order-{number}", number, planned, saleor)


class TestReplay:
    def test_the_same_units_from_the_same_warehouses_do_not_differ(self) -> None:
        assert not _replay({"L1": [("east", 2)], "L2": [("east", 1)]}).differs

    def test_a_late_dearer_split_says_what_the_plan_saves_and_keeps(self) -> None:
        replay = _replay({"L1": [("west", 2)], "L2": [("east", 1)]})
        assert replay.differs
        assert replay.explanation() == (
            "plan arrives by 2026-12-05, keeps the promise of 2026-12-08; "
            "Saleor's allocation arrives by 2026-12-09, misses the promise of 2026-12-08; "
            "1 shipment instead of Saleor's 2; "
            "landed cost 5.00 USD, 6.00 USD less than Saleor's; "
            "plan: East ships MUG × 2 + TEE × 1; "
            "Saleor: East ships TEE × 1, 3PL West ships MUG × 2"
        )

    def test_a_plan_that_costs_more_to_keep_the_promise_says_so(self) -> None:
        planned = routed(plan([MUGS], [EAST, WEST], {"east": Rate("9.00"), "west": Rate("1.00", days=9)}, default=None))
        saleor = price_allocation(
            [MUGS],
            [EAST, WEST],
            rates({"east": Rate("9.00"), "west": Rate("1.00", days=9)}, default=None),
            {"L1": [("west", 2)]},
            promised_by=PROMISED,
            currency="USD",
        )
        assert isinstance(saleor, Plan)
        explanation = Replay("o", "1", planned, saleor).explanation()
        assert "landed cost 9.00 USD, 0.00 USD more" not in explanation
        assert "landed cost 9.00 USD, 6.00 USD more than Saleor's" in explanation
        assert "misses the promise" in explanation


class TestTotals:
    def test_adds_up_shipments_promises_and_costs_per_currency(self) -> None:
        same = _replay({"L1": [("east", 2)], "L2": [("east", 1)]}, "1")
        split = _replay({"L1": [("west", 2)], "L2": [("east", 1)]}, "2")
        summed = totals([same, split])
        assert (summed.orders, summed.differ) == (2, 1)
        assert (summed.plan_shipments, summed.saleor_shipments) == (2, 3)
        assert (summed.plan_promises_kept, summed.saleor_promises_kept) == (2, 1)
        ((costs),) = summed.costs
        assert (costs.plan, costs.saleor) == (usd("10.00"), usd("16.00"))

    def test_nothing_replayed_adds_up_to_nothing(self) -> None:
        summed = totals([])
        assert (summed.orders, summed.plan_shipments, summed.costs) == (0, 0, ())
