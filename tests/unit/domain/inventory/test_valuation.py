from decimal import Decimal

import pytest

from app.domain.inventory import (
    Correction,
    CostPool,
    InvalidMove,
    Layer,
    Method,
    Move,
    MoveKind,
    Shortfall,
    apply_move,
    apply_transfer,
    empty_pool,
    replay,
    returnable_layers,
    revalue,
    transfer_in_move,
)
from tests.unit.domain.inventory.builders import (
    OTHER_WAREHOUSE,
    SKU,
    WAREHOUSE,
    at,
    issue,
    make_move,
    odoo_example,
    pool,
    receipt,
    run,
    take,
)

D = Decimal


class TestOdooWorkedExample:
    """Receive 8 @ 10, receive 4 @ 16, deliver 10, receive 2 @ 6 (Odoo's valuation cheat sheet)."""

    @pytest.mark.parametrize(
        ("method", "values", "cogs", "unit_cost"),
        [
            pytest.param(Method.FIFO, ["80", "144", "32", "44"], "112", "11", id="fifo"),
            pytest.param(Method.LIFO, ["80", "144", "20", "32"], "124", "8", id="lifo"),
            pytest.param(Method.AVCO, ["80", "144", "24", "36"], "120", "9", id="avco"),
        ],
    )
    def test_values_the_history_like_the_cheat_sheet(
        self, method: Method, values: list[str], cogs: str, unit_cost: str
    ) -> None:
        final, postings = run(odoo_example(), method)
        assert [posting.balance_value for posting in postings] == [D(value) for value in values]
        assert sum(posting.cogs for posting in postings) == D(cogs)
        assert final.quantity == 4
        assert final.value == D(values[-1])
        assert final.average_cost == D(unit_cost)

    @pytest.mark.parametrize(
        ("method", "layers"),
        [
            pytest.param(Method.FIFO, [take("R1", 8, "10"), take("R2", 2, "16")], id="fifo-oldest-first"),
            pytest.param(Method.LIFO, [take("R2", 4, "16"), take("R1", 6, "10")], id="lifo-newest-first"),
            pytest.param(Method.AVCO, [take("R1", 8, "12"), take("R2", 2, "12")], id="avco-at-average"),
        ],
    )
    def test_traces_the_delivery_to_the_receipts_it_consumed(self, method: Method, layers: list[object]) -> None:
        _, postings = run(odoo_example(), method)
        assert list(postings[2].layers) == layers

    def test_avco_average_moves_only_on_receipts(self) -> None:
        _, postings = run(odoo_example(), Method.AVCO)
        pools = [empty_pool(SKU, WAREHOUSE, "USD", Method.AVCO)]
        for move in odoo_example():
            pools.append(apply_move(pools[-1], move)[0])
        assert [p.unit_cost for p in pools[1:]] == [D(10), D(12), D(12), D(9)]
        assert postings[2].cogs == D(120)


class TestIssue:
    def test_issue_consumes_a_layer_partly_and_leaves_the_rest_open(self) -> None:
        final, [_, posting] = run([receipt(id="R1", quantity=5, unit_cost="4.25"), issue(id="I1", quantity=2)])
        assert posting.quantity == -2
        assert posting.value == D("-8.50")
        assert posting.cogs == D("8.50")
        assert posting.counterpart == 0
        assert final.layers == (Layer("R1", 3, D("4.25"), at(0)),)

    def test_issue_that_empties_an_avco_pool_takes_the_whole_remaining_value(self) -> None:
        moves = [
            receipt(id="R1", quantity=1, unit_cost="10", day=1),
            receipt(id="R2", quantity=2, unit_cost="11", day=2),
            issue(id="I1", quantity=1, day=3),
            issue(id="I2", quantity=2, day=4),
        ]
        final, postings = run(moves, Method.AVCO)
        assert final.unit_cost == D("10.666667")
        assert postings[2].cogs == D("10.666667")
        assert postings[3].cogs == D("21.333333")
        assert (final.quantity, final.value) == (0, D(0))

    def test_posting_tells_when_and_how_much_went_beyond_stock(self) -> None:
        _, postings = run([issue(id="I1", quantity=2, day=3), receipt(id="R1", quantity=5, unit_cost="1", day=4)])
        assert [(p.at, p.shortage) for p in postings] == [(at(3), 2), (at(4), 0)]

    def test_refuses_a_move_of_another_pool(self) -> None:
        with pytest.raises(InvalidMove, match="does not belong"):
            apply_move(pool(), issue(id="I1", quantity=1, warehouse=OTHER_WAREHOUSE))

    def test_refuses_a_move_in_another_currency(self) -> None:
        with pytest.raises(InvalidMove, match="does not belong"):
            apply_move(pool(), receipt(id="R1", quantity=1, unit_cost="1", currency="EUR"))


