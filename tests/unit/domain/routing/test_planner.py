"""Planning an order's sources: the rule stack, splits, the promise, re-planning and explanations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.routing.model import InvalidSource, OrderLine, OriginQuote, Source, SourceKind, quotes_from_table
from app.domain.routing.plan import Search, Unroutable
from app.domain.routing.planner import EXACT_MAX_SKUS, Problem, route
from tests.unit.domain.routing.builders import (
    PROMISED,
    TODAY,
    Rate,
    in_house,
    plan,
    rates,
    routed,
    sources_by_line,
    supplier,
    third_party,
    usd,
)

A1 = OrderLine("L1", "A", 1)
B1 = OrderLine("L2", "B", 1)


class TestRuleStack:
    @pytest.mark.parametrize(
        ("lines", "sources", "table", "expected"),
        [
            pytest.param(
                [A1, B1],
                [in_house("east", stock={"A": 5, "B": 5}), third_party("west", stock={"A": 5}, priority=1)],
                {},
                {"L1": [("east", 1)], "L2": [("east", 1)]},
                id="single-source-enough",
            ),
            pytest.param(
                [A1, B1],
                [in_house("east", stock={"A": 5}), in_house("north", stock={"B": 5}, priority=1)],
                {},
                {"L1": [("east", 1)], "L2": [("north", 1)]},
                id="split-forced",
            ),
            pytest.param(
                [A1, B1],
                [
                    in_house("east", stock={"A": 5, "B": 5}),
                    third_party("west", stock={"A": 5, "B": 5}, per_order="1.00"),
                ],
                {"east": Rate(base="9.00"), "west": Rate(base="5.00")},
                {"L1": [("west", 1)], "L2": [("west", 1)]},
                id="cheaper-3pl-beats-in-house",
            ),
            pytest.param(
                [A1, B1],
                [
                    in_house("east", stock={"A": 5, "B": 5}),
                    third_party("west", stock={"A": 5, "B": 5}, per_order="5.00"),
                ],
                {"east": Rate(base="9.00"), "west": Rate(base="5.00")},
                {"L1": [("east", 1)], "L2": [("east", 1)]},
                id="3pl-fees-make-in-house-cheaper",
            ),
            pytest.param(
                [A1, B1],
                [
                    in_house("east", stock={"A": 5}),
                    in_house("north", stock={"B": 5}),
                    third_party("west", stock={"A": 5, "B": 5}, per_order="20.00"),
                ],
                {},
                {"L1": [("west", 1)], "L2": [("west", 1)]},
                id="fewest-shipments-before-cost",
            ),
            pytest.param(
                [OrderLine("L1", "A", 3)],
                [in_house("east", stock={"A": 2}), third_party("west", stock={"A": 3}, per_order="9.00", priority=1)],
                {},
                {"L1": [("west", 3)]},
                id="no-split-while-one-source-holds-the-line",
            ),
            pytest.param(
                [A1],
                [in_house("east", stock={"A": 5}, priority=2), in_house("north", stock={"A": 5}, priority=1)],
                {},
                {"L1": [("north", 1)]},
                id="priority-breaks-a-cost-tie",
            ),
            pytest.param(
                [A1],
                [in_house("east", stock={"A": 0}), in_house("north", stock={"A": 1}, priority=5)],
                {"east": Rate(base="0")},
                {"L1": [("north", 1)]},
                id="zero-stock-never-ships",
            ),
            pytest.param(
                [A1],
                [in_house("east", stock={"A": 5}), in_house("north", stock={"A": 5}, priority=1)],
                {"east": None, "north": Rate(base="30.00")},
                {"L1": [("north", 1)]},
                id="an-origin-without-a-rate-is-passed-over",
            ),
        ],
    )
    def test_chooses(
        self,
        lines: list[OrderLine],
        sources: list[Source],
        table: dict[str, Rate | None],
        expected: dict[str, list[tuple[str, int]]],
    ) -> None:
        result = plan(lines, sources, table)

        assert sources_by_line(result) == expected
        assert routed(result).meets_promise

    def test_priority_is_the_merchants_order_whichever_way_round(self) -> None:
        first = [in_house("east", stock={"A": 5}, priority=1), in_house("north", stock={"A": 5}, priority=2)]
        swapped = [in_house("east", stock={"A": 5}, priority=2), in_house("north", stock={"A": 5}, priority=1)]

        assert sources_by_line(plan([A1], first)) == {"L1": [("east", 1)]}
        assert sources_by_line(plan([A1], swapped)) == {"L1": [("north", 1)]}


class TestGoodsCost:
    def test_a_supplier_cheaper_than_the_ledger_cost_ships_when_on_time(self) -> None:
        sources = [in_house("east", stock={"A": 5}), supplier("acme", stock={"A": 9}, prices={"A": "4.00"}, priority=1)]

        result = plan([OrderLine("L1", "A", 2)], sources, unit_costs={"A": "6.00"})

        assert sources_by_line(result) == {"L1": [("acme", 2)]}
        assert routed(result).landed_cost == usd("13.00")

    def test_a_cheaper_supplier_that_arrives_after_the_promise_loses_to_own_stock(self) -> None:
        sources = [
            in_house("east", stock={"A": 5}),
            supplier("acme", stock={"A": 9}, prices={"A": "4.00"}, handling_days=4, priority=1),
        ]

        result = routed(plan([OrderLine("L1", "A", 2)], sources, unit_costs={"A": "6.00"}))

        assert sources_by_line(result) == {"L1": [("east", 2)]}
        assert result.meets_promise
        assert result.explanation[1] == (
            "L1 (A × 2): east: 2 days, 17.00 USD; chosen; supplier acme: 6 days, 13.00 USD, after the promise"
        )


class TestPromise:
    def test_when_no_plan_keeps_the_promise_the_earliest_is_chosen_and_flagged(self) -> None:
        sources = [in_house("east", stock={"A": 5}), third_party("west", stock={"A": 5}, priority=1)]
        table = {"east": Rate(base="5.00", days=9), "west": Rate(base="50.00", days=7)}

        result = routed(plan([A1], sources, table))

        assert sources_by_line(result) == {"L1": [("west", 1)]}
        assert not result.meets_promise
        assert result.latest_arrival == TODAY + timedelta(days=7)
        assert (
            "LATE: no plan arrives by the promised 2026-12-08; this one, the earliest, by 2026-12-10"
            in (result.explanation[0])
        )

    def test_a_split_that_keeps_the_promise_beats_one_late_shipment(self) -> None:
        sources = [
            third_party("west", stock={"A": 5, "B": 5}),
            in_house("east", stock={"A": 5}, priority=1),
            in_house("north", stock={"B": 5}, priority=2),
        ]

        result = plan([A1, B1], sources, {"west": Rate(days=8)})

        assert sources_by_line(result) == {"L1": [("east", 1)], "L2": [("north", 1)]}


class TestSplitQuantities:
    def test_a_line_no_source_holds_is_split_cheapest_units_first(self) -> None:
        sources = [
            in_house("east", stock={"A": 3}),
            supplier("acme", stock={"A": 4}, prices={"A": "2.00"}, priority=1),
        ]

        result = routed(plan([OrderLine("L1", "A", 5)], sources, unit_costs={"A": "6.00"}))

        assert sources_by_line(result) == {"L1": [("east", 1), ("acme", 4)]}
        assert result.to_metadata()["plan"] == [
            {"lineId": "L1", "sku": "A", "quantity": 1, "source": {"kind": "in_house", "id": "east", "name": "east"}},
            {"lineId": "L1", "sku": "A", "quantity": 4, "source": {"kind": "dropship", "id": "acme", "name": "acme"}},
        ]
        assert "chosen for 1 of 5" in result.explanation[1]
        assert "chosen for 4 of 5" in result.explanation[1]

    def test_two_lines_of_one_sku_share_its_stock(self) -> None:
        sources = [in_house("east", stock={"A": 4}), in_house("north", stock={"A": 2}, priority=1)]

        result = plan([OrderLine("L1", "A", 3), OrderLine("L2", "A", 3)], sources)

        assert sources_by_line(result) == {"L1": [("east", 3)], "L2": [("east", 1), ("north", 2)]}

    def test_an_order_beyond_all_stock_is_unroutable_and_says_what_is_short(self) -> None:
        sources = [in_house("east", stock={"A": 1}), third_party("west", stock={"A": 1})]

        result = plan([OrderLine("L1", "A", 3)], sources)

        assert isinstance(result, Unroutable)
        assert result.explanation[0] == "no plan: A: 2 of 3 in stock across the sources"
        assert result.to_metadata() == {"v": 1, "plan": [], "shipments": 0, "explanation": list(result.explanation)}

    def test_when_no_origin_can_reach_the_destination_nothing_is_planned(self) -> None:
        result = plan([A1], [in_house("east", stock={"A": 1})], default=None)

        assert isinstance(result, Unroutable)
        assert result.explanation == (
            "no plan: no combination of sources can ship every line to the destination",
            "L1 (A × 1): east: no rate to the destination",
        )


class TestReplan:
    def test_a_rejecting_partner_is_left_out_and_the_explanation_says_so(self) -> None:
        sources = [third_party("west", stock={"A": 5}, name="West"), in_house("east", stock={"A": 5}, priority=1)]
        before = plan([A1], sources)

        after = routed(plan([A1], sources, excluded={"west": "rejected the hand-off"}))

        assert sources_by_line(before) == {"L1": [("west", 1)]}
        assert sources_by_line(after) == {"L1": [("east", 1)]}
        assert after.explanation[1] == "re-planned without 3PL West: rejected the hand-off"
        assert (
            after.explanation[2]
            == "L1 (A × 1): 3PL West: left out (rejected the hand-off); east: 2 days, 5.00 USD; chosen"
        )

    def test_when_the_only_other_source_cannot_reach_the_destination_nothing_is_planned(self) -> None:
        sources = [third_party("west", stock={"A": 5}), in_house("east", stock={"A": 5}, priority=1)]

        result = plan([A1], sources, {"east": None}, excluded={"west": "no answer within 4:00:00"})

        assert isinstance(result, Unroutable)
        assert result.explanation[1:] == (
            "re-planned without 3PL west: no answer within 4:00:00",
            "L1 (A × 1): 3PL west: left out (no answer within 4:00:00); east: no rate to the destination",
        )

    def test_excluding_a_source_that_does_not_exist_is_refused(self) -> None:
        with pytest.raises(InvalidSource, match="excluded: no such source: ghost"):
            plan([A1], [in_house("east", stock={"A": 1})], excluded={"ghost": "no answer"})


class TestMetadataAndExplanation:
    def test_ops_routing_v1_carries_each_line_its_source_and_the_shipment_count(self) -> None:
        sources = [in_house("east", stock={"A": 0, "B": 1}, name="east-dc"), third_party("west", stock={"A": 2})]
        result = routed(
            plan([OrderLine("L1", "A", 2), B1], sources, {"east": Rate(base="4.00"), "west": Rate(base="6.40")})
        )

        metadata = result.to_metadata()

        assert metadata == {
            "v": 1,
            "plan": [
                {"lineId": "L1", "sku": "A", "quantity": 2, "source": {"kind": "3pl", "id": "west", "name": "west"}},
                {
                    "lineId": "L2",
                    "sku": "B",
                    "quantity": 1,
                    "source": {"kind": "in_house", "id": "east", "name": "east-dc"},
                },
            ],
            "shipments": 2,
            "explanation": list(result.explanation),
        }
        assert result.explanation[1] == "L1 (A × 2): east-dc: 0 in stock; 3PL west: 2 days, 6.40 USD; chosen"
        assert result.explanation[0].startswith("2 shipments (east-dc, 3PL west), landed cost 10.40 USD; all arrive")
        assert result.search is Search.EXACT

    def test_beyond_the_exact_bound_the_heuristic_plans_and_says_so(self) -> None:
        lines = [OrderLine(f"L{i}", f"S{i}", 1) for i in range(EXACT_MAX_SKUS + 1)]
        stock = {line.sku: 1 for line in lines}

        result = routed(plan(lines, [in_house("east", stock=stock), third_party("west", stock=stock, priority=1)]))

        assert result.search is Search.HEURISTIC
        assert {source for units in sources_by_line(result).values() for source, _ in units} == {"east"}
        assert "heuristic search (more than 8 SKUs or 6 sources)" in result.explanation[0]

    def test_the_heuristic_moves_a_whole_shipment_to_a_cheaper_source(self) -> None:
        lines = [OrderLine(f"L{i}", f"S{i}", 1) for i in range(EXACT_MAX_SKUS + 1)]
        stock = {line.sku: 1 for line in lines}
        sources = [in_house("east", stock=stock), third_party("west", stock=stock, priority=1)]

        result = routed(plan(lines, sources, {"east": Rate(base="9.00"), "west": Rate(base="5.00")}))

        assert result.search is Search.HEURISTIC
        assert [shipment.source.id for shipment in result.shipments] == ["west"]

    def test_a_table_of_quotes_prices_by_source_and_set_of_lines(self) -> None:
        table = {
            ("east", frozenset({"L1", "L2"})): OriginQuote(usd("9.00"), PROMISED),
            ("east", frozenset({"L1"})): OriginQuote(usd("6.00"), PROMISED),
        }

        result = routed(
            route(
                [A1, B1],
                [in_house("east", stock={"A": 1, "B": 1})],
                quotes_from_table(table),
                promised_by=PROMISED,
                planned_on=TODAY,
                currency="USD",
            )
        )

        assert result.landed_cost == usd("9.00")
        assert result.explanation[2] == "L2 (B × 1): east: no rate to the destination; chosen"


class TestInput:
    @pytest.mark.parametrize(
        ("build", "message"),
        [
            pytest.param(
                lambda: Source("w", "w", SourceKind.THIRD_PARTY, {}, acceptance_window=timedelta(hours=1)),
                "fees: pick-and-pack fees belong to a 3PL",
                id="3pl-without-fees",
            ),
            pytest.param(
                lambda: supplier("acme", stock={"A": 1, "B": 1}, prices={"A": "1"}),
                "stock: the supplier has no price for B",
                id="supplier-stock-unpriced",
            ),
            pytest.param(lambda: in_house("e", stock={"A": -1}), "stock.A: must be zero or more", id="negative-stock"),
            pytest.param(
                lambda: Source("e", "e", SourceKind.IN_HOUSE, {}, acceptance_window=timedelta(hours=1)),
                "acceptance_window: partners have",
                id="in-house-acceptance-window",
            ),
            pytest.param(lambda: OrderLine("L1", "A", 0), "line L1.quantity: must be 1 or more", id="zero-quantity"),
            pytest.param(
                lambda: plan([A1, OrderLine("L1", "B", 1)], [in_house("e", stock={"A": 1})]),
                "lines: ids must be unique, repeated: L1",
                id="duplicate-line",
            ),
            pytest.param(
                lambda: route(
                    [A1],
                    [in_house("e", stock={"A": 1})],
                    lambda shipment: OriginQuote(usd("1"), PROMISED),
                    promised_by=PROMISED,
                    planned_on=TODAY,
                    currency="EUR",
                ),
                "quote.shipping: e quoted USD, not EUR",
                id="quote-in-another-currency",
            ),
        ],
    )
    def test_bad_input_is_refused_with_its_field(self, build: Callable[[], object], message: str) -> None:
        with pytest.raises(InvalidSource, match=message):
            build()

    def test_a_partner_not_answering_within_its_window_is_due_then(self) -> None:
        sent = datetime(2026, 12, 3, 9, tzinfo=UTC)

        assert third_party("west", stock={}).answer_due(sent) == sent + timedelta(hours=4)
        with pytest.raises(InvalidSource, match="east is in-house"):
            in_house("east", stock={}).answer_due(sent)


class TestOptions:
    def test_every_split_covers_the_units_with_no_source_to_spare(self) -> None:
        sources = [in_house(f"w{i}", stock={"A": stock}) for i, stock in enumerate([1, 1, 1, 2])]
        problem = Problem(
            [OrderLine("L1", "A", 1), OrderLine("L2", "A", 2)],
            sources,
            rates({}),
            promised_by=PROMISED,
            currency="USD",
            unit_costs={},
        )

        options = problem.options(problem.items[0], exhaustive=True)

        assert [option.sources for option in options] == [(0, 1, 2), (0, 3), (1, 3), (2, 3)]
        assert all(sum(q for part in o.parts for _, q in part.units) == 3 for o in options)
