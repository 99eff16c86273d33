"""Accumulating the layers behind an issue or an order line."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from app.domain.inventory.move import LayerTake
from app.domain.inventory.posting import Correction

_ZERO = Decimal(0)


class LayerTrace:
    """Net units by (receipt, unit cost), in first-seen order: the layers behind an order line
    or an issue, as corrections and returns arrive. Mutable, so use it inside one function."""

    __slots__ = ("_units",)

    def __init__(self) -> None:
        self._units: dict[tuple[str | None, Decimal], int] = {}

    def add(self, takes: Iterable[LayerTake], sign: int = 1) -> None:
        for take in takes:
            key = (take.receipt_id, take.unit_cost)
            self._units[key] = self._units.get(key, 0) + sign * take.quantity

    def correct(self, correction: Correction) -> None:
        """Provisional units (issued beyond stock) become units of the receipt that covered them."""
        self.add((LayerTake(None, correction.quantity, correction.provisional_unit_cost),), -1)
        self.add((LayerTake(correction.receipt_id, correction.quantity, correction.unit_cost),))

    def add_landed_cost(self, receipt_id: str, increment: Decimal) -> Decimal:
        """A landed cost on ``receipt_id`` booked while these units were out: each of them cost
        ``increment`` more (never below zero, as for units in stock), and comes back at that.
        What it added to their cost."""
        units: dict[tuple[str | None, Decimal], int] = {}
        added = _ZERO
        for (receipt, cost), quantity in self._units.items():
            key = (receipt, cost)
            if receipt == receipt_id and quantity > 0:
                key = (receipt, max(cost + increment, _ZERO))
                added += quantity * (key[1] - cost)
            units[key] = units.get(key, 0) + quantity
        self._units = units
        return added

    def layers(self) -> tuple[LayerTake, ...]:
        return tuple(
            LayerTake(receipt_id, quantity, cost)
            for (receipt_id, cost), quantity in self._units.items()
            if quantity > 0
        )
