from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale

from app.dashboard.inventory.receipt_views import (
    booked_summary,
    key_rows,
    opening_summary,
    receipt_rows,
)
from app.dashboard.inventory.report_views import money, unit_cost
from app.services.api_keys import ApiKey
from app.services.ports import WarehouseRef
from app.services.receipts import OpeningBalance, ReceiptsBooked, RecordedReceipt
from tests.builders import NOW, SHOP_API_URL

EN = Locale.parse("en")
DE = Locale.parse("de")
WARSAW = ZoneInfo("Europe/Warsaw")


def _opening(**changes: object) -> OpeningBalance:
    values: dict[str, object] = {
        "channel": "default-channel",
        "currency": "USD",
        "at": NOW,
        "stocks": 3,
        "booked": 2,
        "already_booked": 0,
        "value": Decimal("43.755"),
        "skipped_count": 1,
        "skipped": (),
        "channels": ("default-channel",),
    }
    return OpeningBalance(**{**values, **changes})  # type: ignore[arg-type]


class TestMoney:
    def test_totals_are_rounded_half_up_to_the_currency_at_display(self) -> None:
        assert money(Decimal("48.505"), "USD", EN) == "$48.51"
        assert money(Decimal("1000"), "JPY", EN) == "¥1,000"
        assert money(Decimal("1234.5"), "EUR", DE) == "1.234,50\xa0€"

    def test_unit_costs_keep_every_place_they_were_given(self) -> None:
        assert unit_cost(Decimal("4.125"), "USD", EN) == "$4.125"
        assert unit_cost(Decimal("4.1"), "USD", EN) == "$4.10"


class TestSummaries:
    def test_a_booked_import_says_what_it_booked_and_skipped(self) -> None:
        result = ReceiptsBooked(3, 2, 1, {"USD": Decimal("10"), "EUR": Decimal("2.5")})
        assert booked_summary(result, EN) == "2 receipts booked; worth €2.50, $10.00; 1 already in the ledger, skipped."
        assert booked_summary(ReceiptsBooked(1, 1, 0, {"USD": Decimal(1)}), EN) == "1 receipt booked; worth $1.00."

    def test_the_opening_balance_says_what_it_booked_and_skipped(self) -> None:
        assert opening_summary(_opening(), EN) == (
            "2 stock lines booked at their cost price in default-channel, worth $43.76; "
            "1 without a usable cost price, not booked."
        )
        assert "booked before" in opening_summary(_opening(already_booked=2, skipped_count=0), EN)
        nothing = opening_summary(_opening(channel=None, currency=None), EN)
        assert nothing == "No stock in Saleor has a cost price in any channel: nothing was booked."


class TestRows:
    def test_receipts_show_the_warehouse_name_local_time_and_how_they_came(self) -> None:
        receipt = RecordedReceipt(
            "receipt:1", "MUG-1", "V2FyZWhvdXNlOjE=", 3, Decimal("1.125"), "USD", NOW, "PO-1", "csv", "ann", NOW
        )
        unknown = RecordedReceipt("receipt:2", "MUG-2", "gone", 1, Decimal(2), "USD", NOW, "", "opening", "bob", NOW)
        east = {"V2FyZWhvdXNlOjE=": WarehouseRef("V2FyZWhvdXNlOjE=", "east", "East")}
        first, second = receipt_rows([receipt, unknown], east, WARSAW, EN)
        assert (first.warehouse, first.unit_cost, first.value) == ("East", "$1.125", "$3.38")
        assert first.source == "CSV import"
        assert first.received_at == "Nov 26, 2026, 1:00:00\u202fPM"
        assert (second.warehouse, second.source) == ("gone", "opening balance")

    def test_keys_show_when_they_were_last_used_and_revoked(self) -> None:
        key = ApiKey(1, SHOP_API_URL, "Odoo", NOW, "ann", None, None)
        used = ApiKey(2, SHOP_API_URL, "ERP", NOW, "ann", NOW + timedelta(days=1), NOW)
        fresh, revoked = key_rows([key, used], WARSAW, EN)
        assert (fresh.last_used, fresh.revoked) == ("never", None)
        assert revoked.revoked is not None
        assert revoked.created.startswith("ann, Nov 26, 2026")