class TestNegativeStock:
    @pytest.mark.parametrize("method", [pytest.param(method, id=method.value) for method in Method])
    def test_issue_beyond_stock_is_booked_at_last_known_cost_then_corrected_by_the_receipt(
        self, method: Method
    ) -> None:
        moves = [
            receipt(id="R1", quantity=5, unit_cost="10", day=1),
            issue(id="I1", quantity=8, day=2),
            receipt(id="R2", quantity=10, unit_cost="12", day=3),
        ]
        final, [_, sale, late] = run(moves, method)
        assert sale.cogs == D(80)
        assert sale.shortage == 3
        assert sale.layers[-1] == take(None, 3, "10")
        assert (sale.balance_quantity, sale.balance_value) == (-3, D(-30))
        assert late.corrections == (Correction("I1", MoveKind.ISSUE, "R2", 3, D(10), D(12), D(6)),)
        assert late.cogs == D(6)
        assert late.value == D(114)
        assert late.counterpart == D(120)
        assert (final.quantity, final.value, final.shortfalls) == (7, D(84), ())
        assert final.layers == (Layer("R2", 7, D(12), at(3)),)

    def test_first_issue_of_an_empty_pool_uses_the_seeded_cost(self) -> None:
        start = empty_pool(SKU, WAREHOUSE, "USD", unit_cost=D("7.5"))
        moved, posting = apply_move(start, issue(id="I1", quantity=2))
        assert posting.cogs == D(15)
        assert moved.shortfalls == (Shortfall("I1", MoveKind.ISSUE, 2, D("7.5")),)

    def test_a_small_receipt_covers_part_of_a_shortfall_and_the_next_covers_the_rest(self) -> None:
        moves = [
            issue(id="I1", quantity=5, day=1),
            receipt(id="R1", quantity=3, unit_cost="4", day=2),
            receipt(id="R2", quantity=4, unit_cost="6", day=3),
        ]
        final, [_, first, second] = run(moves)
        assert [c.quantity for c in first.corrections] == [3]
        assert first.balance_quantity == -2
        assert second.corrections == (Correction("I1", MoveKind.ISSUE, "R2", 2, D(0), D(6), D(12)),)
        assert (final.quantity, final.value) == (2, D(12))

    def test_one_receipt_corrects_several_issues_oldest_first(self) -> None:
        moves = [
            issue(id="I1", quantity=1, day=1),
            issue(id="I2", quantity=2, day=2),
            receipt(id="R1", quantity=5, unit_cost="3", day=3),
        ]
        _, postings = run(moves)
        assert [(c.move_id, c.quantity, c.amount) for c in postings[2].corrections] == [
            ("I1", 1, D(3)),
            ("I2", 2, D(6)),
        ]

    def test_correction_of_a_write_off_goes_to_variance_not_cogs(self) -> None:
        moves = [
            make_move(MoveKind.ADJUSTMENT_OUT, id="W1", quantity=2, day=1),
            receipt(id="R1", quantity=2, unit_cost="5", day=2),
        ]
        _, [_, posting] = run(moves)
        assert posting.cogs == 0
        assert posting.variance == D(10)
        assert posting.counterpart == D(10)

    def test_avco_shortfall_is_valued_at_the_average_and_leaves_it_alone(self) -> None:
        moves = [
            receipt(id="R1", quantity=2, unit_cost="10", day=1),
            issue(id="I1", quantity=5, day=2),
            receipt(id="R2", quantity=4, unit_cost="13", day=3),
        ]
        final, [_, sale, late] = run(moves, Method.AVCO)
        assert sale.cogs == D(50)
        assert late.corrections[0].amount == D(9)
        assert (final.quantity, final.value, final.unit_cost) == (1, D(13), D(13))


