"""Receipts as text: every column's checks, the CSV's shape, duplicates, ids, and streaming."""

from __future__ import annotations

import io
import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.domain.inventory import MoveKind
from app.services.input_problems import InputProblem
from app.services.ports import WarehouseRef
from app.services.receipt_import import (
    BatchChecks,
    CsvRow,
    FieldError,
    FileProblem,
    FirstRows,
    ReceiptChecker,
    ReceiptLine,
    json_fields,
    read_instant,
    read_receipt_csv,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WARSAW = ZoneInfo("Europe/Warsaw")
EAST = WarehouseRef("V2FyZWhvdXNlOjE=", "east", "East")
WEST = WarehouseRef("V2FyZWhvdXNlOjI=", "west", "West")
HEADER = "sku,warehouse,quantity,unit_cost,currency,received_at,reference\r\n"
GOOD = {
    "sku": "MUG-1",
    "warehouse": "east",
    "quantity": "12",
    "unit_cost": "4.25",
    "currency": "USD",
    "received_at": "2026-11-20",
    "reference": "PO-17",
}


@pytest.fixture
def checker() -> ReceiptChecker:
    return ReceiptChecker([EAST, WEST], WARSAW, NOW)


def check(checker: ReceiptChecker, **changes: str) -> ReceiptLine | list[FieldError]:
    return checker.check({**GOOD, **changes})


def error_of(checker: ReceiptChecker, column: str, value: str) -> str:
    result = check(checker, **{column: value})
    assert isinstance(result, list), f"{column}={value!r} was accepted"
    (error,) = result
    assert error.column == column
    assert value.startswith(error.value.removesuffix("…"))  # a long value is shown shortened
    return error.message


def rows(text: str, checker: ReceiptChecker) -> list[CsvRow | FileProblem]:
    return list(read_receipt_csv(io.StringIO(text, newline=""), checker))


def errors_of(items: list[CsvRow | FileProblem]) -> list[InputProblem]:
    return [error for item in items for error in item.errors]


class TestReceiptChecker:
    def test_a_valid_receipt_is_resolved_to_the_warehouse_id_and_utc(self, checker: ReceiptChecker) -> None:
        line = check(checker)
        assert isinstance(line, ReceiptLine)
        assert (line.sku, line.warehouse_id, line.quantity, line.unit_cost) == ("MUG-1", EAST.id, 12, Decimal("4.25"))
        assert line.received_at == datetime(2026, 11, 19, 23, 0, tzinfo=UTC)  # midnight in Warsaw
        assert line.value == Decimal("51.00")

    def test_becomes_a_receipt_move_with_a_stable_id(self, checker: ReceiptChecker) -> None:
        line = check(checker)
        assert isinstance(line, ReceiptLine)
        move = line.move()
        assert move.kind is MoveKind.RECEIPT
        assert (move.id, move.warehouse, move.reference, move.currency) == (line.move_id, EAST.id, "PO-17", "USD")
        assert move.id.startswith("receipt:")
        assert check(checker) == line

    @pytest.mark.parametrize(
        "variant",
        [
            pytest.param({"unit_cost": "4.250"}, id="trailing-zero"),
            pytest.param({"warehouse": EAST.id}, id="warehouse-id"),
            pytest.param({"warehouse": "EAST"}, id="slug-case"),
            pytest.param({"currency": "usd"}, id="currency-case"),
            pytest.param({"received_at": "2026-11-20T00:00:00+01:00"}, id="same-instant"),
            pytest.param({"sku": " MUG-1 ", "reference": "PO-17 "}, id="spaces"),
        ],
    )
    def test_the_same_receipt_written_differently_has_the_same_id(
        self, checker: ReceiptChecker, variant: dict[str, str]
    ) -> None:
        first, second = check(checker), check(checker, **variant)
        assert isinstance(first, ReceiptLine)
        assert isinstance(second, ReceiptLine)
        assert first.move_id == second.move_id

    @pytest.mark.parametrize(
        "change",
        [{"quantity": "13"}, {"unit_cost": "4.26"}, {"reference": "PO-18"}, {"received_at": "2026-11-21"}],
    )
    def test_another_receipt_has_another_id(self, checker: ReceiptChecker, change: dict[str, str]) -> None:
        first, second = check(checker), check(checker, **change)
        assert isinstance(first, ReceiptLine)
        assert isinstance(second, ReceiptLine)
        assert first.move_id != second.move_id

    @pytest.mark.parametrize(
        ("column", "value", "message"),
        [
            pytest.param("sku", "", "is required", id="sku-missing"),
            pytest.param("sku", "x" * 256, "longer than 255", id="sku-long"),
            pytest.param("warehouse", "", "is required", id="warehouse-missing"),
            pytest.param("warehouse", "north", "not a warehouse of this store", id="warehouse-unknown"),
            pytest.param("quantity", "", "is required", id="quantity-missing"),
            pytest.param("quantity", "0", "at least 1", id="quantity-zero"),
            pytest.param("quantity", "-3", "must be positive", id="quantity-negative"),
            pytest.param("quantity", "2.5", "whole number of units", id="quantity-fraction"),
            pytest.param("quantity", "1,000", "without thousands separators", id="quantity-thousands"),
            pytest.param("quantity", "ten", "not a whole number", id="quantity-text"),
            pytest.param("quantity", "1000000001", "more than 1,000,000,000", id="quantity-huge"),
            pytest.param("unit_cost", "", "is required", id="cost-missing"),
            pytest.param("unit_cost", "-1", "must not be negative", id="cost-negative"),
            pytest.param("unit_cost", "12,50", "dot as the decimal separator", id="cost-decimal-comma"),
            pytest.param("unit_cost", "1,234.50", "without thousands separators", id="cost-thousands"),
            pytest.param("unit_cost", "$12", "not a number", id="cost-symbol"),
            pytest.param("unit_cost", "1e3", "not a number", id="cost-exponent"),
            pytest.param("unit_cost", "NaN", "not a number", id="cost-nan"),
            pytest.param("unit_cost", "1.0000001", "more than 6 decimal places", id="cost-places"),
            pytest.param("unit_cost", "100000000000000", "too large", id="cost-huge"),
            pytest.param("currency", "", "is required", id="currency-missing"),
            pytest.param("currency", "US", "ISO 4217", id="currency-short"),
            pytest.param("currency", "XYZ", "ISO 4217", id="currency-unknown"),
            pytest.param("received_at", "", "is required", id="date-missing"),
            pytest.param("received_at", "20/11/2026", "ISO 8601", id="date-format"),
            pytest.param("received_at", "2026-02-30", "ISO 8601", id="date-impossible"),
            pytest.param("received_at", "1969-12-31", "before 1970", id="date-old"),
            pytest.param("received_at", "2026-11-28", "in the future", id="date-future"),
            pytest.param("reference", "x" * 256, "longer than 255", id="reference-long"),
        ],
    )
    def test_refuses_a_bad_value_with_its_column_and_reason(
        self, checker: ReceiptChecker, column: str, value: str, message: str
    ) -> None:
        assert message in error_of(checker, column, value)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param("2026-11-20T14:30", datetime(2026, 11, 20, 13, 30, tzinfo=UTC), id="naive-is-store-time"),
            pytest.param("2026-11-20 14:30:05", datetime(2026, 11, 20, 13, 30, 5, tzinfo=UTC), id="space"),
            pytest.param("2026-11-20T14:30:00+02:00", datetime(2026, 11, 20, 12, 30, tzinfo=UTC), id="offset"),
            pytest.param("2026-11-20T14:30:00Z", datetime(2026, 11, 20, 14, 30, tzinfo=UTC), id="zulu"),
            pytest.param("2026-07-01", datetime(2026, 6, 30, 22, 0, tzinfo=UTC), id="summer-date"),
        ],
    )
    def test_reads_dates_and_times_in_the_store_zone_unless_they_carry_an_offset(
        self, checker: ReceiptChecker, value: str, expected: datetime
    ) -> None:
        line = check(checker, received_at=value)
        assert isinstance(line, ReceiptLine)
        assert line.received_at == expected
        assert line.received_at.tzinfo is UTC

    def test_a_clock_a_little_ahead_is_tolerated(self, checker: ReceiptChecker) -> None:
        ahead = (NOW + timedelta(minutes=10)).isoformat()
        assert isinstance(check(checker, received_at=ahead), ReceiptLine)

    @pytest.mark.parametrize("cost", ["0", ".5", "5.", "0.000001", "99999999999999.999999"])
    def test_accepts_plain_costs_zero_included(self, checker: ReceiptChecker, cost: str) -> None:
        line = check(checker, unit_cost=cost)
        assert isinstance(line, ReceiptLine)
        assert line.unit_cost == Decimal(cost)

    def test_reports_every_bad_column_of_a_receipt_at_once(self, checker: ReceiptChecker) -> None:
        result = check(checker, warehouse="north", quantity="0", unit_cost="x", currency="", received_at="soon")
        assert isinstance(result, list)
        assert [e.column for e in result] == ["warehouse", "quantity", "unit_cost", "currency", "received_at"]

    def test_names_some_warehouses_when_one_is_unknown(self, checker: ReceiptChecker) -> None:
        assert "(slugs: east, west)" in error_of(checker, "warehouse", "north")
        assert "no warehouses" in ReceiptChecker([], WARSAW, NOW).check(GOOD)[0].message  # type: ignore[index]

    def test_reference_is_optional(self, checker: ReceiptChecker) -> None:
        line = checker.check({key: value for key, value in GOOD.items() if key != "reference"})
        assert isinstance(line, ReceiptLine)
        assert line.reference == ""


