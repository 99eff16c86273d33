"""Shipping's shared vocabulary: service levels and the days a shipment may arrive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Level(StrEnum):
    """What the shopper buys: how fast, not which carrier (DESIGN.md's ``ops.shipping`` levels)."""

    STANDARD = "standard"
    EXPEDITED = "expedited"
    OVERNIGHT = "overnight"


@dataclass(frozen=True, slots=True)
class DeliveryWindow:
    """The first and the last day a shipment is expected to arrive, both inclusive."""

    earliest: date
    latest: date

    def __post_init__(self) -> None:
        if self.latest < self.earliest:
            raise ValueError(f"a delivery window cannot end ({self.latest}) before it starts ({self.earliest})")


class InvalidSetting(ValueError):
    """A shipping setting, table entry or rule that cannot be used; ``field`` names it so that a settings
    form or an importer's column can point at it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