class TestCustomerReturn:
    def test_fifo_return_comes_back_at_the_cost_the_last_consumed_units_left_with(self) -> None:
        _, postings = run(odoo_example())
        sold = postings[2]
        moves = [
            *odoo_example(),
            make_move(MoveKind.CUSTOMER_RETURN, id="C1", quantity=3, day=5, cost_of=sold.layers, related_move_id="I1"),
        ]
        final, postings = run(moves)
        back = postings[-1]
        assert list(back.layers) == [take("R1", 1, "10"), take("R2", 2, "16")]
        assert back.value == D(42)
        assert back.cogs == D(-42)
        assert back.counterpart == 0
        assert final.layers[-2:] == (Layer("R1", 1, D(10), at(5)), Layer("R2", 2, D(16), at(5)))

    def test_avco_return_at_its_original_cost_moves_the_average(self) -> None:
        _, postings = run(odoo_example(), Method.AVCO)
        moves = [
            *odoo_example(),
            make_move(MoveKind.CUSTOMER_RETURN, id="C1", quantity=1, day=5, cost_of=postings[2].layers),
        ]
        final, postings = run(moves, Method.AVCO)
        assert postings[-1].value == D(12)
        assert (final.quantity, final.value, final.unit_cost) == (5, D(48), D("9.6"))

    def test_return_without_its_issue_comes_back_at_last_known_cost(self) -> None:
        moves = [
            receipt(id="R1", quantity=2, unit_cost="7", day=1),
            make_move(MoveKind.CUSTOMER_RETURN, id="C1", quantity=1, day=2),
        ]
        final, postings = run(moves)
        assert list(postings[1].layers) == [take("C1", 1, "7")]
        assert final.layers[-1] == Layer("C1", 1, D(7), at(2))

    def test_return_of_more_than_the_issue_took_brings_the_extra_at_last_known_cost(self) -> None:
        moves = [
            receipt(id="R1", quantity=2, unit_cost="7", day=1),
            make_move(MoveKind.CUSTOMER_RETURN, id="C1", quantity=3, day=2, cost_of=[take("R0", 1, "5")]),
        ]
        _, postings = run(moves)
        assert list(postings[1].layers) == [take("R0", 1, "5"), take("C1", 2, "7")]

    def test_returned_units_cover_a_shortfall_first(self) -> None:
        moves = [
            issue(id="I1", quantity=1, day=1),
            make_move(MoveKind.CUSTOMER_RETURN, id="C1", quantity=1, day=2, cost_of=[take("R9", 1, "4")]),
        ]
        final, postings = run(moves)
        assert postings[1].corrections == (Correction("I1", MoveKind.ISSUE, "R9", 1, D(0), D(4), D(4)),)
        assert postings[1].cogs == D(0)  # +4 correction, -4 returned
        assert (final.quantity, final.value) == (0, D(0))

    def test_provisional_units_come_back_under_the_return_s_own_id(self) -> None:
        moves = [make_move(MoveKind.CUSTOMER_RETURN, id="C1", quantity=1, cost_of=[take(None, 1, "3")])]
        final, _ = run(moves)
        assert final.layers == (Layer("C1", 1, D(3), at(0)),)


