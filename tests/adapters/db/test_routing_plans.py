"""Routing plans, hand-offs, partner shipments and callback signatures on a real database."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from app.db.models import OrderEventRow
from app.db.repositories.routing_plans import SqlRoutingPlans
from app.domain.ids import SaleorId, saleor_api_url
from app.domain.routing.model import SourceKind
from app.runtime import Runtime
from app.services.routing.plans import (
    HandOff,
    HandOffStatus,
    OpenHandOff,
    OrderRouting,
    PartnerShipment,
    RoutedShipment,
    RoutedUnits,
)
from tests.builders import NOW

pytestmark = pytest.mark.usefixtures("installation")
SHOP = saleor_api_url("https://shop.test/graphql/")
ORDER = "T3JkZXI6MQ=="
WEST = SaleorId("V2FyZWhvdXNlOjI=")
UNITS = (RoutedUnits("L1", "MUG", 2),)
ROUTING = OrderRouting(
    order_id=ORDER,
    revision=1,
    routed=True,
    shipments=(RoutedShipment(WEST, SourceKind.THIRD_PARTY, "p-west", UNITS, NOW + timedelta(days=1)),),
    metadata={"v": 1, "plan": [], "shipments": 1, "explanation": ["1 shipment"]},
    decided_at=NOW,
    updated_at=NOW,
)
HAND_OFF = HandOff("h1", ORDER, 1, "p-west", WEST, UNITS, HandOffStatus.SENT, NOW, NOW)


async def test_a_plan_is_kept_once_and_revised_only_from_its_previous_revision(runtime: Runtime) -> None:
    async with runtime.sessions.begin() as session:
        plans = SqlRoutingPlans(session)
        assert await plans.add(SHOP, ROUTING)
        assert not await plans.add(SHOP, replace(ROUTING, routed=False))
        assert await plans.get(SHOP, ORDER) == ROUTING
        revised = replace(ROUTING, revision=2, shipments=(), excluded={WEST: "rejected"}, updated_at=NOW + timedelta(1))
        assert await plans.revise(SHOP, revised)
        assert not await plans.revise(SHOP, revised)  # revision 2 again: the kept one is no longer 1
        assert await plans.get(SHOP, ORDER) == revised


async def test_hand_offs_and_their_shipments_round_trip(runtime: Runtime) -> None:
    async with runtime.sessions.begin() as session:
        plans = SqlRoutingPlans(session)
        await plans.add_hand_off(SHOP, HAND_OFF)
        assert await plans.hand_off("h1") == (SHOP, HAND_OFF)
        assert await plans.hand_off("h2") is None
        shipped = replace(HAND_OFF, status=HandOffStatus.ACCEPTED, shipped={"L1": 1}, updated_at=NOW + timedelta(1))
        await plans.save_hand_off(SHOP, shipped)
        assert await plans.hand_offs(SHOP, ORDER) == [shipped]
        shipment = PartnerShipment("h1", "S1", "UPS", "1Z", {"L1": 1}, NOW)
        await plans.add_shipment(SHOP, shipment)
        assert await plans.shipment("h1", "S1") == shipment
        assert await plans.shipment("h1", "S2") is None


async def test_a_partner_s_open_hand_offs_are_those_it_has_still_to_ship_with_their_order_numbers(
    runtime: Runtime,
) -> None:
    async with runtime.sessions.begin() as session:
        session.add(
            OrderEventRow(
                saleor_api_url=SHOP,
                event="order_created",
                order_id=ORDER,
                order_number="1001",
                issued_at=NOW,
                payload="{}",
                received_at=NOW,
                next_attempt_at=NOW,
                retry_window_start=NOW,
            )
        )
        plans = SqlRoutingPlans(session)
        accepted = replace(
            HAND_OFF,
            id="h2",
            revision=2,
            status=HandOffStatus.ACCEPTED,
            shipped={"L1": 1},
            created_at=NOW + timedelta(1),
        )
        other_order = replace(HAND_OFF, id="h3", order_id="T3JkZXI6Mg==", created_at=NOW + timedelta(2))
        for hand_off in (
            HAND_OFF,
            accepted,
            other_order,
            replace(HAND_OFF, id="h4", revision=4, status=HandOffStatus.REJECTED),
            replace(HAND_OFF, id="h5", revision=5, status=HandOffStatus.ACCEPTED, shipped={"L1": 2}),
            replace(HAND_OFF, id="h6", revision=6, partner_id="p-acme"),
        ):
            await plans.add_hand_off(SHOP, hand_off)
        assert await plans.open_hand_offs(SHOP, "p-west") == [
            OpenHandOff(HAND_OFF, "1001"),
            OpenHandOff(accepted, "1001"),
            OpenHandOff(other_order, None),
        ]
        assert await plans.open_hand_offs(saleor_api_url("https://other.test/graphql/"), "p-west") == []


async def test_a_signature_is_seen_once_and_forgotten_once_it_can_no_longer_come_back(runtime: Runtime) -> None:
    async with runtime.sessions.begin() as session:
        plans = SqlRoutingPlans(session)
        assert await plans.first_sight(SHOP, "abc", NOW)
        assert not await plans.first_sight(SHOP, "abc", NOW + timedelta(minutes=5))
        assert await plans.first_sight(SHOP, "abc", NOW + timedelta(hours=1))


async def test_the_unanswered_hand_offs_of_a_partner_are_listed_oldest_first_up_to_the_limit(runtime: Runtime) -> None:
    async with runtime.sessions.begin() as session:
        plans = SqlRoutingPlans(session)
        for number, sent_at in enumerate((NOW + timedelta(hours=2), NOW, NOW + timedelta(hours=1))):
            await plans.add_hand_off(SHOP, replace(HAND_OFF, id=f"h{number}", revision=number + 1, created_at=sent_at))
        await plans.add_hand_off(SHOP, replace(HAND_OFF, id="other", revision=9, partner_id="p-east"))
        await plans.add_hand_off(SHOP, replace(HAND_OFF, id="taken", revision=10, status=HandOffStatus.ACCEPTED))
        waiting = await plans.unanswered(SHOP, "p-west", NOW + timedelta(hours=1, minutes=30), limit=5)
        assert [hand_off.id for hand_off in waiting] == ["h1", "h2"]
        assert [h.id for h in await plans.unanswered(SHOP, "p-west", NOW + timedelta(days=1), limit=1)] == ["h1"]


async def test_a_hand_off_is_ended_only_from_the_status_it_was_read_in(runtime: Runtime) -> None:
    """Of a worker expiring it and a partner accepting it (or two workers), the first one wins."""
    async with runtime.sessions.begin() as session:
        plans = SqlRoutingPlans(session)
        await plans.add_hand_off(SHOP, HAND_OFF)
        expired = replace(HAND_OFF, status=HandOffStatus.EXPIRED, reason="no answer within 4 hours")
        assert await plans.end_hand_off(SHOP, expired, HandOffStatus.SENT)
        cancelled = replace(HAND_OFF, status=HandOffStatus.CANCELLED, reason="fraud")
        assert not await plans.end_hand_off(SHOP, cancelled, HandOffStatus.SENT)
        assert await plans.hand_off("h1") == (SHOP, expired)
