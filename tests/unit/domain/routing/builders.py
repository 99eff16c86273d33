"""Keyword-only builders for the routing tests: sources and a quoter whose rates rise with units."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from app.domain.money import Money
from app.domain.routing.model import (
    OrderLine,
    OriginQuote,
    PickPackFees,
    Quoter,
    Shipment,
    Source,
    SourceKind,
    SupplierItem,
)
from app.domain.routing.plan import Plan, Unroutable
from app.domain.routing.planner import route

D = Decimal
TODAY = date(2026, 12, 3)
PROMISED = date(2026, 12, 8)


def usd(amount: str | int) -> Money:
    return Money(D(amount), "USD")


def in_house(source_id: str, *, stock: Mapping[str, int], priority: int = 0, name: str | None = None) -> Source:
    return Source(source_id, name or source_id, SourceKind.IN_HOUSE, dict(stock), priority)


def third_party(
    source_id: str,
    *,
    stock: Mapping[str, int],
    per_order: str = "0",
    per_unit: str = "0",
    priority: int = 0,
    name: str | None = None,
) -> Source:
    return Source(
        source_id,
        name or source_id,
        SourceKind.THIRD_PARTY,
        dict(stock),
        priority,
        fees=PickPackFees(usd(per_order), usd(per_unit)),
        acceptance_window=timedelta(hours=4),
    )


def supplier(
    source_id: str,
    *,
    stock: Mapping[str, int],
    prices: Mapping[str, str],
    handling_days: int = 0,
    priority: int = 0,
    name: str | None = None,
) -> Source:
    return Source(
        source_id,
        name or source_id,
        SourceKind.DROPSHIP,
        dict(stock),
        priority,
        catalogue={sku: SupplierItem(usd(price), handling_days) for sku, price in prices.items()},
        acceptance_window=timedelta(hours=24),
    )


@dataclass(frozen=True)
class Rate:
    """From one origin: ``base`` per shipment plus ``per_unit``, arriving ``days`` after today plus a
    supplier's handling days."""

    base: str = "5.00"
    per_unit: str = "0"
    days: int = 2


def rates(table: Mapping[str, Rate | None], *, default: Rate | None = Rate()) -> Quoter:
    """A quoter from a rate per source id; a source whose rate is None (or missing, without a default)
    cannot ship."""

    def quote(shipment: Shipment) -> OriginQuote | None:
        rate = table.get(shipment.source.id, default)
        if rate is None:
            return None
        shipping = usd(rate.base) + Money(D(rate.per_unit) * shipment.unit_count, "USD")
        return OriginQuote(shipping, TODAY + timedelta(days=rate.days + shipment.handling_days))

    return quote


def plan(
    lines: list[OrderLine],
    sources: list[Source],
    table: Mapping[str, Rate | None] | None = None,
    *,
    default: Rate | None = Rate(),
    unit_costs: Mapping[str, str] | None = None,
    excluded: Mapping[str, str] | None = None,
) -> Plan | Unroutable:
    quoter = rates(table or {}, default=default)
    return route(
        lines,
        sources,
        quoter,
        promised_by=PROMISED,
        planned_on=TODAY,
        currency="USD",
        unit_costs={sku: usd(cost) for sku, cost in (unit_costs or {}).items()},
        excluded=excluded,
    )


def routed(result: Plan | Unroutable) -> Plan:
    assert isinstance(result, Plan), result.explanation
    return result


def sources_by_line(result: Plan | Unroutable) -> dict[str, list[tuple[str, int]]]:
    return {
        line: [(source.id, quantity) for source, quantity in units]
        for line, units in routed(result).units_by_line().items()
    }