class TestReturnToSupplier:
    @pytest.mark.parametrize(
        ("method", "named", "layers"),
        [
            pytest.param(Method.FIFO, "R2", [take("R2", 2, "14")], id="fifo-newer-receipt"),
            pytest.param(Method.LIFO, "R1", [take("R1", 2, "10")], id="lifo-older-receipt"),
        ],
    )
    def test_takes_the_named_receipt_whatever_the_method_would_pick(
        self, method: Method, named: str, layers: list[object]
    ) -> None:
        moves = [
            receipt(id="R1", quantity=5, unit_cost="10", day=1),
            receipt(id="R2", quantity=5, unit_cost="14", day=2),
            make_move(MoveKind.RETURN_TO_SUPPLIER, id="S1", quantity=2, day=3, receipt_id=named),
        ]
        final, postings = run(moves, method)
        assert list(postings[-1].layers) == layers
        assert postings[-1].cogs == 0
        assert postings[-1].counterpart == postings[-1].value
        assert final.quantity == 8

    @pytest.mark.parametrize(
        ("method", "layers"),
        [
            pytest.param(Method.FIFO, [take("R1", 3, "10"), take("R0", 1, "8"), take("R2", 1, "14")], id="fifo"),
            pytest.param(Method.LIFO, [take("R1", 3, "10"), take("R2", 2, "14")], id="lifo"),
        ],
    )
    def test_when_the_named_receipt_is_short_the_rest_comes_in_method_order(
        self, method: Method, layers: list[object]
    ) -> None:
        moves = [
            receipt(id="R0", quantity=1, unit_cost="8", day=0),
            receipt(id="R1", quantity=3, unit_cost="10", day=1),
            receipt(id="R2", quantity=4, unit_cost="14", day=2),
            make_move(MoveKind.RETURN_TO_SUPPLIER, id="S1", quantity=5, day=3, receipt_id="R1"),
        ]
        final, postings = run(moves, method)
        assert list(postings[-1].layers) == layers
        assert sum(layer.quantity for layer in final.layers) == 3

    def test_supplier_credit_below_inventory_value_is_a_price_difference(self) -> None:
        moves = [
            receipt(id="R1", quantity=2, unit_cost="10", day=1),
            make_move(MoveKind.RETURN_TO_SUPPLIER, id="S1", quantity=2, day=2, receipt_id="R1", unit_cost="9"),
        ]
        _, postings = run(moves)
        assert postings[-1].value == D(-20)
        assert postings[-1].variance == D(2)
        assert postings[-1].counterpart == D(-18)

    def test_avco_returns_at_the_current_average_leaving_no_phantom_value(self) -> None:
        """Odoo's example: two tables bought at 10 and 14 (average 12), one sold, the one bought
        at 10 returned. At the purchase price the books would keep 2 of value for 0 units."""
        moves = [
            receipt(id="R1", quantity=1, unit_cost="10", day=1),
            receipt(id="R2", quantity=1, unit_cost="14", day=2),
            issue(id="I1", quantity=1, day=3),
            make_move(MoveKind.RETURN_TO_SUPPLIER, id="S1", quantity=1, day=4, receipt_id="R1", unit_cost="10"),
        ]
        final, postings = run(moves, Method.AVCO)
        returned = postings[-1]
        assert postings[2].cogs == D(12)
        assert returned.value == D(-12)
        assert returned.variance == D(2)  # to the price-difference account
        assert returned.counterpart == D(-10)  # the supplier's credit
        assert (final.quantity, final.value, final.unit_cost) == (0, D(0), D(12))

    def test_return_beyond_stock_is_a_shortfall_like_any_outgoing_move(self) -> None:
        moves = [make_move(MoveKind.RETURN_TO_SUPPLIER, id="S1", quantity=1, receipt_id="R1")]
        final, postings = run(moves)
        assert postings[0].shortage == 1
        assert final.shortfalls == (Shortfall("S1", MoveKind.RETURN_TO_SUPPLIER, 1, D(0)),)


