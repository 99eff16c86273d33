"""The valuation reports over the SQL ledger agree with its postings and with the domain's reports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.inventory_reports import SqlInventoryReports
from app.domain.installation import Installation
from app.domain.inventory import (
    CostingPolicy,
    Method,
    MoveKind,
    Period,
    Posting,
    cogs_by_period,
    compare_methods,
    value_as_of,
    value_over_time,
)
from app.runtime import Runtime
from app.services import inventory_reports
from app.services.inventory import book
from app.services.inventory_reports import (
    end_of_day,
    margin_by_period,
    methods_side_by_side,
    sku_history,
    stock_valuation,
    value_by_period,
)
from app.services.ports import LedgerEntry
from tests.builders import SHOP_API_URL
from tests.inventory_builders import ODOO, at, entry, mixed_history

FIFO = CostingPolicy()
AVCO = CostingPolicy(Method.AVCO)
WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
async def session_objects(
    runtime: Runtime, installation: Installation
) -> AsyncIterator[tuple[SqlInventoryLedger, SqlInventoryReports]]:
    async with runtime.sessions() as session:
        yield SqlInventoryLedger(session), SqlInventoryReports(session)
        await session.commit()


@pytest.fixture
def ledger(session_objects: tuple[SqlInventoryLedger, SqlInventoryReports]) -> SqlInventoryLedger:
    return session_objects[0]


@pytest.fixture
def reports(session_objects: tuple[SqlInventoryLedger, SqlInventoryReports]) -> SqlInventoryReports:
    return session_objects[1]


async def booked(ledger: SqlInventoryLedger, entries: list[LedgerEntry], policy: CostingPolicy = FIFO) -> None:
    await book(SHOP_API_URL, entries, ledger=ledger, policy=policy, now=at("2026-11-26"))


async def stored(ledger: SqlInventoryLedger, entries: list[LedgerEntry]) -> list[Posting]:
    """The ledger's current postings of these moves (re-posted ones included)."""
    postings = await ledger.postings_of(SHOP_API_URL, [item.move.id for item in entries])
    return list(postings.values())


def sales_of(entries: list[LedgerEntry]) -> dict[str, list[tuple[datetime, Decimal]]]:
    sales: dict[str, list[tuple[datetime, Decimal]]] = {}
    for item in entries:
        if item.unit_price is not None:
            sign = 1 if item.move.kind is MoveKind.ISSUE else -1
            sales.setdefault(item.move.currency, []).append((item.move.at, sign * item.unit_price * item.move.quantity))
    return sales


class TestStockValuation:
    @pytest.mark.parametrize(
        ("policy", "value", "unit_cost"),
        [pytest.param(FIFO, "44", "11", id="fifo"), pytest.param(AVCO, "36", "9", id="avco")],
    )
    async def test_values_odoos_example_as_its_postings_do(
        self,
        ledger: SqlInventoryLedger,
        reports: SqlInventoryReports,
        policy: CostingPolicy,
        value: str,
        unit_cost: str,
    ) -> None:
        await booked(ledger, ODOO, policy)
        valuation = await stock_valuation(reports, SHOP_API_URL, at("2026-11-26"))
        (warehouse,) = valuation.warehouses
        (row,) = warehouse.rows
        assert (row.sku, row.quantity, row.value, row.unit_cost) == ("SKU-1", 4, Decimal(value), Decimal(unit_cost))
        assert row.method is policy.default
        assert warehouse.totals == valuation.totals == {"USD": Decimal(value)}

    async def test_as_of_a_day_takes_each_pools_balance_at_the_end_of_it(
        self, ledger: SqlInventoryLedger, reports: SqlInventoryReports
    ) -> None:
        await booked(ledger, ODOO)
        late_on_the_20th = await stock_valuation(reports, SHOP_API_URL, end_of_day(date(2026, 10, 20), WARSAW))
        assert late_on_the_20th.totals == {"USD": Decimal(144)}
        before_anything = await stock_valuation(reports, SHOP_API_URL, at("2026-10-01"))
        assert (before_anything.warehouses, before_anything.totals) == ((), {})

    async def test_the_end_of_a_day_is_midnight_in_the_store_zone(self) -> None:
        assert end_of_day(date(2026, 11, 3), WARSAW) == datetime(2026, 11, 3, 22, 59, 59, 999999, tzinfo=UTC)
        assert end_of_day(date(2026, 7, 3), WARSAW) == datetime(2026, 7, 3, 21, 59, 59, 999999, tzinfo=UTC)

    async def test_agrees_with_value_as_of_at_every_moment_of_a_mixed_history(
        self, ledger: SqlInventoryLedger, reports: SqlInventoryReports
    ) -> None:
        entries = mixed_history(seed=3)
        await booked(ledger, entries)
        moves = [posting.move for posting in await stored(ledger, entries)]
        for moment in sorted({item.move.at for item in entries})[::7]:
            valuation = await stock_valuation(reports, SHOP_API_URL, moment)
            rows = [row for warehouse in valuation.warehouses for row in warehouse.rows]
            expected = value_as_of(moves, Method.FIFO, moment)
            assert [(r.sku, r.warehouse, r.quantity, r.value, r.method) for r in rows] == [
                (r.sku, r.warehouse, r.quantity, r.value, r.method) for r in expected
            ]


