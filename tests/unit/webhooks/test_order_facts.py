"""What fraud scoring reads of an order payload."""

from decimal import Decimal
from typing import Any

from app.domain.fraud import OrderFacts
from app.webhooks.order_facts import order_facts
from app.webhooks.payloads import OrderEventPayload
from tests.builders import order_payload


def _facts(**order: Any) -> OrderFacts:
    payload = order_payload()
    payload["order"].update(order)
    return order_facts(OrderEventPayload.model_validate(payload).order)


class TestOrderFacts:
    def test_the_margin_reads_the_total_without_tax(self) -> None:
        facts = _facts(
            total={"gross": {"amount": 120.0, "currency": "USD"}, "net": {"amount": 100.0, "currency": "USD"}}
        )
        assert (facts.total, facts.net_total) == (Decimal("120.0"), Decimal("100.0"))

    def test_a_payload_without_the_net_total_is_read_as_untaxed(self) -> None:
        facts = _facts(total={"gross": {"amount": 120.0, "currency": "USD"}})
        assert facts.net_total == Decimal("120.0")
