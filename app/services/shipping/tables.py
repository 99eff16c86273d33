"""Rate tables as merchants keep them in a spreadsheet: one CSV row per weight bracket.

Each row repeats its warehouse, service and zone, so a file sorts and filters like any price list.
What belongs to a table (its currency), a carrier (its dimensional divisor), a service (level,
delivery days, surcharges) or a zone (areas, transit, price per kg beyond) must then be the same on
every row that repeats it; a row that says otherwise is named with the row it disagrees with.

Pure: the text comes in as lines, the tables go out as ``app.domain.shipping.rates`` values. A file
is taken whole or not at all: every problem is listed with its row (the header is row 1) and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import list_currencies

from app.domain.shipping.calendar import MON_FRI
from app.domain.shipping.model import InvalidSetting, Level
from app.domain.shipping.promise import Transit
from app.domain.shipping.rates import (
    Area,
    PostalRange,
    RateTable,
    RateTableError,
    Service,
    Surcharges,
    WeightBracket,
    Zone,
)
from app.services.input_problems import InputProblem, header_problems, shown

CARRIER_COLUMNS = ("dim_divisor",)
SERVICE_COLUMNS = (
    "level",
    "delivery_days",
    "fuel_pct",
    "residential",
    "remote_area",
    "remote_areas",
    "oversize",
    "oversize_longest_side_cm",
    "oversize_length_plus_girth_cm",
)
ZONE_COLUMNS = ("zone", "areas", "transit_days_min", "transit_days_max", "per_kg_beyond")
BRACKET_COLUMNS = ("up_to_kg", "price")
COLUMNS = (
    "warehouse",
    "carrier",
    "service",
    "currency",
    *CARRIER_COLUMNS,
    *SERVICE_COLUMNS,
    *ZONE_COLUMNS,
    *BRACKET_COLUMNS,
)
# Left out, a column takes the model's default: no divisor, Mon–Fri, no surcharge, no price beyond.
OPTIONAL_COLUMNS = frozenset(CARRIER_COLUMNS + SERVICE_COLUMNS[1:] + ("per_kg_beyond",))
ISO_CURRENCIES = frozenset(list_currencies())
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
AREA_SEPARATOR, CODE_SEPARATOR, RANGE_SEPARATOR = ";", ",", ".."
# What a spreadsheet runs as a formula when a cell starts with it (OWASP's CSV injection advice):
# names are refused with it, so that a downloaded file never carries one.
_FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True, slots=True)
class TablesRejected:
    """Nothing can be stored: every problem found."""

    problems: tuple[InputProblem, ...]


# ---------------------------------------------------------------- cells


def format_areas(areas: Iterable[Area]) -> str:
    """``US:750,760..799;CA``: areas split by ``;``, a country's prefixes and ranges after a colon."""
    written = []
    for area in areas:
        codes = [*area.postal_prefixes, *(f"{r.first}{RANGE_SEPARATOR}{r.last}" for r in area.postal_ranges)]
        written.append(f"{area.country}:{CODE_SEPARATOR.join(codes)}" if codes else area.country)
    return AREA_SEPARATOR.join(written)


def parse_areas(text: str) -> tuple[Area, ...]:
    """The areas a cell names; raises ``RateTableError`` saying which one is wrong."""
    areas = []
    for part in text.split(AREA_SEPARATOR):
        if not part.strip():
            continue
        country, _, codes = part.partition(":")
        prefixes: list[str] = []
        ranges: list[PostalRange] = []
        for code in codes.split(CODE_SEPARATOR) if codes.strip() else ():
            first, dots, last = code.partition(RANGE_SEPARATOR)
            if dots:
                ranges.append(PostalRange(first, last))
            else:
                prefixes.append(code)
        areas.append(Area(country.strip().upper(), tuple(prefixes), tuple(ranges)))
    return tuple(areas)


