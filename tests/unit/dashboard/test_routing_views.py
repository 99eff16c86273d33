"""The Routing → Sources page's builders: warehouses' roles, and a partner's form read back unchanged."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from babel import Locale

from app.dashboard.routing.source_views import partner_form, price, warehouse_rows
from app.domain.ids import SaleorId
from app.domain.money import Money
from app.domain.routing.model import PickPackFees, SourceKind
from app.services.ports import WarehouseRef
from app.services.routing.model import HandOffMethod, Partner
from app.services.routing.sources import check_partner

EAST, WEST, GONE = "V2FyZWhvdXNlOjE=", "V2FyZWhvdXNlOjI=", "V2FyZWhvdXNlOjk="
WAREHOUSES = [WarehouseRef(EAST, "east", "East"), WarehouseRef(WEST, "west", "West DC")]
WEST_3PL = Partner(
    id="p1",
    name="West",
    kind=SourceKind.THIRD_PARTY,
    warehouse_id=SaleorId(WEST),
    hand_off=HandOffMethod.WEBHOOK,
    address="https://west.example/orders",
    acceptance_window=timedelta(hours=6),
    priority=3,
    fees=PickPackFees(Money(Decimal("2.5"), "EUR"), Money(Decimal("0.125"), "EUR")),
)
GONE_SUPPLIER = Partner(
    id="p2",
    name="Acme",
    kind=SourceKind.DROPSHIP,
    warehouse_id=SaleorId(GONE),
    hand_off=HandOffMethod.EMAIL,
    address="po@acme.example",
    acceptance_window=timedelta(hours=48),
)


def test_each_warehouse_has_its_role_and_a_partners_missing_warehouse_still_shows() -> None:
    rows = warehouse_rows(WAREHOUSES, [WEST_3PL, GONE_SUPPLIER], {SaleorId(EAST): 2})
    assert [(row.id, row.name, row.in_saleor, row.role, row.priority) for row in rows] == [
        (EAST, "East", True, "In-house", 2),
        (WEST, "West DC", True, "3PL West", 3),
        (GONE, GONE, False, "Supplier Acme", 0),
    ]


def test_without_saleors_list_only_partners_warehouses_show() -> None:
    assert [row.id for row in warehouse_rows(None, [WEST_3PL], {})] == [WEST]


def test_a_partners_form_reads_back_as_the_same_partner() -> None:
    for partner in (WEST_3PL, GONE_SUPPLIER):
        form = partner_form(partner)
        again = check_partner(form, partner_id=partner.id, warehouses=None, others=[], current=partner)
        assert again == partner


def test_prices_are_shown_in_the_locale_unrounded() -> None:
    assert price(Money(Decimal("0.125"), "EUR"), Locale.parse("de_DE")) == "0,125\xa0€"
