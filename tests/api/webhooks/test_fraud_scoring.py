"""Order webhooks score the order and write the outcome back into Saleor."""

import asyncio
import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db.models import EffectRow, FraudAssessmentRow, FraudReviewRow, OrderEventRow
from app.runtime import Runtime
from tests.api.conftest import Send
from tests.builders import body_of, order_payload
from tests.conftest import FixedClock
from tests.fakes.fake_saleor import FRAUD_DECISION_OK, FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")


async def _count(runtime: Runtime, model: type) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _hold(runtime: Runtime) -> str | None:
    """Why the order is held by the app: awaiting_payment, open (in review), closed; None = not held."""
    async with runtime.sessions() as session:
        return await session.scalar(select(FraudReviewRow.status))


def _transaction(*, authorized: str = "0", charged: str = "0", **metadata: str) -> dict[str, object]:
    return {
        "id": "VHJhbnNhY3Rpb25JdGVtOjE=",
        "pspReference": "pi_1",
        "authorizedAmount": {"amount": float(authorized), "currency": "USD"},
        "chargedAmount": {"amount": float(charged), "currency": "USD"},
        "metadata": [{"key": k, "value": v} for k, v in metadata.items()],
    }


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
        # Approved without a payment to check: the order stays held until its payment is assessed.
        assert variables["confirm"] is False
        assert await _count(runtime, FraudAssessmentRow) == 1
        assert await _hold(runtime) == "awaiting_payment"

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

    async def test_saleor_down_during_write_back_keeps_the_decision_and_writes_it_when_saleor_is_back(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime, app: FastAPI, clock: FixedClock
    ) -> None:
        fake_saleor.on("FraudDecision", httpx.Response(503))
        assert (await send()).status_code == 200
        assert (await _count(runtime, FraudAssessmentRow), await _count(runtime, OrderEventRow)) == (1, 1)
        async with runtime.sessions() as session:
            waiting = (await session.scalars(select(EffectRow))).one()
        assert (waiting.kind, waiting.status, waiting.attempts) == ("fraud_decision", "pending", 1)
        assert "503" in (waiting.last_error or "")
        fake_saleor.on("FraudDecision", FRAUD_DECISION_OK)
        clock.advance(hours=1)
        await app.state.worker.drain()
        assert len(fake_saleor.calls("FraudDecision")) == 2
        # The earlier attempt may have reached Saleor, so its notes were read first: no note twice.
        assert len(fake_saleor.calls("OrderNotes")) == 1
        async with runtime.sessions() as session:
            assert (await session.scalars(select(EffectRow.status))).all() == ["done"]

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