def format_weekdays(days: frozenset[int]) -> str:
    """``Mon-Fri``, ``Mon-Sat`` or ``Mon,Wed,Fri``: runs of three or more days as a span."""
    spans: list[list[int]] = []
    for day in sorted(days):
        if spans and spans[-1][-1] == day - 1:
            spans[-1].append(day)
        else:
            spans.append([day])
    parts = []
    for span in spans:
        if len(span) >= 3:
            parts.append(f"{WEEKDAYS[span[0]]}-{WEEKDAYS[span[-1]]}")
        else:
            parts.extend(WEEKDAYS[day] for day in span)
    return CODE_SEPARATOR.join(parts)


def parse_weekdays(text: str) -> frozenset[int] | str:
    """The weekdays a cell names, or what is wrong with it."""
    names = {name.lower(): number for number, name in enumerate(WEEKDAYS)}
    days: set[int] = set()
    for part in text.split(CODE_SEPARATOR):
        first, dash, last = (piece.strip().lower()[:3] for piece in part.partition("-"))
        if first not in names or (dash and last not in names):
            return "names days as Mon-Fri, Mon-Sat or Mon,Wed,Fri"
        start, end = names[first], names[last] if dash else names[first]
        if end < start:
            return f"{part.strip()} ends before it starts (spans run Mon to Sun)"
        days.update(range(start, end + 1))
    return frozenset(days)


# ---------------------------------------------------------------- rows read

Refuse = Callable[[str, str], None]


def _decimal(raw: Mapping[str, str], column: str, refuse: Refuse, *, required: bool = False) -> Decimal | None:
    text = raw.get(column, "").strip()
    if not text:
        if required:
            refuse(column, "is required")
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        hint = " (use a dot for decimals and no thousands separators)" if "," in text else ""
        refuse(column, f"is not a number{hint}")
        return None
    if not number.is_finite():
        refuse(column, "is not a number")
        return None
    return number


def _days(raw: Mapping[str, str], column: str, refuse: Refuse) -> int | None:
    text = raw.get(column, "").strip()
    if not text:
        refuse(column, "is required")
        return None
    if not (text.isascii() and text.isdigit()):
        refuse(column, "must be a whole number of business days, zero or more")
        return None
    return int(text)


