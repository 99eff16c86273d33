"""Pure builders of the Shipping settings forms (warehouses, channels, boxes and sizes, rules): the
stored section shown as form fields, and form fields turned back into the section's items.

The forms submit text; these turn it into the plain structure the section's pydantic model validates,
so every refusal still comes from that model, and every error names the field it is about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from app.domain.shipping.model import Level
from app.domain.shipping.selection import Strategy
from app.services.ports import ChannelRef, WarehouseRef
from app.services.shipping.settings import WEEKDAYS

FRAGMENTS = "/api/dashboard/fragments/shipping"
LEVELS = tuple(level.value for level in Level)
STRATEGIES = tuple(strategy.value for strategy in Strategy)
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAY_NAMES = dict(zip(WEEKDAYS, DAY_NAMES, strict=True))
PLACE_FIELDS = ("country", "postal_code", "city", "country_area", "street")
PRICE_FIELDS = ("markup_pct", "markup_fixed", "flat_price", "free_above")
BOX_FIELDS = ("name", "length_cm", "width_cm", "height_cm", "max_weight_kg", "tare_kg")
SIZE_FIELDS = ("product_type", "length_cm", "width_cm", "height_cm", "weight_kg")
RULE_NAME_LISTS = (
    "countries",
    "postal_prefixes",
    "channels",
    "product_types",
    "only_carriers",
    "excluded_carriers",
)
RULE_AMOUNTS = ("min_weight_kg", "max_weight_kg", "min_order_value", "max_order_value", "fixed_price", "free_above")
Item = dict[str, Any]


@dataclass(frozen=True, slots=True)
class WarehouseRow:
    id: str
    name: str
    summary: str  # how it ships, or that it is not set up yet
    configured: bool
    in_saleor: bool
    edit: str  # the form's fragment


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.replace("\n", ",").split(",") if name.strip()]


def _short_time(value: str) -> str:
    """A stored "14:00:00" as a time input shows it: "14:00"."""
    return value[:5] if len(value) == 8 and value.endswith(":00") else value


def edit_link(tab: str, **query: str) -> str:
    return f"{FRAGMENTS}/{tab}/edit" + (f"?{urlencode(query)}" if query else "")


def warehouse_rows(warehouses: Sequence[Item], saleor: Sequence[WarehouseRef] | None) -> list[WarehouseRow]:
    """Saleor's warehouses, set up or not, then those set up that Saleor no longer lists."""
    stored = {item["id"]: item for item in warehouses}
    listed = {w.id for w in saleor or ()}
    rows = []
    for ref in saleor or ():
        rows.append(_warehouse_row(ref.id, ref.name, stored.get(ref.id), in_saleor=True))
    for item in warehouses:
        if item["id"] not in listed:
            rows.append(_warehouse_row(item["id"], item.get("name") or item["id"], item, in_saleor=saleor is None))
    return rows


def _warehouse_row(warehouse_id: str, name: str, item: Item | None, *, in_saleor: bool) -> WarehouseRow:
    if item is None:
        summary = "Not set up: checkout quotes nothing from it."
    else:
        origin = item["origin"]
        place = ", ".join(part for part in (origin.get("city"), origin.get("postal_code"), origin["country"]) if part)
        days = ", ".join(day.title() for day in item["working_days"])
        summary = (
            f"{place}; {item['time_zone']}; ships {days}; "
            f"handling {item['handling_days_min']}–{item['handling_days_max']} business days"
        )
    return WarehouseRow(
        warehouse_id, name, summary, item is not None, in_saleor, edit_link("warehouses", id=warehouse_id)
    )


def warehouse_fields(item: Item | None, warehouse_id: str, name: str) -> dict[str, Any]:
    """A warehouse's form: the stored one, or a new one with the section's defaults."""
    if item is None:
        return {
            "id": warehouse_id,
            "name": name,
            **dict.fromkeys(PLACE_FIELDS, ""),
            "time_zone": "",
            "holiday_country": "",
            "holiday_subdivision": "",
            "working_days": list(WEEKDAYS[:5]),
            "cutoffs": dict.fromkeys(WEEKDAYS[:5], "14:00"),
            "handling_days_min": "0",
            "handling_days_max": "1",
            "closures": "",
        }
    return {
        "id": item["id"],
        "name": item.get("name") or name,
        **{part: _text(item["origin"].get(part)) for part in PLACE_FIELDS},
        "time_zone": item["time_zone"],
        "holiday_country": _text(item.get("holiday_country")),
        "holiday_subdivision": _text(item.get("holiday_subdivision")),
        "working_days": list(item["working_days"]),
        "cutoffs": {day: _short_time(cutoff) for day, cutoff in item["cutoffs"].items()},
        "handling_days_min": str(item["handling_days_min"]),
        "handling_days_max": str(item["handling_days_max"]),
        "closures": "\n".join(item["closures"]),
    }


