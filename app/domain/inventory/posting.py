"""What applying one move did to its pool: the record reports and ``ops.cogs`` are built from."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from app.domain.inventory.method import Method
from app.domain.inventory.move import LayerTake, Move, MoveKind


class Correction(NamedTuple):
    """An incoming move covering units an earlier outgoing move took beyond stock.

    ``amount = quantity * (unit_cost - provisional_unit_cost)`` is booked to COGS when the
    corrected move was an issue, otherwise to ``variance``.
    """

    move_id: str
    kind: MoveKind
    receipt_id: str
    quantity: int
    provisional_unit_cost: Decimal
    unit_cost: Decimal
    amount: Decimal


class Posting(NamedTuple):
    """The effect of one move, as a balanced entry.

    - ``quantity`` and ``value``: the change of the pool's stock and inventory value.
    - ``cogs``: cost of goods sold (issues, their negative-stock corrections, landed cost on
      units already gone); negative for customer returns.
    - ``variance``: other profit and loss: write-offs and count gains, supplier price
      differences, revaluation, rounding, corrections of moves other than issues.
    - ``counterpart`` (``value + cogs + variance``): the amount against the move's own clearing
      account: purchases for receipts, the supplier's credit (negative) for returns to the
      supplier, goods in transit for transfers, the landed-cost accrual; zero otherwise.
    - ``layers``: the units an outgoing move took, by layer (the per-line trace), or the
      units an incoming move brought; ``corrections``: the negative-stock corrections an
      incoming move produced.
    - ``balance_quantity`` and ``balance_value``: the pool after the move.
    """

    move: Move
    method: Method
    quantity: int
    value: Decimal
    cogs: Decimal
    variance: Decimal
    layers: tuple[LayerTake, ...]
    corrections: tuple[Correction, ...]
    balance_quantity: int
    balance_value: Decimal

    @property
    def counterpart(self) -> Decimal:
        return self.value + self.cogs + self.variance

    @property
    def shortage(self) -> int:
        """Units this outgoing move took beyond stock (valued provisionally)."""
        if not self.move.kind.outgoing:
            return 0
        return sum(take.quantity for take in self.layers if take.receipt_id is None)

    @property
    def at(self) -> datetime:
        return self.move.at
