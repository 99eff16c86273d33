"""What fraud scoring reads of an order webhook: only fields the app's permissions let Saleor send."""

from typing import Any

from app.domain.fraud import CardFacts, PaymentInput
from app.webhooks.order_facts import order_facts
from app.webhooks.payloads import OrderEventPayload
from tests.builders import body_of, order_payload


def facts_of(**order: Any) -> Any:
    payload = OrderEventPayload.model_validate_json(body_of(order_payload(typename="OrderFullyPaid", **order)))
    return order_facts(payload.order)


LEGACY_PAYMENT = {
    "id": "UGF5bWVudDox",
    "gateway": "mirumee.payments.dummy",
    "customerIpAddress": "203.0.113.9",
    "creditCard": {"brand": "visa", "firstDigits": "424242", "lastDigits": "4242", "expMonth": 12, "expYear": 2030},
}


class TestLegacyPayments:
    def test_card_and_ip_come_from_the_fields_manage_orders_reads(self) -> None:
        facts = facts_of(payments=[LEGACY_PAYMENT])
        assert facts.customer_ip == "203.0.113.9"
        assert facts.payments == (
            PaymentInput(
                metadata={},
                gateway="mirumee.payments.dummy",
                card=CardFacts(brand="visa", bin="424242", last4="4242", exp_month=12, exp_year=2030),
            ),
        )

    def test_card_checks_still_come_from_a_transactions_metadata(self) -> None:
        transaction = {"id": "VHJhbnNhY3Rpb25JdGVtOjE=", "metadata": [{"key": "cvc_check", "value": "fail"}]}
        facts = facts_of(payments=[LEGACY_PAYMENT], transactions=[transaction])
        assert facts.payments[0] == PaymentInput(metadata={"cvc_check": "fail"})
