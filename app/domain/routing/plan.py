"""A routing plan: the shipments chosen, why, and DESIGN.md's ``ops.routing`` v1 shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.domain.money import Money
from app.domain.routing.model import OrderLine, OriginQuote, Source, Units


class Search(StrEnum):
    EXACT = "exact"
    HEURISTIC = "heuristic"
    NONE = "none"  # an allocation made elsewhere (Saleor's), priced as plans are (``planner.price_allocation``)


@dataclass(frozen=True, slots=True)
class PlannedShipment:
    """One source's share of the order, priced: shipping per the quote, the 3PL's pick-and-pack ``fees``
    and the ``goods`` (the supplier's price, or the in-house unit cost for the merchant's own stock)."""

    source: Source
    units: tuple[Units, ...]
    quote: OriginQuote
    fees: Money
    goods: Money

    @property
    def landed_cost(self) -> Money:
        return self.quote.shipping + self.fees + self.goods


def _metadata(plan: list[dict[str, object]], shipments: int, explanation: tuple[str, ...]) -> dict[str, object]:
    return {"v": 1, "plan": plan, "shipments": shipments, "explanation": list(explanation)}


@dataclass(frozen=True, slots=True)
class Plan:
    """Shipments in the merchant's source order; ``explanation`` starts with the plan's summary, then one
    entry per order line."""

    lines: tuple[OrderLine, ...]
    shipments: tuple[PlannedShipment, ...]
    promised_by: date
    search: Search
    explanation: tuple[str, ...]

    @property
    def latest_arrival(self) -> date:
        return max(shipment.quote.arrives for shipment in self.shipments)

    @property
    def meets_promise(self) -> bool:
        return self.latest_arrival <= self.promised_by

    @property
    def landed_cost(self) -> Money:
        first, *rest = (shipment.landed_cost for shipment in self.shipments)
        return sum(rest, first)

    def units_by_line(self) -> dict[str, list[tuple[Source, int]]]:
        """Per line id, the sources shipping it and how many units each."""
        by_line: dict[str, list[tuple[Source, int]]] = {}
        for shipment in self.shipments:
            for units in shipment.units:
                by_line.setdefault(units.line.id, []).append((shipment.source, units.quantity))
        return by_line

    def to_metadata(self) -> dict[str, object]:
        """``ops.routing`` v1: one plan entry per line and source, lines in order."""
        by_line = self.units_by_line()
        entries = [(line, source, quantity) for line in self.lines for source, quantity in by_line[line.id]]
        return _metadata(
            [
                {
                    "lineId": line.id,
                    "sku": line.sku,
                    "quantity": quantity,
                    "source": {"kind": source.kind.value, "id": source.id, "name": source.name},
                }
                for line, source, quantity in entries
            ],
            len(self.shipments),
            self.explanation,
        )


@dataclass(frozen=True, slots=True)
class Unroutable:
    """No plan ships the whole order: the sources lack stock for a line, or none can reach the destination."""

    explanation: tuple[str, ...]

    def to_metadata(self) -> dict[str, object]:
        return _metadata([], 0, self.explanation)
