"""Pure builders of the Routing → Sources page's context: no I/O, tested without HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import format_currency

from app.dashboard.view_models import local_time
from app.domain.ids import SaleorId
from app.domain.money import Money
from app.domain.routing.model import SourceKind
from app.services.ports import WarehouseRef
from app.services.routing.model import HandOffMethod, KeptOffer, Partner
from app.services.routing.plans import OpenHandOff
from app.services.routing.sources import PARTNER_FIELDS, PARTNER_KINDS, PartnerBusy

FRAGMENTS = "/api/dashboard/fragments/routing"
ACTIONS = "/api/dashboard/routing"
# The Routing page's tabs; each is a fragment under FRAGMENTS.
TABS = {"sources": "Sources", "simulation": "Simulator"}
SHOWN_OFFERS = 500  # a page of a long feed; the rest are counted


def price(amount: Money, locale: Locale) -> str:
    """A price per order or unit as the partner set it, not rounded to the currency: ``$3.125``."""
    return format_currency(amount.amount, amount.currency, locale=locale, decimal_quantization=False)


@dataclass(frozen=True, slots=True)
class WarehouseRow:
    id: str
    name: str
    in_saleor: bool
    partner: Partner | None  # the partner that ships from it; None: the merchant's own
    priority: int  # in-house priority (or the partner's)
    role: str  # "In-house", "3PL West", "Supplier Acme"


def warehouse_rows(
    warehouses: Sequence[WarehouseRef] | None, partners: Sequence[Partner], in_house: Mapping[SaleorId, int]
) -> list[WarehouseRow]:
    """Every Saleor warehouse with its role, then partners' warehouses Saleor no longer lists."""
    by_warehouse: dict[str, Partner] = {partner.warehouse_id: partner for partner in partners}
    names = {warehouse.id: warehouse.name for warehouse in warehouses or ()}
    ids = [warehouse.id for warehouse in warehouses or ()]
    ids += [partner.warehouse_id for partner in partners if partner.warehouse_id not in names]
    rows = []
    for warehouse_id in ids:
        partner = by_warehouse.get(warehouse_id)
        if partner is None:
            role, priority = "In-house", in_house.get(SaleorId(warehouse_id), 0)
        else:
            label = "3PL" if partner.kind is SourceKind.THIRD_PARTY else "Supplier"
            role, priority = f"{label} {partner.name}", partner.priority
        rows.append(
            WarehouseRow(
                warehouse_id, names.get(warehouse_id, warehouse_id), warehouse_id in names, partner, priority, role
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class PartnerRow:
    id: str
    name: str
    kind: str
    warehouse: str
    hand_off: str
    acceptance: str
    priority: int
    fees: str
    is_supplier: bool


def _hours(partner: Partner) -> int:
    return int(partner.acceptance_window.total_seconds() // 3600)


def partner_rows(partners: Sequence[Partner], warehouse_names: Mapping[str, str], locale: Locale) -> list[PartnerRow]:
    return [
        PartnerRow(
            id=partner.id,
            name=partner.name,
            kind=PARTNER_KINDS[partner.kind],
            warehouse=warehouse_names.get(partner.warehouse_id, partner.warehouse_id),
            hand_off=f"{'signed webhook to' if partner.hand_off == 'webhook' else 'e-mail to'} {partner.address}",
            acceptance=f"{_hours(partner)} h",
            priority=partner.priority,
            fees=(
                ""
                if partner.fees is None
                else f"{price(partner.fees.per_order, locale)} per order + "
                f"{price(partner.fees.per_unit, locale)} per unit"
            ),
            is_supplier=partner.kind is SourceKind.DROPSHIP,
        )
        for partner in partners
    ]


def partner_form(partner: Partner) -> dict[str, str]:
    """A kept partner as its edit form's fields."""
    fees = partner.fees
    return {
        "name": partner.name,
        "kind": partner.kind.value,
        "warehouse_id": partner.warehouse_id,
        "hand_off": partner.hand_off.value,
        "address": partner.address,
        "acceptance_hours": str(_hours(partner)),
        "priority": str(partner.priority),
        "fee_per_order": "" if fees is None else str(fees.per_order.amount),
        "fee_per_unit": "" if fees is None else str(fees.per_unit.amount),
        "fee_currency": "" if fees is None else fees.per_order.currency,
    }


def empty_partner_form(kind: SourceKind) -> dict[str, str]:
    return {**dict.fromkeys(PARTNER_FIELDS, ""), "kind": kind.value, "acceptance_hours": "24", "priority": "0"}


@dataclass(frozen=True, slots=True)
class OfferRow:
    sku: str
    unit_price: str
    handling_days: int
    stock: int
    updated: str


@dataclass(frozen=True, slots=True)
class OfferList:
    rows: tuple[OfferRow, ...]
    count: int
    updated: str  # when the latest feed came; "" before any


def offer_list(offers: Sequence[KeptOffer], zone: ZoneInfo, locale: Locale) -> OfferList:
    rows = tuple(
        OfferRow(
            kept.offer.sku,
            price(kept.offer.unit_price, locale),
            kept.offer.handling_days,
            kept.offer.stock,
            local_time(kept.updated_at, zone, locale),
        )
        for kept in offers[:SHOWN_OFFERS]
    )
    latest: datetime | None = max((kept.updated_at for kept in offers), default=None)
    return OfferList(rows, len(offers), "" if latest is None else local_time(latest, zone, locale))


def taking_e_mail(partners: Sequence[Partner]) -> list[str]:
    """The names of the partners that receive purchase orders by e-mail."""
    return [partner.name for partner in partners if partner.hand_off is HandOffMethod.EMAIL]


@dataclass(frozen=True, slots=True)
class RemoveRefused:
    partner_id: str
    name: str
    hand_offs: tuple[str, ...]  # one sentence each: the order, its status, the units still to ship


def _open_hand_off(open_hand_off: OpenHandOff, zone: ZoneInfo, locale: Locale) -> str:
    hand_off = open_hand_off.hand_off
    order = f"order #{open_hand_off.order_number}" if open_hand_off.order_number else f"order {hand_off.order_id}"
    to_ship = sum(hand_off.unshipped(line_id) for line_id in {units.line_id for units in hand_off.units})
    return (
        f"{order}: {hand_off.status.value} {local_time(hand_off.created_at, zone, locale)}, "
        f"{to_ship} unit{'' if to_ship == 1 else 's'} to ship (hand-off {hand_off.id})"
    )


def remove_refused(busy: PartnerBusy, zone: ZoneInfo, locale: Locale) -> RemoveRefused:
    return RemoveRefused(
        busy.partner.id, busy.partner.name, tuple(_open_hand_off(open_, zone, locale) for open_ in busy.open)
    )
