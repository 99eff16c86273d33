"""Routing sources' checks: a partner's form field by field, and suppliers' feeds row by row and column
by column, all or nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from app.domain.ids import SaleorId
from app.domain.money import Money
from app.domain.routing.model import PickPackFees, SourceKind
from app.services.input_problems import InputProblem
from app.services.ports import WarehouseRef
from app.services.routing.model import HandOffMethod, Partner, SupplierOffer
from app.services.routing.sources import (
    SECRET_PREFIX,
    FeedRejected,
    SourcesRejected,
    check_partner,
    new_secret,
    read_feed_csv,
    read_feed_items,
)

EAST, WEST, NORTH = "V2FyZWhvdXNlOjE=", "V2FyZWhvdXNlOjI=", "V2FyZWhvdXNlOjM="
WAREHOUSES = [WarehouseRef(EAST, "east", "East"), WarehouseRef(WEST, "west", "West"), WarehouseRef(NORTH, "n", "N")]
THREE_PL = {
    "name": " West Logistics ",
    "kind": "3pl",
    "warehouse_id": WEST,
    "hand_off": "webhook",
    "address": "https://west.example/orders",
    "acceptance_hours": "4",
    "priority": "2",
    "fee_per_order": "2.50",
    "fee_per_unit": "0.35",
    "fee_currency": "usd",
}
SUPPLIER = {
    "name": "Acme",
    "kind": "dropship",
    "warehouse_id": NORTH,
    "hand_off": "email",
    "address": "orders@acme.example",
    "acceptance_hours": "24",
    "priority": "",
}


def _errors(form: dict[str, str], **kwargs: object) -> dict[str, str]:
    arguments: dict[str, object] = {"partner_id": "p1", "warehouses": WAREHOUSES, "others": [], **kwargs}
    checked = check_partner(form, **arguments)  # type: ignore[arg-type]
    assert isinstance(checked, SourcesRejected), checked
    return dict(checked.errors)


class TestPartnerForm:
    def test_a_3pl_with_its_fees(self) -> None:
        assert check_partner(THREE_PL, partner_id="p1", warehouses=WAREHOUSES, others=[]) == Partner(
            id="p1",
            name="West Logistics",
            kind=SourceKind.THIRD_PARTY,
            warehouse_id=SaleorId(WEST),
            hand_off=HandOffMethod.WEBHOOK,
            address="https://west.example/orders",
            acceptance_window=timedelta(hours=4),
            priority=2,
            fees=PickPackFees(Money(Decimal("2.50"), "USD"), Money(Decimal("0.35"), "USD")),
        )

    def test_a_supplier_has_no_fees_and_priority_0_when_left_empty(self) -> None:
        partner = check_partner(SUPPLIER, partner_id="p2", warehouses=WAREHOUSES, others=[])
        assert isinstance(partner, Partner)
        assert (partner.kind, partner.fees, partner.priority, partner.hand_off) == (
            SourceKind.DROPSHIP,
            None,
            0,
            HandOffMethod.EMAIL,
        )

    def test_every_bad_field_is_named(self) -> None:
        form = {
            "name": "",
            "kind": "warehouse",
            "warehouse_id": "V2FyZWhvdXNlOjk5",
            "hand_off": "fax",
            "address": "x",
            "acceptance_hours": "0",
            "priority": "-1",
        }
        assert _errors(form) == {
            "name": "is required",
            "kind": "must be 3pl or dropship",
            "warehouse_id": "is not a warehouse of this store in Saleor",
            "hand_off": "must be webhook or email",
            "acceptance_hours": f"must be between 1 and {30 * 24}",
            "priority": "must be 0 or more",
        }

    @pytest.mark.parametrize(
        ("hand_off", "address", "error"),
        [
            ("webhook", "ftp://west.example/", "is not an https:// URL (https://partner.example/orders)"),
            ("webhook", "https:///orders", "is not an https:// URL (https://partner.example/orders)"),
            ("webhook", "https://[::1/orders", "is not an https:// URL (https://partner.example/orders)"),
            (
                "webhook",
                "http://west.example/orders",
                "must start with https://: plain http:// is only for this machine (localhost, 127.0.0.1, ::1)",
            ),
            (
                "webhook",
                "http://127.0.0.1.example/orders",
                "must start with https://: plain http:// is only for this machine (localhost, 127.0.0.1, ::1)",
            ),
            ("email", "https://west.example", "is not an e-mail address (orders@supplier.example)"),
            ("email", "", "is required: where the partner receives its shipments"),
        ],
    )
    def test_the_address_fits_the_hand_off(self, hand_off: str, address: str, error: str) -> None:
        assert _errors({**THREE_PL, "hand_off": hand_off, "address": address}) == {"address": error}

    @pytest.mark.parametrize(
        "address", ["http://127.0.0.1:8765/orders", "http://localhost/orders", "http://[::1]:9000/orders"]
    )
    def test_plain_http_is_accepted_for_this_machine_only(self, address: str) -> None:
        checked = check_partner({**THREE_PL, "address": address}, partner_id="p1", warehouses=WAREHOUSES, others=[])
        assert isinstance(checked, Partner)
        assert checked.address == address

    def test_a_3pl_needs_all_its_fees(self) -> None:
        form = {**THREE_PL, "fee_per_order": "", "fee_per_unit": "-1", "fee_currency": "dollars"}
        assert _errors(form) == {
            "fee_per_order": "is required",
            "fee_per_unit": "must not be negative",
            "fee_currency": "is not an ISO 4217 currency code such as USD or EUR",
        }

    def test_a_supplier_refuses_fees(self) -> None:
        assert set(_errors({**SUPPLIER, "fee_per_unit": "1"})) == {"fee_per_unit"}

    def test_names_and_warehouses_are_one_partners_each(self) -> None:
        other = check_partner(SUPPLIER, partner_id="p2", warehouses=WAREHOUSES, others=[])
        assert isinstance(other, Partner)
        form = {**THREE_PL, "name": "ACME", "warehouse_id": NORTH}
        assert _errors(form, others=[other]) == {
            "name": "is another partner's name already",
            "warehouse_id": "already ships for dropship supplier Acme: each partner has its own warehouse",
        }

    def test_without_saleors_list_only_the_current_warehouse_is_accepted(self) -> None:
        current = check_partner(THREE_PL, partner_id="p1", warehouses=WAREHOUSES, others=[])
        assert isinstance(current, Partner)
        renamed = check_partner(
            {**THREE_PL, "name": "West"}, partner_id="p1", warehouses=None, others=[], current=current
        )
        assert isinstance(renamed, Partner)
        assert renamed.name == "West"
        assert set(_errors({**THREE_PL, "warehouse_id": EAST}, warehouses=None, current=current)) == {"warehouse_id"}

    def test_an_edit_keeps_the_kind(self) -> None:
        current = check_partner(THREE_PL, partner_id="p1", warehouses=WAREHOUSES, others=[])
        assert isinstance(current, Partner)
        edited = check_partner(
            {**THREE_PL, "kind": "dropship"}, partner_id="p1", warehouses=WAREHOUSES, others=[], current=current
        )
        assert isinstance(edited, Partner)
        assert edited.kind is SourceKind.THIRD_PARTY

    def test_secrets_are_new_each_time(self) -> None:
        first, second = new_secret(), new_secret()
        assert first.startswith(SECRET_PREFIX)
        assert first != second
        assert len(first) > 40


HEADER = "sku,unit_price,currency,handling_days,stock\r\n"


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


class TestFeedCsv:
    def test_reads_every_offer(self) -> None:
        text = "\ufeffSKU,Stock,Unit_Price,Currency,Handling_Days\r\nMUG-1,40,3.125,usd,2\r\n\r\nCUP-1,0,1.10,EUR,0\r\n"
        assert read_feed_csv(_lines(text)) == [
            SupplierOffer("MUG-1", Money(Decimal("3.125"), "USD"), 2, 40),
            SupplierOffer("CUP-1", Money(Decimal("1.10"), "EUR"), 0, 0),
        ]

    def test_a_header_alone_is_a_feed_of_nothing(self) -> None:
        assert read_feed_csv(_lines(HEADER)) == []

    def test_one_problem_per_bad_row_and_column(self) -> None:
        text = HEADER + "MUG-1,3.10,USD,2,40\r\n,abc,US,-1,1.5\r\nMUG-1,1,USD,1,1\r\nCUP-1,1,USD\r\n"
        outcome = read_feed_csv(_lines(text))
        assert outcome == FeedRejected(
            (
                InputProblem(3, "sku", "", "is required"),
                InputProblem(3, "unit_price", "abc", "is not a number (write it like 12.50, without a currency)"),
                InputProblem(3, "currency", "US", "is not an ISO 4217 code"),
                InputProblem(3, "handling_days", "-1", "must be 0 or more"),
                InputProblem(3, "stock", "1.5", "is not a whole number"),
                InputProblem(4, "sku", "MUG-1", "repeats row 2: offer each SKU once"),
                InputProblem(5, None, "", "has 3 values but the header has 5 columns"),
            )
        )

    def test_a_bad_header_stops_the_check(self) -> None:
        outcome = read_feed_csv(_lines("sku,price,currency,handling_days,stock\r\nMUG-1,1,USD,1,1\r\n"))
        assert isinstance(outcome, FeedRejected)
        assert [(p.row, p.column, p.message.split(" (")[0]) for p in outcome.problems] == [
            (1, None, "is not a column of a feed"),
            (1, "unit_price", "is missing from the header"),
        ]

    def test_an_empty_file_says_so(self) -> None:
        outcome = read_feed_csv([])
        assert isinstance(outcome, FeedRejected)
        assert outcome.problems[0].message.startswith("is empty")


class TestFeedItems:
    def test_reads_numbers_exactly_and_names_items_by_index(self) -> None:
        good = {"sku": "MUG-1", "unit_price": Decimal("3.10"), "currency": "USD", "handling_days": 2, "stock": 5}
        assert read_feed_items([good]) == [SupplierOffer("MUG-1", Money(Decimal("3.10"), "USD"), 2, 5)]
        outcome = read_feed_items([good, {**good, "stock": None, "colour": "red"}, "MUG-2"])
        assert outcome == FeedRejected(
            (
                InputProblem(1, "colour", "", "is not a field of a supplier's offer"),
                InputProblem(2, None, "", "must be an object with the supplier's offer's fields"),
            )
        )
        missing = read_feed_items([{**good, "stock": None}])
        assert missing == FeedRejected((InputProblem(0, "stock", "", "is required"),))