def warehouse_form_fields(form: Mapping[str, str], working_days: Sequence[str]) -> dict[str, Any]:
    """The submitted form as the form shows it again (a refused form keeps what was typed)."""
    return {
        "id": form.get("id", ""),
        "name": form.get("name", ""),
        **{part: form.get(part, "") for part in PLACE_FIELDS},
        "time_zone": form.get("time_zone", ""),
        "holiday_country": form.get("holiday_country", ""),
        "holiday_subdivision": form.get("holiday_subdivision", ""),
        "working_days": [day for day in WEEKDAYS if day in working_days],
        "cutoffs": {day: form[f"cutoff_{day}"] for day in WEEKDAYS if form.get(f"cutoff_{day}")},
        "handling_days_min": form.get("handling_days_min", ""),
        "handling_days_max": form.get("handling_days_max", ""),
        "closures": form.get("closures", ""),
    }


def warehouse_item(fields: Mapping[str, Any]) -> Item:
    """A warehouse's form fields as the section's item; blank optional fields take the section's defaults."""
    return {
        "id": fields["id"],
        "name": fields["name"].strip(),
        "origin": {
            part: fields[part].strip().upper() if part == "country" else fields[part].strip() for part in PLACE_FIELDS
        },
        "time_zone": fields["time_zone"].strip(),
        "holiday_country": fields["holiday_country"].strip().upper() or None,
        "holiday_subdivision": fields["holiday_subdivision"].strip().upper() or None,
        "working_days": fields["working_days"],
        "cutoffs": dict(fields["cutoffs"]),
        "handling_days_min": fields["handling_days_min"].strip(),
        "handling_days_max": fields["handling_days_max"].strip(),
        "closures": _names(fields["closures"]),
    }


def channel_fields(item: Item | None) -> dict[str, Any]:
    """A channel's form; a new channel offers standard in 5 business days at the carrier's cost."""
    if item is None:
        levels = {level: dict.fromkeys(("promise_days", *PRICE_FIELDS), "") for level in LEVELS}
        levels["standard"]["promise_days"] = "5"
        return {"channel": "", "warehouse": "", "levels": levels}
    return {
        "channel": item["channel"],
        "warehouse": item["warehouse"],
        "levels": {
            level: {name: _text(item["levels"].get(level, {}).get(name)) for name in ("promise_days", *PRICE_FIELDS)}
            for level in LEVELS
        },
    }


def channel_choices(
    saleor: Sequence[ChannelRef] | None, configured: Sequence[Item], replacing: str
) -> list[tuple[str, str]] | None:
    """The store's channels not configured yet (and the one being edited), as (slug, label); None when
    Saleor could not be asked, and the slug is typed instead."""
    if saleor is None:
        return None
    taken = {item["channel"] for item in configured} - {replacing}
    return [(c.slug, f"{c.name} ({c.slug}, {c.currency})") for c in saleor if c.slug not in taken]


def channel_form_fields(form: Mapping[str, str]) -> dict[str, Any]:
    return {
        "channel": form.get("channel", ""),
        "warehouse": form.get("warehouse", ""),
        "levels": {
            level: {name: form.get(f"{level}_{name}", "") for name in ("promise_days", *PRICE_FIELDS)}
            for level in LEVELS
        },
    }


def channel_item(fields: Mapping[str, Any]) -> Item:
    """Only the levels given a promise are offered; blank prices take the section's defaults."""
    levels = {}
    for level, values in fields["levels"].items():
        if not values["promise_days"].strip():
            continue
        levels[level] = {
            name: value.strip() for name, value in values.items() if name == "promise_days" or value.strip()
        }
    return {"channel": fields["channel"].strip(), "warehouse": fields["warehouse"], "levels": levels}


