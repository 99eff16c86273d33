"""The costing section of a store's settings: the cost method, overridable per product type."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.domain.inventory import CostingPolicy, Method
from app.services.fraud_settings import TEXTAREA

METHOD_NAMES = ", ".join(method.value for method in Method)


def _method(text: str, where: str) -> Method:
    try:
        return Method(text.strip().lower())
    except ValueError as exc:
        raise ValueError(f"{where}{text.strip()!r} is not a cost method; write one of {METHOD_NAMES}") from exc


def _overrides(text: str) -> dict[str, Method]:
    """``Product type name: method`` per line → {product type: method}."""
    overrides: dict[str, Method] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        product_type, colon, method = line.rpartition(":")
        if not colon or not product_type.strip():
            raise ValueError(f"line {number}: write 'Product type: method', e.g. 'Perishables: fifo'")
        overrides[product_type.strip()] = _method(method, f"line {number}: ")
    return overrides


class CostingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str = Field(
        default=Method.FIFO.value,
        title="Cost method",
        description=(
            "How goods sold are costed: fifo (first in, first out), lifo (last in, first out) or avco "
            "(weighted average). Changing it revalues the stock with a visible move; past COGS stay as booked."
        ),
    )
    product_type_methods: str = Field(
        default="",
        title="Per product type",
        description=(
            "One 'Product type: method' per line, for product types costed differently, e.g. 'Perishables: fifo'."
        ),
        json_schema_extra=TEXTAREA,
    )

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        return _method(value, "").value

    @field_validator("product_type_methods")
    @classmethod
    def _valid_overrides(cls, value: str) -> str:
        _overrides(value)
        return value

    def policy(self) -> CostingPolicy:
        return CostingPolicy(Method(self.method), _overrides(self.product_type_methods))

    def notices(self) -> tuple[str, ...]:
        """LIFO's IFRS warning, whenever the method or a product type's is LIFO."""
        return self.policy().notices()
