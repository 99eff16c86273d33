from decimal import Decimal

import pytest

from app.domain.inventory import (
    LandedCostTarget,
    Method,
    MoveKind,
    SplitBasis,
    allocate_landed_cost,
    landed_cost_moves,
    replay,
)
from tests.unit.domain.inventory.builders import OTHER_WAREHOUSE, SKU, WAREHOUSE, at, issue, pool, receipt

D = Decimal

# Two receipts on one container: 10 mugs at 4.00 (2 kg in all) and 30 plates at 2.00 (6 kg).
MUGS = LandedCostTarget("R1", "MUG", WAREHOUSE, 10, D("40.00"), D("2"))
PLATES = LandedCostTarget("R2", "PLATE", WAREHOUSE, 30, D("60.00"), D("6"))


class TestAllocateLandedCost:
    @pytest.mark.parametrize(
        ("basis", "shares"),
        [
            pytest.param(SplitBasis.QUANTITY, ["25.00", "75.00"], id="by-quantity"),
            pytest.param(SplitBasis.VALUE, ["40.00", "60.00"], id="by-value"),
            pytest.param(SplitBasis.WEIGHT, ["25.00", "75.00"], id="by-weight"),
        ],
    )
    def test_splits_in_proportion_to_the_basis(self, basis: SplitBasis, shares: list[str]) -> None:
        allocation = allocate_landed_cost(D("100.00"), "USD", [MUGS, PLATES], basis)
        assert [share.amount for share in allocation] == [D(share) for share in shares]
        assert [share.target for share in allocation] == [MUGS, PLATES]

    def test_leftover_cents_go_to_the_largest_remainders_and_the_sum_is_exact(self) -> None:
        targets = [LandedCostTarget(f"R{n}", "S", WAREHOUSE, 1, D(1)) for n in range(3)]
        allocation = allocate_landed_cost(D("100.00"), "USD", targets, SplitBasis.QUANTITY)
        assert [share.amount for share in allocation] == [D("33.34"), D("33.33"), D("33.33")]

    def test_a_credit_is_split_the_same_way(self) -> None:
        targets = [LandedCostTarget(f"R{n}", "S", WAREHOUSE, 1, D(1)) for n in range(3)]
        allocation = allocate_landed_cost(D("-1.00"), "USD", targets, SplitBasis.QUANTITY)
        assert [share.amount for share in allocation] == [D("-0.34"), D("-0.33"), D("-0.33")]

    def test_uses_the_currency_s_minor_unit(self) -> None:
        targets = [LandedCostTarget(f"R{n}", "S", WAREHOUSE, 1, D(1)) for n in range(3)]
        allocation = allocate_landed_cost(D("1000"), "JPY", targets, SplitBasis.QUANTITY)
        assert [share.amount for share in allocation] == [D(334), D(333), D(333)]

    @pytest.mark.parametrize(
        ("amount", "targets", "basis", "message"),
        [
            pytest.param(D("1.00"), [], SplitBasis.QUANTITY, "at least one receipt", id="no-receipts"),
            pytest.param(D("1.001"), [MUGS], SplitBasis.QUANTITY, "more places", id="sub-cent-amount"),
        ],
    )
    def test_refuses_what_cannot_be_split(
        self, amount: Decimal, targets: list[LandedCostTarget], basis: SplitBasis, message: str
    ) -> None:
        with pytest.raises(ValueError, match=message):
            allocate_landed_cost(amount, "USD", targets, basis)

    def test_refuses_a_basis_that_adds_up_to_nothing(self) -> None:
        weightless = LandedCostTarget("R1", "S", WAREHOUSE, 1, D(1))
        with pytest.raises(ValueError, match="no weight"):
            allocate_landed_cost(D("5.00"), "USD", [weightless], SplitBasis.WEIGHT)

    def test_refuses_a_negative_basis(self) -> None:
        odd = LandedCostTarget("R1", "S", WAREHOUSE, 1, D(-1))
        with pytest.raises(ValueError, match="negative"):
            allocate_landed_cost(D("5.00"), "USD", [odd, MUGS], SplitBasis.VALUE)


class TestLandedCostMoves:
    def test_one_move_per_share_names_the_receipt_and_its_quantity(self) -> None:
        allocation = allocate_landed_cost(D("100.00"), "USD", [MUGS, PLATES], SplitBasis.WEIGHT)
        moves = landed_cost_moves(allocation, voucher_id="LC-7", at=at(3), currency="USD")
        assert [(m.id, m.kind, m.sku, m.receipt_id, m.quantity, m.amount, m.reference) for m in moves] == [
            ("LC-7:1", MoveKind.LANDED_COST, "MUG", "R1", 10, D("25.00"), "LC-7"),
            ("LC-7:2", MoveKind.LANDED_COST, "PLATE", "R2", 30, D("75.00"), "LC-7"),
        ]

    @pytest.mark.parametrize("method", [pytest.param(method, id=method.value) for method in Method])
    def test_split_across_warehouses_lands_on_each_pool_s_open_units(self, method: Method) -> None:
        here = LandedCostTarget("R1", SKU, WAREHOUSE, 4, D("40.00"))
        there = LandedCostTarget("R2", SKU, OTHER_WAREHOUSE, 4, D("40.00"))
        allocation = allocate_landed_cost(D("8.00"), "USD", [here, there], SplitBasis.VALUE)
        first, second = landed_cost_moves(allocation, voucher_id="LC-1", at=at(5), currency="USD", reference="BL-1")
        sold_half, postings = replay(
            [receipt(id="R1", quantity=4, unit_cost="10", day=1), issue(id="I1", quantity=2, day=2), first],
            pool(method),
        )
        assert (postings[-1].value, postings[-1].cogs) == (D(2), D(2))
        assert sold_half.value == D(22)
        elsewhere, other_postings = replay(
            [receipt(id="R2", quantity=4, unit_cost="10", day=1, warehouse=OTHER_WAREHOUSE), second],
            pool(method, warehouse=OTHER_WAREHOUSE),
        )
        assert (other_postings[-1].value, elsewhere.value) == (D(4), D(44))
        assert second.reference == "BL-1"