class TestMethodsSideBySide:
    async def test_values_odoos_example_under_each_method(
        self, ledger: SqlInventoryLedger, reports: SqlInventoryReports
    ) -> None:
        await booked(ledger, ODOO)
        report = await methods_side_by_side(reports, SHOP_API_URL, at("2026-11-26"))
        (row,) = report.rows
        assert row.value == {Method.FIFO: 44, Method.LIFO: 32, Method.AVCO: 36}
        assert row.cogs == {Method.FIFO: 112, Method.LIFO: 124, Method.AVCO: 120}
        assert (report.moves, report.valued) == (4, True)
        assert report.totals["USD"][Method.LIFO].cogs == 124

    async def test_values_only_the_moves_up_to_the_date_and_of_the_chosen_sku(
        self, ledger: SqlInventoryLedger, reports: SqlInventoryReports
    ) -> None:
        entries = mixed_history(seed=5)
        await booked(ledger, entries)
        moment = sorted(item.move.at for item in entries)[40]
        report = await methods_side_by_side(reports, SHOP_API_URL, moment, sku="SKU-A")
        moves = [item.move for item in entries if item.move.sku == "SKU-A" and item.move.at <= moment]
        assert report.moves == len(moves)
        assert report.rows == compare_methods(moves)

    async def test_refuses_to_replay_more_than_the_limit(
        self, ledger: SqlInventoryLedger, reports: SqlInventoryReports, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await booked(ledger, ODOO)
        monkeypatch.setattr(inventory_reports, "METHODS_MAX_MOVES", 3)
        report = await methods_side_by_side(reports, SHOP_API_URL, at("2026-11-26"))
        assert (report.moves, report.valued, report.rows) == (4, False, ())


class TestMarginByPeriod:
    async def test_odoos_delivery_in_november(self, ledger: SqlInventoryLedger, reports: SqlInventoryReports) -> None:
        await booked(ledger, ODOO)
        (usd,) = await margin_by_period(reports, SHOP_API_URL, Period.MONTH, WARSAW)
        (november,) = usd.rows
        assert november.start == date(2026, 11, 1)
        assert (november.revenue, november.cogs, november.gross_margin) == (Decimal(200), Decimal(112), Decimal(88))
        assert november.margin_pct == Decimal("44.00")
        assert usd.total == november

    async def test_periods_follow_the_store_zone(
        self, ledger: SqlInventoryLedger, reports: SqlInventoryReports
    ) -> None:
        late = entry("I9", MoveKind.ISSUE, 1, at("2026-10-31", "23:30"), unit_price="20")
        await booked(ledger, [*ODOO[:2], late])
        (utc,) = await margin_by_period(reports, SHOP_API_URL, Period.MONTH, UTC)
        (warsaw,) = await margin_by_period(reports, SHOP_API_URL, Period.MONTH, WARSAW)
        assert [row.start for row in utc.rows] == [date(2026, 10, 1)]
        assert [row.start for row in warsaw.rows] == [date(2026, 11, 1)]  # 00:30 on 1 November in Warsaw

    @pytest.mark.parametrize("period", list(Period))
    async def test_agrees_with_cogs_by_period_over_the_stored_postings(
        self, ledger: SqlInventoryLedger, reports: SqlInventoryReports, period: Period
    ) -> None:
        entries = mixed_history(seed=11)
        await booked(ledger, entries)
        postings = await stored(ledger, entries)
        sales = sales_of(entries)
        tables = await margin_by_period(reports, SHOP_API_URL, period, WARSAW)
        assert [table.currency for table in tables] == ["EUR", "USD"]
        for table in tables:
            of_currency = [posting for posting in postings if posting.move.currency == table.currency]
            assert table.rows == cogs_by_period(of_currency, sales[table.currency], period, WARSAW)
            assert table.total.cogs == sum(posting.cogs for posting in of_currency)


class TestValueByPeriod:
    async def test_odoos_example_month_by_month(self, ledger: SqlInventoryLedger, reports: SqlInventoryReports) -> None:
        await booked(ledger, ODOO)
        (usd,) = await value_by_period(reports, SHOP_API_URL, Period.MONTH, WARSAW)
        assert [(p.start, p.quantity, p.value) for p in usd.points] == [
            (date(2026, 10, 1), 12, Decimal(144)),
            (date(2026, 11, 1), 4, Decimal(44)),
        ]

    @pytest.mark.parametrize("period", list(Period))
    async def test_agrees_with_value_over_time_over_the_stored_postings(
        self, ledger: SqlInventoryLedger, reports: SqlInventoryReports, period: Period
    ) -> None:
        entries = mixed_history(seed=13)
        await booked(ledger, entries)
        postings = await stored(ledger, entries)
        for values in await value_by_period(reports, SHOP_API_URL, period, WARSAW):
            of_currency = [posting for posting in postings if posting.move.currency == values.currency]
            assert values.points == value_over_time(of_currency, period, WARSAW)


class TestSkuHistory:
    async def test_lists_the_skus_postings_in_ledger_order_with_their_orders(
        self, ledger: SqlInventoryLedger, reports: SqlInventoryReports
    ) -> None:
        await booked(ledger, [*ODOO, entry("X1", MoveKind.RECEIPT, 1, at("2026-11-01"), sku="SKU-2", unit_cost="1")])
        history = await sku_history(reports, SHOP_API_URL, "SKU-1")
        assert [line.posting.move.id for line in history.lines] == ["R1", "R2", "I1", "R3"]
        assert [line.order_id for line in history.lines] == [None, None, "order-I1", None]
        issue = history.lines[2].posting
        assert (issue.cogs, issue.balance_quantity, issue.balance_value) == (Decimal(112), 2, Decimal(32))
        assert [(take.receipt_id, take.quantity, take.unit_cost) for take in issue.layers] == [
            ("R1", 8, Decimal(10)),
            ("R2", 2, Decimal(16)),
        ]
        assert history.total == 4

    async def test_can_show_only_the_latest_moves(
        self, ledger: SqlInventoryLedger, reports: SqlInventoryReports
    ) -> None:
        await booked(ledger, ODOO)
        history = await sku_history(reports, SHOP_API_URL, "SKU-1", "W1", latest=2)
        assert [line.posting.move.id for line in history.lines] == ["I1", "R3"]
        assert history.total == 4
        assert (await sku_history(reports, SHOP_API_URL, "SKU-1", "W2")).lines == ()
