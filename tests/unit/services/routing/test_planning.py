"""A plan per order through the service, on in-memory sources, fraud records, plans and Saleor."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

from app.domain.fraud import Stage
from app.domain.ids import SaleorApiUrl
from app.domain.money import Money
from app.services.ports import FraudReview, StoredAssessment
from app.services.routing.model import HandOffMethod, RoutingSetup, SupplierOffer
from app.services.routing.planning import NotRouted, OrderToRoute, Routed, plan_order
from app.services.routing.plans import HandOffStatus, RoutedUnits
from app.services.routing.purchase_orders import PurchaseOrder, PurchaseOrderLine
from tests.builders import SHOP_API_URL
from tests.fakes.in_memory import FakeSaleorGateway, InMemoryFraudRepository
from tests.fakes.routing import InMemoryRoutingPlans, InMemoryRoutingSources, RecordingHandOffs
from tests.unit.services.routing.builders import (
    ACME,
    ACME_SUPPLIER,
    EAST,
    NOW,
    ORDER,
    WEST,
    WEST_3PL,
    FakeOriginQuotes,
    line,
    order_to_route,
    setup,
)


def _assessment(decision: str) -> StoredAssessment:
    return StoredAssessment(
        ORDER, "1", Stage.CREATED, 10, decision, "rule", (), Decimal(50), "USD", None, None, None, NOW
    )


class Store:
    def __init__(self, *, decision: str = "approve", sources: RoutingSetup | None = None) -> None:
        self.fraud = InMemoryFraudRepository()
        self.fraud.assessments_[(ORDER, "created")] = _assessment(decision)
        self.sources = InMemoryRoutingSources(sources if sources is not None else setup())
        self.plans = InMemoryRoutingPlans()
        self.quotes = FakeOriginQuotes()
        self.saleor = FakeSaleorGateway()
        self.partners = RecordingHandOffs()
        self.costs: dict[str, Decimal] = {}

    async def unit_costs(self, url: SaleorApiUrl, skus: object, currency: str) -> dict[str, Decimal]:
        return self.costs

    async def plan(self, order: OrderToRoute | str | None = None) -> Routed | NotRouted:
        return await plan_order(
            SHOP_API_URL,
            ORDER,
            order_to_route() if order is None else order,
            fraud=self.fraud,
            sources=self.sources,
            plans=self.plans,
            quotes=self.quotes,
            unit_costs=self.unit_costs,
            saleor=self.saleor,
            partners=self.partners,
            now=NOW,
        )

    def written(self) -> list[tuple[dict[str, Any], str]]:
        metadata = [
            json.loads(cast(dict[str, str], items)["ops.routing"])
            for kind, _, items in self.saleor.calls
            if kind == "metadata"
        ]
        notes = [str(note) for kind, _, note in self.saleor.calls if kind == "note"]
        assert len(metadata) == len(notes)
        return list(zip(metadata, notes, strict=True))


class TestAClearedOrder:
    async def test_is_planned_once_kept_and_written_with_one_note(self) -> None:
        store = Store()
        routed = await store.plan()
        assert isinstance(routed, Routed)
        # The 3PL holds both SKUs: one shipment beats the in-house warehouse short of mugs.
        assert [(s.warehouse_id, s.partner_id, s.units) for s in routed.routing.shipments] == [
            (WEST, "p-west", (RoutedUnits("L1", "MUG", 2), RoutedUnits("L2", "TEE", 1)))
        ]
        ((metadata, note),) = store.written()
        assert metadata["v"] == 1
        assert metadata["shipments"] == 1
        assert [(e["lineId"], e["quantity"], e["source"]) for e in metadata["plan"]] == [
            ("L1", 2, {"kind": "3pl", "id": WEST, "name": "West"}),
            ("L2", 1, {"kind": "3pl", "id": WEST, "name": "West"}),
        ]
        assert note.startswith("Saleor Ops routing: ")
        assert metadata["explanation"][0] in note
        assert store.plans.plans[ORDER] == routed.routing

    async def test_a_redelivery_or_a_later_event_plans_and_writes_nothing_more(self) -> None:
        store = Store()
        await store.plan()
        assert await store.plan() == NotRouted("planned already")
        assert store.saleor.kinds() == ["metadata", "note"]

    async def test_in_house_stock_wins_when_it_ships_everything_for_less(self) -> None:
        store = Store()
        routed = await store.plan(order_to_route(None, line("L2", "TEE", 1)))
        assert isinstance(routed, Routed)
        # East ships the tee at 6.00 + nothing; West at 7.00 + 1.50 of fees.
        assert [(s.warehouse_id, s.partner_id) for s in routed.routing.shipments] == [(EAST, None)]

    async def test_the_supplier_is_quoted_and_kept_leaving_after_its_handling_days(self) -> None:
        store = Store()
        await store.plan(order_to_route({EAST: {"MUG": 0}}, line("L1", "MUG", 2)))
        assert (ACME, ("MUG",), NOW + timedelta(days=1)) in store.quotes.asked
        (shipment,) = store.plans.plans[ORDER].shipments
        # Shipping chooses the service for when it leaves, as the plan was quoted.
        assert (shipment.warehouse_id, shipment.partner_id, shipment.leaves_at) == (
            ACME,
            "p-acme",
            NOW + timedelta(days=1),
        )

    async def test_only_the_order_s_skus_are_asked_of_the_sources(self) -> None:
        store = Store()
        await store.plan()
        assert store.sources.asked == [frozenset({"MUG", "TEE"})]


class TestHandOffs:
    async def test_each_partner_s_shipment_is_kept_and_sent_once_with_its_units_and_address(self) -> None:
        store = Store()
        order = replace(order_to_route(), number="1001", ship_to={"city": "NEW YORK", "country": "US"})
        routed = await store.plan(order)
        assert isinstance(routed, Routed)
        (hand_off,) = routed.hand_offs
        assert (hand_off.partner_id, hand_off.warehouse_id, hand_off.status, hand_off.revision) == (
            "p-west",
            WEST,
            HandOffStatus.SENT,
            1,
        )
        assert store.plans.hand_offs_ == [hand_off]
        assert store.partners.sent == [
            (
                ORDER,
                "p-west",
                "https://west.example/orders",
                {
                    "type": "hand_off",
                    "handOffId": hand_off.id,
                    "orderId": ORDER,
                    "orderNumber": "1001",
                    "warehouseId": WEST,
                    "shipTo": {"city": "NEW YORK", "country": "US"},
                    "lines": [
                        {"lineId": "L1", "sku": "MUG", "quantity": 2},
                        {"lineId": "L2", "sku": "TEE", "quantity": 1},
                    ],
                },
            )
        ]
        await store.plan(order)
        assert len(store.partners.sent) == 1

    async def test_the_merchant_s_own_warehouse_is_handed_nothing(self) -> None:
        store = Store()
        await store.plan(order_to_route(None, line("L2", "TEE", 1)))
        assert store.partners.sent == []
        assert store.plans.hand_offs_ == []

    async def test_a_supplier_taking_e_mail_is_mailed_a_purchase_order_at_its_feed_s_prices(self) -> None:
        by_mail = replace(ACME_SUPPLIER, hand_off=HandOffMethod.EMAIL, address="orders@acme.example")
        store = Store(sources=setup(by_mail))
        order = replace(
            order_to_route({EAST: {"MUG": 0}}, replace(line("L1", "MUG", 2), name="Mug Blue")),
            number="1001",
            ship_to={"city": "NEW YORK", "country": "US"},
        )
        routed = await store.plan(order)
        assert isinstance(routed, Routed)
        (hand_off,) = routed.hand_offs
        assert store.partners.sent == []
        ((order_id, partner_id, to, mailed),) = store.partners.mailed
        assert (order_id, partner_id, to) == (ORDER, "p-acme", "orders@acme.example")
        purchase_order = PurchaseOrder.from_payload(mailed)
        assert purchase_order == PurchaseOrder(
            hand_off_id=hand_off.id,
            order_number="1001",
            partner_name="Acme",
            ship_to={"city": "NEW YORK", "country": "US"},
            lines=(PurchaseOrderLine("L1", "MUG", "Mug Blue", 2, Money(Decimal("3.00"), "USD")),),
            answer_within=timedelta(days=1),
        )
        ((_, note),) = store.written()
        assert "e-mail" not in note

    async def test_an_order_without_a_plan_hands_off_nothing(self) -> None:
        store = Store()
        await store.plan("the order has no shipping address")
        assert store.partners.sent == []


class TestNoPlan:
    async def test_an_order_short_of_stock_everywhere_is_kept_unrouted_with_a_note_saying_why(self) -> None:
        store = Store(sources=setup(WEST_3PL))
        routed = await store.plan(order_to_route({EAST: {"MUG": 1}, WEST: {"MUG": 0}}, line("L1", "MUG", 2)))
        assert isinstance(routed, Routed)
        assert not routed.routing.routed
        assert routed.routing.shipments == ()
        ((metadata, note),) = store.written()
        assert metadata["plan"] == []
        assert metadata["shipments"] == 0
        assert "MUG: 1 of 2 in stock across the sources" in note

    async def test_an_order_that_cannot_be_read_for_routing_gets_a_note_with_the_reason(self) -> None:
        store = Store()
        routed = await store.plan("the order has no shipping address")
        assert isinstance(routed, Routed)
        assert not routed.routing.routed
        ((metadata, note),) = store.written()
        assert metadata["explanation"] == ["no plan: the order has no shipping address"]
        assert note == "Saleor Ops routing: no plan: the order has no shipping address"

    async def test_a_level_the_channel_does_not_promise_is_said(self) -> None:
        store = Store()
        store.quotes.promise = None
        await store.plan()
        ((metadata, _),) = store.written()
        assert metadata["explanation"] == ["no plan: channel default promises no expedited delivery"]

    async def test_a_supplier_priced_in_another_currency_is_said(self) -> None:
        euro_offer = SupplierOffer("MUG", Money(Decimal(3), "EUR"), 1, 100)
        store = Store(sources=RoutingSetup(partners=(ACME_SUPPLIER,), offers={"p-acme": {"MUG": euro_offer}}))
        await store.plan()
        ((metadata, _),) = store.written()
        assert metadata["explanation"] == [f"no plan: source {ACME}: prices and fees must be in USD"]


class TestNothingIsPlanned:
    async def test_while_fraud_holds_the_order(self) -> None:
        store = Store(decision="review")
        assert await store.plan() == NotRouted("fraud: review at the created stage")
        assert store.plans.plans == {}
        assert store.saleor.calls == []
        assert store.partners.sent == []

    async def test_while_a_person_reviews_it(self) -> None:
        store = Store()
        store.fraud.reviews[ORDER] = FraudReview(ORDER, "1", "open", NOW, "rule", None, None, None, "")
        assert await store.plan() == NotRouted("fraud: held (open)")
        assert store.saleor.calls == []

    async def test_for_a_store_without_partners(self) -> None:
        store = Store(sources=RoutingSetup())
        assert await store.plan() == NotRouted("the store has no 3PL or supplier: Saleor's allocation stands")
        assert store.plans.plans == {}
        assert store.saleor.calls == []
        assert store.partners.sent == []
