"""Cost formulas (FIFO, LIFO, weighted average) and which one a product type uses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

LIFO_NOTICE = (
    "LIFO is not allowed by IFRS: IAS 2 (paragraph 25) permits only FIFO and weighted average cost, "
    "so LIFO valuation is for local GAAP (for example US GAAP) or what-if analysis only."
)


class Method(StrEnum):
    FIFO = "fifo"
    LIFO = "lifo"
    AVCO = "avco"

    @property
    def ifrs_allowed(self) -> bool:
        return self is not Method.LIFO

    @property
    def ifrs_notice(self) -> str | None:
        """What to show next to the choice; ``None`` when IFRS allows the method."""
        return None if self.ifrs_allowed else LIFO_NOTICE


@dataclass(frozen=True, slots=True)
class CostingPolicy:
    """The installation's method (FIFO unless chosen otherwise), overridable per product type."""

    default: Method = Method.FIFO
    by_product_type: Mapping[str, Method] = field(default_factory=dict)

    def method_for(self, product_type: str | None) -> Method:
        if product_type is None:
            return self.default
        return self.by_product_type.get(product_type, self.default)

    def notices(self) -> tuple[str, ...]:
        """The IFRS notice once if any product type (or the default) is valued under LIFO."""
        methods = {self.default, *self.by_product_type.values()}
        return tuple(notice for method in sorted(methods) if (notice := method.ifrs_notice) is not None)

    def changes(self, new: CostingPolicy, product_types: Iterable[str]) -> dict[str, tuple[Method, Method]]:
        """Product types whose method differs under ``new``: each of their pools needs a revaluation move."""
        changed: dict[str, tuple[Method, Method]] = {}
        for product_type in product_types:
            before, after = self.method_for(product_type), new.method_for(product_type)
            if before is not after:
                changed[product_type] = (before, after)
        return changed