class TestReadInstant:
    def test_reads_a_typed_time_like_received_at(self) -> None:
        assert read_instant(" 2026-11-20T14:30 ", WARSAW, NOW) == datetime(2026, 11, 20, 13, 30, tzinfo=UTC)
        assert "in the future" in str(read_instant("2027-01-01", WARSAW, NOW))


class TestFirstRows:
    def test_names_the_first_row_of_every_fingerprint_across_runs_like_a_dict(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(FirstRows, "RUN", 8)  # many runs, merged, from a few hundred rows
        monkeypatch.setattr(FirstRows, "BITS", 64)  # a bitmap that says "maybe seen" almost always
        rng = random.Random(5)
        fingerprints = [rng.randrange(-(2**63), 2**63) for _ in range(300)]
        seen = FirstRows()
        expected: dict[int, int] = {}
        for row in range(2_000):
            fingerprint = rng.choice(fingerprints) if row % 3 else rng.randrange(-(2**63), 2**63)
            assert seen.first(fingerprint, row) == expected.setdefault(fingerprint, row)


class TestBatchChecks:
    def test_names_the_earlier_item_a_duplicate_repeats(self, checker: ReceiptChecker) -> None:
        line = check(checker)
        assert isinstance(line, ReceiptLine)
        batch = BatchChecks("item")
        assert batch.admit(line, 0) is None
        problem = batch.admit(line, 3)
        assert problem is not None
        assert (problem.row, problem.column) == (3, None)
        assert "repeats item 0" in problem.message


class TestReadReceiptCsv:
    def test_reads_rows_with_their_line_numbers(self, checker: ReceiptChecker) -> None:
        text = HEADER + "MUG-1,east,12,4.25,USD,2026-11-20,PO-17\r\nMUG-2,west,1,3,EUR,2026-11-21,PO-18\r\n"
        items = rows(text, checker)
        assert [item.row for item in items if isinstance(item, CsvRow)] == [2, 3]
        assert all(isinstance(item, CsvRow) and item.line is not None for item in items)

    def test_reads_a_byte_order_mark_crlf_blank_lines_and_quoted_fields(self, checker: ReceiptChecker) -> None:
        text = (
            "\ufeff" + HEADER + "\r\n"
            '"MUG, large",east,12,"4.25",USD,2026-11-20,"PO ""17"", dock 2"\r\n'
            ",,,,,,\r\n"
            'MUG-2,east,1,3,USD,2026-11-20,"two\nlines"\r\n'
            "MUG-3,east,1,3,USD,2026-11-20,PO-19\r\n"
        )
        items = rows(text, checker)
        assert errors_of(items) == []
        lines = [item.line for item in items if isinstance(item, CsvRow) and item.line is not None]
        assert [line.sku for line in lines] == ["MUG, large", "MUG-2", "MUG-3"]
        assert lines[0].reference == 'PO "17", dock 2'
        assert lines[1].reference == "two\nlines"
        assert [item.row for item in items if isinstance(item, CsvRow)] == [3, 5, 7]

    def test_reads_a_byte_order_mark_left_in_the_text(self, checker: ReceiptChecker) -> None:
        assert errors_of(rows("\ufeff" + HEADER + "MUG-1,east,1,1,USD,2026-11-20,\n", checker)) == []

    def test_takes_the_columns_in_any_order_and_case_without_reference(self, checker: ReceiptChecker) -> None:
        text = "Currency, SKU ,Quantity,Unit_Cost,Warehouse,Received_At\nUSD,MUG-1,2,3,east,2026-11-20\n"
        (item,) = rows(text, checker)
        assert isinstance(item, CsvRow)
        assert item.line is not None
        assert (item.line.sku, item.line.currency, item.line.reference) == ("MUG-1", "USD", "")

    def test_lists_every_bad_row_and_column(self, checker: ReceiptChecker) -> None:
        text = HEADER + (
            "MUG-1,east,12,4.25,USD,2026-11-20,PO-17\n"
            'MUG-2,north,12,"12,50",USD,2026-11-20,PO-17\n'
            "MUG-3,east,zero,4,USD,20/11/2026,PO-17\n"
        )
        found = [(e.row, e.column) for e in errors_of(rows(text, checker))]
        assert found == [(3, "warehouse"), (3, "unit_cost"), (4, "quantity"), (4, "received_at")]

    def test_error_text_names_row_column_value_and_problem(self, checker: ReceiptChecker) -> None:
        (error,) = errors_of(rows(HEADER + 'MUG-1,east,12,"12,50",USD,2026-11-20,\n', checker))
        assert str(error) == "row 2, unit_cost: '12,50' must use a dot as the decimal separator (12.50, not 12,50)"

    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            pytest.param("sku,warehouse,quantity,unit_cost,currency", ["received_at"], id="missing-column"),
            pytest.param("sku,warehouse,quantity,unit_cost,currency,received_at,price", ["price"], id="unknown-column"),
            pytest.param("sku,sku,warehouse,quantity,unit_cost,currency,received_at", ["sku"], id="duplicate-column"),
            pytest.param("MUG-1,east,12,4.25,USD,2026-11-20,PO-17", None, id="no-header"),
        ],
    )
    def test_a_bad_header_stops_the_check_and_says_why(
        self, checker: ReceiptChecker, header: str, expected: list[str] | None
    ) -> None:
        items = rows(header + "\nMUG-1,east,12,4.25,USD,2026-11-20,PO-17\n", checker)
        (problem,) = items
        assert isinstance(problem, FileProblem)
        assert all(error.row == 1 for error in problem.errors)
        if expected is not None:
            assert expected[0] in " ".join(f"{e.column} {e.value}" for e in problem.errors)

    def test_a_header_separated_by_semicolons_gets_its_own_advice(self, checker: ReceiptChecker) -> None:
        (problem,) = rows(HEADER.replace(",", ";"), checker)
        assert isinstance(problem, FileProblem)
        assert "separated by ';'" in problem.errors[0].message

    def test_an_empty_file_is_refused(self, checker: ReceiptChecker) -> None:
        (problem,) = rows("", checker)
        assert isinstance(problem, FileProblem)
        assert "empty" in problem.errors[0].message

    def test_a_row_with_another_number_of_values_is_refused(self, checker: ReceiptChecker) -> None:
        text = HEADER + "MUG-1,east,12,4.25,USD\nMUG-1,east,12,4.25,USD,2026-11-20,PO-17,extra\n"
        errors = errors_of(rows(text, checker))
        assert [(e.row, e.message) for e in errors] == [
            (2, "has 5 values but the header has 7 columns"),
            (3, "has 8 values but the header has 7 columns"),
        ]

    def test_a_missing_reference_or_trailing_empty_values_are_fine(self, checker: ReceiptChecker) -> None:
        text = HEADER + "MUG-1,east,12,4.25,USD,2026-11-20\nMUG-2,east,12,4.25,USD,2026-11-20,PO-1,,\n"
        assert errors_of(rows(text, checker)) == []

    def test_a_repeated_row_names_the_row_it_repeats(self, checker: ReceiptChecker) -> None:
        row = "MUG-1,east,12,4.25,USD,2026-11-20,PO-17\n"
        (error,) = errors_of(rows(HEADER + row + "MUG-1,east,12,4.250,usd,2026-11-20,PO-17\n", checker))
        assert error.row == 3
        assert error.message.startswith("repeats row 2")

    def test_one_sku_in_one_warehouse_in_two_currencies_is_refused(self, checker: ReceiptChecker) -> None:
        text = HEADER + "MUG-1,east,1,4,USD,2026-11-20,PO-1\nMUG-1,west,1,4,EUR,2026-11-20,PO-2\n"
        assert errors_of(rows(text, checker)) == []
        (error,) = errors_of(rows(text + "MUG-1,east,1,4,EUR,2026-11-20,PO-3\n", checker))
        assert (error.row, error.column, error.value) == (4, "currency", "EUR")
        assert "differs from USD on row 2" in error.message

    def test_broken_quoting_stops_the_check_at_its_row(self, checker: ReceiptChecker) -> None:
        text = HEADER + "MUG-1,east,1,4,USD,2026-11-20,PO-1\n" + 'MUG-2,east,1,4,USD,2026-11-20,"PO"2\n'
        items = rows(text, checker)
        assert isinstance(items[-1], FileProblem)
        assert items[-1].errors[0].row == 3
        assert "cannot be read as CSV" in items[-1].errors[0].message

    def test_a_file_that_is_not_utf8_is_refused_with_advice(self, checker: ReceiptChecker) -> None:
        raw = (HEADER + "CAF\xc9,east,1,4,USD,2026-11-20,PO-1\n").encode("latin-1")
        text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
        items = list(read_receipt_csv(text, checker))
        assert isinstance(items[-1], FileProblem)
        assert "not UTF-8" in items[-1].errors[0].message

    def test_a_second_pass_leaves_out_the_checks_across_rows(self, checker: ReceiptChecker) -> None:
        row = "MUG-1,east,12,4.25,USD,2026-11-20,PO-17\n"
        items = list(read_receipt_csv(io.StringIO(HEADER + row + row, newline=""), checker, whole_file=False))
        assert errors_of(items) == []

    def test_streams_rows_as_it_reads_them(self, checker: ReceiptChecker) -> None:
        """An endless source: the first rows come out without the rest being read."""
        consumed = 0

        def endless() -> Iterator[str]:
            nonlocal consumed
            yield HEADER
            for number in itertools.count():
                consumed += 1
                yield f"SKU-{number},east,1,2.50,USD,2026-11-20,PO-{number}\n"

        first = list(itertools.islice(read_receipt_csv(endless(), checker), 1000))
        assert len(first) == 1000
        assert all(isinstance(item, CsvRow) and item.line is not None for item in first)
        assert consumed <= 1001


class TestJsonFields:
    def test_numbers_arrive_as_written_never_through_a_float(self) -> None:
        fields = json_fields({**GOOD, "quantity": 12, "unit_cost": Decimal("0.1")})
        assert fields == {**GOOD, "quantity": "12", "unit_cost": "0.1"}

    def test_missing_fields_are_left_for_the_checker(self) -> None:
        assert json_fields({"sku": "MUG-1"}) == {"sku": "MUG-1"}

    @pytest.mark.parametrize(
        ("item", "column"),
        [
            pytest.param({**GOOD, "quantity": True}, "quantity", id="bool"),
            pytest.param({**GOOD, "unit_cost": [1]}, "unit_cost", id="list"),
            pytest.param({**GOOD, "colour": "red"}, "colour", id="unknown-field"),
            pytest.param(["MUG-1"], "", id="not-an-object"),
        ],
    )
    def test_refuses_what_is_not_a_receipt_field(self, item: object, column: str) -> None:
        result = json_fields(item)
        assert isinstance(result, list)
        assert result[0].column == column