class TestAdjustments:
    @pytest.mark.parametrize(
        ("method", "unit_cost"),
        [
            pytest.param(Method.FIFO, "16", id="fifo-last-known-cost"),
            pytest.param(Method.AVCO, "12", id="avco-average"),
        ],
    )
    def test_count_gain_without_a_cost_comes_in_at_the_pool_s_cost(self, method: Method, unit_cost: str) -> None:
        moves = [*odoo_example()[:2], make_move(MoveKind.ADJUSTMENT_IN, id="A1", quantity=2, day=5)]
        _, postings = run(moves, method)
        gain = postings[-1]
        assert list(gain.layers) == [take("A1", 2, unit_cost)]
        assert gain.variance == -gain.value
        assert gain.counterpart == 0

    def test_count_gain_with_a_cost_opens_a_layer_at_that_cost(self) -> None:
        final, _ = run([make_move(MoveKind.ADJUSTMENT_IN, id="A1", quantity=3, unit_cost="2.5")])
        assert final.layers == (Layer("A1", 3, D("2.5"), at(0)),)

    @pytest.mark.parametrize(
        ("method", "value"),
        [
            pytest.param(Method.FIFO, "30", id="fifo"),
            pytest.param(Method.LIFO, "48", id="lifo"),
            pytest.param(Method.AVCO, "36", id="avco"),
        ],
    )
    def test_write_off_is_valued_like_an_issue_but_booked_as_variance(self, method: Method, value: str) -> None:
        moves = [*odoo_example()[:2], make_move(MoveKind.ADJUSTMENT_OUT, id="W1", quantity=3, day=5)]
        _, postings = run(moves, method)
        loss = postings[-1]
        assert loss.value == -D(value)
        assert loss.variance == D(value)
        assert loss.cogs == 0


class TestTransfers:
    def _source(self, method: Method) -> CostPool:
        return replay(
            [receipt(id="R1", quantity=5, unit_cost="10", day=1), receipt(id="R2", quantity=5, unit_cost="14", day=2)],
            pool(method),
        )[0]

    def test_fifo_transfer_moves_layers_with_their_identity_and_cost(self) -> None:
        out = make_move(MoveKind.TRANSFER_OUT, id="T1", quantity=7, day=3, counterpart_warehouse=OTHER_WAREHOUSE)
        source, destination, sent, arrived = apply_transfer(
            self._source(Method.FIFO), pool(warehouse=OTHER_WAREHOUSE), out, in_move_id="T1-in"
        )
        assert list(sent.layers) == [take("R1", 5, "10"), take("R2", 2, "14")]
        assert (sent.counterpart, arrived.counterpart) == (D(-78), D(78))
        assert destination.layers == (Layer("R1", 5, D(10), at(3)), Layer("R2", 2, D(14), at(3)))
        assert (source.quantity, source.value) == (3, D(42))
        assert arrived.move.related_move_id == "T1"
        assert arrived.move.counterpart_warehouse == WAREHOUSE

    def test_avco_transfer_moves_at_the_average_and_blends_into_the_destination(self) -> None:
        out = make_move(MoveKind.TRANSFER_OUT, id="T1", quantity=1, day=3, counterpart_warehouse=OTHER_WAREHOUSE)
        destination = apply_move(
            pool(Method.AVCO, warehouse=OTHER_WAREHOUSE),
            receipt(id="R9", quantity=1, unit_cost="20", warehouse=OTHER_WAREHOUSE),
        )[0]
        _, destination, sent, _ = apply_transfer(self._source(Method.AVCO), destination, out, in_move_id="T1-in")
        assert sent.value == D(-12)
        assert (destination.quantity, destination.value, destination.unit_cost) == (2, D(32), D(16))

    def test_provisional_units_arrive_under_the_out_leg_s_id(self) -> None:
        out = make_move(MoveKind.TRANSFER_OUT, id="T1", quantity=1, counterpart_warehouse=OTHER_WAREHOUSE)
        _, destination, _, _ = apply_transfer(pool(), pool(warehouse=OTHER_WAREHOUSE), out, in_move_id="T1-in")
        assert destination.layers == (Layer("T1", 1, D(0), at(0)),)

    def test_in_leg_is_built_only_from_an_out_leg(self) -> None:
        _, posting = apply_move(pool(), receipt(id="R1", quantity=1, unit_cost="1"))
        with pytest.raises(InvalidMove, match="not the out-leg"):
            transfer_in_move(posting.move, posting, move_id="X")


