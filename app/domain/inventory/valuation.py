"""Applying moves to cost pools: the incremental hot path and the replay used for backdating.

``apply_move`` touches only the layers a move needs (a receipt appends one layer, an issue
consumes from one end of the queue), so posting a fulfillment never replays history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal

from app.domain.inventory.method import Method
from app.domain.inventory.move import InvalidMove, LayerTake, Move, MoveKind, sort_key
from app.domain.inventory.pool import ZERO, CostPool, Layer, Shortfall, landed_cost_increment, unit_cost_of
from app.domain.inventory.posting import Correction, Posting
from app.domain.inventory.trace import LayerTrace

# Module constants: a global lookup is cheaper than an enum attribute on the hot path.
_AVCO = Method.AVCO
_LIFO = Method.LIFO
_ISSUE = MoveKind.ISSUE
_CUSTOMER_RETURN = MoveKind.CUSTOMER_RETURN
_ADJUSTMENT_IN = MoveKind.ADJUSTMENT_IN
_ADJUSTMENT_OUT = MoveKind.ADJUSTMENT_OUT
_TO_SUPPLIER = MoveKind.RETURN_TO_SUPPLIER
_LANDED_COST = MoveKind.LANDED_COST

# ``tuple.__new__(Record, (fields...))`` is what a NamedTuple's generated ``__new__`` runs, minus
# one Python frame: about 200 ns less per record, a quarter of the per-move cost of the hot
# path (bench/valuation.py). Used only in the hot path below, with fields in declaration
# order; the property tests pin every field of the pools and postings it builds.
_new = tuple.__new__

# What taking units from layers gives: the layers left, the units taken, their value, and the
# quantity that was not there (issued beyond stock).
_Taken = tuple[tuple[Layer, ...], tuple[LayerTake, ...], Decimal, int]


def apply_move(pool: CostPool, move: Move) -> tuple[CostPool, Posting]:
    """Book ``move`` on ``pool``: the pool after it and what it did. Pure; ``pool`` is unchanged."""
    if move.sku != pool.sku or move.warehouse != pool.warehouse or move.currency != pool.currency:
        raise InvalidMove(
            f"move {move.id} ({move.sku}@{move.warehouse}, {move.currency}) does not belong to pool "
            f"{pool.sku}@{pool.warehouse} ({pool.currency})"
        )
    kind = move.kind
    if kind is _ISSUE:  # most moves: skip the table
        return _outgoing(pool, move)
    return _HANDLERS[kind](pool, move)


def replay(moves: Iterable[Move], start: CostPool) -> tuple[CostPool, list[Posting]]:
    """Re-post ``moves`` (sorted here by ``sort_key``) from ``start``.

    For a backdated move: ``start`` is the pool just before the earliest affected move and
    ``moves`` are that move and every later move of the same pool; earlier postings stand.
    """
    pools = {(start.sku, start.warehouse): start}
    postings = [posting for _, posting in post_linked(sorted(moves, key=sort_key), pools, _no_new_pool)]
    return pools[start.sku, start.warehouse], postings


def _no_new_pool(move: Move) -> CostPool:
    raise InvalidMove(f"move {move.id} does not belong to the pool being replayed")


_LINKED_KINDS = (MoveKind.CUSTOMER_RETURN, MoveKind.TRANSFER_IN)


def post_linked(
    ordered: Sequence[Move],
    pools: dict[tuple[str, str], CostPool],
    new_pool: Callable[[Move], CostPool],
) -> Iterator[tuple[CostPool, Posting]]:
    """Apply ``ordered`` (in ledger order) to ``pools``, keyed by (SKU, warehouse) and updated in
    place; ``new_pool`` gives the starting pool of a key not yet in ``pools``.

    A customer return or transfer in-leg whose issue or out-leg is also in ``ordered`` takes its
    cost from that move's posting in this run (corrected, raised by the landed costs booked on
    its receipts while the units were out, less earlier returns), not from the ``cost_of`` it
    was recorded with: when a backdated move changes what an issue consumed, its return follows.
    """
    linked = {move.related_move_id for move in ordered if move.kind in _LINKED_KINDS and move.related_move_id}
    traces: dict[str, LayerTrace] = {}
    trace_pools: dict[str, tuple[str, str]] = {}
    for move in ordered:
        key = (move.sku, move.warehouse)
        pool = pools.get(key) or new_pool(move)
        source = traces.get(move.related_move_id or "") if move.kind in _LINKED_KINDS else None
        if source is not None:
            move = dataclasses.replace(move, cost_of=source.layers())
        pool, posting = apply_move(pool, move)
        pools[key] = pool
        if move.id in linked:
            traces[move.id] = trace = LayerTrace()
            trace_pools[move.id] = key
            trace.add(posting.layers)
        if move.kind is _LANDED_COST and move.receipt_id is not None:
            for move_id, trace in traces.items():
                if trace_pools[move_id] == key:
                    trace.add_landed_cost(move.receipt_id, landed_cost_increment(move))
        for correction in posting.corrections:
            if correction.move_id in traces:
                traces[correction.move_id].correct(correction)
        if source is not None and move.kind is MoveKind.CUSTOMER_RETURN:
            source.add(posting.layers, -1)
        yield pool, posting


def revalue(
    pool: CostPool,
    method: Method,
    *,
    move_id: str,
    at: datetime,
    seq: int = 0,
    reference: str = "",
) -> tuple[CostPool, Posting]:
    """Change the pool's cost formula through an explicit, visible revaluation move.

    FIFO and LIFO share their layers, so switching between them changes only which end is
    consumed next. To AVCO: the average becomes the value per unit in stock. From AVCO: the
    open layers are restated at the average; the rounding difference is the posting's value.
    """
    move = Move(
        id=move_id,
        kind=MoveKind.REVALUATION,
        sku=pool.sku,
        warehouse=pool.warehouse,
        at=at,
        quantity=0,
        currency=pool.currency,
        method=method,
        reference=reference,
        seq=seq,
    )
    return apply_move(pool, move)


def transfer_in_move(out_move: Move, out_posting: Posting, *, move_id: str, at: datetime | None = None) -> Move:
    """The in-leg of a transfer: the out-leg's layers, at their cost, into the other warehouse."""
    if out_move.kind is not MoveKind.TRANSFER_OUT or out_move.counterpart_warehouse is None:
        raise InvalidMove(f"move {out_move.id} is not the out-leg of a transfer")
    return Move(
        id=move_id,
        kind=MoveKind.TRANSFER_IN,
        sku=out_move.sku,
        warehouse=out_move.counterpart_warehouse,
        at=out_move.at if at is None else at,
        quantity=out_move.quantity,
        currency=out_move.currency,
        cost_of=out_posting.layers,
        related_move_id=out_move.id,
        counterpart_warehouse=out_move.warehouse,
        reference=out_move.reference,
        seq=out_move.seq,
    )


