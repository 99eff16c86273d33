"""The append-only ledger's moves, their kinds and their deterministic order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from app.domain.inventory.method import Method


class InvalidMove(ValueError):
    """A move that cannot be booked as given (missing field, wrong pool, inconsistent quantities)."""


class MoveKind(StrEnum):
    RECEIPT = "receipt"
    ISSUE = "issue"
    CUSTOMER_RETURN = "customer_return"
    RETURN_TO_SUPPLIER = "return_to_supplier"
    ADJUSTMENT_IN = "adjustment_in"
    ADJUSTMENT_OUT = "adjustment_out"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    LANDED_COST = "landed_cost"
    REVALUATION = "revaluation"

    @property
    def incoming(self) -> bool:
        return self in _INCOMING

    @property
    def outgoing(self) -> bool:
        return self in _OUTGOING


_INCOMING = frozenset(
    {MoveKind.RECEIPT, MoveKind.CUSTOMER_RETURN, MoveKind.ADJUSTMENT_IN, MoveKind.TRANSFER_IN},
)
_OUTGOING = frozenset(
    {MoveKind.ISSUE, MoveKind.RETURN_TO_SUPPLIER, MoveKind.ADJUSTMENT_OUT, MoveKind.TRANSFER_OUT},
)
# Moves that say the store keeps a pool's stock in the ledger: goods received, counted or moved in. A
# customer return only brings back what left; a pool with none of these is valued from Saleor's cost price.
STOCKING_KINDS = frozenset({MoveKind.RECEIPT, MoveKind.ADJUSTMENT_IN, MoveKind.TRANSFER_IN})

# Order of moves at the same instant: a method change first (it governs the instant), count
# gains before other incoming moves (bigcapital's rule), receipts and returns before anything
# leaves, landed costs once their receipt is in, a transfer's out-leg before its in-leg (so the
# in-leg can take the layers the out-leg produced), and sales last.
PHASE: dict[MoveKind, int] = {
    MoveKind.REVALUATION: 0,
    MoveKind.ADJUSTMENT_IN: 1,
    MoveKind.RECEIPT: 2,
    MoveKind.CUSTOMER_RETURN: 3,
    MoveKind.LANDED_COST: 4,
    MoveKind.TRANSFER_OUT: 5,
    MoveKind.TRANSFER_IN: 6,
    MoveKind.RETURN_TO_SUPPLIER: 7,
    MoveKind.ADJUSTMENT_OUT: 8,
    MoveKind.ISSUE: 9,
}


class LayerTake(NamedTuple):
    """Units of one layer that a move took or brought: the per-line trace ("2 from PO-17 @ 10").

    ``receipt_id`` is ``None`` for units issued beyond stock, valued provisionally at the last
    known cost until a later incoming move corrects them.
    """

    receipt_id: str | None
    quantity: int
    unit_cost: Decimal


@dataclass(frozen=True, slots=True)
class Move:
    """One ledger entry of one pool (SKU and warehouse).

    Quantities are positive ``int`` units (Saleor counts stock and order lines in whole units);
    the direction comes from ``kind``. Unit costs and amounts are ``Decimal`` in ``currency``.

    Per kind:

    - ``RECEIPT``: ``unit_cost`` required; its layers are identified by this move's ``id``.
    - ``ISSUE``: goods leave for a sale (one fulfillment line); ``reference`` is the order line.
    - ``CUSTOMER_RETURN``: ``cost_of`` holds the layers the original issue used (its posting's
      ``layers``, corrected); ``related_move_id`` names that issue. Units beyond ``cost_of`` come
      back at the pool's last known cost.
    - ``RETURN_TO_SUPPLIER``: ``receipt_id`` names the receipt; ``unit_cost`` is the supplier's
      credit per unit when known (the difference to the inventory value is a price difference).
    - ``ADJUSTMENT_IN`` / ``ADJUSTMENT_OUT``: count corrections and write-offs; ``unit_cost`` on a
      gain is optional (default: the pool's last known cost or average).
    - ``TRANSFER_OUT`` / ``TRANSFER_IN``: ``counterpart_warehouse`` is the other side; the in-leg's
      ``cost_of`` is the out-leg posting's ``layers`` and ``related_move_id`` the out-leg's id.
    - ``LANDED_COST``: ``amount`` added to receipt ``receipt_id``, whose booked quantity in this
      pool is ``quantity`` (the base the amount is spread over).
    - ``REVALUATION``: ``method`` is the new cost formula; ``quantity`` is 0.
    """

    id: str
    kind: MoveKind
    sku: str
    warehouse: str
    at: datetime
    quantity: int
    currency: str
    unit_cost: Decimal | None = None
    amount: Decimal | None = None
    receipt_id: str | None = None
    cost_of: tuple[LayerTake, ...] = ()
    related_move_id: str | None = None
    counterpart_warehouse: str | None = None
    method: Method | None = None
    reference: str = ""
    seq: int = 0

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidMove("a move needs an id")
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise InvalidMove(f"move {self.id}: 'at' must be timezone-aware")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise InvalidMove(f"move {self.id}: currency must be an upper-case ISO 4217 code")
        if type(self.quantity) is not int:
            raise InvalidMove(f"move {self.id}: quantity must be an int")
        if self.kind is MoveKind.REVALUATION:
            if self.quantity != 0 or self.method is None:
                raise InvalidMove(f"move {self.id}: a revaluation names a method and moves no quantity")
        elif self.quantity <= 0:
            raise InvalidMove(f"move {self.id}: quantity must be positive; the kind gives the direction")
        for name, number in (("unit_cost", self.unit_cost), ("amount", self.amount)):
            if number is not None and (not isinstance(number, Decimal) or not number.is_finite()):
                raise InvalidMove(f"move {self.id}: {name} must be a finite Decimal")
        if self.unit_cost is not None and self.unit_cost < 0:
            raise InvalidMove(f"move {self.id}: unit_cost must not be negative")
        self._check_kind()

    def _check_kind(self) -> None:
        kind = self.kind
        if kind is MoveKind.RECEIPT and self.unit_cost is None:
            raise InvalidMove(f"receipt {self.id} needs a unit_cost")
        if kind in (MoveKind.RETURN_TO_SUPPLIER, MoveKind.LANDED_COST) and not self.receipt_id:
            raise InvalidMove(f"{kind} {self.id} must name the receipt")
        if kind is MoveKind.LANDED_COST and self.amount is None:
            raise InvalidMove(f"landed cost {self.id} needs an amount")
        if kind in (MoveKind.TRANSFER_OUT, MoveKind.TRANSFER_IN) and not self.counterpart_warehouse:
            raise InvalidMove(f"transfer {self.id} must name the other warehouse")
        if kind is MoveKind.TRANSFER_IN and sum(take.quantity for take in self.cost_of) != self.quantity:
            raise InvalidMove(f"transfer {self.id}: cost_of must cover exactly the quantity moved")
        if any(take.quantity <= 0 or take.unit_cost < 0 for take in self.cost_of):
            raise InvalidMove(f"move {self.id}: cost_of entries need a positive quantity and a cost")


def sort_key(move: Move) -> tuple[datetime, int, int, str]:
    """Deterministic replay order: time, then the kind's phase (receipts before issues), then
    the ledger sequence number, then the id."""
    return (move.at, PHASE[move.kind], move.seq, move.id)