class TestLandedCostOnAPool:
    def test_fifo_landed_cost_raises_open_units_and_sends_the_sold_share_to_cogs(self) -> None:
        moves = [
            receipt(id="R1", quantity=10, unit_cost="10", day=1),
            issue(id="I1", quantity=4, day=2),
            make_move(MoveKind.LANDED_COST, id="L1", quantity=10, day=3, receipt_id="R1", amount="50"),
        ]
        final, postings = run(moves)
        landed = postings[-1]
        assert (landed.quantity, landed.value, landed.cogs, landed.variance) == (0, D(30), D(20), D(0))
        assert landed.counterpart == D(50)
        assert final.layers == (Layer("R1", 6, D(15), at(1)),)

    def test_avco_landed_cost_on_open_units_lifts_the_average(self) -> None:
        moves = [
            receipt(id="R1", quantity=10, unit_cost="10", day=1),
            receipt(id="R2", quantity=10, unit_cost="20", day=2),
            issue(id="I1", quantity=5, day=3),
            make_move(MoveKind.LANDED_COST, id="L1", quantity=10, day=4, receipt_id="R1", amount="100"),
        ]
        final, postings = run(moves, Method.AVCO)
        assert (postings[-1].value, postings[-1].cogs) == (D(50), D(50))
        assert (final.value, final.unit_cost) == (D(275), D("18.333333"))

    def test_increment_rounded_to_six_places_leaves_the_residue_in_variance(self) -> None:
        moves = [
            receipt(id="R1", quantity=3, unit_cost="1", day=1),
            make_move(MoveKind.LANDED_COST, id="L1", quantity=3, day=2, receipt_id="R1", amount="10"),
        ]
        final, postings = run(moves)
        assert final.layers[0].unit_cost == D("4.333333")
        assert postings[-1].variance == D("0.000001")
        assert postings[-1].counterpart == D(10)

    def test_covers_at_most_its_base_quantity_splitting_a_layer(self) -> None:
        moves = [
            receipt(id="R1", quantity=10, unit_cost="10", day=1),
            issue(id="I1", quantity=3, day=2),
            make_move(MoveKind.CUSTOMER_RETURN, id="C1", quantity=3, day=3, cost_of=[take("R1", 3, "10")]),
            make_move(MoveKind.LANDED_COST, id="L1", quantity=8, day=4, receipt_id="R1", amount="16"),
        ]
        final, postings = run(moves)
        assert final.layers == (
            Layer("R1", 7, D(12), at(1)),
            Layer("R1", 1, D(12), at(3)),
            Layer("R1", 2, D(10), at(3)),
        )
        assert (postings[-1].value, postings[-1].cogs) == (D(16), D(0))

    @pytest.mark.parametrize("method", [pytest.param(method, id=method.value) for method in Method])
    def test_a_credit_cannot_take_a_unit_cost_below_zero(self, method: Method) -> None:
        moves = [
            receipt(id="R1", quantity=2, unit_cost="1", day=1),
            make_move(MoveKind.LANDED_COST, id="L1", quantity=2, day=2, receipt_id="R1", amount="-5"),
        ]
        final, postings = run(moves, method)
        assert (final.value, final.unit_cost if method is Method.AVCO else final.layers[0].unit_cost) == (D(0), D(0))
        assert (postings[-1].value, postings[-1].variance, postings[-1].counterpart) == (D(-2), D(-3), D(-5))

    def test_other_receipts_layers_are_untouched(self) -> None:
        moves = [
            receipt(id="R1", quantity=1, unit_cost="10", day=1),
            receipt(id="R2", quantity=1, unit_cost="10", day=2),
            make_move(MoveKind.LANDED_COST, id="L1", quantity=1, day=3, receipt_id="R2", amount="5"),
        ]
        final, _ = run(moves, Method.LIFO)
        assert [layer.unit_cost for layer in final.layers] == [D(10), D(15)]