@dataclass(slots=True)
class _Row:
    """One row's cells read into values; a column in ``bad`` could not be read (its problem is listed)."""

    number: int
    raw: Mapping[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    bad: set[str] = field(default_factory=set)

    def good(self, *columns: str) -> bool:
        return not self.bad.intersection(columns)


def _read_row(
    number: int, raw: Mapping[str, str], warehouses: Mapping[str, str] | None, problems: list[InputProblem]
) -> _Row:
    row = _Row(number, raw)
    values = row.values

    def refuse(column: str, message: str) -> None:
        if column not in row.bad:
            row.bad.add(column)
            problems.append(InputProblem(number, column, shown(raw.get(column, "")), message))

    for column in ("warehouse", "carrier", "service", "zone", "currency", "level"):
        values[column] = raw.get(column, "").strip()
        if not values[column]:
            refuse(column, "is required")
        elif values[column].startswith(_FORMULA_START):
            refuse(column, "starts like a spreadsheet formula (=, +, -, @): a downloaded file would run it")
    if values["warehouse"] and warehouses is not None:
        found = warehouses.get(values["warehouse"]) or warehouses.get(values["warehouse"].lower())
        if found is None:
            refuse("warehouse", "is not a warehouse of this store: use its slug or ID")
        values["warehouse"] = found
    values["currency"] = values["currency"].upper()
    if values["currency"] and values["currency"] not in ISO_CURRENCIES:
        refuse("currency", "is not an ISO 4217 currency code such as USD or EUR")
    level = values["level"].lower()
    values["level"] = Level(level) if level in _LEVELS else None
    if level and values["level"] is None:
        refuse("level", f"must be one of {', '.join(_LEVELS)}")

    days_text = raw.get("delivery_days", "").strip()
    days = parse_weekdays(days_text) if days_text else MON_FRI
    if isinstance(days, str):
        refuse("delivery_days", days)
    values["delivery_days"] = days
    for column in ("areas", "remote_areas"):
        try:
            values[column] = parse_areas(raw.get(column, ""))
        except RateTableError as exc:
            refuse(column, exc.reason)
    if not values.get("areas", True):
        refuse("areas", "names no destination: write a country such as US, or US:750,760..799")

    for column in ("dim_divisor", "oversize_longest_side_cm", "oversize_length_plus_girth_cm", "per_kg_beyond"):
        values[column] = _decimal(raw, column, refuse)
    for column in ("fuel_pct", "residential", "remote_area", "oversize"):
        values[column] = _decimal(raw, column, refuse) or Decimal(0)
    for column in BRACKET_COLUMNS:
        values[column] = _decimal(raw, column, refuse, required=True)
    for column in ("transit_days_min", "transit_days_max"):
        values[column] = _days(raw, column, refuse)
    if values["dim_divisor"] is not None and values["dim_divisor"] <= 0:
        refuse("dim_divisor", "must be more than zero (cm³ per kg, e.g. 5000), or left empty")
    if values["per_kg_beyond"] is not None and values["per_kg_beyond"] < 0:
        refuse("per_kg_beyond", "must be zero or more, or left empty")

    # The model's own checks on what this row says; a field it names is the column of that name.
    checks: list[tuple[tuple[str, ...], Callable[[], object]]] = [
        (_SURCHARGE_COLUMNS, lambda: _surcharges(values)),
        (BRACKET_COLUMNS, lambda: WeightBracket(values["up_to_kg"], values["price"])),
        (("transit_days_min", "transit_days_max"), lambda: _transit(values)),
    ]
    for columns, check in checks:
        if row.good(*columns):
            try:
                check()
            except InvalidSetting as exc:
                refuse(exc.field if exc.field in columns else columns[0], exc.reason)
    return row


_LEVELS = tuple(level.value for level in Level)
_SURCHARGE_COLUMNS = SERVICE_COLUMNS[2:]


def _surcharges(values: Mapping[str, Any]) -> Surcharges:
    return Surcharges(**{column: values[column] for column in _SURCHARGE_COLUMNS})


def _transit(values: Mapping[str, Any]) -> Transit:
    return Transit(values["transit_days_min"], values["transit_days_max"])


# ---------------------------------------------------------------- rows to tables


def _agree(
    rows: Sequence[_Row], keys: tuple[str, ...], columns: tuple[str, ...], what: str, problems: list[InputProblem]
) -> None:
    """Each of ``columns`` says the same on every row with the same ``keys``, as on the first such row."""
    first: dict[tuple[Any, ...], _Row] = {}
    for row in rows:
        if not row.good(*keys):
            continue
        key = tuple(row.values[column] for column in keys)
        reference = first.setdefault(key, row)
        if reference is row:
            continue
        for column in columns:
            if row.good(column) and reference.good(column) and row.values[column] != reference.values[column]:
                said = reference.raw.get(column, "").strip()
                problems.append(
                    InputProblem(
                        row.number,
                        column,
                        shown(row.raw.get(column, "")),
                        f"differs from row {reference.number} ({shown(said) or 'empty'}): "
                        f"every row of {what.format(*key)} must say the same",
                    )
                )


_SERVICE = "{0}'s {1} {2}"


def _tables(rows: Sequence[_Row], problems: list[InputProblem]) -> list[RateTable]:
    """The tables the rows make, in the order rows first name them; ``problems`` grows when they cannot."""
    _agree(rows, ("warehouse",), ("currency",), "warehouse {0}", problems)
    _agree(rows, ("warehouse", "carrier"), CARRIER_COLUMNS, "{0}'s {1} services", problems)
    _agree(rows, ("warehouse", "carrier", "service"), SERVICE_COLUMNS, _SERVICE, problems)
    zone_key = ("warehouse", "carrier", "service", "zone")
    _agree(rows, zone_key, ZONE_COLUMNS[1:], _SERVICE + " zone {3}", problems)

    zones: dict[tuple[str, ...], list[_Row]] = {}
    for row in rows:
        if row.good(*zone_key):
            zones.setdefault(tuple(row.values[column] for column in zone_key), []).append(row)
    for zone_rows in zones.values():
        for previous, row in zip(zone_rows, zone_rows[1:], strict=False):
            low, high = previous.values["up_to_kg"], row.values["up_to_kg"]
            if low is not None and high is not None and high <= low:
                problems.append(
                    InputProblem(
                        row.number,
                        "up_to_kg",
                        shown(row.raw.get("up_to_kg", "")),
                        f"must be above row {previous.number}'s {low} kg: a zone's brackets rise, lightest first",
                    )
                )
    if problems:
        return []

    by_warehouse: dict[str, dict[tuple[str, str], list[list[_Row]]]] = {}
    for (warehouse, carrier, service, _), zone_rows in zones.items():
        by_warehouse.setdefault(warehouse, {}).setdefault((carrier, service), []).append(zone_rows)
    tables = []
    for warehouse, services in by_warehouse.items():
        head = next(iter(services.values()))[0][0]
        divisors = {}
        for service_zones in services.values():
            carrier, divisor = service_zones[0][0].values["carrier"], service_zones[0][0].values["dim_divisor"]
            if divisor is not None:
                divisors[carrier] = divisor
        try:
            built = tuple(_service(service_zones) for service_zones in services.values())
            tables.append(RateTable(warehouse, head.values["currency"], built, divisors))
        except InvalidSetting as exc:  # a check of the model's that no row's own check covers
            column = exc.field.partition("[")[0]
            problems.append(InputProblem(head.number, column if column in COLUMNS else None, "", exc.reason))
    return [] if problems else tables


def _service(service_zones: Sequence[Sequence[_Row]]) -> Service:
    values = service_zones[0][0].values
    return Service(
        values["carrier"],
        values["service"],
        values["level"],
        tuple(_zone(zone_rows) for zone_rows in service_zones),
        _surcharges(values),
        values["delivery_days"],
    )


def _zone(zone_rows: Sequence[_Row]) -> Zone:
    head = zone_rows[0].values
    return Zone(
        head["zone"],
        head["areas"],
        tuple(WeightBracket(row.values["up_to_kg"], row.values["price"]) for row in zone_rows),
        _transit(head),
        head["per_kg_beyond"],
    )


# ---------------------------------------------------------------- the file


def read_rate_tables(
    lines: Iterable[str], warehouses: Mapping[str, str] | None = None
) -> list[RateTable] | TablesRejected:
    """Every table a CSV file holds, or every problem with it.

    ``lines`` are text lines with their endings (``open(..., newline="")`` or ``str.splitlines(True)``).
    The header names the columns in any order and case; optional ones may be left out. ``warehouses``
    maps what a file may call a warehouse (its slug, its ID) to its Saleor ID; without it the
    ``warehouse`` column is taken as the ID.
    """
    problems: list[InputProblem] = []
    rows: list[_Row] = []
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return TablesRejected((InputProblem(None, None, "", "is empty: the first line must name the columns"),))
        columns = [name.strip().lstrip("\ufeff").lower() for name in header]
        problems.extend(_header_problems(columns))
        if problems:
            return TablesRejected(tuple(problems))
        while True:
            number = reader.line_num + 1  # the line the row starts on, though a quoted value may span lines
            fields = next(reader, None)
            if fields is None:
                break
            if not any(value.strip() for value in fields):
                continue
            if len(fields) != len(columns):
                message = f"has {len(fields)} values but the header has {len(columns)} columns"
                problems.append(InputProblem(number, None, "", message))
                continue
            rows.append(_read_row(number, dict(zip(columns, fields, strict=True)), warehouses, problems))
    except csv.Error as exc:
        message = f"cannot be read as CSV ({exc}); nothing after it was checked"
        problems.append(InputProblem(reader.line_num, None, "", message))
    except UnicodeDecodeError:
        problems.append(InputProblem(None, None, "", "is not UTF-8 text: save it as CSV UTF-8 and upload it again"))
    tables = _tables(rows, problems)
    return TablesRejected(tuple(sorted(problems, key=_order))) if problems else tables


def _order(problem: InputProblem) -> tuple[int, int]:
    column = COLUMNS.index(problem.column) if problem.column in COLUMNS else -1
    return problem.row or 0, column


def _header_problems(columns: Sequence[str]) -> list[InputProblem]:
    required = set(COLUMNS) - set(OPTIONAL_COLUMNS)
    return header_problems(columns, known=COLUMNS, required=required, what="a rate table")


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def rate_table_rows(table: RateTable) -> Iterable[dict[str, str]]:
    """The rows of one table, one per weight bracket. A divisor for a carrier none of the table's
    services uses has no row to sit on, and is not written."""
    for service in table.services:
        surcharges = service.surcharges
        divisor = table.dim_divisors.get(service.carrier)
        for zone in service.zones:
            for bracket in zone.brackets:
                yield {
                    "warehouse": table.warehouse_id,
                    "carrier": service.carrier,
                    "service": service.service,
                    "currency": table.currency,
                    "dim_divisor": _number(divisor),
                    "level": service.level.value,
                    "delivery_days": format_weekdays(service.delivery_weekdays),
                    "fuel_pct": _number(surcharges.fuel_pct),
                    "residential": _number(surcharges.residential),
                    "remote_area": _number(surcharges.remote_area),
                    "remote_areas": format_areas(surcharges.remote_areas),
                    "oversize": _number(surcharges.oversize),
                    "oversize_longest_side_cm": _number(surcharges.oversize_longest_side_cm),
                    "oversize_length_plus_girth_cm": _number(surcharges.oversize_length_plus_girth_cm),
                    "zone": zone.name,
                    "areas": format_areas(zone.areas),
                    "transit_days_min": str(zone.transit.days_min),
                    "transit_days_max": str(zone.transit.days_max),
                    "per_kg_beyond": _number(zone.per_kg_beyond),
                    "up_to_kg": _number(bracket.up_to_kg),
                    "price": _number(bracket.price),
                }


def write_rate_tables(tables: Iterable[RateTable]) -> str:
    """The tables as a CSV file that ``read_rate_tables`` reads back to the same tables."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for table in tables:
        writer.writerows(rate_table_rows(table))
    return out.getvalue()


# ---------------------------------------------------------------- one service, edited in a form

# The form's fields: a service's own, its table's currency and its carrier's divisor. Its zones and
# brackets are the zone columns of the CSV, one row per bracket, under their header.
SERVICE_FIELDS = ("carrier", "service", "currency", *CARRIER_COLUMNS, *SERVICE_COLUMNS)
ZONE_ROW_COLUMNS = ZONE_COLUMNS + BRACKET_COLUMNS


def service_form(table: RateTable, service: Service) -> tuple[dict[str, str], str]:
    """The form's fields for a service as stored, and its zone rows as text."""
    rows = list(rate_table_rows(RateTable(table.warehouse_id, table.currency, (service,), table.dim_divisors)))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ZONE_ROW_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return {name: rows[0][name] for name in SERVICE_FIELDS}, out.getvalue()


def edit_service(
    tables: Sequence[RateTable],
    warehouse_id: str,
    fields: Mapping[str, str],
    zone_rows: str,
    replacing: tuple[str, str] | None = None,
) -> list[RateTable] | TablesRejected:
    """The tables with one service of ``warehouse_id`` added, or ``replacing`` (carrier, service) changed.

    Checked as a file is: a problem with a field has no row; one in the zone rows has its line in
    ``zone_rows`` (the header is line 1) and its column. The currency is the whole table's, and the
    divisor the carrier's across the table, so changing them changes them for the table.
    """
    problems: list[InputProblem] = []
    service_values = {name: str(fields.get(name, "")) for name in SERVICE_FIELDS}
    reader = csv.reader(io.StringIO(zone_rows.strip()), strict=True)
    rows: list[_Row] = []
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        unknown = [name for name in header if name not in ZONE_ROW_COLUMNS]
        missing = [name for name in ZONE_ROW_COLUMNS if name not in header and name not in OPTIONAL_COLUMNS]
        if unknown or missing:
            message = f"must start with the header {','.join(ZONE_ROW_COLUMNS)}"
            return TablesRejected((InputProblem(1, "zones", shown(",".join(header)), message),))
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                message = f"has {len(values)} values but the header has {len(header)} columns"
                problems.append(InputProblem(reader.line_num, "zones", "", message))
                continue
            raw = {**service_values, "warehouse": warehouse_id, **dict(zip(header, values, strict=True))}
            rows.append(_read_row(reader.line_num, raw, None, problems))
    except csv.Error as exc:
        problems.append(InputProblem(reader.line_num, "zones", "", f"cannot be read as CSV ({exc})"))
    if not rows and not problems:
        problems.append(InputProblem(None, "zones", "", "need at least one row: a zone and its first weight bracket"))
    edited = _tables(rows, problems)
    if problems:
        return TablesRejected(_as_form_problems(problems))
    service, divisor = edited[0].services[0], edited[0].dim_divisors.get(edited[0].services[0].carrier)
    return _with_service(tables, edited[0].warehouse_id, edited[0].currency, service, divisor, replacing)


def _as_form_problems(problems: Iterable[InputProblem]) -> tuple[InputProblem, ...]:
    """A field's problem once, without a row (every zone row repeats the fields); zone rows' as they are."""
    seen: set[tuple[str | None, str]] = set()
    kept = []
    for problem in problems:
        if problem.column in SERVICE_FIELDS:
            problem = InputProblem(None, problem.column, problem.value, problem.message)
            if (problem.column, problem.message) in seen:
                continue
            seen.add((problem.column, problem.message))
        kept.append(problem)
    return tuple(kept)


def _with_service(
    tables: Sequence[RateTable],
    warehouse_id: str,
    currency: str,
    service: Service,
    divisor: Decimal | None,
    replacing: tuple[str, str] | None,
) -> list[RateTable] | TablesRejected:
    current = next((table for table in tables if table.warehouse_id == warehouse_id), None)
    services = list(current.services) if current is not None else []
    at = next((i for i, s in enumerate(services) if (s.carrier, s.service) == replacing), None)
    if at is None:
        services.append(service)
    else:
        services[at] = service
    carriers = {s.carrier for s in services}
    divisors = {c: d for c, d in (current.dim_divisors if current is not None else {}).items() if c in carriers}
    divisors.pop(service.carrier, None)
    if divisor is not None:
        divisors[service.carrier] = divisor
    try:
        table = RateTable(warehouse_id, currency, tuple(services), divisors)
    except RateTableError as exc:
        return TablesRejected((InputProblem(None, exc.field, f"{service.carrier} {service.service}", exc.reason),))
    if current is None:
        return [*tables, table]
    return [table if t is current else t for t in tables]


def without_service(tables: Sequence[RateTable], warehouse_id: str, carrier: str, service: str) -> list[RateTable]:
    """The tables without one service; a table left with none goes too."""
    kept = []
    for table in tables:
        if table.warehouse_id == warehouse_id:
            services = tuple(s for s in table.services if (s.carrier, s.service) != (carrier, service))
            if not services:
                continue
            carriers = {s.carrier for s in services}
            divisors = {c: d for c, d in table.dim_divisors.items() if c in carriers}
            table = RateTable(table.warehouse_id, table.currency, services, divisors)
        kept.append(table)
    return kept
