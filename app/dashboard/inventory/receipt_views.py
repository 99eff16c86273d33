"""Pure builders of the Receipts page's context: no I/O, unit-tested without HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import format_decimal

from app.dashboard.inventory.report_views import money, unit_cost
from app.dashboard.view_models import local_time
from app.services.api_keys import ApiKey
from app.services.ports import WarehouseRef
from app.services.receipts import OpeningBalance, ReceiptsBooked, RecordedReceipt

SOURCES = {"csv": "CSV import", "form": "typed in", "api": "API", "opening": "opening balance"}


def count_text(number: int, locale: Locale) -> str:
    return format_decimal(number, locale=locale)


def warehouse_label(warehouse_id: str, warehouses: Mapping[str, WarehouseRef]) -> str:
    found = warehouses.get(warehouse_id)
    return found.name if found is not None else warehouse_id


@dataclass(frozen=True, slots=True)
class ReceiptRow:
    received_at: str
    sku: str
    warehouse: str
    quantity: str
    unit_cost: str
    value: str
    reference: str
    source: str
    recorded: str


def receipt_rows(
    receipts: Sequence[RecordedReceipt], warehouses: Mapping[str, WarehouseRef], zone: ZoneInfo, locale: Locale
) -> list[ReceiptRow]:
    return [
        ReceiptRow(
            received_at=local_time(r.received_at, zone, locale),
            sku=r.sku,
            warehouse=warehouse_label(r.warehouse, warehouses),
            quantity=count_text(r.quantity, locale),
            unit_cost=unit_cost(r.unit_cost, r.currency, locale),
            value=money(r.quantity * r.unit_cost, r.currency, locale),
            reference=r.reference,
            source=SOURCES.get(r.source, r.source),
            recorded=f"{r.recorded_by}, {local_time(r.recorded_at, zone, locale)}",
        )
        for r in receipts
    ]


def values_text(value: Mapping[str, Decimal], locale: Locale) -> str:
    return ", ".join(money(amount, currency, locale) for currency, amount in sorted(value.items())) or "nothing"


def booked_summary(result: ReceiptsBooked, locale: Locale) -> str:
    booked = f"{count_text(result.booked, locale)} receipt{'' if result.booked == 1 else 's'} booked"
    parts = [booked, f"worth {values_text(result.value, locale)}"]
    if result.already_imported:
        parts.append(f"{count_text(result.already_imported, locale)} already in the ledger, skipped")
    if result.recosted_orders:
        parts.append(f"COGS updated in Saleor on {count_text(result.recosted_orders, locale)} orders sold beforehand")
    return "; ".join(parts) + "."


def opening_summary(result: OpeningBalance, locale: Locale) -> str:
    if result.channel is None:
        return "No stock in Saleor has a cost price in any channel: nothing was booked."
    value = money(result.value, result.currency, locale) if result.currency else "nothing"
    parts = [
        f"{count_text(result.booked, locale)} stock lines booked at their cost price in {result.channel}, worth {value}"
    ]
    if result.already_booked:
        parts.append(f"{count_text(result.already_booked, locale)} booked before, skipped")
    if result.skipped_count:
        parts.append(f"{count_text(result.skipped_count, locale)} without a usable cost price, not booked")
    return "; ".join(parts) + "."


@dataclass(frozen=True, slots=True)
class KeyRow:
    id: int
    name: str
    created: str
    last_used: str
    revoked: str | None


def key_rows(keys: Sequence[ApiKey], zone: ZoneInfo, locale: Locale) -> list[KeyRow]:
    def when(moment: datetime | None) -> str:
        return local_time(moment, zone, locale) if moment is not None else "never"

    return [
        KeyRow(
            id=key.id,
            name=key.name,
            created=f"{key.created_by}, {local_time(key.created_at, zone, locale)}",
            last_used=when(key.last_used_at),
            revoked=local_time(key.revoked_at, zone, locale) if key.revoked_at is not None else None,
        )
        for key in keys
    ]
