"""The cost pool of one SKU in one warehouse: its open layers, average and negative stock.

Pool state and the records it is made of are ``NamedTuple``s rather than frozen dataclasses:
just as immutable and typed, and about four times cheaper to build on CPython 3.11, which
matters on the hot path (one new pool per move; see bench/valuation.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from app.domain.inventory.method import Method
from app.domain.inventory.move import Move, MoveKind

UNIT_COST_PLACES = 6
UNIT_COST_STEP = Decimal(1).scaleb(-UNIT_COST_PLACES)
ZERO = Decimal(0)


def unit_cost_of(value: Decimal, quantity: int) -> Decimal:
    """``value / quantity`` to six places, half up: the precision unit costs are kept at."""
    return (value / quantity).quantize(UNIT_COST_STEP, ROUND_HALF_UP)


def landed_cost_increment(move: Move) -> Decimal:
    """What a ``LANDED_COST`` move adds to each unit of its receipt: the amount over the
    receipt's booked quantity, to six places. Units still in stock carry it; units already
    gone send it to COGS, and bring it back with them if a customer returns them."""
    assert move.amount is not None  # Move.__post_init__ requires it of a landed cost
    return unit_cost_of(move.amount, move.quantity)


class Layer(NamedTuple):
    """Open units of one receipt (or of a return or transfer that brought a receipt's units back).

    Under FIFO and LIFO the layers carry the value; under AVCO they only say which receipts
    the units came from (for landed costs, supplier returns and the trace), and the pool's
    average carries the value.
    """

    receipt_id: str
    quantity: int
    unit_cost: Decimal
    received_at: datetime


class Shortfall(NamedTuple):
    """Units an outgoing move took beyond stock, provisionally valued at ``unit_cost``."""

    move_id: str
    kind: MoveKind
    quantity: int
    unit_cost: Decimal


class CostPool(NamedTuple):
    """State of one (SKU, warehouse) pool after the moves applied so far.

    Invariants: positive ``quantity`` means open ``layers`` summing to it and no shortfalls;
    negative ``quantity`` means ``shortfalls`` summing to its opposite and no layers; zero
    means neither, and a zero value. Under FIFO and LIFO ``value`` equals the layers' value
    less the shortfalls' value.

    ``unit_cost`` is the weighted average under AVCO (changed only by incoming moves); under
    FIFO and LIFO it is the last known cost (of the latest incoming units), which values an
    issue beyond stock.
    """

    sku: str
    warehouse: str
    currency: str
    method: Method
    quantity: int
    value: Decimal
    unit_cost: Decimal
    layers: tuple[Layer, ...]
    shortfalls: tuple[Shortfall, ...]

    @property
    def average_cost(self) -> Decimal:
        """The unit cost to show: the average under AVCO; under FIFO and LIFO the value per unit
        in stock (six places), or the last known cost when nothing is in stock."""
        if self.quantity > 0 and self.method is not Method.AVCO:
            return unit_cost_of(self.value, self.quantity)
        return self.unit_cost


def next_unit_cost(pool: CostPool) -> Decimal:
    """What the pool's next unit out would cost: the oldest layer's under FIFO, the newest's
    under LIFO, the average under AVCO, and the last known cost when nothing is in stock."""
    if not pool.layers or pool.method is Method.AVCO:
        return pool.unit_cost
    return pool.layers[-1 if pool.method is Method.LIFO else 0].unit_cost


def empty_pool(
    sku: str,
    warehouse: str,
    currency: str,
    method: Method = Method.FIFO,
    *,
    unit_cost: Decimal = ZERO,
) -> CostPool:
    """A pool with nothing in it; ``unit_cost`` seeds the last known cost (for example Saleor's
    variant cost price) used if the first move is an issue."""
    return CostPool(sku, warehouse, currency, method, 0, ZERO, unit_cost, (), ())
