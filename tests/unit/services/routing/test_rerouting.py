"""Re-routing by hand through the service, on in-memory sources, plans and Saleor: the preview against
the current plan, the confirmation that cancels what the new plan drops and hands off what it adds,
and the refusals that change nothing."""

from __future__ import annotations

import pytest

from app.domain.ids import SaleorId
from app.domain.routing.plan import Plan
from app.services.routing.planning import OrderToRoute, Routed
from app.services.routing.plans import HandOffStatus
from app.services.routing.rerouting import (
    Reroutable,
    RerouteChoice,
    RerouteRefused,
    confirm_reroute,
    preview_reroute,
    reroutable,
)
from tests.builders import SHOP_API_URL
from tests.unit.services.routing.builders import ACME, EAST, NOW, ORDER, WEST, order_to_route
from tests.unit.services.routing.test_planning import Store

BY = "ann@shop.test"


async def _planned() -> Store:
    store = Store()
    routed = await store.plan()
    assert isinstance(routed, Routed)
    assert [shipment.warehouse_id for shipment in routed.routing.shipments] == [WEST]  # one shipment: West has all
    return store


async def _found(store: Store, status: str = "UNFULFILLED", order: OrderToRoute | None = None) -> Reroutable:
    """The order as staff would re-route it; ``order`` what is left to ship (all of it unless given)."""
    return await reroutable(
        SHOP_API_URL,
        ORDER,
        status,
        order if order is not None else order_to_route(),
        fraud=store.fraud,
        plans=store.plans,
        sources=store.sources,
    )


async def test_leaving_the_3pl_out_previews_the_new_plan_against_the_current_one() -> None:
    store = await _planned()
    found = await _found(store)
    preview = await preview_reroute(
        SHOP_API_URL,
        found,
        RerouteChoice(excluded=frozenset({WEST})),
        by=BY,
        quotes=store.quotes,
        unit_costs=store.unit_costs,
        now=NOW,
    )
    assert isinstance(preview.proposed, Plan)
    assert sorted(s.source.id for s in preview.proposed.shipments) == sorted([ACME, EAST])
    assert any("left out by hand by ann@shop.test" in line for line in preview.proposed.explanation)
    assert preview.current_cost is not None
    assert preview.proposed_cost is not None
    assert preview.difference == preview.proposed_cost - preview.current_cost
    assert preview.current[0].startswith("1 shipment")
    assert store.plans.plans[ORDER].revision == 1  # a preview keeps nothing
    assert store.partners.cancelled == []


async def test_confirming_cancels_the_dropped_hand_off_and_hands_off_the_new_partner_shipment() -> None:
    store = await _planned()
    (west,) = store.plans.hand_offs_
    found = await _found(store)
    routed = await confirm_reroute(
        SHOP_API_URL,
        found,
        RerouteChoice(excluded=frozenset({WEST})),
        by=BY,
        plans=store.plans,
        quotes=store.quotes,
        unit_costs=store.unit_costs,
        saleor=store.saleor,
        partners=store.partners,
        now=NOW,
    )
    kept = store.plans.plans[ORDER]
    assert (kept.revision, kept.excluded) == (2, {WEST: "left out by hand by ann@shop.test"})
    assert [h.status for h in store.plans.hand_offs_] == [HandOffStatus.CANCELLED, HandOffStatus.SENT]
    ((_, partner, _, cancel),) = store.partners.cancelled
    assert (partner, cancel["handOffId"], cancel["reason"]) == (
        "p-west",
        west.id,
        f"re-routed by hand by {BY} without {WEST}",
    )
    assert [hand_off.partner_id for hand_off in routed.hand_offs] == ["p-acme"]
    metadata, note = store.written()[-1]
    assert metadata["explanation"][0] == f"re-routed by hand by {BY} without {WEST}"
    assert sorted(entry["source"]["id"] for entry in metadata["plan"]) == sorted([ACME, EAST])
    assert note.startswith(f"Saleor Ops routing re-routed by hand by {BY}")
    assert "cancelled at the partner: West (MUG × 2, TEE × 1)" in note


async def _confirm(store: Store, choice: RerouteChoice) -> Routed:
    return await confirm_reroute(
        SHOP_API_URL,
        await _found(store),
        choice,
        by=BY,
        plans=store.plans,
        quotes=store.quotes,
        unit_costs=store.unit_costs,
        saleor=store.saleor,
        partners=store.partners,
        now=NOW,
    )


async def test_a_pinned_line_ships_from_its_source() -> None:
    store = await _planned()
    routed = await _confirm(store, RerouteChoice(pinned={"L2": SaleorId(EAST)}))
    metadata, _ = store.written()[-1]
    assert [entry["source"]["id"] for entry in metadata["plan"] if entry["lineId"] == "L2"] == [EAST]
    assert [s.warehouse_id for s in routed.routing.shipments if any(u.line_id == "L2" for u in s.units)] == [EAST]


async def test_a_hand_off_the_new_plan_keeps_as_it_is_is_neither_cancelled_nor_sent_again() -> None:
    store = await _planned()
    routed = await _confirm(store, RerouteChoice(pinned={"L1": SaleorId(WEST)}))
    assert routed.hand_offs == ()
    assert store.partners.cancelled == []
    assert len(store.partners.sent) == 1  # the first plan's
    assert [h.status for h in store.plans.hand_offs_] == [HandOffStatus.SENT]


class TestRefused:
    async def test_a_cancelled_order(self) -> None:
        store = await _planned()
        with pytest.raises(RerouteRefused, match="The order is cancelled: there is nothing to re-route."):
            await _found(store, status="CANCELED")

    async def test_an_order_with_nothing_left_to_ship(self) -> None:
        store = await _planned()
        with pytest.raises(RerouteRefused, match="Every unit of the order has shipped"):
            await reroutable(
                SHOP_API_URL, ORDER, "FULFILLED", None, fraud=store.fraud, plans=store.plans, sources=store.sources
            )

    async def test_an_order_fraud_holds(self) -> None:
        store = await _planned()
        store.fraud.assessments_.clear()
        with pytest.raises(RerouteRefused, match="Fraud does not let the order ship"):
            await _found(store)

    async def test_an_unknown_source_or_every_source_left_out_changes_nothing(self) -> None:
        store = await _planned()
        found = await _found(store)
        for choice, message in (
            (RerouteChoice(excluded=frozenset({"nowhere"})), "Unknown source nowhere"),
            (RerouteChoice(excluded=frozenset({WEST, EAST, ACME})), "Every source is left out"),
            (RerouteChoice(pinned={"L9": EAST}), "Line L9 is not left to ship"),
            (RerouteChoice(excluded=frozenset({EAST}), pinned={"L2": EAST}), "pinned to a source that is left out"),
        ):
            with pytest.raises(RerouteRefused, match=message):
                await confirm_reroute(
                    SHOP_API_URL,
                    found,
                    choice,
                    by=BY,
                    plans=store.plans,
                    quotes=store.quotes,
                    unit_costs=store.unit_costs,
                    saleor=store.saleor,
                    partners=store.partners,
                    now=NOW,
                )
        assert store.plans.plans[ORDER].revision == 1
        assert store.partners.cancelled == []