class TestReturnAfterALandedCost:
    """Receipt 10 @ 10, issue 4, landed cost 20 on the receipt (2 a unit: 12 on the 6 in stock,
    8 to COGS for the 4 gone), return 2: they come back at 12, the cost they left with plus the
    landed cost booked on them, so COGS is 48 - 24 = 24 and the stock 8 @ 12 = 96."""

    @staticmethod
    def _history() -> list[Move]:
        return [
            receipt(id="R1", quantity=10, unit_cost="10", day=1),
            issue(id="I1", quantity=4, day=2),
            make_move(MoveKind.LANDED_COST, id="L1", quantity=10, day=3, receipt_id="R1", amount="20"),
        ]

    @pytest.mark.parametrize("method", [pytest.param(method, id=method.value) for method in Method])
    def test_a_return_booked_after_the_landed_cost_brings_it_back(self, method: Method) -> None:
        _, postings = run(self._history(), method)
        sold, landed = postings[1], postings[2]
        cost_of = returnable_layers(sold, [landed])
        assert cost_of == (take("R1", 4, "12"),)
        back = make_move(MoveKind.CUSTOMER_RETURN, id="C1", quantity=2, day=4, cost_of=cost_of, related_move_id="I1")

        final, postings = run([*self._history(), back], method)

        assert sum((posting.cogs for posting in postings), D(0)) == D(24)
        assert (final.quantity, final.value) == (8, D(96))

    @pytest.mark.parametrize("method", [pytest.param(method, id=method.value) for method in Method])
    def test_a_replay_returns_at_the_landed_cost_too(self, method: Method) -> None:
        # Recorded before the landed cost was known; replaying the pool re-costs it from the issue.
        back = make_move(
            MoveKind.CUSTOMER_RETURN, id="C1", quantity=2, day=4, cost_of=[take("R1", 2, "10")], related_move_id="I1"
        )

        final, postings = run([*self._history(), back], method)

        assert postings[-1].layers == (take("R1", 2, "12"),)
        assert sum((posting.cogs for posting in postings), D(0)) == D(24)
        assert (final.quantity, final.value) == (8, D(96))

    def test_units_returned_before_the_landed_cost_get_it_as_stock_not_twice(self) -> None:
        back = make_move(
            MoveKind.CUSTOMER_RETURN, id="C1", quantity=2, day=2, cost_of=[take("R1", 2, "10")], related_move_id="I1"
        )
        history = self._history()
        final, postings = run([history[0], history[1], back, history[2]])
        # 8 in stock get 2 each (16), the 2 still out go to COGS (4): 40 - 20 + 4 = 24.
        assert sum((posting.cogs for posting in postings), D(0)) == D(24)
        assert (final.quantity, final.value) == (8, D(96))
        sold = postings[1]
        assert returnable_layers(sold, postings[2:]) == (take("R1", 2, "12"),)


