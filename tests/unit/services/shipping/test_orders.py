"""Shipping on the order through its service, on in-memory fraud records, decisions and Saleor."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.domain.fraud import Stage
from app.domain.shipping.model import Level
from app.services.ports import FraudReview, StoredAssessment
from app.services.shipping.model import CartLine, OrderShipment, PlacedOrder
from app.services.shipping.orders import (
    Chosen,
    NotChosen,
    NotRechecked,
    Recheck,
    Rechecked,
    choose_order_shipping,
    recheck_fulfilment,
)
from tests.builders import SHOP_API_URL
from tests.fakes.in_memory import FakeSaleorGateway, InMemoryFraudRepository
from tests.fakes.shipping import InMemoryShippingDecisions
from tests.unit.services.shipping.test_quoting import (
    THURSDAY_NOON_NY,
    WEEKDAYS,
    Shop,
    cart,
    placed_order,
    warehouse,
)

ORDER = "T3JkZXI6MQ=="
THURSDAY_1PM_NY = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
FRIDAY_AFTER_CUTOFF_NY = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)  # ships Monday 7 December
TUESDAY_AFTER_CUTOFF_NY = datetime(2026, 12, 8, 21, 0, tzinfo=UTC)  # the promised day itself is gone


def assessment(decision: str, stage: Stage = Stage.CREATED) -> StoredAssessment:
    return StoredAssessment(
        ORDER, "1", stage, 10, decision, "rule", (), Decimal("50"), "USD", None, None, None, THURSDAY_NOON_NY
    )


def review(status: str, reason: str | None = None) -> FraudReview:
    return FraudReview(ORDER, "1", status, THURSDAY_NOON_NY, "rule", None, "staff@example.com", reason, "")


class Store:
    def __init__(self, *, decision: str = "approve", held: FraudReview | None = None, shop: Shop | None = None) -> None:
        self.shop = shop or Shop()
        self.fraud = InMemoryFraudRepository()
        self.fraud.assessments_[(ORDER, "created")] = assessment(decision)
        if held is not None:
            self.fraud.reviews[ORDER] = held
        self.decisions = InMemoryShippingDecisions()
        self.saleor = FakeSaleorGateway()

    async def choose(
        self, order: PlacedOrder | None = None, *, plan_revision: int | None = None, now: datetime = THURSDAY_NOON_NY
    ) -> Chosen | NotChosen:
        return await choose_order_shipping(
            SHOP_API_URL,
            ORDER,
            placed_order() if order is None else order,
            plan_revision=plan_revision,
            fraud=self.fraud,
            decisions=self.decisions,
            quoter=self.shop.quoter,
            saleor=self.saleor,
            now=now,
        )

    async def recheck(
        self, leaves_at: datetime, fulfillment: str = "F1", shipped: PlacedOrder | None = None
    ) -> Rechecked | NotRechecked:
        return await recheck_fulfilment(
            SHOP_API_URL,
            ORDER,
            fulfillment,
            placed_order() if shipped is None else shipped,
            leaves_at=leaves_at,
            decisions=self.decisions,
            quoter=self.shop.quoter,
            saleor=self.saleor,
            now=leaves_at,
        )

    def shipping_metadata(self) -> list[dict[str, Any]]:
        return [json.loads(items["ops.shipping"]) for kind, _, items in self.saleor.calls if kind == "metadata"]  # type: ignore[index]

    def last_shipment(self) -> dict[str, Any]:
        (entry,) = self.shipping_metadata()[-1]["shipments"]
        return dict(entry)

    def notes(self) -> list[str]:
        return [str(message) for kind, _, message in self.saleor.calls if kind == "note"]


EXPECTED = {
    "source": "WH-1",
    "carrier": "UPS",
    "service": "2nd Day Air",
    "level": "expedited",
    "amount": "15.00",
    "currency": "USD",
    "estimatedDelivery": "2026-12-07",
    "promisedBy": "2026-12-08",
    "meetsPromise": True,
}


class TestChoosing:
    async def test_an_approved_order_gets_its_services_metadata_and_one_note_once(self) -> None:
        store = Store()
        chosen = await store.choose()
        assert isinstance(chosen, Chosen)
        assert store.shipping_metadata() == [{"v": 1, "shipments": [EXPECTED]}]
        assert store.notes() == [
            "Saleor Ops shipping (expedited): WH-1: UPS 2nd Day Air, 15.00 USD, arrives by 2026-12-07 "
            "(promised by 2026-12-08)"
        ]
        stored = store.decisions.decisions[ORDER]
        assert stored.level is Level.EXPEDITED
        assert any("dropped UPS Ground" in line for line in stored.shipments[0].explanation)

        assert await store.choose() == NotChosen("chosen already")
        assert len(store.saleor.calls) == 2

    async def test_an_order_held_for_review_waits_and_is_chosen_once_approved(self) -> None:
        store = Store(decision="review", held=review("open"))
        assert await store.choose() == NotChosen("fraud: held (open)")
        assert store.saleor.calls == []
        assert store.decisions.decisions == {}

        store.fraud.reviews[ORDER] = review("closed", "approved")
        assert isinstance(await store.choose(), Chosen)
        assert len(store.notes()) == 1

    async def test_a_rejected_order_gets_nothing(self) -> None:
        store = Store(decision="reject", held=review("closed", "refunded_as_fraud"))
        assert await store.choose() == NotChosen("fraud: review closed as refunded_as_fraud")
        assert store.saleor.calls == []

    async def test_an_order_held_for_its_payment_waits(self) -> None:
        store = Store(held=review("awaiting_payment"))
        assert await store.choose() == NotChosen("fraud: held (awaiting payment)")

    async def test_the_paid_stage_decides_over_the_created_one(self) -> None:
        store = Store()
        store.fraud.assessments_[(ORDER, "paid")] = replace(
            assessment("review", Stage.PAID), assessed_at=THURSDAY_1PM_NY
        )
        assert await store.choose() == NotChosen("fraud: review at the paid stage")

    async def test_an_order_no_service_keeps_is_written_as_late(self) -> None:
        store = Store()
        store.shop.tables.tables[0] = replace(
            store.shop.tables.tables[0],
            services=tuple(s for s in store.shop.tables.tables[0].services if s.level is Level.STANDARD),
        )
        chosen = await store.choose()
        assert isinstance(chosen, Chosen)
        assert chosen.decision.needs_attention
        entry = store.last_shipment()
        assert entry["meetsPromise"] is False
        assert "LATE" in store.notes()[0]


class TestRecheck:
    async def chosen(self) -> Store:
        store = Store()
        assert isinstance(await store.choose(), Chosen)
        return store

    async def test_goods_leaving_in_time_keep_the_service_and_write_nothing(self) -> None:
        store = await self.chosen()
        rechecked = await store.recheck(THURSDAY_1PM_NY)
        assert isinstance(rechecked, Rechecked)
        assert rechecked.outcome is Recheck.KEPT
        assert rechecked.note is None
        assert len(store.saleor.calls) == 2
        assert store.decisions.decisions[ORDER].checked_fulfillments == ("F1",)

    async def test_goods_leaving_late_are_reshopped_to_a_service_that_keeps_the_promise(self) -> None:
        store = await self.chosen()
        rechecked = await store.recheck(FRIDAY_AFTER_CUTOFF_NY)
        assert isinstance(rechecked, Rechecked)
        assert rechecked.outcome is Recheck.RESHOPPED
        entry = store.last_shipment()
        assert (entry["service"], entry["estimatedDelivery"], entry["promisedBy"], entry["meetsPromise"]) == (
            "Next Day Air",
            "2026-12-08",
            "2026-12-08",
            True,
        )
        note = store.notes()[-1]
        assert "UPS 2nd Day Air would arrive by 2026-12-09, after the promised 2026-12-08" in note
        assert "re-shopped: WH-1: UPS Next Day Air" in note
        assert not rechecked.decision.needs_attention

    async def test_goods_nothing_can_bring_in_time_flag_the_order(self) -> None:
        store = await self.chosen()
        rechecked = await store.recheck(TUESDAY_AFTER_CUTOFF_NY)
        assert isinstance(rechecked, Rechecked)
        assert rechecked.outcome is Recheck.FLAGGED
        entry = store.last_shipment()
        assert entry["meetsPromise"] is False
        assert entry["promisedBy"] == "2026-12-08"
        assert "nothing arrives by the promised 2026-12-08" in store.notes()[-1]
        assert rechecked.decision.needs_attention

    async def test_goods_no_service_quotes_any_more_keep_the_planned_one_marked_late(self) -> None:
        store = await self.chosen()
        store.shop.tables.tables.clear()
        rechecked = await store.recheck(THURSDAY_1PM_NY)
        assert isinstance(rechecked, Rechecked)
        assert rechecked.outcome is Recheck.FLAGGED
        assert store.last_shipment() == {**EXPECTED, "meetsPromise": False}
        assert "UPS 2nd Day Air no longer quotes it" in store.notes()[-1]

    async def test_each_fulfilment_is_checked_once(self) -> None:
        store = await self.chosen()
        await store.recheck(FRIDAY_AFTER_CUTOFF_NY)
        calls = len(store.saleor.calls)
        assert await store.recheck(TUESDAY_AFTER_CUTOFF_NY) == NotRechecked("checked already")
        assert len(store.saleor.calls) == calls
        assert isinstance(await store.recheck(TUESDAY_AFTER_CUTOFF_NY, fulfillment="F2"), Rechecked)

    async def test_an_order_nothing_was_chosen_for_is_not_checked(self) -> None:
        store = Store()
        assert await store.recheck(THURSDAY_1PM_NY) == NotRechecked("no service was chosen for the order")


def two_warehouses() -> Shop:
    """Brooklyn (WH-1) and a 3PL in Newark (WH-2) with the same services; the channel promises from Brooklyn."""
    newark = warehouse(id="WH-2", name="Newark 3PL", cutoffs=dict.fromkeys(WEEKDAYS, "15:00"))
    shop = Shop(warehouses=[warehouse(), newark])
    shop.tables.tables.append(replace(shop.tables.tables[0], warehouse_id="WH-2"))
    return shop


def line(line_id: str) -> CartLine:
    return replace(cart().lines[0], line_id=line_id)


def shipments(*planned: tuple[str, str]) -> PlacedOrder:
    """The order as shipped from each (warehouse, order line) pair, one unit of the line each."""
    return placed_order(*(OrderShipment(source, (line(line_id),)) for source, line_id in planned))


class TestRoutingPlan:
    async def test_each_planned_shipment_gets_a_service_from_its_own_origin_once_per_revision(self) -> None:
        store = Store(shop=two_warehouses())
        chosen = await store.choose(shipments(("WH-1", "L1"), ("WH-2", "L2")), plan_revision=1)
        assert isinstance(chosen, Chosen)
        (metadata,) = store.shipping_metadata()
        assert [(entry["source"], entry["service"]) for entry in metadata["shipments"]] == [
            ("WH-1", "2nd Day Air"),
            ("WH-2", "2nd Day Air"),
        ]
        stored = store.decisions.decisions[ORDER]
        assert stored.plan_revision == 1
        assert [(s.source, dict(s.units)) for s in stored.shipments] == [("WH-1", {"L1": 1}), ("WH-2", {"L2": 1})]
        assert stored.shipments[1].explanation[0] == "From Newark 3PL, ships 2026-12-03"
        (note,) = store.notes()
        assert note.startswith("Saleor Ops shipping (expedited): WH-1: UPS 2nd Day Air")
        assert note.endswith("; as planned by routing's plan (revision 1)")

        assert await store.choose(shipments(("WH-1", "L1"), ("WH-2", "L2")), plan_revision=1) == NotChosen(
            "chosen already"
        )
        assert len(store.saleor.calls) == 2

    async def test_a_planned_shipment_is_chosen_for_when_routing_planned_it_to_leave(self) -> None:
        store = Store(shop=two_warehouses())
        supplier = OrderShipment("WH-2", (line("L2"),), leaves_at=FRIDAY_AFTER_CUTOFF_NY)  # after its handling days
        await store.choose(placed_order(OrderShipment("WH-1", (line("L1"),)), supplier), plan_revision=1)
        # Leaving on Monday, only Next Day Air arrives by the promised Tuesday.
        assert [(entry["source"], entry["service"]) for entry in store.shipping_metadata()[0]["shipments"]] == [
            ("WH-1", "2nd Day Air"),
            ("WH-2", "Next Day Air"),
        ]

    async def test_a_re_plan_chooses_for_its_new_shipments_as_they_leave_now_and_writes_once(self) -> None:
        store = Store(shop=two_warehouses())
        await store.choose(shipments(("WH-1", "L1"), ("WH-2", "L2")), plan_revision=1)
        first = store.decisions.decisions[ORDER].shipments[0]
        # The 3PL rejected L2 and routing gave it to Brooklyn, on Friday after the cut-off.
        replanned = shipments(("WH-1", "L1"), ("WH-1", "L2"))
        rechosen = await store.choose(replanned, plan_revision=2, now=FRIDAY_AFTER_CUTOFF_NY)
        assert isinstance(rechosen, Chosen)
        stored = store.decisions.decisions[ORDER]
        assert (stored.plan_revision, stored.decided_at, stored.updated_at) == (
            2,
            THURSDAY_NOON_NY,
            FRIDAY_AFTER_CUTOFF_NY,
        )
        assert stored.shipments[0] is first  # the shipment the plan keeps keeps its service
        # L2 leaves Brooklyn on Monday: only Next Day Air still arrives by the promised Tuesday.
        assert [
            (entry["source"], entry["service"], entry["promisedBy"])
            for entry in store.shipping_metadata()[-1]["shipments"]
        ] == [
            ("WH-1", "2nd Day Air", "2026-12-08"),
            ("WH-1", "Next Day Air", "2026-12-08"),
        ]
        note = store.notes()[-1]
        assert note.startswith(
            "Saleor Ops shipping (expedited), re-chosen for routing's plan (revision 2): WH-1: UPS Next Day Air"
        )
        assert note.endswith("; WH-2: its shipment is no longer planned")
        assert len(store.notes()) == len(store.shipping_metadata()) == 2

        # The same event again, or a later one of the same revision, writes nothing.
        assert await store.choose(replanned, plan_revision=2) == NotChosen("chosen already")
        assert len(store.saleor.calls) == 4

    async def test_a_re_plan_shipping_as_before_writes_nothing(self) -> None:
        store = Store(shop=two_warehouses())
        await store.choose(shipments(("WH-1", "L1"), ("WH-2", "L2")), plan_revision=1)
        again = await store.choose(shipments(("WH-2", "L2"), ("WH-1", "L1")), plan_revision=2)
        assert again == NotChosen("routing's plan (revision 2) ships as before")
        assert store.decisions.decisions[ORDER].plan_revision == 2
        assert len(store.saleor.calls) == 2

    async def test_a_plan_made_after_shipping_followed_saleor_s_allocation_is_followed(self) -> None:
        store = Store(shop=two_warehouses())
        await store.choose(shipments(("WH-1", "L1"), ("WH-1", "L2")))
        assert store.decisions.decisions[ORDER].plan_revision is None
        rechosen = await store.choose(shipments(("WH-1", "L1"), ("WH-2", "L2")), plan_revision=1)
        assert isinstance(rechosen, Chosen)
        assert [entry["source"] for entry in store.shipping_metadata()[-1]["shipments"]] == ["WH-1", "WH-2"]

    async def test_a_fulfilment_is_checked_against_the_shipment_planned_with_its_lines(self) -> None:
        store = Store(shop=two_warehouses())
        await store.choose(shipments(("WH-1", "L1"), ("WH-2", "L2")), plan_revision=1)
        await store.choose(shipments(("WH-1", "L1"), ("WH-1", "L2")), plan_revision=2, now=FRIDAY_AFTER_CUTOFF_NY)
        # L2 leaving Brooklyn on Friday evening was planned with Next Day Air: it still keeps the promise.
        kept = await store.recheck(FRIDAY_AFTER_CUTOFF_NY, "F2", shipments(("WH-1", "L2")))
        assert isinstance(kept, Rechecked)
        assert kept.outcome is Recheck.KEPT
        # L1 leaving then was planned with 2nd Day Air, which no longer does: its shipment is re-shopped.
        reshopped = await store.recheck(FRIDAY_AFTER_CUTOFF_NY, "F1", shipments(("WH-1", "L1")))
        assert isinstance(reshopped, Rechecked)
        assert reshopped.outcome is Recheck.RESHOPPED
        assert [(s.entry and s.entry["service"], dict(s.units)) for s in reshopped.decision.shipments] == [
            ("Next Day Air", {"L1": 1}),
            ("Next Day Air", {"L2": 1}),
        ]
        assert "Fulfilment F1 from WH-1" in store.notes()[-1]
