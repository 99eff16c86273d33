from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.domain.inventory import (
    Method,
    Move,
    MoveKind,
    Period,
    PeriodMargin,
    ValuePoint,
    cogs_by_period,
    compare_methods,
    margin_pct,
    move_history,
    next_period,
    period_start,
    post_ledger,
    value_as_of,
    value_over_time,
)
from tests.unit.domain.inventory.builders import (
    OTHER_WAREHOUSE,
    WAREHOUSE,
    at,
    issue,
    make_move,
    odoo_example,
    receipt,
    run,
    take,
)

D = Decimal


def _two_warehouses() -> list[Move]:
    """SKU-1 in WH-1 (the worked example, then 2 sent to WH-2) and SKU-2 in WH-2."""
    return [
        *odoo_example(),
        make_move(MoveKind.TRANSFER_OUT, id="T1", quantity=2, day=5, counterpart_warehouse=OTHER_WAREHOUSE),
        make_move(
            MoveKind.TRANSFER_IN,
            id="T1-in",
            quantity=2,
            day=5,
            warehouse=OTHER_WAREHOUSE,
            counterpart_warehouse=WAREHOUSE,
            cost_of=[take("R2", 2, "16")],  # as booked under FIFO
            related_move_id="T1",
        ),
        receipt(id="R9", quantity=1, unit_cost="3", day=6, sku="SKU-2", warehouse=OTHER_WAREHOUSE),
    ]


class TestPostLedger:
    def test_values_every_pool_in_the_deterministic_order(self) -> None:
        postings = [posting for _, posting in post_ledger(reversed(_two_warehouses()), Method.FIFO)]
        assert [p.move.id for p in postings] == ["R1", "R2", "I1", "R3", "T1", "T1-in", "R9"]

    def test_a_what_if_method_moves_the_transfer_at_that_method_s_cost(self) -> None:
        final = {(pool.sku, pool.warehouse): pool for pool, _ in post_ledger(_two_warehouses(), Method.LIFO)}
        assert final["SKU-1", OTHER_WAREHOUSE].layers[0].receipt_id == "R3"  # LIFO sent the newest, not R2
        assert final["SKU-1", OTHER_WAREHOUSE].value == D(12)

    def test_a_what_if_method_brings_a_return_back_at_that_method_s_cost(self) -> None:
        moves = [
            *odoo_example(),
            make_move(
                MoveKind.CUSTOMER_RETURN,
                id="C1",
                quantity=1,
                day=5,
                cost_of=[take("R2", 2, "16")],  # as booked under FIFO
                related_move_id="I1",
            ),
            make_move(
                MoveKind.CUSTOMER_RETURN,
                id="C2",
                quantity=1,
                day=6,
                cost_of=[take("R2", 2, "16")],
                related_move_id="I1",
            ),
        ]
        postings = [posting for _, posting in post_ledger(moves, Method.LIFO)]
        assert list(postings[-2].layers) == [take("R1", 1, "10")]  # LIFO's delivery ended in R1
        assert list(postings[-1].layers) == [take("R1", 1, "10")]  # the next unit back, not the same one twice

    def test_a_return_of_an_issue_corrected_later_uses_the_corrected_cost(self) -> None:
        moves = [
            issue(id="I1", quantity=1, day=1),
            receipt(id="R1", quantity=1, unit_cost="7", day=2),
            make_move(MoveKind.CUSTOMER_RETURN, id="C1", quantity=1, day=3, related_move_id="I1"),
        ]
        postings = [posting for _, posting in post_ledger(moves, Method.FIFO)]
        assert list(postings[-1].layers) == [take("R1", 1, "7")]

    def test_stops_at_until(self) -> None:
        postings = [posting for _, posting in post_ledger(odoo_example(), Method.FIFO, until=at(2))]
        assert [p.move.id for p in postings] == ["R1", "R2"]


class TestValueAsOf:
    def test_values_stock_by_warehouse_and_sku_at_a_date(self) -> None:
        rows = value_as_of(_two_warehouses(), Method.FIFO, at(10))
        assert [(r.warehouse, r.sku, r.quantity, r.value, r.unit_cost) for r in rows] == [
            (WAREHOUSE, "SKU-1", 2, D(12), D(6)),
            (OTHER_WAREHOUSE, "SKU-1", 2, D(32), D(16)),
            (OTHER_WAREHOUSE, "SKU-2", 1, D(3), D(3)),
        ]
        assert {r.method for r in rows} == {Method.FIFO}

    def test_an_earlier_date_sees_only_the_moves_up_to_it(self) -> None:
        rows = value_as_of(_two_warehouses(), Method.AVCO, at(3))
        assert [(r.sku, r.quantity, r.value, r.unit_cost) for r in rows] == [("SKU-1", 2, D(24), D(12))]

    def test_leaves_out_empty_pools(self) -> None:
        moves = [receipt(id="R1", quantity=1, unit_cost="1"), issue(id="I1", quantity=1)]
        assert value_as_of(moves, Method.FIFO, at(1)) == ()

    def test_honours_recorded_method_changes(self) -> None:
        moves = [*odoo_example(), make_move(MoveKind.REVALUATION, id="M1", quantity=0, day=5, method=Method.AVCO)]
        [row] = value_as_of(moves, Method.FIFO, at(9))
        assert (row.method, row.value) == (Method.AVCO, D(44))


