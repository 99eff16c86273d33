"""What fraud scoring reads of an order payload: only fields the app's permissions let Saleor send."""

from decimal import Decimal
from typing import Any

from app.domain.fraud import CardFacts, OrderFacts, PaymentInput
from app.webhooks.order_facts import order_facts
from app.webhooks.payloads import OrderEventPayload
from tests.builders import order_payload


def _facts(**order: Any) -> OrderFacts:
    payload = order_payload()
    payload["order"].update(order)
    return order_facts(OrderEventPayload.model_validate(payload).order)


LEGACY_PAYMENT = {
    "id": "UGF5bWVudDox",
    "gateway": "mirumee.payments.dummy",
    "customerIpAddress": "203.0.113.9",
    "creditCard": {"brand": "visa", "firstDigits": "424242", "lastDigits": "4242", "expMonth": 12, "expYear": 2030},
}


class TestLegacyPayments:
    def test_card_and_ip_come_from_the_fields_manage_orders_reads(self) -> None:
        facts = _facts(payments=[LEGACY_PAYMENT])
        assert facts.customer_ip == "203.0.113.9"
        assert facts.payments == (
            PaymentInput(
                metadata={},
                gateway="mirumee.payments.dummy",
                card=CardFacts(brand="visa", bin="424242", last4="4242", exp_month=12, exp_year=2030),
            ),
        )

    def test_card_checks_still_come_from_a_transactions_metadata(self) -> None:
        transaction = {
            "id": "VHJhbnNhY3Rpb25JdGVtOjE=",
            "chargedAmount": {"amount": 10.0, "currency": "USD"},
            "metadata": [{"key": "cvc_check", "value": "fail"}],
        }
        facts = _facts(payments=[LEGACY_PAYMENT], transactions=[transaction])
        assert facts.payments[0] == PaymentInput(metadata={"cvc_check": "fail"})


class TestOrderFacts:
    def test_the_margin_reads_the_total_without_tax(self) -> None:
        facts = _facts(
            total={"gross": {"amount": 120.0, "currency": "USD"}, "net": {"amount": 100.0, "currency": "USD"}}
        )
        assert (facts.total, facts.net_total) == (Decimal("120.0"), Decimal("100.0"))

    def test_a_payload_without_the_net_total_is_read_as_untaxed(self) -> None:
        facts = _facts(total={"gross": {"amount": 120.0, "currency": "USD"}})
        assert facts.net_total == Decimal("120.0")