class TestHeldUntilThePaymentIsAssessed:
    async def test_mark_as_paid_sends_fully_paid_only_and_that_releases_the_order(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        await send()
        # orderMarkAsPaid (PAYMENT_FLOW): a "manual" legacy Payment, then ORDER_FULLY_PAID and ORDER_UPDATED.
        fully_paid = order_payload(typename="OrderFullyPaid", issued_at="2026-11-26T12:05:00+00:00")
        fully_paid["order"]["payments"] = [{"id": "UGF5bWVudDox", "gateway": "manual", "creditCard": None}]
        assert (await send("ORDER_FULLY_PAID", body_of(fully_paid))).status_code == 200
        created, paid = fake_saleor.calls("FraudDecision")
        assert (created["variables"]["confirm"], paid["variables"]["confirm"]) == (False, True)
        assert json.loads(paid["variables"]["metadata"][0]["value"])["stage"] == "paid"
        assert await _hold(runtime) is None

    async def test_a_transaction_marked_as_paid_releases_the_order(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        await send()
        # orderMarkAsPaid (TRANSACTION_FLOW): a TransactionItem charged with the total, no metadata.
        await send("ORDER_FULLY_PAID", _paid("OrderFullyPaid"))
        assert [call["variables"]["confirm"] for call in fake_saleor.calls("FraudDecision")] == [False, True]

    async def test_a_risky_payment_turns_the_wait_into_a_review(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        await send()
        await send("ORDER_PAID", _paid(avs_result="N", cvv_result="N"))
        assert [call["variables"]["confirm"] for call in fake_saleor.calls("FraudDecision")] == [False, False]
        assert await _hold(runtime) == "open"

    async def test_a_checkout_order_that_arrives_paid_is_assessed_with_its_card_checks_at_once(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        created = order_payload()
        created["order"]["transactions"] = [_transaction(authorized="129.9", avs_result="Y", cvv_result="M")]
        await send(body=body_of(created))
        (decision,) = fake_saleor.calls("FraudDecision")
        written = json.loads(decision["variables"]["metadata"][0]["value"])
        assert written["stage"] == "paid"
        assert {"avs_match", "cvv_match"} <= {reason["code"] for reason in written["reasons"]}
        assert decision["variables"]["confirm"] is True
        # Saleor's ORDER_PAID for the same checkout adds nothing.
        await send("ORDER_PAID", _paid(avs_result="Y", cvv_result="M"))
        assert len(fake_saleor.calls("FraudDecision")) == 1

    async def test_a_transaction_that_failed_is_no_payment(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        created = order_payload()
        created["order"]["transactions"] = [_transaction(charged="0", avs_result="N", cvv_result="N")]
        await send(body=body_of(created))
        (decision,) = fake_saleor.calls("FraudDecision")
        assert json.loads(decision["variables"]["metadata"][0]["value"])["stage"] == "created"
        assert await _hold(runtime) == "awaiting_payment"

    async def test_an_authorisation_after_creation_comes_as_order_updated_and_is_assessed(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        await send()
        updated = order_payload(typename="OrderUpdated", issued_at="2026-11-26T12:05:00+00:00")
        updated["order"]["transactions"] = [_transaction(authorized="129.9", avs_result="Y", cvv_result="M")]
        await send("ORDER_UPDATED", body_of(updated))
        assert [call["variables"]["confirm"] for call in fake_saleor.calls("FraudDecision")] == [False, True]

    async def test_an_unpaid_order_that_is_cancelled_waits_no_more(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        await send()
        # orderCancel sends ORDER_CANCELLED (not subscribed) and ORDER_UPDATED.
        cancelled = order_payload(typename="OrderUpdated", issued_at="2026-11-26T12:30:00+00:00", status="CANCELED")
        await send("ORDER_UPDATED", body_of(cancelled))
        assert await _hold(runtime) == "closed"
        assert len(fake_saleor.calls("FraudDecision")) == 1

    async def test_an_order_its_channel_confirmed_is_not_held(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        await send(body=body_of(order_payload(status="UNFULFILLED")))
        assert fake_saleor.calls("FraudDecision")[0]["variables"]["confirm"] is False
        assert await _hold(runtime) is None


class TestCancelledInSaleor:
    """A merchant who cancels a held order in Saleor has decided it: the app holds it no more."""

    async def test_a_held_order_cancelled_in_saleor_leaves_the_review_queue(
        self, send: Send, runtime: Runtime, client: httpx.AsyncClient, staff_headers
    ) -> None:
        await send()
        await send("ORDER_PAID", _paid(avs_result="N", cvv_result="N"))
        assert await _hold(runtime) == "open"
        cancelled = order_payload(typename="OrderUpdated", issued_at="2026-11-26T12:30:00+00:00", status="CANCELED")
        await send("ORDER_UPDATED", body_of(cancelled))
        async with runtime.sessions() as session:
            review = (await session.scalars(select(FraudReviewRow))).one()
        assert (review.status, review.closed_reason, review.closed_by) == ("closed", "cancelled_in_saleor", "Saleor")
        queue = await client.get("/api/dashboard/fragments/reviews", headers=staff_headers())
        assert "data-review=" not in queue.text

    async def test_a_payment_event_that_arrives_after_the_cancel_is_not_assessed(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        await send()
        cancelled = order_payload(typename="OrderUpdated", issued_at="2026-11-26T12:30:00+00:00", status="CANCELED")
        await send("ORDER_UPDATED", body_of(cancelled))
        # Saleor renders each payload when its event fires and delivers them apart: the payment's event,
        # issued before the cancel, can arrive after it, still showing the order UNCONFIRMED.
        await send("ORDER_FULLY_PAID", _paid("OrderFullyPaid"))
        assert len(fake_saleor.calls("FraudDecision")) == 1
        assert await _count(runtime, FraudAssessmentRow) == 1


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