class TestCompareMethods:
    def test_shows_the_same_history_under_each_method_side_by_side(self) -> None:
        [row] = compare_methods(odoo_example())
        assert row.quantity == 4
        assert row.value == {Method.FIFO: D(44), Method.LIFO: D(32), Method.AVCO: D(36)}
        assert row.cogs == {Method.FIFO: D(112), Method.LIFO: D(124), Method.AVCO: D(120)}

    def test_ignores_recorded_method_changes_and_can_stop_at_a_date(self) -> None:
        moves = [*odoo_example(), make_move(MoveKind.REVALUATION, id="M1", quantity=0, day=1, method=Method.AVCO)]
        [row] = compare_methods(moves, at(3), [Method.FIFO, Method.LIFO])
        assert row.value == {Method.FIFO: D(32), Method.LIFO: D(20)}

    def test_lists_every_pool(self) -> None:
        rows = compare_methods(_two_warehouses())
        assert [(r.warehouse, r.sku) for r in rows] == [
            (WAREHOUSE, "SKU-1"),
            (OTHER_WAREHOUSE, "SKU-1"),
            (OTHER_WAREHOUSE, "SKU-2"),
        ]


class TestPeriods:
    @pytest.mark.parametrize(
        ("period", "start", "following"),
        [
            pytest.param(Period.DAY, date(2026, 5, 14), date(2026, 5, 15), id="day"),
            pytest.param(Period.WEEK, date(2026, 5, 11), date(2026, 5, 18), id="week-from-monday"),
            pytest.param(Period.MONTH, date(2026, 5, 1), date(2026, 6, 1), id="month"),
            pytest.param(Period.QUARTER, date(2026, 4, 1), date(2026, 7, 1), id="quarter"),
            pytest.param(Period.YEAR, date(2026, 1, 1), date(2027, 1, 1), id="year"),
        ],
    )
    def test_finds_the_period_a_moment_falls_in(self, period: Period, start: date, following: date) -> None:
        moment = datetime(2026, 5, 14, 15, 30, tzinfo=UTC)
        assert period_start(moment, period) == start
        assert next_period(start, period) == following

    def test_counts_days_in_the_given_zone(self) -> None:
        late_evening_in_new_york = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
        new_york = timezone(timedelta(hours=-4))
        assert period_start(late_evening_in_new_york, Period.MONTH, new_york) == date(2026, 5, 1)

    def test_next_month_keeps_a_day_that_month_lacks_within_it(self) -> None:
        assert next_period(date(2026, 1, 31), Period.MONTH) == date(2026, 2, 28)
        assert next_period(date(2026, 11, 30), Period.QUARTER) == date(2027, 2, 28)


class TestCogsByPeriod:
    def test_sums_cogs_and_sales_per_period_including_quiet_ones(self) -> None:
        moves = [
            receipt(id="R1", quantity=10, unit_cost="10", day=0),
            issue(id="I1", quantity=2, day=1),
            issue(id="I2", quantity=1, day=70),
        ]
        _, postings = run(moves)
        sales = [(at(1), D(50)), (at(40), D(5))]
        assert cogs_by_period(postings, sales) == (
            PeriodMargin(date(2026, 1, 1), D(50), D(20), D(30), D("60.00")),
            PeriodMargin(date(2026, 2, 1), D(5), D(0), D(5), D("100.00")),
            PeriodMargin(date(2026, 3, 1), D(0), D(10), D(-10), None),
        )

    def test_nothing_to_report_is_empty(self) -> None:
        assert cogs_by_period([]) == ()

    def test_margin_pct_rounds_half_up_and_is_none_without_revenue(self) -> None:
        assert margin_pct(D(3), D(2)) == D("33.33")
        assert margin_pct(D(8), D(7)) == D("12.50")
        assert margin_pct(D(0), D(1)) is None


class TestValueOverTime:
    def test_value_at_each_period_end_carries_over_quiet_periods(self) -> None:
        moves = [
            receipt(id="R1", quantity=10, unit_cost="10", day=0),
            receipt(id="R2", quantity=1, unit_cost="3", day=1, sku="SKU-2"),
            issue(id="I1", quantity=2, day=2),
            issue(id="I2", quantity=1, day=70),
        ]
        postings = [posting for _, posting in post_ledger(moves, Method.FIFO)]
        assert value_over_time(postings) == (
            ValuePoint(date(2026, 1, 1), 9, D(83)),
            ValuePoint(date(2026, 2, 1), 9, D(83)),
            ValuePoint(date(2026, 3, 1), 8, D(73)),
        )

    def test_nothing_to_report_is_empty(self) -> None:
        assert value_over_time([], Period.DAY) == ()


class TestMoveHistory:
    def test_lists_a_sku_s_postings_in_ledger_order_with_running_balances(self) -> None:
        postings = [posting for _, posting in post_ledger(_two_warehouses(), Method.FIFO)]
        history = move_history(reversed(postings), "SKU-1")
        assert [(p.move.id, p.balance_quantity) for p in history] == [
            ("R1", 8),
            ("R2", 12),
            ("I1", 2),
            ("R3", 4),
            ("T1", 2),
            ("T1-in", 2),
        ]
        assert [p.move.id for p in move_history(postings, "SKU-1", OTHER_WAREHOUSE)] == ["T1-in"]