class TestRevaluation:
    def test_fifo_to_lifo_keeps_value_and_layers_and_changes_which_end_is_consumed(self) -> None:
        start, _ = run(odoo_example()[:2])
        changed, posting = revalue(start, Method.LIFO, move_id="M1", at=at(5))
        assert (posting.move.kind, posting.method, posting.value, posting.variance) == (
            MoveKind.REVALUATION,
            Method.LIFO,
            D(0),
            D(0),
        )
        assert changed.layers == start.layers
        _, sale = apply_move(changed, issue(id="I1", quantity=1, day=6))
        assert list(sale.layers) == [take("R2", 1, "16")]

    def test_fifo_to_avco_sets_the_average_to_value_per_unit(self) -> None:
        start, _ = run([*odoo_example()[:3]])
        changed, posting = revalue(start, Method.AVCO, move_id="M1", at=at(5))
        assert posting.value == 0
        assert (changed.method, changed.unit_cost) == (Method.AVCO, D(16))

    def test_avco_to_fifo_restates_open_layers_at_the_average_and_posts_the_rounding(self) -> None:
        moves = [
            receipt(id="R1", quantity=1, unit_cost="10", day=1),
            receipt(id="R2", quantity=2, unit_cost="11", day=2),
        ]
        start, _ = run(moves, Method.AVCO)
        changed, posting = revalue(start, Method.FIFO, move_id="M1", at=at(5))
        assert [layer.unit_cost for layer in changed.layers] == [D("10.666667")] * 2
        assert changed.value == D("32.000001")
        assert (posting.value, posting.variance, posting.counterpart) == (D("0.000001"), D("-0.000001"), D(0))

    def test_avco_to_lifo_keeps_shortfalls_at_their_provisional_cost(self) -> None:
        start, _ = run([issue(id="I1", quantity=2, day=1)], Method.AVCO)
        changed, posting = revalue(start, Method.LIFO, move_id="M1", at=at(5))
        assert changed.shortfalls == start.shortfalls
        assert posting.value == 0

    def test_change_to_the_same_method_is_a_visible_no_op(self) -> None:
        start, _ = run(odoo_example())
        changed, posting = revalue(start, Method.FIFO, move_id="M1", at=at(5))
        assert changed == start
        assert posting.value == 0

    def test_revaluation_is_a_move_that_replay_honours(self) -> None:
        moves = [
            *odoo_example()[:2],
            make_move(MoveKind.REVALUATION, id="M1", quantity=0, when=at(2, hour=1), method=Method.LIFO),
            issue(id="I1", quantity=1, day=3),
        ]
        final, postings = run(moves)
        assert postings[2].move.kind is MoveKind.REVALUATION
        assert final.method is Method.LIFO
        assert postings[3].cogs == D(16)


class TestBackdating:
    def test_backdated_receipt_revalues_only_the_later_moves(self) -> None:
        history = [
            receipt(id="R1", quantity=5, unit_cost="10", day=1),
            issue(id="I1", quantity=8, day=3),
            receipt(id="R2", quantity=10, unit_cost="20", day=5),
            issue(id="I2", quantity=2, day=6),
        ]
        _, booked = run(history)
        assert booked[1].cogs == D(80)  # 3 beyond stock at 10 ...
        assert booked[2].corrections[0].amount == D(30)  # ... corrected to 20 when R2 lands

        backdated = receipt(id="R0", quantity=5, unit_cost="12", day=2)
        snapshot = apply_move(pool(), history[0])[0]  # the pool just before day 2, as stored
        later = [move for move in history if move.at > backdated.at]
        reposted_pool, reposted = replay([backdated, *later], snapshot)

        assert [p.move.id for p in reposted] == ["R0", "I1", "R2", "I2"]
        assert reposted[1].cogs == D(86)  # 5 @ 10 from R1 and 3 @ 12 from R0: no shortfall any more
        assert reposted[2].corrections == ()
        assert list(reposted[3].layers) == [take("R0", 2, "12")]
        full_pool, full = run([*history, backdated])
        assert reposted_pool == full_pool
        assert full[0] == booked[0]  # the move before the backdated one stands as booked
        assert full[1:] == reposted

    def test_replay_sorts_its_moves(self) -> None:
        moves = odoo_example()
        assert run(reversed(moves)) == run(moves)


class TestSameInstantOrdering:
    def test_receipt_and_issue_at_the_same_instant_book_the_receipt_first(self) -> None:
        moves = [issue(id="I1", quantity=2, day=1), receipt(id="R1", quantity=2, unit_cost="5", day=1)]
        final, postings = run(moves)
        assert [p.move.id for p in postings] == ["R1", "I1"]
        assert postings[1].shortage == 0
        assert (final.quantity, final.value) == (0, D(0))

    def test_landed_cost_at_the_instant_of_its_receipt_finds_the_receipt_in(self) -> None:
        moves = [
            make_move(MoveKind.LANDED_COST, id="L1", quantity=2, receipt_id="R1", amount="4", day=1),
            issue(id="I1", quantity=1, day=1),
            receipt(id="R1", quantity=2, unit_cost="5", day=1),
        ]
        final, postings = run(moves)
        assert [p.move.id for p in postings] == ["R1", "L1", "I1"]
        assert postings[2].cogs == D(7)
        assert final.layers == (Layer("R1", 1, D(7), at(1)),)
