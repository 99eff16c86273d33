from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.domain.inventory import PHASE, InvalidMove, Method, Move, MoveKind, sort_key
from tests.unit.domain.inventory.builders import at, make_move, take


class TestMove:
    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            pytest.param({"id": ""}, "needs an id", id="empty-id"),
            pytest.param({"when": datetime(2026, 1, 1)}, "timezone-aware", id="naive-time"),  # noqa: DTZ001
            pytest.param({"currency": "usd"}, "ISO 4217", id="lower-case-currency"),
            pytest.param({"quantity": 1.0}, "must be an int", id="float-quantity"),
            pytest.param({"quantity": True}, "must be an int", id="bool-quantity"),
            pytest.param({"quantity": 0}, "must be positive", id="zero-quantity"),
            pytest.param({"quantity": -1}, "must be positive", id="negative-quantity"),
            pytest.param({"unit_cost": Decimal("NaN")}, "finite Decimal", id="nan-cost"),
            pytest.param({"unit_cost": Decimal("-1")}, "must not be negative", id="negative-cost"),
            pytest.param({"cost_of": [take("R1", 0, "1")]}, "positive quantity", id="empty-cost-of-entry"),
        ],
    )
    def test_refuses_an_issue_that_cannot_be_booked(self, fields: dict[str, object], message: str) -> None:
        arguments: dict[str, object] = {"id": "I1", "quantity": 1, **fields}
        with pytest.raises(InvalidMove, match=message):
            make_move(MoveKind.ISSUE, **arguments)  # type: ignore[arg-type]

    def test_refuses_a_float_amount(self) -> None:
        with pytest.raises(InvalidMove, match="finite Decimal"):
            Move(
                id="L1",
                kind=MoveKind.LANDED_COST,
                sku="S",
                warehouse="W",
                at=at(),
                quantity=1,
                currency="USD",
                receipt_id="R1",
                amount=1.5,  # type: ignore[arg-type]
            )

    @pytest.mark.parametrize(
        ("kind", "fields", "message"),
        [
            pytest.param(MoveKind.RECEIPT, {}, "needs a unit_cost", id="receipt-without-cost"),
            pytest.param(MoveKind.RETURN_TO_SUPPLIER, {}, "must name the receipt", id="supplier-return-unnamed"),
            pytest.param(MoveKind.LANDED_COST, {"amount": "1"}, "must name the receipt", id="landed-cost-unnamed"),
            pytest.param(MoveKind.LANDED_COST, {"receipt_id": "R1"}, "needs an amount", id="landed-cost-no-amount"),
            pytest.param(MoveKind.TRANSFER_OUT, {}, "other warehouse", id="transfer-out-nowhere"),
            pytest.param(
                MoveKind.TRANSFER_IN,
                {"counterpart_warehouse": "WH-2", "cost_of": [take("R1", 2, "1")]},
                "exactly the quantity",
                id="transfer-in-cost-mismatch",
            ),
            pytest.param(MoveKind.REVALUATION, {"method": Method.LIFO}, "moves no quantity", id="revaluation-qty"),
        ],
    )
    def test_refuses_a_move_missing_what_its_kind_needs(
        self, kind: MoveKind, fields: dict[str, object], message: str
    ) -> None:
        with pytest.raises(InvalidMove, match=message):
            make_move(kind, id="M1", quantity=1, **fields)  # type: ignore[arg-type]

    def test_refuses_a_revaluation_without_a_method(self) -> None:
        with pytest.raises(InvalidMove, match="names a method"):
            make_move(MoveKind.REVALUATION, id="M1", quantity=0)

    def test_kinds_know_their_direction(self) -> None:
        assert [kind for kind in MoveKind if kind.incoming] == [
            MoveKind.RECEIPT,
            MoveKind.CUSTOMER_RETURN,
            MoveKind.ADJUSTMENT_IN,
            MoveKind.TRANSFER_IN,
        ]
        assert [kind for kind in MoveKind if kind.outgoing] == [
            MoveKind.ISSUE,
            MoveKind.RETURN_TO_SUPPLIER,
            MoveKind.ADJUSTMENT_OUT,
            MoveKind.TRANSFER_OUT,
        ]
        assert not MoveKind.LANDED_COST.incoming
        assert not MoveKind.REVALUATION.outgoing


class TestSortKey:
    def test_orders_by_time_first(self) -> None:
        later_receipt = make_move(MoveKind.RECEIPT, id="R1", quantity=1, unit_cost="1", when=at(1))
        earlier_issue = make_move(MoveKind.ISSUE, id="I1", quantity=1, when=at(0))
        assert sorted([later_receipt, earlier_issue], key=sort_key) == [earlier_issue, later_receipt]

    def test_at_the_same_instant_orders_by_phase_with_receipts_before_issues(self) -> None:
        assert sorted(PHASE, key=PHASE.__getitem__) == [
            MoveKind.REVALUATION,
            MoveKind.ADJUSTMENT_IN,
            MoveKind.RECEIPT,
            MoveKind.CUSTOMER_RETURN,
            MoveKind.LANDED_COST,
            MoveKind.TRANSFER_OUT,
            MoveKind.TRANSFER_IN,
            MoveKind.RETURN_TO_SUPPLIER,
            MoveKind.ADJUSTMENT_OUT,
            MoveKind.ISSUE,
        ]
        assert set(PHASE) == set(MoveKind)

    def test_breaks_ties_by_ledger_sequence_then_id(self) -> None:
        moves = [
            make_move(MoveKind.ISSUE, id="B", quantity=1, seq=2),
            make_move(MoveKind.ISSUE, id="C", quantity=1, seq=1),
            make_move(MoveKind.ISSUE, id="A", quantity=1, seq=2),
        ]
        assert [move.id for move in sorted(moves, key=sort_key)] == ["C", "A", "B"]

    def test_compares_instants_across_time_zones(self) -> None:
        plus_two = at(0).astimezone(timezone(timedelta(hours=2)))
        first = make_move(MoveKind.ISSUE, id="I1", quantity=1, when=plus_two)
        second = make_move(MoveKind.RECEIPT, id="R1", quantity=1, unit_cost="1", when=at(0))
        assert sorted([first, second], key=sort_key) == [second, first]
