"""Pure builders of the Shipping → Rate tables page's context: no I/O, tested without HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from babel import Locale

from app.dashboard.inventory.report_views import money
from app.domain.shipping.rates import RateTable, Service, Zone
from app.services.input_problems import InputProblem
from app.services.ports import WarehouseRef
from app.services.shipping.tables import format_areas, format_weekdays

FRAGMENTS = "/api/dashboard/fragments/shipping"
ACTIONS = "/api/dashboard/shipping"
# The Shipping page's tabs; each is a fragment under FRAGMENTS.
TABS = {
    "rate-tables": "Rate tables",
    "carrier-accounts": "Carrier accounts",
    "rate-tester": "Rate tester",
    # The shipping settings' forms (shipping_settings.py)
    "warehouses": "Warehouses",
    "channels": "Channels & promises",
    "boxes": "Boxes & sizes",
    "rules": "Rules",
}


@dataclass(frozen=True, slots=True)
class ZoneRow:
    name: str
    areas: str
    transit: str
    prices: str


@dataclass(frozen=True, slots=True)
class ServiceRow:
    carrier: str
    service: str
    level: str
    delivery_days: str
    surcharges: str
    zones: tuple[ZoneRow, ...]
    edit: str  # the edit form's fragment


@dataclass(frozen=True, slots=True)
class WarehouseTables:
    id: str
    name: str
    currency: str
    divisors: str
    services: tuple[ServiceRow, ...]
    add: str  # the new service form's fragment


def edit_link(warehouse_id: str, service: Service | None = None) -> str:
    query = {"warehouse": warehouse_id}
    if service is not None:
        query |= {"carrier": service.carrier, "service": service.service}
    return f"{FRAGMENTS}/rate-tables/service?{urlencode(query)}"


def _transit(zone: Zone) -> str:
    low, high = zone.transit.days_min, zone.transit.days_max
    days = str(low) if low == high else f"{low}–{high}"
    return f"{days} business day{'' if high == 1 else 's'}"


def _prices(zone: Zone, currency: str, locale: Locale) -> str:
    brackets = [f"≤ {b.up_to_kg} kg {money(b.price, currency, locale)}" for b in zone.brackets]
    if zone.per_kg_beyond is not None:
        brackets.append(f"then {money(zone.per_kg_beyond, currency, locale)} per kg")
    return ", ".join(brackets)


def _surcharges(service: Service, currency: str, locale: Locale) -> str:
    charges = service.surcharges
    parts = []
    if charges.fuel_pct:
        parts.append(f"fuel {charges.fuel_pct}%")
    if charges.residential:
        parts.append(f"residential {money(charges.residential, currency, locale)}")
    if charges.remote_area:
        parts.append(
            f"remote areas {money(charges.remote_area, currency, locale)} ({format_areas(charges.remote_areas)})"
        )
    if charges.oversize:
        limits = [
            f"longest side > {charges.oversize_longest_side_cm} cm" if charges.oversize_longest_side_cm else "",
            f"length + girth > {charges.oversize_length_plus_girth_cm} cm"
            if charges.oversize_length_plus_girth_cm
            else "",
        ]
        parts.append(f"oversize {money(charges.oversize, currency, locale)} ({' or '.join(filter(None, limits))})")
    return "; ".join(parts) or "none"


def warehouse_tables(
    tables: Sequence[RateTable], warehouses: Sequence[WarehouseRef] | None, locale: Locale
) -> list[WarehouseTables]:
    """Every table, by warehouse, then the store's warehouses that have none yet."""
    names = {w.id: w.name for w in warehouses or ()}
    shown = [
        WarehouseTables(
            id=table.warehouse_id,
            name=names.get(table.warehouse_id, table.warehouse_id),
            currency=table.currency,
            divisors=", ".join(f"{carrier} {divisor} cm³/kg" for carrier, divisor in table.dim_divisors.items())
            or "none (actual weight)",
            services=tuple(
                ServiceRow(
                    carrier=s.carrier,
                    service=s.service,
                    level=s.level.value,
                    delivery_days=format_weekdays(s.delivery_weekdays),
                    surcharges=_surcharges(s, table.currency, locale),
                    zones=tuple(
                        ZoneRow(z.name, format_areas(z.areas), _transit(z), _prices(z, table.currency, locale))
                        for z in s.zones
                    ),
                    edit=edit_link(table.warehouse_id, s),
                )
                for s in table.services
            ),
            add=edit_link(table.warehouse_id),
        )
        for table in tables
    ]
    with_tables = {table.warehouse_id for table in tables}
    shown.extend(
        WarehouseTables(w.id, w.name, "", "", (), edit_link(w.id)) for w in warehouses or () if w.id not in with_tables
    )
    return shown


def problem_rows(problems: Sequence[InputProblem]) -> list[dict[str, str]]:
    return [
        {
            "row": "" if p.row is None else str(p.row),
            "column": p.column or "",
            "value": p.value,
            "message": p.message if p.row is not None or p.column else f"The file {p.message}",
        }
        for p in problems
    ]


def field_errors(problems: Sequence[InputProblem]) -> tuple[dict[str, str], list[str]]:
    """A service form's refusals: by field, and the zone rows' as lines ("line 3, price: …")."""
    by_field: dict[str, str] = {}
    zone_lines: list[str] = []
    for problem in problems:
        if problem.row is None and problem.column and problem.column != "zones":
            by_field.setdefault(problem.column, problem.message)
        else:
            where = ", ".join(
                part
                for part in (
                    f"line {problem.row}" if problem.row is not None else "",
                    problem.column if problem.column != "zones" else "",
                )
                if part
            )
            value = f" {problem.value!r}" if problem.value else ""
            zone_lines.append(f"{where}:{value} {problem.message}" if where else problem.message)
    return by_field, zone_lines


def warehouse_aliases(warehouses: Sequence[WarehouseRef]) -> Mapping[str, str]:
    """What a file may call a warehouse: its ID or its slug (any case)."""
    aliases = {w.slug.lower(): w.id for w in warehouses}
    aliases.update({w.id: w.id for w in warehouses})
    return aliases
