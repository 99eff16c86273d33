"""ORDER_CREATED, ORDER_FULLY_PAID and ORDER_FULFILLED: recorded once per occurrence."""

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.db.models import OrderEventRow
from app.runtime import Runtime
from app.webhooks.payloads import OrderEventPayload
from tests.api.conftest import Send
from tests.builders import NOW, body_of, order_payload

ORDER_EVENTS = [
    pytest.param("ORDER_CREATED", "OrderCreated", id="order-created"),
    pytest.param("ORDER_FULLY_PAID", "OrderFullyPaid", id="order-fully-paid"),
    pytest.param("ORDER_FULFILLED", "OrderFulfilled", id="order-fulfilled"),
]


async def _rows(runtime: Runtime) -> list[OrderEventRow]:
    async with runtime.sessions() as session:
        return list((await session.scalars(select(OrderEventRow).order_by(OrderEventRow.id))).all())


@pytest.mark.usefixtures("installation")
class TestOrderEvents:
    @pytest.mark.parametrize(("event", "typename"), ORDER_EVENTS)
    async def test_records_the_event_for_the_store(
        self, send: Send, runtime: Runtime, event: str, typename: str
    ) -> None:
        body = body_of(order_payload(typename=typename))
        response = await send(event, body)
        assert (response.status_code, response.json()) == (200, {"status": "recorded"})
        (row,) = await _rows(runtime)
        assert (row.saleor_api_url, row.event, row.order_id, row.order_number) == (
            "https://shop.test/graphql/",
            event.lower(),
            "T3JkZXI6MQ==",
            "1001",
        )
        assert row.received_at == NOW
        assert row.payload == body.decode()

    @pytest.mark.parametrize(("event", "typename"), ORDER_EVENTS)
    async def test_a_retried_delivery_is_acknowledged_and_not_recorded_twice(
        self, send: Send, runtime: Runtime, event: str, typename: str
    ) -> None:
        body = body_of(order_payload(typename=typename))
        first, retry = await send(event, body), await send(event, body)
        assert (first.status_code, retry.status_code) == (200, 200)
        assert retry.json() == {"status": "duplicate"}
        assert len(await _rows(runtime)) == 1

    async def test_a_later_occurrence_of_the_same_event_is_recorded(self, send: Send, runtime: Runtime) -> None:
        await send("ORDER_FULFILLED", body_of(order_payload(typename="OrderFulfilled")))
        later = order_payload(typename="OrderFulfilled", issued_at="2026-11-27T09:00:00+00:00")
        await send("ORDER_FULFILLED", body_of(later))
        assert len(await _rows(runtime)) == 2

    async def test_a_payload_from_a_store_without_optional_parts_is_accepted(
        self, send: Send, runtime: Runtime
    ) -> None:
        payload = order_payload(user=None, userEmail=None, lines=[])
        payload["version"] = None
        assert (await send(body=body_of(payload))).status_code == 200

    async def test_an_unaware_timestamp_is_refused(self, send: Send) -> None:
        response = await send(body=body_of(order_payload(issued_at="2026-11-26T12:00:00")))
        assert (response.status_code, response.json()["error"]["type"]) == (400, "INVALID_PAYLOAD")


class TestOrderEventPayload:
    def test_money_arrives_as_the_exact_decimal_on_the_wire(self) -> None:
        payload = order_payload()
        raw = body_of(payload).replace(b'"amount":129.9', b'"amount":0.1')
        parsed = OrderEventPayload.model_validate_json(raw)
        assert parsed.order.total.gross.amount == Decimal("0.1")
        assert parsed.order.lines[0].unit_price.gross.to_money().amount == Decimal("0.1")

    def test_ignores_fields_a_newer_subscription_adds(self) -> None:
        payload = order_payload()
        payload["order"]["newField"] = {"x": 1}
        assert OrderEventPayload.model_validate_json(json.dumps(payload)).order.number == "1001"