def apply_transfer(
    source: CostPool, destination: CostPool, out_move: Move, *, in_move_id: str
) -> tuple[CostPool, CostPool, Posting, Posting]:
    """Both legs of a transfer at once: the out-leg at cost, the in-leg with the same layers."""
    source, out_posting = apply_move(source, out_move)
    destination, in_posting = apply_move(destination, transfer_in_move(out_move, out_posting, move_id=in_move_id))
    return source, destination, out_posting, in_posting


# --- outgoing moves ----------------------------------------------------------------------


def _take_front(layers: tuple[Layer, ...], quantity: int, average: Decimal | None) -> _Taken:
    takes: list[LayerTake] = []
    value = ZERO
    for index, layer in enumerate(layers):
        cost = layer.unit_cost if average is None else average
        have = layer.quantity
        if have > quantity:
            takes.append(_new(LayerTake, (layer.receipt_id, quantity, cost)))
            rest = _new(Layer, (layer.receipt_id, have - quantity, layer.unit_cost, layer.received_at))
            return (rest,) + layers[index + 1 :], tuple(takes), value + cost * quantity, 0
        takes.append(_new(LayerTake, (layer.receipt_id, have, cost)))
        value += cost * have
        quantity -= have
        if not quantity:
            return layers[index + 1 :], tuple(takes), value, 0
    return (), tuple(takes), value, quantity


