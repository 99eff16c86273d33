"""Moves as a purchasing system sends them: every kind's fields checked, then the items checked
against the ledger and turned into moves with stable ids."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.domain.inventory import Move, MoveKind, SplitBasis
from app.services.input_problems import InputProblem
from app.services.move_import import (
    Adjustment,
    Charge,
    LandedCost,
    LedgerFacts,
    MoveChecker,
    MoveRequest,
    PlannedItem,
    SupplierReturn,
    Transfer,
    plan_moves,
    wanted,
)
from app.services.ports import PoolKey, WarehouseRef
from app.services.receipt_import import FieldError

D = Decimal
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WARSAW = ZoneInfo("Europe/Warsaw")
EAST = WarehouseRef("V2FyZWhvdXNlOjE=", "east", "East")
WEST = WarehouseRef("V2FyZWhvdXNlOjI=", "west", "West")
GOOD: dict[str, dict[str, object]] = {
    "adjustment": {
        "kind": "adjustment",
        "sku": "MUG-1",
        "warehouse": "east",
        "quantity": -2,
        "at": "2026-11-20T10:00:00Z",
        "reason": "broken in the stockroom",
    },
    "transfer": {
        "kind": "transfer",
        "sku": "MUG-1",
        "from_warehouse": "east",
        "to_warehouse": "west",
        "quantity": 4,
        "at": "2026-11-20T10:00:00Z",
        "reference": "TR-1",
    },
    "return_to_supplier": {
        "kind": "return_to_supplier",
        "receipt": "PO-1",
        "sku": "MUG-1",
        "warehouse": "east",
        "quantity": 3,
        "unit_credit": D("4.00"),
        "at": "2026-11-20T10:00:00Z",
    },
    "landed_cost": {
        "kind": "landed_cost",
        "amount": D("30.00"),
        "currency": "USD",
        "basis": "weight",
        "receipts": [{"receipt": "PO-1", "weight": 2}, {"receipt": "receipt:tea", "weight": D("1.5")}],
        "at": "2026-11-21",
        "reference": "FREIGHT-9",
    },
}

# The ledger: MUG-1 in east (USD, two receipts under PO-1 and PO-2), TEA-1 in east (USD), SOAP-1 in
# west (EUR), and PO-7 naming receipts of two SKUs.
MUG_PO1 = Move(
    id="receipt:mug1",
    kind=MoveKind.RECEIPT,
    sku="MUG-1",
    warehouse=EAST.id,
    at=datetime(2026, 11, 10, tzinfo=UTC),
    quantity=10,
    currency="USD",
    unit_cost=D("4.00"),
    reference="PO-1",
)
MUG_PO2 = Move(
    id="receipt:mug2",
    kind=MoveKind.RECEIPT,
    sku="MUG-1",
    warehouse=EAST.id,
    at=datetime(2026, 11, 12, tzinfo=UTC),
    quantity=20,
    currency="USD",
    unit_cost=D("5.00"),
    reference="PO-2",
)
TEA = Move(
    id="receipt:tea",
    kind=MoveKind.RECEIPT,
    sku="TEA-1",
    warehouse=EAST.id,
    at=datetime(2026, 11, 10, tzinfo=UTC),
    quantity=30,
    currency="USD",
    unit_cost=D("0"),
    reference="PO-7",
)
SOAP = Move(
    id="receipt:soap",
    kind=MoveKind.RECEIPT,
    sku="SOAP-1",
    warehouse=WEST.id,
    at=datetime(2026, 11, 10, tzinfo=UTC),
    quantity=5,
    currency="EUR",
    unit_cost=D("2.00"),
    reference="PO-7",
)
CURRENCIES: dict[PoolKey, str] = {
    ("MUG-1", EAST.id): "USD",
    ("TEA-1", EAST.id): "USD",
    ("SOAP-1", WEST.id): "EUR",
}
FACTS = LedgerFacts(CURRENCIES, [MUG_PO1, MUG_PO2, TEA, SOAP])


@pytest.fixture
def checker() -> MoveChecker:
    return MoveChecker([EAST, WEST], WARSAW, NOW)


def item(kind: str, **changes: object) -> dict[str, object]:
    """A good item of ``kind`` with ``changes``; a change to ``None`` leaves the field out."""
    merged = {**GOOD[kind], **changes}
    return {name: value for name, value in merged.items() if value is not None}


def request(checker: MoveChecker, kind: str, **changes: object) -> MoveRequest:
    result = checker.check(item(kind, **changes))
    assert not isinstance(result, list), result
    return result


def errors_of(checker: MoveChecker, raw: object) -> list[FieldError]:
    result = checker.check(raw)
    assert isinstance(result, list), f"{raw!r} was accepted"
    return result


def plan(
    checker: MoveChecker, *items: Mapping[str, object], facts: LedgerFacts = FACTS
) -> tuple[list[PlannedItem], list[InputProblem]]:
    requests: list[tuple[int, MoveRequest]] = []
    for index, raw in enumerate(items):
        checked = checker.check(raw)
        assert not isinstance(checked, list), checked
        requests.append((index, checked))
    return plan_moves(requests, facts)


def planned(checker: MoveChecker, *items: Mapping[str, object]) -> list[PlannedItem]:
    result, errors = plan(checker, *items)
    assert errors == []
    return result


def refusals(checker: MoveChecker, *items: Mapping[str, object]) -> list[tuple[int | None, str | None, str]]:
    _, errors = plan(checker, *items)
    return [(error.row, error.column, error.message) for error in errors]


class TestMoveChecker:
    def test_reads_an_adjustment(self, checker: MoveChecker) -> None:
        assert request(checker, "adjustment", quantity=3, unit_cost="4.50") == Adjustment(
            "MUG-1", EAST.id, 3, D("4.50"), datetime(2026, 11, 20, 10, tzinfo=UTC), "broken in the stockroom"
        )
        write_off = request(checker, "adjustment")
        assert isinstance(write_off, Adjustment)
        assert (write_off.quantity, write_off.unit_cost) == (-2, None)

    def test_reads_a_transfer(self, checker: MoveChecker) -> None:
        assert request(checker, "transfer") == Transfer(
            "MUG-1", EAST.id, WEST.id, 4, datetime(2026, 11, 20, 10, tzinfo=UTC), "TR-1"
        )

    def test_reads_a_return_to_the_supplier(self, checker: MoveChecker) -> None:
        assert request(checker, "return_to_supplier", unit_credit=None) == SupplierReturn(
            "PO-1", "MUG-1", EAST.id, 3, None, datetime(2026, 11, 20, 10, tzinfo=UTC), ""
        )

    def test_reads_a_landed_cost_dated_in_the_store_zone(self, checker: MoveChecker) -> None:
        assert request(checker, "landed_cost") == LandedCost(
            D("30.00"),
            "USD",
            SplitBasis.WEIGHT,
            (Charge("PO-1", D(2)), Charge("receipt:tea", D("1.5"))),
            datetime(2026, 11, 20, 23, tzinfo=UTC),  # midnight in Warsaw
            "FREIGHT-9",
        )

    def test_a_landed_cost_credit_is_negative(self, checker: MoveChecker) -> None:
        credit = request(checker, "landed_cost", amount="-12.5", basis="quantity", receipts=[{"receipt": "PO-1"}])
        assert isinstance(credit, LandedCost)
        assert credit.amount == D("-12.5")

    @pytest.mark.parametrize(
        ("kind", "field", "value", "message"),
        [
            pytest.param("adjustment", "sku", "", "is required", id="adjustment-sku-missing"),
            pytest.param("adjustment", "sku", "x" * 256, "longer than 255", id="adjustment-sku-long"),
            pytest.param("adjustment", "warehouse", "north", "not a warehouse of this store", id="warehouse-unknown"),
            pytest.param("adjustment", "warehouse", None, "is required", id="warehouse-missing"),
            pytest.param("adjustment", "quantity", 0, "must not be 0", id="adjustment-zero"),
            pytest.param("adjustment", "quantity", "-0", "must not be 0", id="adjustment-minus-zero"),
            pytest.param("adjustment", "quantity", D("-2.5"), "whole number of units", id="adjustment-fraction"),
            pytest.param("adjustment", "quantity", "-1,000", "thousands separators", id="adjustment-thousands"),
            pytest.param("adjustment", "quantity", -1_000_000_001, "more than 1,000,000,000", id="adjustment-huge"),
            pytest.param("adjustment", "quantity", True, "a string or a number", id="quantity-boolean"),
            pytest.param("adjustment", "quantity", [1], "a string or a number", id="quantity-list"),
            pytest.param("adjustment", "unit_cost", "4.5", "for a count gain only", id="cost-on-a-write-off"),
            pytest.param("adjustment", "reason", " ", "is required", id="reason-blank"),
            pytest.param("adjustment", "at", None, "is required", id="at-missing"),
            pytest.param("adjustment", "at", "20/11/2026", "ISO 8601", id="at-format"),
            pytest.param("adjustment", "at", "1969-12-31", "before 1970", id="at-old"),
            pytest.param("adjustment", "at", "2026-11-28", "in the future: book a move once", id="at-future"),
            pytest.param("transfer", "to_warehouse", "EAST", "the warehouse the goods leave from", id="same-warehouse"),
            pytest.param("transfer", "from_warehouse", "", "is required", id="from-missing"),
            pytest.param("transfer", "quantity", -4, "must be positive", id="transfer-negative"),
            pytest.param("transfer", "quantity", 0, "at least 1", id="transfer-zero"),
            pytest.param("transfer", "reference", "x" * 256, "longer than 255", id="reference-long"),
            pytest.param("return_to_supplier", "receipt", "", "is required", id="receipt-missing"),
            pytest.param(
                "return_to_supplier", "unit_credit", "4,00", "dot as the decimal separator", id="credit-comma"
            ),
            pytest.param("return_to_supplier", "unit_credit", "-4", "must not be negative", id="credit-negative"),
            pytest.param("return_to_supplier", "quantity", "three", "not a whole number", id="return-text"),
            pytest.param("landed_cost", "amount", 0, "must not be 0", id="amount-zero"),
            pytest.param("landed_cost", "amount", None, "is required", id="amount-missing"),
            pytest.param("landed_cost", "amount", D("30.001"), "more decimal places than USD has (2)", id="cents"),
            pytest.param("landed_cost", "amount", "1.0000001", "more than 6 decimal places", id="amount-places"),
            pytest.param("landed_cost", "amount", "$30", "not a number", id="amount-symbol"),
            pytest.param("landed_cost", "currency", "XYZ", "ISO 4217", id="currency-unknown"),
            pytest.param("landed_cost", "currency", None, "is required", id="currency-missing"),
            pytest.param("landed_cost", "basis", "volume", "one of quantity, value, weight", id="basis-unknown"),
            pytest.param("landed_cost", "receipts", None, "is required", id="receipts-missing"),
            pytest.param("landed_cost", "receipts", "PO-1", "must be a list", id="receipts-not-a-list"),
            pytest.param("landed_cost", "receipts", [], "between 1 and 1,000", id="receipts-empty"),
        ],
    )
    def test_refuses_a_bad_field_with_its_name_and_reason(
        self, checker: MoveChecker, kind: str, field: str, value: object, message: str
    ) -> None:
        (error,) = errors_of(checker, item(kind, **{field: value}))
        assert error.column == field
        assert message in error.message

    def test_a_landed_cost_in_yen_has_no_cents(self, checker: MoveChecker) -> None:
        (error,) = errors_of(checker, item("landed_cost", amount="1500.5", currency="jpy"))
        assert (error.column, error.message) == ("amount", "has more decimal places than JPY has (0)")

    @pytest.mark.parametrize(
        ("basis", "receipts", "field", "message"),
        [
            pytest.param("weight", [{"receipt": "PO-1"}], "receipts[0].weight", "required when the basis is weight"),
            pytest.param("quantity", [{"receipt": "PO-1", "weight": 2}], "receipts[0].weight", "only when the basis"),
            pytest.param("weight", [{"receipt": "PO-1", "weight": 0}], "receipts[0].weight", "more than 0"),
            pytest.param("weight", [{"receipt": "PO-1", "weight": "2kg"}], "receipts[0].weight", "not a number"),
            pytest.param("weight", [{"weight": 2}], "receipts[0].receipt", "is required", id="receipt-missing"),
            pytest.param("quantity", [{"receipt": "PO-1", "sku": "MUG-1"}], "receipts[0].sku", "not a field"),
            pytest.param("quantity", ["PO-1"], "receipts[0]", "must be an object", id="not-an-object"),
        ],
    )
    def test_refuses_a_bad_charged_receipt(
        self, checker: MoveChecker, basis: str, receipts: list[object], field: str, message: str
    ) -> None:
        (error,) = errors_of(checker, item("landed_cost", basis=basis, receipts=receipts))
        assert error.column == field
        assert message in error.message

    @pytest.mark.parametrize(
        ("raw", "field", "message"),
        [
            pytest.param(["adjustment"], "", "must be an object", id="not-an-object"),
            pytest.param({"sku": "MUG-1"}, "kind", "is required", id="kind-missing"),
            pytest.param({"kind": "receipt"}, "kind", "must be one of adjustment, transfer", id="kind-unknown"),
            pytest.param({**GOOD["transfer"], "colour": "red"}, "colour", "not a field of a transfer move"),
        ],
    )
    def test_refuses_an_item_that_is_not_a_move(
        self, checker: MoveChecker, raw: object, field: str, message: str
    ) -> None:
        (error,) = errors_of(checker, raw)
        assert error.column == field
        assert message in error.message

    def test_reports_every_bad_field_of_an_item_at_once(self, checker: MoveChecker) -> None:
        bad = item("transfer", from_warehouse="north", to_warehouse="", quantity="2.5", at="soon", colour="red")
        assert [e.column for e in errors_of(checker, bad)] == [
            "colour",
            "from_warehouse",
            "to_warehouse",
            "quantity",
            "at",
        ]

    def test_shows_the_bad_value_as_sent(self, checker: MoveChecker) -> None:
        (error,) = errors_of(checker, item("landed_cost", amount=D("30.001")))
        assert error.value == "30.001"


class TestPlanMoves:
    def test_a_count_gain_and_a_write_off_are_adjustments_in_the_pool_s_currency(self, checker: MoveChecker) -> None:
        gain, loss = planned(
            checker, item("adjustment", quantity=3, unit_cost="4.5"), item("adjustment", reason="shrinkage")
        )
        (gain_move,), (loss_move,) = gain.moves, loss.moves
        assert (gain_move.kind, gain_move.quantity, gain_move.unit_cost) == (MoveKind.ADJUSTMENT_IN, 3, D("4.5"))
        assert (loss_move.kind, loss_move.quantity, loss_move.unit_cost) == (MoveKind.ADJUSTMENT_OUT, 2, None)
        assert (loss_move.currency, loss_move.reference, loss_move.warehouse) == ("USD", "shrinkage", EAST.id)
        assert gain_move.id.startswith("adjustment:")

    def test_an_adjustment_needs_a_pool_with_a_cost(self, checker: MoveChecker) -> None:
        assert refusals(checker, item("adjustment", sku="LAMP-1")) == [
            (0, "sku", "has never had a cost in this warehouse: book a receipt of it before adjusting its stock")
        ]

    def test_a_transfer_is_an_out_leg_now_and_an_in_leg_named_after_it(self, checker: MoveChecker) -> None:
        (transfer,) = planned(checker, item("transfer"))
        (out_leg,) = transfer.moves
        assert (out_leg.kind, out_leg.warehouse, out_leg.counterpart_warehouse) == (
            MoveKind.TRANSFER_OUT,
            EAST.id,
            WEST.id,
        )
        assert (out_leg.quantity, out_leg.currency, out_leg.reference) == (4, "USD", "TR-1")
        assert transfer.in_leg_id == f"{out_leg.id}:in"
        assert transfer.ids == (out_leg.id, f"{out_leg.id}:in")

    def test_a_transfer_needs_a_source_with_a_cost(self, checker: MoveChecker) -> None:
        ((index, field, message),) = refusals(checker, item("transfer", sku="LAMP-1"))
        assert (index, field) == (0, "from_warehouse")
        assert "there is no cost to transfer" in message

    def test_a_transfer_between_pools_of_different_currencies_is_refused(self, checker: MoveChecker) -> None:
        facts = LedgerFacts({**CURRENCIES, ("MUG-1", WEST.id): "EUR"}, [])
        _, errors = plan(checker, item("transfer"), facts=facts)
        assert [(e.row, e.column) for e in errors] == [(0, "to_warehouse")]
        assert "values SKU MUG-1 in EUR and the goods leave valued in USD" in errors[0].message

    def test_two_transfers_cannot_open_one_pool_in_two_currencies(self, checker: MoveChecker) -> None:
        facts = LedgerFacts({**CURRENCIES, ("MUG-1", "V2FyZWhvdXNlOjM="): "EUR"}, [])
        north = MoveChecker([EAST, WEST, WarehouseRef("V2FyZWhvdXNlOjM=", "north", "North")], WARSAW, NOW)
        _, errors = plan(
            north, item("transfer"), item("transfer", from_warehouse="north", reference="TR-2"), facts=facts
        )
        assert [(e.row, e.column) for e in errors] == [(1, "to_warehouse")]

    def test_goods_may_go_on_from_a_warehouse_a_transfer_of_the_request_brings_them_to(
        self, checker: MoveChecker
    ) -> None:
        north = MoveChecker([EAST, WEST, WarehouseRef("V2FyZWhvdXNlOjM=", "north", "North")], WARSAW, NOW)
        onwards = item("transfer", from_warehouse="west", to_warehouse="north", reference="TR-2")
        counted = item("adjustment", warehouse="north", quantity=1)
        first, second, third = planned(north, counted, onwards, item("transfer"))
        assert [move.currency for move in (*first.moves, *second.moves, *third.moves)] == ["USD"] * 3

    def test_a_return_to_the_supplier_names_its_receipt_by_id_or_by_reference(self, checker: MoveChecker) -> None:
        (by_reference,) = planned(checker, item("return_to_supplier"))
        (by_id,) = planned(checker, item("return_to_supplier", receipt="receipt:mug1"))
        (move,) = by_reference.moves
        assert (move.kind, move.receipt_id, move.unit_cost, move.currency) == (
            MoveKind.RETURN_TO_SUPPLIER,
            "receipt:mug1",
            D("4.00"),
            "USD",
        )
        assert by_id.moves == by_reference.moves  # one return, one id, however the receipt is named

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            pytest.param({"receipt": "PO-9"}, "receipt", "neither the id nor the reference of a receipt of SKU MUG-1"),
            pytest.param({"receipt": "PO-7"}, "receipt", "neither the id", id="reference-of-another-sku"),
            pytest.param({"receipt": "receipt:tea"}, "receipt", "received SKU TEA-1 into warehouse"),
            pytest.param({"quantity": 11}, "quantity", "more than the 10 units receipt PO-1 brought in"),
            pytest.param({"at": "2026-11-09"}, "at", "is before receipt PO-1 came in (2026-11-10T00:00:00+00:00)"),
        ],
    )
    def test_a_return_to_the_supplier_must_fit_its_receipt(
        self, checker: MoveChecker, changes: dict[str, object], field: str, message: str
    ) -> None:
        ((index, column, text),) = refusals(checker, item("return_to_supplier", **changes))
        assert (index, column) == (0, field)
        assert message in text

    def test_a_reference_naming_several_receipts_of_the_pool_is_ambiguous(self, checker: MoveChecker) -> None:
        again = dataclasses.replace(MUG_PO2, id="receipt:mug3", reference="PO-1")
        _, errors = plan(checker, item("return_to_supplier"), facts=LedgerFacts(CURRENCIES, [MUG_PO1, again]))
        assert [e.message for e in errors] == [
            "is the reference of 2 receipts of SKU MUG-1 in this warehouse: name one by its id "
            "(receipt:mug1, receipt:mug3)"
        ]

    def test_a_landed_cost_is_split_over_its_receipts_into_one_move_each(self, checker: MoveChecker) -> None:
        (landed,) = planned(
            checker,
            item("landed_cost", basis="quantity", receipts=[{"receipt": "PO-1"}, {"receipt": "receipt:mug2"}]),
        )
        voucher = landed.ids[0].removesuffix(":1")
        assert voucher.startswith("landed_cost:")
        assert [(m.id, m.kind, m.receipt_id, m.quantity, m.amount, m.reference) for m in landed.moves] == [
            (f"{voucher}:1", MoveKind.LANDED_COST, "receipt:mug1", 10, D("10.00"), "FREIGHT-9"),
            (f"{voucher}:2", MoveKind.LANDED_COST, "receipt:mug2", 20, D("20.00"), "FREIGHT-9"),
        ]

    @pytest.mark.parametrize(
        ("basis", "receipts", "amounts"),
        [
            pytest.param("value", [{"receipt": "PO-1"}, {"receipt": "PO-2"}], ["8.57", "21.43"], id="by-value"),
            pytest.param("weight", [{"receipt": "PO-1", "weight": 2}, {"receipt": "PO-2", "weight": 1}], ["20", "10"]),
        ],
    )
    def test_a_landed_cost_is_split_by_booked_value_or_by_weight(
        self, checker: MoveChecker, basis: str, receipts: list[object], amounts: list[str]
    ) -> None:
        (landed,) = planned(checker, item("landed_cost", basis=basis, receipts=receipts))
        assert [move.amount for move in landed.moves] == [D(amount) for amount in amounts]

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            pytest.param(
                {"receipts": [{"receipt": "PO-9"}]},
                "receipts[0].receipt",
                "is neither the id nor the reference of a receipt",
                id="unknown-receipt",
            ),
            pytest.param(
                {"receipts": [{"receipt": "receipt:soap"}]},
                "currency",
                "differs from EUR, the currency receipt receipt:soap is valued in",
                id="other-currency",
            ),
            pytest.param(
                {"receipts": [{"receipt": "PO-1"}, {"receipt": "receipt:mug1"}]},
                "receipts[1].receipt",
                "names the same receipt as receipts[0]",
                id="same-receipt-twice",
            ),
            pytest.param(
                {"receipts": [{"receipt": "PO-7"}]},
                "receipts[0].receipt",
                "is the reference of 2 receipts: name one by its id (receipt:soap, receipt:tea)",
                id="ambiguous",
            ),
            pytest.param(
                {"at": "2026-11-11", "receipts": [{"receipt": "PO-2"}]},
                "at",
                "is before receipt PO-2 came in",
                id="before-the-receipt",
            ),
            pytest.param(
                {"basis": "value", "receipts": [{"receipt": "receipt:tea"}]},
                "basis",
                "the receipts have no value to split by",
                id="nothing-to-split-by",
            ),
        ],
    )
    def test_a_landed_cost_must_fit_its_receipts(
        self, checker: MoveChecker, changes: dict[str, object], field: str, message: str
    ) -> None:
        ((index, column, text),) = refusals(checker, item("landed_cost", **{"basis": "quantity", **changes}))
        assert (index, column) == (0, field)
        assert message in text

    @pytest.mark.parametrize(
        ("kind", "variant"),
        [
            pytest.param("adjustment", {"warehouse": EAST.id}, id="warehouse-id"),
            pytest.param("adjustment", {"at": "2026-11-20T11:00:00+01:00"}, id="same-instant"),
            pytest.param("adjustment", {"quantity": "-2", "reason": " broken in the stockroom "}, id="as-text"),
            pytest.param("transfer", {"from_warehouse": "EAST", "quantity": D("4")}, id="slug-case"),
            pytest.param("return_to_supplier", {"unit_credit": "4"}, id="trailing-zeros"),
            pytest.param("landed_cost", {"amount": "30", "currency": "usd"}, id="amount-as-text"),
        ],
    )
    def test_the_same_item_written_differently_has_the_same_ids(
        self, checker: MoveChecker, kind: str, variant: dict[str, object]
    ) -> None:
        assert planned(checker, item(kind))[0].ids == planned(checker, item(kind, **variant))[0].ids

    @pytest.mark.parametrize(
        ("kind", "change"),
        [
            pytest.param("adjustment", {"quantity": 2}, id="gain-not-loss"),
            pytest.param("adjustment", {"reason": "theft"}, id="reason"),
            pytest.param("transfer", {"to_warehouse": "east", "from_warehouse": "west"}, id="direction"),
            pytest.param("return_to_supplier", {"receipt": "PO-2"}, id="receipt"),
            pytest.param("landed_cost", {"basis": "quantity", "receipts": [{"receipt": "PO-1"}]}, id="receipts"),
        ],
    )
    def test_another_item_has_other_ids(self, checker: MoveChecker, kind: str, change: dict[str, object]) -> None:
        facts = LedgerFacts({**CURRENCIES, ("MUG-1", WEST.id): "USD"}, FACTS.receipts)
        first, _ = plan(checker, item(kind), facts=facts)
        second, _ = plan(checker, item(kind, **change), facts=facts)
        assert set(first[0].ids).isdisjoint(second[0].ids)

    def test_an_item_repeated_in_a_request_is_refused(self, checker: MoveChecker) -> None:
        found = refusals(checker, item("adjustment"), item("transfer"), item("adjustment", warehouse=EAST.id))
        assert [(index, column) for index, column, _ in found] == [(2, None)]
        assert found[0][2].startswith("repeats item 0: the same move twice would be booked once")

    def test_asks_the_ledger_for_the_pools_and_receipts_the_items_name(self, checker: MoveChecker) -> None:
        requests = [request(checker, kind) for kind in GOOD]
        assert wanted(requests) == (
            {("MUG-1", EAST.id), ("MUG-1", WEST.id)},
            {"PO-1", "receipt:tea"},
        )

    def test_every_item_s_problems_are_reported(self, checker: MoveChecker) -> None:
        found = refusals(
            checker,
            item("adjustment", sku="LAMP-1"),
            item("transfer"),
            item("return_to_supplier", receipt="PO-9", quantity=50),
        )
        assert [(index, column) for index, column, _ in found] == [(0, "sku"), (2, "receipt")]
