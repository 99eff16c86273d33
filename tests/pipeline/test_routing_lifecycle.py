"""A hand-off's life after the plan, through the pipeline on SQLite: cancelled at the partner when Saleor
cancels the order or fraud rejects it, expired by housekeeping when the partner does not answer in
time (then re-planned without it), callbacks about an ended hand-off refused with the reason, and a
support ticket per order and partner trouble, cleared once nothing waits on a partner."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import select

from app.api.partner_messages import HandOffCancelMessage, HandOffMessage
from app.db.models import EffectRow
from app.db.repositories.fraud import SqlFraudRepository
from app.db.repositories.routing_plans import SqlRoutingPlans
from app.db.repositories.support import SqlTicketStore
from app.domain.ids import SaleorId
from app.domain.support.model import StoreReason
from app.domain.support.store import store_ticket_key
from app.domain.support.ticket import Status, Ticket
from app.pipeline.housekeeping import expire_unanswered_hand_offs
from app.pipeline.worker import Worker
from app.runtime import Runtime
from app.services.routing.plans import HandOffStatus
from app.services.routing.signing import signature
from tests.api.conftest import Send
from tests.api.receipt_answers import EAST_ID
from tests.conftest import FixedClock
from tests.fakes.fake_saleor import FakeSaleor
from tests.fakes.routing import InMemoryRoutingSources
from tests.pipeline.test_routing import (
    ORDER,
    PAID,
    SHOP,
    WEST_ID,
    _created_and_paid,
    _hand_off_effect,
    _hand_offs,
    _order,
    _routing_notes,
    sources,
)
from tests.pipeline.test_routing_callbacks import SECRET, Partner, _shipment, hand_off_id, partner
from tests.unit.services.routing.builders import WEST_3PL

__all__ = ["hand_off_id", "partner", "sources"]  # fixtures shared with the neighbouring routing tests


@pytest.fixture
def west(respx_router: respx.MockRouter) -> respx.Route:
    return respx_router.post(WEST_3PL.address)


def _cancels(west: respx.Route) -> list[dict[str, Any]]:
    """The cancel messages the partner received, each checked to be signed with its secret."""
    messages = []
    for call in west.calls:
        body = call.request.content.decode()
        sent = json.loads(body)
        if sent["type"] == "hand_off.cancel":
            timestamp = call.request.headers["X-Ops-Timestamp"]
            assert call.request.headers["X-Ops-Signature"] == signature(SECRET, timestamp, body)
            messages.append(sent)
    return messages


def _updated(after: timedelta, **order: Any) -> bytes:
    return _order("OrderUpdated", after, east=5, west=5, transactions=PAID, **order)


async def _store_ticket(runtime: Runtime, reason: StoreReason) -> Ticket | None:
    async with runtime.sessions() as session:
        return await SqlTicketStore(session).opened_by_store(SHOP, store_ticket_key(SaleorId(ORDER), reason))


class TestCancelled:
    async def test_an_order_cancelled_in_saleor_cancels_its_hand_off_at_the_partner_once(
        self, send: Send, hand_off_id: str, west: respx.Route, runtime: Runtime, fake_saleor: FakeSaleor
    ) -> None:
        await send("ORDER_UPDATED", _updated(timedelta(minutes=5), status="CANCELED"))
        (cancel,) = _cancels(west)
        assert cancel == {
            "type": "hand_off.cancel",
            "handOffId": hand_off_id,
            "orderId": ORDER,
            "reason": "the order was cancelled in Saleor",
            "lines": [{"lineId": "L1", "sku": "MUG-1", "quantity": 2}],
        }
        HandOffCancelMessage.model_validate(cancel)  # as the OpenAPI document describes it
        (hand_off,) = await _hand_offs(runtime)
        assert (hand_off.status, hand_off.reason) == (HandOffStatus.CANCELLED, "the order was cancelled in Saleor")
        assert _routing_notes(fake_saleor)[-1] == (
            "Saleor Ops routing: cancelled at the partner: West (MUG-1 × 2); the order was cancelled in Saleor"
        )
        # The order's later events cancel nothing more.
        await send("ORDER_UPDATED", _updated(timedelta(minutes=6), status="CANCELED"))
        assert len(_cancels(west)) == 1
        assert len(_routing_notes(fake_saleor)) == 2

    async def test_a_review_closed_as_fraud_after_the_hand_off_cancels_it(
        self,
        send: Send,
        hand_off_id: str,
        west: respx.Route,
        runtime: Runtime,
        clock: FixedClock,
        fake_saleor: FakeSaleor,
    ) -> None:
        # A later assessment held the order, and a person closed the review as fraud.
        async with runtime.sessions.begin() as session:
            fraud = SqlFraudRepository(session)
            assert await fraud.open_review(SHOP, ORDER, "1001", by="rule", at=clock.now())
            closed = await fraud.close_review(
                SHOP, ORDER, reason="refunded_as_fraud", by="ann@shop.test", at=clock.now(), note=""
            )
            assert closed
        await send("ORDER_UPDATED", _updated(timedelta(minutes=5)))
        (cancel,) = _cancels(west)
        assert cancel["reason"] == "fraud: review closed as refunded_as_fraud"
        (hand_off,) = await _hand_offs(runtime)
        assert hand_off.status is HandOffStatus.CANCELLED
        assert "cancelled at the partner: West (MUG-1 × 2)" in _routing_notes(fake_saleor)[-1]

    async def test_only_the_units_not_shipped_are_cancelled_and_a_shipped_hand_off_is_left_alone(
        self, send: Send, hand_off_id: str, west: respx.Route, partner: Partner, runtime: Runtime
    ) -> None:
        assert (await partner.call(hand_off_id, "shipments", _shipment("S1", 1))).status_code == 200
        await send("ORDER_UPDATED", _updated(timedelta(minutes=5), status="CANCELED"))
        (cancel,) = _cancels(west)
        assert cancel["lines"] == [{"lineId": "L1", "sku": "MUG-1", "quantity": 1}]

    async def test_a_fully_shipped_hand_off_is_not_cancelled(
        self, send: Send, hand_off_id: str, west: respx.Route, partner: Partner, runtime: Runtime
    ) -> None:
        assert (await partner.call(hand_off_id, "shipments", _shipment("S1", 2))).status_code == 200
        await send("ORDER_UPDATED", _updated(timedelta(minutes=5), status="CANCELED"))
        assert _cancels(west) == []
        (hand_off,) = await _hand_offs(runtime)
        assert hand_off.status is HandOffStatus.ACCEPTED


class TestCallbacksAfterTheCancel:
    @pytest.fixture(autouse=True)
    async def cancelled(self, send: Send, hand_off_id: str) -> None:
        await send("ORDER_UPDATED", _updated(timedelta(minutes=5), status="CANCELED"))

    async def test_accepting_it_is_refused_with_the_reason(
        self, partner: Partner, hand_off_id: str, runtime: Runtime
    ) -> None:
        refused = await partner.call(hand_off_id, "accept")
        assert (refused.status_code, refused.json()) == (
            409,
            {"detail": "the hand-off was cancelled (the order was cancelled in Saleor): accepting it is refused"},
        )
        (hand_off,) = await _hand_offs(runtime)
        assert hand_off.status is HandOffStatus.CANCELLED

    async def test_a_shipment_confirmed_after_the_cancel_is_refused_and_nothing_is_fulfilled(
        self, partner: Partner, hand_off_id: str, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        refused = await partner.call(hand_off_id, "shipments", _shipment("S1", 1))
        assert (refused.status_code, refused.json()) == (
            409,
            {
                "detail": "the hand-off was cancelled (the order was cancelled in Saleor): "
                "a shipment confirmed after the cancel is refused"
            },
        )
        assert fake_saleor.calls("OrderFulfill") == []
        (hand_off,) = await _hand_offs(runtime)
        assert hand_off.shipped == {}

    async def test_rejecting_it_is_refused_too(self, partner: Partner, hand_off_id: str) -> None:
        refused = await partner.call(hand_off_id, "reject", {"reason": "no stock"})
        assert refused.status_code == 409
        assert refused.json()["detail"].endswith("rejecting it is refused")


class TestAcceptanceWindow:
    async def test_a_hand_off_unanswered_past_the_window_is_cancelled_there_and_re_planned_without_the_partner(
        self,
        send: Send,
        hand_off_id: str,
        west: respx.Route,
        partner: Partner,
        runtime: Runtime,
        worker: Worker,
        clock: FixedClock,
        fake_saleor: FakeSaleor,
    ) -> None:
        # West answers within 4 hours: not yet at 3 hours 59.
        assert await expire_unanswered_hand_offs(runtime, clock.now() + timedelta(hours=3, minutes=59)) == 0
        clock.advance(hours=4, minutes=1)
        assert await expire_unanswered_hand_offs(runtime, clock.now()) == 1
        assert await expire_unanswered_hand_offs(runtime, clock.now()) == 0  # once
        await worker.drain()
        (cancel,) = _cancels(west)
        assert (cancel["handOffId"], cancel["reason"]) == (hand_off_id, "no answer within 4 hours")
        (hand_off,) = await _hand_offs(runtime)
        assert hand_off.status is HandOffStatus.EXPIRED
        assert "got no answer within 4 hours" in _routing_notes(fake_saleor)[-1]
        # The note makes Saleor send ORDER_UPDATED: the units go to East without West.
        await send("ORDER_UPDATED", _updated(timedelta(hours=5)))
        routing = json.loads(fake_saleor.metadata[ORDER]["ops.routing"])
        assert [(entry["quantity"], entry["source"]["id"]) for entry in routing["plan"]] == [(2, EAST_ID)]
        assert "let the hand-off expire (no answer within 4 hours)" in routing["explanation"][0]
        ticket = await _store_ticket(runtime, StoreReason.PARTNER_NO_ANSWER)
        assert ticket is not None
        assert "West (MUG-1 × 2): no answer within 4 hours" in ticket.description
        # West accepting now is too late.
        late = await partner.call(hand_off_id, "accept")
        assert late.status_code == 409
        assert "expired unanswered (no answer within 4 hours)" in late.json()["detail"]

    async def test_the_window_runs_from_when_a_partner_that_was_down_got_the_hand_off(
        self,
        send: Send,
        respx_router: respx.MockRouter,
        sources: InMemoryRoutingSources,
        runtime: Runtime,
        worker: Worker,
        clock: FixedClock,
    ) -> None:
        sources.secrets["p-west"] = SECRET
        down = [httpx.Response(503)] * 5
        respx_router.post(WEST_3PL.address).mock(side_effect=[*down, httpx.Response(202), httpx.Response(202)])
        await _created_and_paid(send, east=0, west=5)
        clock.advance(hours=4, minutes=1)
        assert await expire_unanswered_hand_offs(runtime, clock.now()) == 0  # still being posted
        while (await _hand_off_effect(runtime))[0] != "done":
            clock.advance(hours=1)
            await worker.drain()
        delivered = clock.now()
        assert await expire_unanswered_hand_offs(runtime, delivered + timedelta(hours=3, minutes=59)) == 0
        assert await expire_unanswered_hand_offs(runtime, delivered + timedelta(hours=4, minutes=1)) == 1

    async def test_two_workers_expiring_at_once_expire_each_hand_off_once(
        self, hand_off_id: str, runtime: Runtime, clock: FixedClock
    ) -> None:
        later = clock.now() + timedelta(hours=5)
        counts = await asyncio.gather(
            expire_unanswered_hand_offs(runtime, later), expire_unanswered_hand_offs(runtime, later)
        )
        assert sorted(counts) == [0, 1]
        async with runtime.sessions() as session:
            kinds = (await session.scalars(select(EffectRow.kind).where(EffectRow.kind == "cancel_hand_off"))).all()
        assert kinds == ["cancel_hand_off"]

    async def test_an_accepted_hand_off_never_expires(
        self, hand_off_id: str, partner: Partner, runtime: Runtime, clock: FixedClock
    ) -> None:
        assert (await partner.call(hand_off_id, "accept")).status_code == 200
        assert await expire_unanswered_hand_offs(runtime, clock.now() + timedelta(days=3)) == 0
        (hand_off,) = await _hand_offs(runtime)
        assert hand_off.status is HandOffStatus.ACCEPTED


class TestSupportTickets:
    async def test_a_rejection_opens_one_ticket_whose_cause_clears_once_the_re_plan_stands(
        self, send: Send, hand_off_id: str, partner: Partner, runtime: Runtime
    ) -> None:
        assert (await partner.call(hand_off_id, "reject", {"reason": "out of stock"})).status_code == 200
        await send("ORDER_UPDATED", _updated(timedelta(minutes=10)))
        ticket = await _store_ticket(runtime, StoreReason.PARTNER_REJECTED)
        assert ticket is not None
        assert ticket.status is not Status.CLOSED
        assert "West (MUG-1 × 2): out of stock" in ticket.description
        assert await _store_ticket(runtime, StoreReason.PARTNER_NO_ANSWER) is None
        # Re-planned onto the merchant's own warehouse, nothing waits on a partner: the next event clears it.
        await send("ORDER_UPDATED", _updated(timedelta(minutes=20)))
        cleared = await _store_ticket(runtime, StoreReason.PARTNER_REJECTED)
        assert cleared is not None
        assert cleared.status is Status.CLOSED

    async def test_the_cause_clears_when_the_partner_of_the_re_planned_lines_accepts(
        self, send: Send, hand_off_id: str, partner: Partner, runtime: Runtime, clock: FixedClock
    ) -> None:
        assert (await partner.call(hand_off_id, "reject", {"reason": "out of stock"})).status_code == 200
        await send("ORDER_UPDATED", _updated(timedelta(minutes=10)))
        # Say the re-plan had handed the units to a partner (West again, for the test's one partner).
        (rejected,) = await _hand_offs(runtime)
        again = replace(
            rejected, id="h-again", revision=2, status=HandOffStatus.SENT, reason="", created_at=clock.now()
        )
        async with runtime.sessions.begin() as session:
            await SqlRoutingPlans(session).add_hand_off(SHOP, again)
        await send("ORDER_UPDATED", _updated(timedelta(minutes=20)))
        waiting = await _store_ticket(runtime, StoreReason.PARTNER_REJECTED)
        assert waiting is not None
        assert waiting.status is not Status.CLOSED  # the new hand-off is not answered yet
        assert (await partner.call("h-again", "accept")).status_code == 200
        cleared = await _store_ticket(runtime, StoreReason.PARTNER_REJECTED)
        assert cleared is not None
        assert cleared.status is Status.CLOSED

    async def test_nothing_is_re_planned_while_fraud_holds_the_order_again(
        self,
        send: Send,
        hand_off_id: str,
        partner: Partner,
        runtime: Runtime,
        clock: FixedClock,
        fake_saleor: FakeSaleor,
    ) -> None:
        assert (await partner.call(hand_off_id, "reject", {"reason": "out of stock"})).status_code == 200
        async with runtime.sessions.begin() as session:
            assert await SqlFraudRepository(session).open_review(SHOP, ORDER, "1001", by="rule", at=clock.now())
        await send("ORDER_UPDATED", _updated(timedelta(minutes=10)))
        assert len(_routing_notes(fake_saleor)) == 2  # the plan and the rejection: no re-plan
        assert await _store_ticket(runtime, StoreReason.PARTNER_REJECTED) is None


async def test_the_messages_partners_receive_are_documented_in_openapi_as_they_are_sent(
    client: httpx.AsyncClient, hand_off_id: str, west: respx.Route
) -> None:
    (call,) = west.calls
    HandOffMessage.model_validate_json(call.request.content)
    schema = (await client.get("/api/openapi.json")).json()
    assert set(schema["webhooks"]) == {"handOff", "handOffCancel"}
    body = schema["webhooks"]["handOffCancel"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    cancel = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert set(cancel["required"]) == {"type", "handOffId", "orderId", "reason", "lines"}
    assert cancel["properties"]["type"]["const"] == "hand_off.cancel"
    assert "hand_off.cancel" in schema["info"]["description"]


class TestRerouteByHand:
    async def _reroute(
        self, client: httpx.AsyncClient, staff_headers: Any, action: str, **fields: str
    ) -> httpx.Response:
        return await client.post(
            "/api/dashboard/order/reroute",
            params={"orderId": ORDER},
            data={"action": action, **fields},
            headers=staff_headers(),
        )

    async def test_the_card_shows_the_plan_its_hand_offs_and_the_form(
        self, client: httpx.AsyncClient, staff_headers: Any, hand_off_id: str
    ) -> None:
        card = await client.get("/api/dashboard/fragments/order", params={"orderId": ORDER}, headers=staff_headers())
        assert card.status_code == 200
        assert 'data-testid="order-routing"' in card.text
        assert "<td>West</td><td>MUG-1 × 2</td><td>sent</td>" in card.text
        assert f'name="exclude" value="{WEST_ID}"' in card.text
        assert 'name="pin:L1"' in card.text

    async def test_preview_then_confirm_moves_the_units_cancels_the_hand_off_and_writes_back_once(
        self,
        client: httpx.AsyncClient,
        staff_headers: Any,
        hand_off_id: str,
        west: respx.Route,
        worker: Worker,
        runtime: Runtime,
        fake_saleor: FakeSaleor,
        send: Send,
    ) -> None:
        await send("ORDER_UPDATED", _updated(timedelta(minutes=5)))  # East has mugs again
        preview = await self._reroute(client, staff_headers, "preview", exclude=WEST_ID)
        assert preview.status_code == 200, preview.text
        assert 'data-testid="reroute-preview"' in preview.text
        assert "Now: <strong>$14.00</strong> · New: <strong>$" in preview.text  # priced against the current plan
        assert "Confirm re-route" in preview.text
        assert f'value="{WEST_ID}" checked' in preview.text  # the choice is kept for the confirmation
        assert _cancels(west) == []
        assert len(_routing_notes(fake_saleor)) == 1

        confirmed = await self._reroute(client, staff_headers, "confirm", exclude=WEST_ID)
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.headers["x-ops-order-changed"] == ORDER
        await worker.drain()
        (cancel,) = _cancels(west)
        assert cancel["reason"].startswith("re-routed by hand by ")
        routing = json.loads(fake_saleor.metadata[ORDER]["ops.routing"])
        assert [(entry["quantity"], entry["source"]["id"]) for entry in routing["plan"]] == [(2, EAST_ID)]
        (*_, note) = _routing_notes(fake_saleor)
        assert "re-routed by hand by" in note
        assert "cancelled at the partner: West (MUG-1 × 2)" in note
        assert len(_routing_notes(fake_saleor)) == 2
        (hand_off,) = await _hand_offs(runtime)
        assert hand_off.status is HandOffStatus.CANCELLED

    async def test_a_cancelled_order_is_refused_and_nothing_changes(
        self, client: httpx.AsyncClient, staff_headers: Any, send: Send, hand_off_id: str, fake_saleor: FakeSaleor
    ) -> None:
        await send("ORDER_UPDATED", _updated(timedelta(minutes=5), status="CANCELED"))
        notes = len(_routing_notes(fake_saleor))
        refused = await self._reroute(client, staff_headers, "confirm", exclude=WEST_ID)
        assert refused.status_code == 422
        assert "The order is cancelled: there is nothing to re-route." in refused.text
        assert len(_routing_notes(fake_saleor)) == notes

    async def test_staff_without_manage_orders_cannot_re_route(
        self, client: httpx.AsyncClient, staff_headers: Any, hand_off_id: str
    ) -> None:
        refused = await client.post(
            "/api/dashboard/order/reroute",
            params={"orderId": ORDER},
            data={"action": "confirm", "exclude": WEST_ID},
            headers=staff_headers("MANAGE_PRODUCTS"),
        )
        assert refused.status_code == 403
