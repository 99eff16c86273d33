"""A hand-off's end through the service, on in-memory plans: what a cancel reaches, what it tells the
partner, and when nothing of an order waits on a partner any more."""

from __future__ import annotations

from dataclasses import replace

from app.domain.ids import SaleorId
from app.services.routing.hand_offs import OrderForPartners, cancel_hand_offs
from app.services.routing.lifecycle import partners_settled
from app.services.routing.model import HandOffMethod
from app.services.routing.plans import HandOff, HandOffStatus, OrderRouting, RoutedUnits
from tests.builders import SHOP_API_URL
from tests.fakes.routing import InMemoryRoutingPlans, RecordingHandOffs
from tests.unit.services.routing.builders import ACME, ACME_SUPPLIER, NOW, ORDER, WEST, WEST_3PL

UNITS = (RoutedUnits("L1", "MUG", 2), RoutedUnits("L2", "TEE", 1))
SENT = HandOff("h-west", ORDER, 1, "p-west", WEST, UNITS, HandOffStatus.SENT, NOW, NOW)
PARTNERS = {WEST_3PL.id: WEST_3PL, ACME_SUPPLIER.id: ACME_SUPPLIER}
THE_ORDER = OrderForPartners("1001", {"city": "Dallas"}, {"L1": "Mug Blue", "L2": "Tee Red"})


async def _cancel(
    *hand_offs: HandOff, partners: dict[str, object] | None = None
) -> tuple[tuple[HandOff, ...], InMemoryRoutingPlans, RecordingHandOffs]:
    plans, writer = InMemoryRoutingPlans(), RecordingHandOffs()
    for hand_off in hand_offs:
        await plans.add_hand_off(SHOP_API_URL, hand_off)
    cancelled = await cancel_hand_offs(
        SHOP_API_URL,
        hand_offs,
        "fraud",
        order=THE_ORDER,
        partners=PARTNERS,
        plans=plans,
        writer=writer,
        now=NOW,
    )
    return cancelled, plans, writer


class TestCancel:
    async def test_an_open_hand_off_is_cancelled_and_its_partner_told_what_not_to_ship(self) -> None:
        partly = replace(SENT, status=HandOffStatus.ACCEPTED, shipped={"L1": 2})
        (cancelled,), plans, writer = await _cancel(partly)
        assert (cancelled.status, cancelled.reason) == (HandOffStatus.CANCELLED, "fraud")
        assert plans.hand_offs_[0].status is HandOffStatus.CANCELLED
        assert writer.cancelled == [
            (
                ORDER,
                "p-west",
                WEST_3PL.address,
                {
                    "type": "hand_off.cancel",
                    "handOffId": "h-west",
                    "orderId": ORDER,
                    "reason": "fraud",
                    "lines": [{"lineId": "L2", "sku": "TEE", "quantity": 1}],
                },
            )
        ]

    async def test_shipped_rejected_and_ended_hand_offs_are_left_as_they_are(self) -> None:
        shipped = replace(SENT, id="a", status=HandOffStatus.ACCEPTED, shipped={"L1": 2, "L2": 1})
        rejected = replace(SENT, id="b", status=HandOffStatus.REJECTED)
        expired = replace(SENT, id="c", status=HandOffStatus.EXPIRED)
        cancelled, _, writer = await _cancel(shipped, rejected, expired)
        assert (cancelled, writer.cancelled) == ((), [])

    async def test_one_answered_since_it_was_read_is_not_cancelled(self) -> None:
        plans, writer = InMemoryRoutingPlans(), RecordingHandOffs()
        await plans.add_hand_off(SHOP_API_URL, replace(SENT, status=HandOffStatus.ACCEPTED))
        cancelled = await cancel_hand_offs(
            SHOP_API_URL, [SENT], "late", order=THE_ORDER, partners=PARTNERS, plans=plans, writer=writer, now=NOW
        )
        assert (cancelled, writer.cancelled) == ((), [])
        assert plans.hand_offs_[0].status is HandOffStatus.ACCEPTED

    async def test_a_partner_taking_e_mail_is_mailed_the_purchase_order_s_cancel_of_the_units_left(self) -> None:
        by_mail = replace(ACME_SUPPLIER, hand_off=HandOffMethod.EMAIL, address="po@acme.example")
        acme = replace(
            SENT, id="h-acme", partner_id="p-acme", warehouse_id=ACME, status=HandOffStatus.ACCEPTED, shipped={"L1": 1}
        )
        plans, writer = InMemoryRoutingPlans(), RecordingHandOffs()
        await plans.add_hand_off(SHOP_API_URL, acme)
        cancelled = await cancel_hand_offs(
            SHOP_API_URL,
            [acme],
            "fraud",
            order=THE_ORDER,
            partners={"p-acme": by_mail},
            plans=plans,
            writer=writer,
            now=NOW,
        )
        assert [hand_off.id for hand_off in cancelled] == ["h-acme"]
        assert writer.cancelled == []
        assert writer.mailed_cancels == [
            (
                ORDER,
                "p-acme",
                "po@acme.example",
                {
                    "handOffId": "h-acme",
                    "orderNumber": "1001",
                    "partnerName": by_mail.name,
                    "lines": [
                        {"lineId": "L1", "sku": "MUG", "name": "Mug Blue", "quantity": 1},
                        {"lineId": "L2", "sku": "TEE", "name": "Tee Red", "quantity": 1},
                    ],
                    "reason": "fraud",
                },
            )
        ]

    async def test_a_partner_no_longer_set_up_gets_no_message(self) -> None:
        gone = replace(SENT, id="h-gone", partner_id="p-gone", warehouse_id=SaleorId("W-gone"))
        plans, writer = InMemoryRoutingPlans(), RecordingHandOffs()
        await plans.add_hand_off(SHOP_API_URL, gone)
        cancelled = await cancel_hand_offs(
            SHOP_API_URL, [gone], "fraud", order=THE_ORDER, partners={}, plans=plans, writer=writer, now=NOW
        )
        assert [hand_off.id for hand_off in cancelled] == ["h-gone"]
        assert (writer.cancelled, writer.mailed_cancels) == ([], [])


ROUTING = OrderRouting(ORDER, 2, True, (), {}, NOW, NOW, excluded={WEST: "rejected the hand-off (no stock)"})


class TestPartnersSettled:
    def test_settled_once_every_hand_off_is_answered_and_every_drop_re_planned(self) -> None:
        rejected = replace(SENT, status=HandOffStatus.REJECTED)
        accepted = replace(SENT, id="h-acme", partner_id="p-acme", warehouse_id=ACME, status=HandOffStatus.ACCEPTED)
        assert partners_settled(ROUTING, [rejected, accepted])
        assert not partners_settled(ROUTING, [rejected, replace(accepted, status=HandOffStatus.SENT)])
        assert not partners_settled(replace(ROUTING, excluded={}), [rejected, accepted])  # not re-planned yet
        assert not partners_settled(replace(ROUTING, routed=False), [rejected])  # no source could take it
