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
from app.services.shipping.model import PlacedOrder
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
from tests.unit.services.shipping.test_quoting import THURSDAY_NOON_NY, Shop, placed_order

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
    def __init__(self, *, decision: str = "approve", held: FraudReview | None = None) -> None:
        self.shop = Shop()
        self.fraud = InMemoryFraudRepository()
        self.fraud.assessments_[(ORDER, "created")] = assessment(decision)
        if held is not None:
            self.fraud.reviews[ORDER] = held
        self.decisions = InMemoryShippingDecisions()
        self.saleor = FakeSaleorGateway()

    async def choose(self, order: PlacedOrder | None = None) -> Chosen | NotChosen:
        return await choose_order_shipping(
            SHOP_API_URL,
            ORDER,
            placed_order() if order is None else order,
            fraud=self.fraud,
            decisions=self.decisions,
            quoter=self.shop.quoter,
            saleor=self.saleor,
            now=THURSDAY_NOON_NY,
        )

    async def recheck(self, leaves_at: datetime, fulfillment: str = "F1") -> Rechecked | NotRechecked:
        return await recheck_fulfilment(
            SHOP_API_URL,
            ORDER,
            fulfillment,
            placed_order(),
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