def channel_summary(item: Item) -> list[str]:
    """Each offered level in a line: "standard: 5 business days, cost + 10%, free from 75"."""
    lines = []
    for level in LEVELS:
        values = item["levels"].get(level)
        if values is None:
            continue
        if values.get("flat_price") is not None:
            price = f"flat {values['flat_price']}"
        else:
            price = f"cost + {values.get('markup_pct', '0')}% + {values.get('markup_fixed', '0')}"
        free = f", free from {values['free_above']}" if values.get("free_above") is not None else ""
        lines.append(f"{level}: {values['promise_days']} business days, {price}{free}")
    return lines


def rows_from_form(columns: Sequence[str], values: Mapping[str, Sequence[str]]) -> list[Item]:
    """A row editor's rows: each column submitted once per row, in order; blank rows (a spare one) are
    left out and a blank cell takes the section's default."""
    count = max((len(values.get(column, ())) for column in columns), default=0)
    rows = []
    for index in range(count):
        cells = {column: _cell(values, column, index) for column in columns}
        if any(cells.values()):
            rows.append({column: cell for column, cell in cells.items() if cell or column == columns[0]})
    return rows


def _cell(values: Mapping[str, Sequence[str]], column: str, index: int) -> str:
    cells = values.get(column, ())
    return cells[index].strip() if index < len(cells) else ""


def table_rows(columns: Sequence[str], items: Sequence[Item]) -> list[dict[str, str]]:
    return [{column: _text(item.get(column)) for column in columns} for item in items]


def rule_fields(item: Item | None) -> dict[str, str]:
    item = item or {"name": "", "strategy": Strategy.CHEAPEST.value}
    fields = {name: ", ".join(item.get(name, ())) for name in RULE_NAME_LISTS}
    fields |= {name: _text(item.get(name)) for name in RULE_AMOUNTS}
    return fields | {"name": item["name"], "strategy": item.get("strategy", Strategy.CHEAPEST.value)}


def rule_form_fields(form: Mapping[str, str]) -> dict[str, str]:
    return {name: form.get(name, "") for name in ("name", "strategy", *RULE_NAME_LISTS, *RULE_AMOUNTS)}


def rule_item(fields: Mapping[str, str]) -> Item:
    item: Item = {"name": fields["name"].strip(), "strategy": fields["strategy"]}
    item |= {name: _names(fields[name]) for name in RULE_NAME_LISTS if fields[name].strip()}
    return item | {name: fields[name].strip() for name in RULE_AMOUNTS if fields[name].strip()}


def rule_summary(item: Item) -> tuple[str, str]:
    """What a rule looks at and what it does, in words."""
    conditions = [f"{name.replace('_', ' ')}: {', '.join(item[name])}" for name in RULE_NAME_LISTS[:4] if item[name]]
    conditions += [f"{name.replace('_', ' ')} {item[name]}" for name in RULE_AMOUNTS[:4] if item[name] is not None]
    actions = [f"{name.replace('_', ' ')}: {', '.join(item[name])}" for name in RULE_NAME_LISTS[4:] if item[name]]
    actions.append(f"the {item['strategy']} option")
    actions += [f"{name.replace('_', ' ')} {item[name]}" for name in RULE_AMOUNTS[4:] if item[name] is not None]
    return "; ".join(conditions) or "every cart", "; ".join(actions)


def replaced(items: Sequence[Item], index: int | None, item: Item) -> list[Item]:
    """The list with ``item`` at ``index``, or appended when it is new (``None``)."""
    if index is None or not 0 <= index < len(items):
        return [*items, item]
    return [*items[:index], item, *items[index + 1 :]]


def moved(items: Sequence[Item], index: int, step: int) -> list[Item]:
    """The list with the item at ``index`` swapped with its neighbour ``step`` (-1 up, 1 down) away."""
    target = index + step
    if not (0 <= index < len(items) and 0 <= target < len(items)):
        return list(items)
    reordered = list(items)
    reordered[index], reordered[target] = reordered[target], reordered[index]
    return reordered


def field_errors(message: str, names: Sequence[str]) -> dict[str, str]:
    """The form fields a refusal is about: the section names them after "›" (a field of the item) or
    between colons (what the domain refused), e.g. "item 1 › cutoffs › mon: …" or "…: time_zone: …"."""
    marks = ("› {}:", "› {} ›", ": {}:")
    return {name: message for name in names if any(mark.format(name) in message for mark in marks)}
