"""Properties over random move sequences, for every method."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.inventory import (
    CostPool,
    LandedCostTarget,
    Method,
    Move,
    MoveKind,
    Posting,
    SaleLine,
    SplitBasis,
    allocate_landed_cost,
    apply_move,
    cogs_summary,
    post_ledger,
    replay,
    returnable_layers,
)
from tests.unit.domain.inventory.builders import make_move, pool

D = Decimal
METHODS = [pytest.param(method, id=method.value) for method in Method]
EXAMPLES = settings(max_examples=40, deadline=None)

quantities = st.integers(min_value=1, max_value=12)
costs = st.decimals(min_value=0, max_value=500, places=3, allow_nan=False, allow_infinity=False)
picks = st.integers(min_value=0, max_value=1_000)

receipts = st.tuples(st.just("receipt"), quantities, costs)
issues = st.tuples(st.just("issue"), quantities)
trading = st.lists(st.one_of(receipts, issues, issues), max_size=30)
operations = st.lists(
    st.one_of(
        receipts,
        issues,
        issues,
        st.tuples(st.just("customer_return"), quantities, picks),
        st.tuples(st.just("to_supplier"), quantities, picks, st.none() | costs),
        st.tuples(st.just("gain"), quantities, st.none() | costs),
        st.tuples(st.just("loss"), quantities),
        st.tuples(st.just("landed"), picks, st.decimals(min_value=-50, max_value=500, places=2)),
    ),
    max_size=30,
)
with_revaluations = st.lists(
    st.one_of(receipts, issues, st.tuples(st.just("revalue"), st.sampled_from(list(Method)))), max_size=30
)


@dataclass(frozen=True)
class Step:
    before: CostPool
    move: Move
    after: CostPool
    posting: Posting


def play(ops: list[tuple[object, ...]], method: Method) -> list[Step]:
    """Book the operations one move at a time, as the service would (each on the current pool)."""
    steps: list[Step] = []
    current = pool(method)
    booked_receipts: list[Move] = []
    issued: list[Posting] = []
    for day, op in enumerate(ops):
        kind, *args = op
        common = {"id": f"M{day}", "day": day}
        if kind == "receipt":
            move = make_move(MoveKind.RECEIPT, quantity=args[0], unit_cost=args[1], **common)  # type: ignore[arg-type]
            booked_receipts.append(move)
        elif kind == "issue":
            move = make_move(MoveKind.ISSUE, quantity=args[0], reference=f"line-{day}", **common)  # type: ignore[arg-type]
        elif kind == "customer_return":
            sold = issued[args[1] % len(issued)] if issued else None  # type: ignore[operator]
            cost_of = returnable_layers(sold, [s.posting for s in steps]) if sold else ()
            related = sold.move.id if sold else None
            move = make_move(
                MoveKind.CUSTOMER_RETURN,
                quantity=args[0],  # type: ignore[arg-type]
                cost_of=cost_of,
                related_move_id=related,
                **common,  # type: ignore[arg-type]
            )
        elif kind == "to_supplier":
            named = booked_receipts[args[1] % len(booked_receipts)].id if booked_receipts else "R-unknown"  # type: ignore[operator]
            move = make_move(
                MoveKind.RETURN_TO_SUPPLIER,
                quantity=args[0],  # type: ignore[arg-type]
                receipt_id=named,
                unit_cost=args[2],  # type: ignore[arg-type]
                **common,  # type: ignore[arg-type]
            )
        elif kind == "gain":
            move = make_move(MoveKind.ADJUSTMENT_IN, quantity=args[0], unit_cost=args[1], **common)  # type: ignore[arg-type]
        elif kind == "loss":
            move = make_move(MoveKind.ADJUSTMENT_OUT, quantity=args[0], **common)  # type: ignore[arg-type]
        elif kind == "landed":
            if not booked_receipts:
                continue
            target = booked_receipts[args[0] % len(booked_receipts)]  # type: ignore[operator]
            move = make_move(
                MoveKind.LANDED_COST,
                quantity=target.quantity,
                receipt_id=target.id,
                amount=args[1],  # type: ignore[arg-type]
                **common,  # type: ignore[arg-type]
            )
        else:
            move = make_move(MoveKind.REVALUATION, quantity=0, method=args[0], **common)  # type: ignore[arg-type]
        after, posting = apply_move(current, move)
        steps.append(Step(current, move, after, posting))
        if move.kind is MoveKind.ISSUE:
            issued.append(posting)
        current = after
    return steps


def expected_counterpart(step: Step) -> Decimal:
    """What each move brings from outside the stock: known from the move alone, except a return
    to the supplier without a credit price, which credits the inventory value it took."""
    move = step.move
    if move.kind is MoveKind.RECEIPT:
        return move.quantity * (move.unit_cost or D(0))
    if move.kind is MoveKind.LANDED_COST:
        return move.amount or D(0)
    if move.kind is MoveKind.RETURN_TO_SUPPLIER:
        return step.posting.value if move.unit_cost is None else -move.quantity * move.unit_cost
    return D(0)


def check_pool(state: CostPool) -> None:
    layered = sum(layer.quantity for layer in state.layers)
    short = sum(shortfall.quantity for shortfall in state.shortfalls)
    assert all(layer.quantity > 0 for layer in state.layers)
    assert all(shortfall.quantity > 0 for shortfall in state.shortfalls)
    if state.quantity > 0:
        assert (layered, state.shortfalls) == (state.quantity, ())
    elif state.quantity < 0:
        assert (state.layers, short) == ((), -state.quantity)
    else:
        assert (state.layers, state.shortfalls, state.value) == ((), (), D(0))
    if state.method is not Method.AVCO:
        layer_value = sum((layer.quantity * layer.unit_cost for layer in state.layers), D(0))
        shortfall_value = sum((s.quantity * s.unit_cost for s in state.shortfalls), D(0))
        assert state.value == layer_value - shortfall_value


class TestConservation:
    @pytest.mark.parametrize("method", METHODS)
    @EXAMPLES
    @given(ops=operations)
    def test_quantity_is_conserved_and_every_posting_matches_its_pool(
        self, method: Method, ops: list[tuple[object, ...]]
    ) -> None:
        steps = play(ops, method)
        for step in steps:
            check_pool(step.after)
            posting, move = step.posting, step.move
            direction = 1 if move.kind.incoming else -1 if move.kind.outgoing else 0
            assert posting.move is move
            assert posting.quantity == direction * move.quantity
            assert step.after.quantity == step.before.quantity + posting.quantity == posting.balance_quantity
            assert step.after.value == step.before.value + posting.value == posting.balance_value
            assert posting.method is step.after.method
            assert sum(take.quantity for take in posting.layers) == (move.quantity if direction else 0)
        incoming = sum(s.move.quantity for s in steps if s.move.kind.incoming)
        outgoing = sum(s.move.quantity for s in steps if s.move.kind.outgoing)
        assert (steps[-1].after.quantity if steps else 0) == incoming - outgoing

    @pytest.mark.parametrize("method", METHODS)
    @EXAMPLES
    @given(ops=operations)
    def test_opening_value_and_what_came_in_equal_cogs_other_costs_and_ending_value(
        self, method: Method, ops: list[tuple[object, ...]]
    ) -> None:
        steps = play(ops, method)
        ending = steps[-1].after.value if steps else D(0)
        brought = sum((expected_counterpart(s) for s in steps), D(0))
        cogs = sum((s.posting.cogs for s in steps), D(0))
        variance = sum((s.posting.variance for s in steps), D(0))
        assert brought == cogs + variance + ending
        for step in steps:
            assert step.posting.counterpart == expected_counterpart(step)

    @pytest.mark.parametrize("method", METHODS)
    @EXAMPLES
    @given(ops=trading)
    def test_receipts_equal_cogs_plus_ending_value(self, method: Method, ops: list[tuple[object, ...]]) -> None:
        steps = play(ops, method)
        receipts_value = sum((s.move.quantity * (s.move.unit_cost or 0) for s in steps), D(0))
        cogs = sum((s.posting.cogs for s in steps), D(0))
        assert receipts_value == cogs + (steps[-1].after.value if steps else 0)

    @EXAMPLES
    @given(ops=with_revaluations)
    def test_method_changes_keep_the_books_balanced(self, ops: list[tuple[object, ...]]) -> None:
        most_in_stock = 0
        for step in play(ops, Method.FIFO):
            check_pool(step.after)
            most_in_stock = max(most_in_stock, step.after.quantity)
            if step.move.kind is MoveKind.REVALUATION:
                assert step.posting.counterpart == 0
                assert step.after.method is step.move.method
                assert step.after.quantity == step.before.quantity
                # Only restating AVCO layers at the rounded average changes the value, by less
                # than half a rounding step per unit the average was computed over.
                assert abs(step.posting.value) <= most_in_stock * D("0.0000005")


class TestAcrossMethods:
    @EXAMPLES
    @given(ops=trading)
    def test_every_method_sees_the_same_quantities_and_the_same_total_cost(self, ops: list[tuple[object, ...]]) -> None:
        results = {method: play(ops, method) for method in Method}
        totals = {
            method: sum((s.posting.cogs for s in steps), D(0)) + (steps[-1].after.value if steps else 0)
            for method, steps in results.items()
        }
        assert len(set(totals.values())) == 1
        quantities_seen = {method: [s.after.quantity for s in steps] for method, steps in results.items()}
        assert quantities_seen[Method.FIFO] == quantities_seen[Method.LIFO] == quantities_seen[Method.AVCO]


class TestConsumptionOrder:
    @pytest.mark.parametrize("method", METHODS)
    @EXAMPLES
    @given(ops=operations)
    def test_fifo_and_avco_consume_oldest_first_and_lifo_newest_first(
        self, method: Method, ops: list[tuple[object, ...]]
    ) -> None:
        for step in play(ops, method):
            if not step.move.kind.outgoing or step.move.kind is MoveKind.RETURN_TO_SUPPLIER:
                continue
            layers = step.before.layers[::-1] if method is Method.LIFO else step.before.layers
            real = [take for take in step.posting.layers if take.receipt_id is not None]
            for index, take in enumerate(real):
                layer = layers[index]
                assert take.receipt_id == layer.receipt_id
                assert take.unit_cost == (step.before.unit_cost if method is Method.AVCO else layer.unit_cost)
                assert take.quantity == layer.quantity or (index == len(real) - 1 and take.quantity < layer.quantity)
            if step.posting.shortage:
                assert len(real) == len(layers)
                assert step.after.layers == ()


class TestAverage:
    @EXAMPLES
    @given(ops=operations)
    def test_an_avco_outgoing_move_never_changes_the_average(self, ops: list[tuple[object, ...]]) -> None:
        for step in play(ops, Method.AVCO):
            if step.move.kind.outgoing:
                assert step.after.unit_cost == step.before.unit_cost
                if step.after.quantity > 0:
                    assert step.posting.value == -step.move.quantity * step.before.unit_cost

    @EXAMPLES
    @given(ops=operations)
    def test_the_average_stays_within_a_rounding_step_of_value_per_unit(self, ops: list[tuple[object, ...]]) -> None:
        for step in play(ops, Method.AVCO):
            if step.move.kind.incoming and step.after.quantity > 0:
                assert abs(step.after.value / step.after.quantity - step.after.unit_cost) <= D("0.0000005")


class TestIncrementalAndReplay:
    @pytest.mark.parametrize("method", METHODS)
    @EXAMPLES
    @given(ops=operations, split=picks)
    def test_replaying_from_any_stored_pool_gives_what_one_move_at_a_time_gave(
        self, method: Method, ops: list[tuple[object, ...]], split: int
    ) -> None:
        steps = play(ops, method)
        if not steps:
            return
        at = split % len(steps)
        final, postings = replay([s.move for s in steps[at:]], steps[at].before)
        assert final == steps[-1].after
        assert postings == [s.posting for s in steps[at:]]

    @pytest.mark.parametrize("method", METHODS)
    @EXAMPLES
    @given(ops=trading)
    def test_the_whole_ledger_run_agrees_with_the_pool_run(self, method: Method, ops: list[tuple[object, ...]]) -> None:
        steps = play(ops, method)
        assert [posting for _, posting in post_ledger([s.move for s in steps], method)] == [s.posting for s in steps]


class TestCogsOfALine:
    @pytest.mark.parametrize("method", METHODS)
    @EXAMPLES
    @given(ops=trading)
    def test_each_line_s_trace_covers_its_quantity_and_its_cost(
        self, method: Method, ops: list[tuple[object, ...]]
    ) -> None:
        steps = play(ops, method)
        postings = [s.posting for s in steps]
        for step in steps:
            if step.move.kind is not MoveKind.ISSUE:
                continue
            line = SaleLine(step.move.reference, step.move.sku, D(100))
            [document_line] = cogs_summary([line], postings, currency="USD")["lines"]
            assert sum(layer["quantity"] for layer in document_line["layers"]) == step.move.quantity
            corrected = step.posting.cogs + sum(
                (c.amount for p in postings for c in p.corrections if c.move_id == step.move.id), D(0)
            )
            assert D(document_line["cogs"]) == corrected.quantize(D("0.01"), ROUND_HALF_UP)


class TestLandedCostAllocation:
    @EXAMPLES
    @given(
        amount=st.decimals(min_value=0, max_value=100_000, places=2),
        bases=st.lists(st.integers(min_value=0, max_value=1_000), min_size=1, max_size=8).filter(any),
        basis=st.sampled_from(list(SplitBasis)),
    )
    def test_shares_add_up_exactly_and_stay_within_a_cent_of_proportional(
        self, amount: Decimal, bases: list[int], basis: SplitBasis
    ) -> None:
        targets = [LandedCostTarget(f"R{n}", "S", "W", max(base, 1), D(base), D(base)) for n, base in enumerate(bases)]
        weights = [target.basis(basis) for target in targets]
        shares = allocate_landed_cost(amount, "USD", targets, basis)
        assert sum((share.amount for share in shares), D(0)) == amount
        for share, weight in zip(shares, weights, strict=True):
            assert abs(share.amount - amount * weight / sum(weights)) < D("0.01")
