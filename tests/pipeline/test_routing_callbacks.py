"""Partner callbacks through the API on SQLite: signed, replays refused, idempotent; a confirmed
shipment becomes a Saleor fulfilment, a rejection is re-planned on the order's next event."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx

from app.pipeline.worker import Worker
from app.services.routing.signing import signed_headers
from tests.api.conftest import Send
from tests.api.receipt_answers import EAST_ID
from tests.conftest import FixedClock
from tests.fakes.fake_saleor import FakeSaleor
from tests.fakes.routing import InMemoryRoutingSources
from tests.pipeline.test_routing import (
    ORDER,
    PAID,
    WEST_ID,
    _created_and_paid,
    _hand_offs,
    _order,
    _routing_notes,
    sources,
)
from tests.unit.services.routing.builders import WEST_3PL

__all__ = ["sources"]  # the fixture, shared with the planning tests
SECRET = "west-secret"
FULFILLED = {
    "data": {"orderFulfill": {"fulfillments": [{"id": "RnVsZmlsbG1lbnQ6MQ==", "trackingNumber": "1Z"}], "errors": []}}
}


@pytest.fixture
async def hand_off_id(
    send: Send, respx_router: respx.MockRouter, runtime: Any, sources: InMemoryRoutingSources, fake_saleor: FakeSaleor
) -> str:
    sources.secrets["p-west"] = SECRET
    respx_router.post(WEST_3PL.address).mock(return_value=httpx.Response(202))
    fake_saleor.on("OrderFulfill", FULFILLED)
    await _created_and_paid(send, east=0, west=5)
    (hand_off,) = await _hand_offs(runtime)
    return hand_off.id


class Partner:
    def __init__(self, client: httpx.AsyncClient, clock: FixedClock, worker: Worker) -> None:
        self.client, self.clock, self.worker = client, clock, worker

    async def call(
        self, hand_off: str, action: str, body: dict[str, Any] | None = None, *, secret: str = SECRET, ago: int = 0
    ) -> httpx.Response:
        text = json.dumps(body or {})
        headers = signed_headers(secret, text, self.clock.now() - timedelta(minutes=ago))
        return await self.send(hand_off, action, text, headers)

    async def send(self, hand_off: str, action: str, text: str, headers: dict[str, str]) -> httpx.Response:
        response = await self.client.post(f"/api/routing/hand-offs/{hand_off}/{action}", content=text, headers=headers)
        await self.worker.drain()
        self.clock.advance(seconds=1)  # the next call is signed at another second
        return response


@pytest.fixture
def partner(client: httpx.AsyncClient, clock: FixedClock, worker: Worker) -> Partner:
    return Partner(client, clock, worker)


def _shipment(shipment_id: str, quantity: int, line: str = "L1") -> dict[str, Any]:
    return {
        "shipmentId": shipment_id,
        "carrier": "UPS",
        "trackingNumber": f"1Z{shipment_id}",
        "lines": [{"lineId": line, "quantity": quantity}],
    }


class TestAuthentication:
    async def test_a_bad_signature_a_stale_timestamp_and_an_unknown_hand_off_are_refused_with_the_reason(
        self, partner: Partner, hand_off_id: str, runtime: Any
    ) -> None:
        bad = await partner.call(hand_off_id, "accept", secret="guess")
        assert (bad.status_code, bad.json()) == (401, {"detail": "X-Ops-Signature does not match the body"})
        stale = await partner.call(hand_off_id, "accept", ago=6)
        assert (stale.status_code, stale.json()) == (401, {"detail": "X-Ops-Timestamp is more than 5 minutes from now"})
        unknown = await partner.call("nope", "accept")
        assert (unknown.status_code, unknown.json()) == (404, {"detail": "no hand-off nope"})
        missing = await partner.send(hand_off_id, "accept", "{}", {})
        assert missing.status_code == 422
        (hand_off,) = await _hand_offs(runtime)
        assert hand_off.status.value == "sent"

    async def test_the_same_signed_request_again_is_a_replay(self, partner: Partner, hand_off_id: str) -> None:
        text = "{}"
        headers = signed_headers(SECRET, text, partner.clock.now())
        first = await partner.client.post(f"/api/routing/hand-offs/{hand_off_id}/accept", content=text, headers=headers)
        again = await partner.client.post(f"/api/routing/hand-offs/{hand_off_id}/accept", content=text, headers=headers)
        assert first.status_code == 200
        assert (again.status_code, again.json()) == (409, {"detail": "a replay: this signed request was taken already"})


class TestAccepting:
    async def test_accepting_twice_answers_the_same(self, partner: Partner, hand_off_id: str) -> None:
        first = await partner.call(hand_off_id, "accept")
        second = await partner.call(hand_off_id, "accept")
        assert first.status_code == second.status_code == 200
        assert (
            first.json()
            == second.json()
            == {"handOffId": hand_off_id, "orderId": ORDER, "status": "accepted", "shipped": {}}
        )


class TestShipments:
    async def test_a_confirmed_shipment_becomes_a_fulfilment_from_the_partner_s_warehouse_once(
        self, partner: Partner, hand_off_id: str, fake_saleor: FakeSaleor
    ) -> None:
        confirmed = await partner.call(hand_off_id, "shipments", _shipment("S1", 1))
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["shipped"] == {"L1": 1}
        (call,) = fake_saleor.calls("OrderFulfill")
        assert call["variables"] == {
            "order": ORDER,
            "input": {
                "lines": [{"orderLineId": "L1", "stocks": [{"warehouse": WEST_ID, "quantity": 1}]}],
                "trackingNumber": "1ZS1",
                "notifyCustomer": True,
                "allowStockToBeExceeded": False,
            },
        }
        again = await partner.call(hand_off_id, "shipments", _shipment("S1", 1))
        assert (again.status_code, again.json()["shipped"]) == (200, {"L1": 1})
        assert len(fake_saleor.calls("OrderFulfill")) == 1
        rest = await partner.call(hand_off_id, "shipments", _shipment("S2", 1))
        assert rest.json()["shipped"] == {"L1": 2}
        assert len(fake_saleor.calls("OrderFulfill")) == 2

    async def test_more_than_was_handed_off_an_unknown_line_or_a_changed_shipment_change_nothing(
        self, partner: Partner, hand_off_id: str, fake_saleor: FakeSaleor, runtime: Any
    ) -> None:
        assert (await partner.call(hand_off_id, "shipments", _shipment("S1", 1))).status_code == 200
        beyond = await partner.call(hand_off_id, "shipments", _shipment("S2", 2))
        assert (beyond.status_code, beyond.json()) == (
            422,
            {"detail": "line L1: 2 units is more than the 1 handed off and not shipped yet"},
        )
        unknown = await partner.call(hand_off_id, "shipments", _shipment("S3", 1, line="L9"))
        assert (unknown.status_code, unknown.json()) == (
            422,
            {"detail": f"line L9 was not handed off in {hand_off_id}"},
        )
        changed = await partner.call(hand_off_id, "shipments", _shipment("S1", 1) | {"trackingNumber": "other"})
        assert (changed.status_code, changed.json()) == (
            409,
            {"detail": "shipment S1 was confirmed already with other content"},
        )
        empty = await partner.call(hand_off_id, "shipments", _shipment("S4", 1) | {"lines": []})
        assert empty.status_code == 422
        (hand_off,) = await _hand_offs(runtime)
        assert hand_off.shipped == {"L1": 1}
        assert len(fake_saleor.calls("OrderFulfill")) == 1


class TestRejection:
    async def test_a_rejection_is_noted_and_its_units_re_planned_without_the_partner(
        self, partner: Partner, hand_off_id: str, fake_saleor: FakeSaleor, send: Send, runtime: Any
    ) -> None:
        rejected = await partner.call(hand_off_id, "reject", {"reason": "out of stock"})
        assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
        assert any("West rejected hand-off" in note and "out of stock" in note for note in fake_saleor.notes[ORDER])
        # The note makes Saleor send ORDER_UPDATED; East has mugs again by then.
        await send("ORDER_UPDATED", _order("OrderUpdated", timedelta(minutes=10), east=5, west=5, transactions=PAID))
        routing = json.loads(fake_saleor.metadata[ORDER]["ops.routing"])
        assert [(entry["lineId"], entry["quantity"], entry["source"]["id"]) for entry in routing["plan"]] == [
            ("L1", 2, EAST_ID)
        ]
        assert routing["explanation"][0].startswith(
            f"re-planned without {WEST_ID} (rejected the hand-off (out of stock))"
        )
        assert len(_routing_notes(fake_saleor)) == 3  # the plan, the rejection, the re-plan
        assert len(await _hand_offs(runtime)) == 1  # East is the merchant's own: nothing handed off
        # Another event of the order re-plans nothing more.
        await send("ORDER_UPDATED", _order("OrderUpdated", timedelta(minutes=20), east=5, west=5, transactions=PAID))
        assert len(_routing_notes(fake_saleor)) == 3

    async def test_a_hand_off_with_units_shipped_cannot_be_rejected(self, partner: Partner, hand_off_id: str) -> None:
        await partner.call(hand_off_id, "shipments", _shipment("S1", 1))
        refused = await partner.call(hand_off_id, "reject", {"reason": "changed our mind"})
        assert (refused.status_code, refused.json()) == (
            409,
            {"detail": "units of the hand-off were shipped already: it can no longer be rejected"},
        )


async def test_the_partner_api_is_documented_in_openapi(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    paths = schema["paths"]
    assert {
        "/api/routing/hand-offs/{hand_off_id}/accept",
        "/api/routing/hand-offs/{hand_off_id}/reject",
        "/api/routing/hand-offs/{hand_off_id}/shipments",
    } <= set(paths)
    shipments = paths["/api/routing/hand-offs/{hand_off_id}/shipments"]["post"]
    assert {p["name"] for p in shipments["parameters"]} == {"hand_off_id", "X-Ops-Timestamp", "X-Ops-Signature"}
    assert {"401", "404", "409", "422"} <= set(shipments["responses"])
    assert "X-Ops-Signature" in schema["info"]["description"]
    body = shipments["requestBody"]["content"]["application/json"]["schema"]
    confirmation = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert set(confirmation["required"]) == {"shipmentId", "carrier", "trackingNumber", "lines"}
    line = confirmation["properties"]["lines"]["items"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][line]["properties"]) == {"lineId", "quantity"}