def _take_back(layers: tuple[Layer, ...], quantity: int, average: Decimal | None) -> _Taken:
    takes: list[LayerTake] = []
    value = ZERO
    index = len(layers)
    while index:
        index -= 1
        layer = layers[index]
        cost = layer.unit_cost if average is None else average
        have = layer.quantity
        if have > quantity:
            takes.append(_new(LayerTake, (layer.receipt_id, quantity, cost)))
            rest = _new(Layer, (layer.receipt_id, have - quantity, layer.unit_cost, layer.received_at))
            return layers[:index] + (rest,), tuple(takes), value + cost * quantity, 0
        takes.append(_new(LayerTake, (layer.receipt_id, have, cost)))
        value += cost * have
        quantity -= have
        if not quantity:
            return layers[:index], tuple(takes), value, 0
    return (), tuple(takes), value, quantity


def _take_named_first(
    layers: tuple[Layer, ...], quantity: int, receipt_id: str, from_back: bool, average: Decimal | None
) -> _Taken:
    """The named receipt's layers first, then the others, each group in the method's order."""
    order = list(range(len(layers)))
    if from_back:
        order.reverse()
    order.sort(key=lambda index: layers[index].receipt_id != receipt_id)
    left = [layer.quantity for layer in layers]
    takes: list[LayerTake] = []
    value = ZERO
    for index in order:
        if not quantity:
            break
        layer = layers[index]
        cost = layer.unit_cost if average is None else average
        taken = min(quantity, layer.quantity)
        takes.append(LayerTake(layer.receipt_id, taken, cost))
        value += taken * cost
        left[index] -= taken
        quantity -= taken
    rest = tuple(
        layer if remaining == layer.quantity else layer._replace(quantity=remaining)
        for layer, remaining in zip(layers, left, strict=True)
        if remaining
    )
    return rest, tuple(takes), value, quantity


def _outgoing(pool: CostPool, move: Move) -> tuple[CostPool, Posting]:
    # One unpacking instead of nine attribute lookups (the pool is a NamedTuple).
    sku, warehouse, currency, method, pool_quantity, pool_value, unit_cost, layers, shortfalls = pool
    quantity = move.quantity
    kind = move.kind
    average = unit_cost if method is _AVCO else None
    takes: tuple[LayerTake, ...]
    # Fast path: the layer at the consuming end covers the whole move (most sales).
    lifo = method is _LIFO
    layer = (layers[-1] if lifo else layers[0]) if layers and kind is not _TO_SUPPLIER else None
    if layer is not None and layer[1] > quantity:
        receipt_id, have, layer_cost, received_at = layer
        cost = layer_cost if average is None else average
        takes = (_new(LayerTake, (receipt_id, quantity, cost)),)
        rest = (_new(Layer, (receipt_id, have - quantity, layer_cost, received_at)),)
        layers = layers[:-1] + rest if lifo else rest + layers[1:]
        value = cost * quantity
    else:
        if kind is _TO_SUPPLIER and move.receipt_id is not None:
            layers, takes, value, short = _take_named_first(layers, quantity, move.receipt_id, lifo, average)
        elif lifo:
            layers, takes, value, short = _take_back(layers, quantity, average)
        else:
            layers, takes, value, short = _take_front(layers, quantity, average)
        if average is not None and not layers and pool_quantity > 0:
            value = pool_value  # the last units out take what is left: no rounding residue stays behind
        if short:
            takes = (*takes, LayerTake(None, short, unit_cost))
            value += short * unit_cost
            shortfalls = (*shortfalls, Shortfall(move.id, kind, short, unit_cost))
    balance_quantity = pool_quantity - quantity
    balance_value = pool_value - value
    cogs = variance = ZERO
    if kind is _ISSUE:
        cogs = value
    elif kind is _ADJUSTMENT_OUT:
        variance = value
    elif kind is _TO_SUPPLIER and move.unit_cost is not None:
        variance = value - quantity * move.unit_cost
    new_pool = _new(
        CostPool,
        (sku, warehouse, currency, method, balance_quantity, balance_value, unit_cost, layers, shortfalls),
    )
    posting = _new(
        Posting, (move, method, -quantity, -value, cogs, variance, takes, (), balance_quantity, balance_value)
    )
    return new_pool, posting


