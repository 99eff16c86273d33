"""E-mail purchase orders: the text and CSV a partner reads (pure), kept as an effect's payload and sent
through the store's SMTP settings."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from app.domain.money import Money
from app.domain.routing.model import PickPackFees
from app.security import SecretCipher
from app.services.ports import MailNotSent
from app.services.routing.purchase_orders import (
    CSV_COLUMNS,
    NO_SMTP,
    PurchaseOrder,
    PurchaseOrderCancel,
    PurchaseOrderLine,
    compose_purchase_order,
    compose_purchase_order_cancel,
    deliver_purchase_order,
    deliver_purchase_order_cancel,
    purchase_order_cancel_text,
    purchase_order_csv,
    purchase_order_text,
)
from app.services.support.mail import SupportMailSettings
from tests.fakes.support import FakeMailSender

SHIP_TO = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "streetAddress1": "1 Main St",
    "city": "DALLAS",
    "countryArea": "TX",
    "postalCode": "75001",
    "country": "US",
    "phone": "+12025550143",
}
PUBLIC_URL = "https://ops.shop.example/"
CIPHER = SecretCipher("test-secret-key")
SETTINGS = SupportMailSettings(
    smtp_host="smtp.shop.example",
    from_address="orders@shop.example",
    from_name="Shop Example",
    reply_domain="mail.shop.example",
)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


SUPPLIER_ORDER = PurchaseOrder(
    hand_off_id="h0ff",
    order_number="1001",
    partner_name="Acme",
    ship_to=SHIP_TO,
    lines=(
        PurchaseOrderLine("L1", "MUG-1", "Mug Blue", 2, usd("3.125")),
        PurchaseOrderLine("L2", "TEE-RED", 'Tee, "red"', 1, usd("7")),
    ),
    answer_within=timedelta(hours=24),
)
THREE_PL_ORDER = PurchaseOrder(
    hand_off_id="h3pl",
    order_number="1002",
    partner_name="West Logistics",
    ship_to=SHIP_TO,
    lines=(PurchaseOrderLine("L1", "MUG-1", "Mug Blue", 3, None),),
    answer_within=timedelta(hours=1),
    fees=PickPackFees(usd("2.50"), usd("0.35")),
)
CANCEL = PurchaseOrderCancel(
    hand_off_id="h0ff",
    order_number="1001",
    partner_name="Acme",
    lines=(
        PurchaseOrderLine("L1", "MUG-1", "Mug Blue", 1, None),
        PurchaseOrderLine("L2", "TEE-RED", 'Tee, "red"', 1, None),
    ),
    reason="the order was cancelled in Saleor",
)


class TestText:
    def test_names_the_order_where_to_ship_and_each_line_with_its_price_and_amount(self) -> None:
        text = purchase_order_text(SUPPLIER_ORDER, sender="Shop Example", public_url=PUBLIC_URL)
        assert text.startswith("Purchase order for order #1001 from Shop Example\nTo: Acme\n")
        assert "Ship to:\n  Ada Lovelace\n  1 Main St\n  DALLAS TX 75001\n  US\n  Phone: +12025550143\n" in text
        assert "  MUG-1  Mug Blue  x 2 at 3.125 USD = 6.25 USD  (line L1)\n" in text
        assert '  TEE-RED  Tee, "red"  x 1 at 7 USD = 7.00 USD  (line L2)\n' in text
        assert "Total: 3 units, 13.25 USD\n" in text
        assert "attached as purchase-order-1001.csv" in text

    def test_says_how_to_accept_reject_and_confirm_through_the_signed_api(self) -> None:
        text = purchase_order_text(SUPPLIER_ORDER, sender="Shop Example", public_url=PUBLIC_URL)
        assert "Hand-off reference: h0ff" in text
        assert "within 24 hours" in text
        for action in ("accept", "reject", "shipments"):
            assert f"POST https://ops.shop.example/api/routing/hand-offs/h0ff/{action}" in text
        assert 'X-Ops-Signature, the hex HMAC-SHA256 of "<timestamp>.<body>"' in text
        assert "https://ops.shop.example/api/openapi.json" in text

    def test_a_3pl_is_told_its_fees_and_no_prices(self) -> None:
        text = purchase_order_text(THREE_PL_ORDER, sender="Shop", public_url=PUBLIC_URL)
        assert "  MUG-1  Mug Blue  x 3  (line L1)\n" in text
        assert "Total: 3 units\n" in text
        assert "Pick and pack as agreed: 2.50 USD per order + 0.35 USD per unit = 3.55 USD" in text
        assert "within 1 hour;" in text

    def test_lines_in_two_currencies_have_a_total_each(self) -> None:
        mixed = PurchaseOrder(
            "h",
            "7",
            "Acme",
            {},
            (
                PurchaseOrderLine("L1", "A", "A", 1, usd("1")),
                PurchaseOrderLine("L2", "B", "B", 2, Money(Decimal("1.5"), "EUR")),
            ),
            timedelta(hours=2),
        )
        assert mixed.totals() == (usd("1"), Money(Decimal("3.0"), "EUR"))
        assert "Total: 3 units, 1.00 USD, 3.00 EUR\n" in purchase_order_text(mixed, sender="S", public_url=PUBLIC_URL)


class TestCsv:
    def test_one_row_per_line_with_unrounded_amounts_and_quoted_names(self) -> None:
        rows = list(csv.reader(io.StringIO(purchase_order_csv(SUPPLIER_ORDER), newline="")))
        assert rows == [
            list(CSV_COLUMNS),
            ["L1", "MUG-1", "Mug Blue", "2", "3.125", "USD", "6.250"],
            ["L2", "TEE-RED", 'Tee, "red"', "1", "7", "USD", "7"],
        ]

    def test_a_3pl_s_rows_leave_the_prices_empty(self) -> None:
        rows = list(csv.reader(io.StringIO(purchase_order_csv(THREE_PL_ORDER), newline="")))
        assert rows[1] == ["L1", "MUG-1", "Mug Blue", "3", "", "", ""]


class TestPayload:
    @pytest.mark.parametrize("order", [SUPPLIER_ORDER, THREE_PL_ORDER])
    def test_survives_being_kept_as_json(self, order: PurchaseOrder) -> None:
        assert PurchaseOrder.from_payload(json.loads(json.dumps(order.to_payload()))) == order


class TestMail:
    def test_comes_from_the_store_s_sender_with_the_csv_attached(self) -> None:
        message = compose_purchase_order(
            SUPPLIER_ORDER, "orders@acme.example", settings=SETTINGS, public_url=PUBLIC_URL
        )
        assert message["From"] == "Shop Example <orders@shop.example>"
        assert message["To"] == "orders@acme.example"
        assert message["Subject"] == "Purchase order for order #1001 from Shop Example"
        body = message.get_body(("plain",))
        assert body is not None
        assert body.get_content() == purchase_order_text(SUPPLIER_ORDER, sender="Shop Example", public_url=PUBLIC_URL)
        (attachment,) = message.iter_attachments()
        assert attachment.get_filename() == "purchase-order-1001.csv"
        assert attachment.get_content_type() == "text/csv"
        assert attachment.get_content() == purchase_order_csv(SUPPLIER_ORDER)

    async def test_is_sent_through_the_store_s_smtp_server(self) -> None:
        sender = FakeMailSender()
        payload = {"partner": "p-acme", "to": "orders@acme.example", "purchaseOrder": SUPPLIER_ORDER.to_payload()}
        outcome = await deliver_purchase_order(payload, SETTINGS, public_url=PUBLIC_URL, sender=sender, cipher=CIPHER)
        assert outcome == "purchase order e-mailed to orders@acme.example"
        ((server, message),) = sender.sent
        assert (server.host, server.port, server.security) == ("smtp.shop.example", 587, "starttls")
        assert message["To"] == "orders@acme.example"

    async def test_without_an_smtp_server_it_is_not_sent_and_says_where_to_set_one(self) -> None:
        sender = FakeMailSender()
        payload = {"partner": "p-acme", "to": "orders@acme.example", "purchaseOrder": SUPPLIER_ORDER.to_payload()}
        with pytest.raises(MailNotSent, match="none is set \\(Support · E-mail\\)") as refused:
            await deliver_purchase_order(payload, None, public_url=PUBLIC_URL, sender=sender, cipher=CIPHER)
        assert str(refused.value) == NO_SMTP
        assert sender.sent == []


class TestCancel:
    def test_names_the_purchase_order_the_lines_not_to_ship_and_why(self) -> None:
        text = purchase_order_cancel_text(CANCEL, sender="Shop Example")
        assert text.startswith(
            "Purchase order for order #1001 from Shop Example: CANCELLED\nTo: Acme\nHand-off reference: h0ff\n"
        )
        assert (
            "Do not ship these lines of it:\n"
            "  MUG-1  Mug Blue  x 1  (line L1)\n"
            '  TEE-RED  Tee, "red"  x 1  (line L2)\n'
            "Total: 2 units not to ship\n"
        ) in text
        assert "Reason: the order was cancelled in Saleor\n" in text
        assert "a shipment confirmed from now on is refused" in text

    def test_survives_being_kept_as_json(self) -> None:
        assert PurchaseOrderCancel.from_payload(json.loads(json.dumps(CANCEL.to_payload()))) == CANCEL

    def test_its_subject_names_the_order_and_the_reference_and_it_has_no_attachment(self) -> None:
        message = compose_purchase_order_cancel(CANCEL, "orders@acme.example", settings=SETTINGS)
        assert message["From"] == "Shop Example <orders@shop.example>"
        assert message["To"] == "orders@acme.example"
        assert message["Subject"] == "CANCELLED: purchase order for order #1001 from Shop Example (ref. h0ff)"
        body = message.get_body(("plain",))
        assert body is not None
        assert body.get_content() == purchase_order_cancel_text(CANCEL, sender="Shop Example")
        assert list(message.iter_attachments()) == []

    async def test_is_sent_through_the_store_s_smtp_server_or_waits_for_one(self) -> None:
        sender = FakeMailSender()
        payload = {"partner": "p-acme", "to": "orders@acme.example", "cancel": CANCEL.to_payload()}
        with pytest.raises(MailNotSent, match="none is set"):
            await deliver_purchase_order_cancel(payload, None, sender=sender, cipher=CIPHER)
        assert sender.sent == []
        outcome = await deliver_purchase_order_cancel(payload, SETTINGS, sender=sender, cipher=CIPHER)
        assert outcome == "purchase order cancel e-mailed to orders@acme.example"
        ((server, message),) = sender.sent
        assert server.host == "smtp.shop.example"
        assert message["Subject"].startswith("CANCELLED: purchase order for order #1001")
