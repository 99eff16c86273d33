"""Order webhooks score the order and write the outcome back into Saleor."""

import asyncio
import json

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import FraudAssessmentRow, FraudReviewRow, OrderEventRow
from app.runtime import Runtime
from tests.api.conftest import Send
from tests.builders import body_of, order_payload
from tests.fakes.fake_saleor import FRAUD_DECISION_OK, FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")


async def _count(runtime: Runtime, model: type) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _paid(typename: str = "OrderPaid", **metadata: str) -> bytes:
    payload = order_payload(typename=typename, issued_at="2026-11-26T12:05:00+00:00")
    payload["order"]["transactions"] = [
        {
            "id": "VHJhbnNhY3Rpb246MQ==",
            "pspReference": "ch_1",
            "chargedAmount": {"amount": 129.9, "currency": "USD"},
            "metadata": [{"key": k, "value": v} for k, v in metadata.items()],
        }
    ]
    return body_of(payload)


async def _block(client: httpx.AsyncClient, staff_headers, kind: str, value: str) -> None:
    response = await client.post(
        "/api/dashboard/lists", data={"kind": kind, "value": value, "list": "block"}, headers=staff_headers()
    )
    assert response.status_code == 200


class TestScoringOnOrderCreated:
    async def test_an_ordinary_order_gets_its_score_note_and_confirmation_in_saleor(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        assert (await send()).status_code == 200
        (decision,) = fake_saleor.calls("FraudDecision")
        variables = decision["variables"]
        assert variables["order"] == "T3JkZXI6MQ=="
        (item,) = variables["metadata"]
        written = json.loads(item["value"])
        assert item["key"] == "ops.fraud"
        assert set(written) == {"v", "score", "decision", "stage", "reasons", "assessedAt"}
        assert (written["decision"], written["stage"]) == ("approve", "created")
        assert "Saleor Ops fraud check (created)" in variables["note"]
        assert variables["confirm"] is True
        assert await _count(runtime, FraudAssessmentRow) == 1

    async def test_a_blocked_email_holds_the_order_for_review(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime, client: httpx.AsyncClient, staff_headers
    ) -> None:
        await _block(client, staff_headers, "email", "buyer@example.com")
        await send()
        variables = fake_saleor.calls("FraudDecision")[0]["variables"]
        assert json.loads(variables["metadata"][0]["value"])["decision"] == "reject"
        assert variables["confirm"] is False
        assert await _count(runtime, FraudReviewRow) == 1

    async def test_a_retry_scores_once_and_writes_once(self, send: Send, fake_saleor: FakeSaleor) -> None:
        body = body_of(order_payload())
        await send(body=body)
        retry = await send(body=body)
        assert retry.json() == {"status": "duplicate"}
        assert len(fake_saleor.calls("FraudDecision")) == 1

    async def test_saleor_down_during_write_back_asks_for_a_retry_and_keeps_nothing(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        fake_saleor.on("FraudDecision", httpx.Response(503))
        body = body_of(order_payload())
        failed = await send(body=body)
        assert (failed.status_code, failed.json()["error"]["type"]) == (503, "SALEOR_UNAVAILABLE")
        assert (await _count(runtime, FraudAssessmentRow), await _count(runtime, OrderEventRow)) == (0, 0)
        fake_saleor.on("FraudDecision", FRAUD_DECISION_OK)
        assert (await send(body=body)).status_code == 200
        assert await _count(runtime, FraudAssessmentRow) == 1

    async def test_a_guest_order_for_digital_goods_without_payments_is_scored(
        self, send: Send, fake_saleor: FakeSaleor
    ) -> None:
        payload = order_payload(user=None, shippingAddress=None, billingAddress=None, shippingMethodName=None)
        assert (await send(body=body_of(payload))).status_code == 200
        assert len(fake_saleor.calls("FraudDecision")) == 1


class TestScoringOnPayment:
    async def test_card_checks_that_fail_hold_the_order_at_the_paid_stage(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        await send()
        response = await send("ORDER_PAID", _paid(avs_result="N", cvv_result="N"))
        assert response.status_code == 200
        paid = json.loads(fake_saleor.calls("FraudDecision")[-1]["variables"]["metadata"][0]["value"])
        assert paid["stage"] == "paid"
        codes = {reason["code"] for reason in paid["reasons"]}
        assert any("avs" in code for code in codes)
        assert any("cvv" in code for code in codes)

    async def test_the_paid_stage_is_scored_once_across_order_paid_and_fully_paid(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        await send("ORDER_PAID", _paid(avs_result="Y", cvv_result="M"))
        await send("ORDER_FULLY_PAID", _paid("OrderFullyPaid", avs_result="Y", cvv_result="M"))
        async with runtime.sessions() as session:
            stages = (await session.scalars(select(FraudAssessmentRow.stage))).all()
        assert stages == ["paid"]

    async def test_a_payment_event_without_payments_records_but_does_not_score(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        response = await send("ORDER_FULLY_PAID", body_of(order_payload(typename="OrderFullyPaid")))
        assert response.status_code == 200
        assert fake_saleor.calls("FraudDecision") == []
        assert await _count(runtime, FraudAssessmentRow) == 0


class TestVelocityUnderConcurrentDeliveries:
    async def test_orders_delivered_together_count_each_other(self, send: Send, runtime: Runtime) -> None:
        # Three orders from one email within the hour (the limit is two): Saleor delivers them at once.
        bodies = [
            body_of(
                order_payload(order_id=f"T3JkZXI6{n}", number=str(1000 + n), issued_at=f"2026-11-26T12:00:0{n}+00:00")
            )
            for n in range(3)
        ]
        answers = await asyncio.gather(*(send(body=body) for body in bodies))
        assert [answer.status_code for answer in answers] == [200, 200, 200]
        async with runtime.sessions() as session:
            reasons = list(await session.scalars(select(FraudAssessmentRow.reasons)))
        flagged = [r for r in reasons if any(reason["code"] == "velocity_email" for reason in json.loads(r))]
        assert len(flagged) == 1