# --- incoming moves ----------------------------------------------------------------------


def _incoming(pool: CostPool, move: Move, units: tuple[LayerTake, ...]) -> tuple[CostPool, Posting]:
    """Bring ``units``: first cover earlier shortfalls (each a visible correction), then open layers."""
    shortfalls = pool.shortfalls
    corrections: list[Correction] = []
    added: list[Layer] = []
    value_in = ZERO
    last_cost = pool.unit_cost
    at = move.at
    for take in units:
        receipt_id = move.id if take.receipt_id is None else take.receipt_id
        quantity = take.quantity
        cost = last_cost = take.unit_cost
        value_in += quantity * cost
        while shortfalls and quantity:
            short = shortfalls[0]
            if short.quantity <= quantity:
                fill = short.quantity
                shortfalls = shortfalls[1:]
            else:
                fill = quantity
                shortfalls = (short._replace(quantity=short.quantity - fill), *shortfalls[1:])
            amount = fill * (cost - short.unit_cost)
            corrections.append(Correction(short.move_id, short.kind, receipt_id, fill, short.unit_cost, cost, amount))
            quantity -= fill
        if quantity:
            added.append(_new(Layer, (receipt_id, quantity, cost, at)))
    issue_corrections = other_corrections = ZERO
    for correction in corrections:
        if correction.kind is _ISSUE:
            issue_corrections += correction.amount
        else:
            other_corrections += correction.amount
    value = value_in - issue_corrections - other_corrections
    balance_quantity = pool.quantity + move.quantity
    balance_value = pool.value + value
    method = pool.method
    if method is _AVCO:
        unit_cost = unit_cost_of(balance_value, balance_quantity) if balance_quantity > 0 else pool.unit_cost
    else:
        unit_cost = last_cost
    kind = move.kind
    cogs = issue_corrections
    variance = other_corrections
    if kind is _CUSTOMER_RETURN:
        cogs -= value_in
    elif kind is _ADJUSTMENT_IN:
        variance -= value_in
    layers = (*pool.layers, *added) if added else pool.layers
    new_pool = _new(
        CostPool,
        (
            pool.sku,
            pool.warehouse,
            pool.currency,
            method,
            balance_quantity,
            balance_value,
            unit_cost,
            layers,
            shortfalls,
        ),
    )
    posting = _new(
        Posting,
        (
            move,
            method,
            move.quantity,
            value,
            cogs,
            variance,
            units,
            tuple(corrections),
            balance_quantity,
            balance_value,
        ),
    )
    return new_pool, posting


def _receipt(pool: CostPool, move: Move) -> tuple[CostPool, Posting]:
    return _incoming(pool, move, (_new(LayerTake, (move.id, move.quantity, move.unit_cost)),))


def _adjustment_in(pool: CostPool, move: Move) -> tuple[CostPool, Posting]:
    cost = pool.unit_cost if move.unit_cost is None else move.unit_cost
    return _incoming(pool, move, (LayerTake(move.id, move.quantity, cost),))


def _transfer_in(pool: CostPool, move: Move) -> tuple[CostPool, Posting]:
    source = move.related_move_id or move.id
    units = tuple(take if take.receipt_id is not None else take._replace(receipt_id=source) for take in move.cost_of)
    return _incoming(pool, move, units)


def _customer_return(pool: CostPool, move: Move) -> tuple[CostPool, Posting]:
    """Back at the cost it left with: the last-consumed units of ``cost_of`` first (undoing the
    issue); units beyond ``cost_of`` come back at the last known cost."""
    needed = move.quantity
    chosen: list[LayerTake] = []
    for take in reversed(move.cost_of):
        if not needed:
            break
        quantity = min(needed, take.quantity)
        chosen.append(take if quantity == take.quantity else take._replace(quantity=quantity))
        needed -= quantity
    chosen.reverse()
    if needed:
        chosen.append(LayerTake(move.id, needed, pool.unit_cost))
    return _incoming(pool, move, tuple(chosen))


# --- landed cost and revaluation ---------------------------------------------------------


def _landed_cost(pool: CostPool, move: Move) -> tuple[CostPool, Posting]:
    """Add ``amount`` to the receipt's open units; the share of units already gone is COGS
    (Odoo's behaviour). What the open units cannot absorb - the rounding of the per-unit
    increment to six places, or a credit that would take a unit cost below zero - is variance."""
    amount = move.amount
    receipt_id = move.receipt_id
    assert amount is not None  # Move.__post_init__ requires it
    assert receipt_id is not None
    base = move.quantity
    increment = landed_cost_increment(move)
    uncovered = base
    value = ZERO
    layers: list[Layer] = []
    for layer in pool.layers:
        if layer.receipt_id != receipt_id or not uncovered:
            layers.append(layer)
            continue
        covered = min(layer.quantity, uncovered)
        cost = max(layer.unit_cost + increment, ZERO)
        value += covered * (cost - layer.unit_cost)
        layers.append(layer._replace(quantity=covered, unit_cost=cost))
        if covered < layer.quantity:
            layers.append(layer._replace(quantity=layer.quantity - covered))
        uncovered -= covered
    opened = base - uncovered
    unit_cost = pool.unit_cost
    balance_value = pool.value + value
    if pool.method is _AVCO and opened:
        value = max(opened * increment, -pool.value)  # the average carries the value: keep it >= 0
        balance_value = pool.value + value
        unit_cost = unit_cost_of(balance_value, pool.quantity)
    cogs = uncovered * increment
    variance = amount - value - cogs
    new_pool = pool._replace(value=balance_value, unit_cost=unit_cost, layers=tuple(layers))
    posting = Posting(move, pool.method, 0, value, cogs, variance, (), (), pool.quantity, balance_value)
    return new_pool, posting


def _revaluation(pool: CostPool, move: Move) -> tuple[CostPool, Posting]:
    method = move.method
    assert method is not None  # Move.__post_init__ requires it
    layers = pool.layers
    unit_cost = pool.unit_cost
    balance_value = pool.value
    if method is _AVCO and pool.method is not _AVCO:
        unit_cost = pool.average_cost
    elif pool.method is _AVCO and method is not _AVCO:
        layers = tuple(layer._replace(unit_cost=unit_cost) for layer in layers)
        balance_value = sum((layer.quantity * unit_cost for layer in layers), ZERO) - sum(
            (short.quantity * short.unit_cost for short in pool.shortfalls), ZERO
        )
    value = balance_value - pool.value
    new_pool = pool._replace(method=method, value=balance_value, unit_cost=unit_cost, layers=layers)
    posting = Posting(move, method, 0, value, ZERO, -value, (), (), pool.quantity, balance_value)
    return new_pool, posting


_HANDLERS: dict[MoveKind, Callable[[CostPool, Move], tuple[CostPool, Posting]]] = {
    MoveKind.RECEIPT: _receipt,
    MoveKind.ISSUE: _outgoing,
    MoveKind.CUSTOMER_RETURN: _customer_return,
    MoveKind.RETURN_TO_SUPPLIER: _outgoing,
    MoveKind.ADJUSTMENT_IN: _adjustment_in,
    MoveKind.ADJUSTMENT_OUT: _outgoing,
    MoveKind.TRANSFER_OUT: _outgoing,
    MoveKind.TRANSFER_IN: _transfer_in,
    MoveKind.LANDED_COST: _landed_cost,
    MoveKind.REVALUATION: _revaluation,
}
