"""Shipping after routing through the pipeline on SQLite: an order split between the merchant's own
warehouse and a 3PL gets one service per planned shipment, from the plan's origins rather than
Saleor's allocation; when the 3PL rejects its share and routing re-plans it, the services are chosen
again for the new shipments and ``ops.shipping`` is rewritten once, with one note."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import respx
from sqlalchemy import select

from app.db.models import ShippingDecisionRow
from app.runtime import Runtime
from tests.api.conftest import Send
from tests.api.receipt_answers import EAST_ID
from tests.builders import NOW, body_of, order_line_payload, order_payload, variant_payload
from tests.fakes.fake_saleor import FakeSaleor
from tests.fakes.routing import InMemoryRoutingSources
from tests.pipeline.test_routing import ORDER, PAID, STANDARD, TEXAS, WEST_ID, _hand_offs, sources
from tests.pipeline.test_routing_callbacks import SECRET, Partner, partner
from tests.unit.services.routing.builders import WEST_3PL

__all__ = ["partner", "sources"]  # the fixtures, shared with the routing tests


def _line(line_id: str, sku: str, quantity: int, *, east: int, west: int, allocated_east: int) -> dict[str, Any]:
    stocks = [
        {"warehouse": {"id": EAST_ID, "name": "East"}, "quantity": east, "quantityAllocated": allocated_east},
        {"warehouse": {"id": WEST_ID, "name": "West 3PL"}, "quantity": west, "quantityAllocated": 0},
    ]
    variant = {
        **variant_payload(variant_id=f"variant-{sku}", sku=sku, product_type="Mugs"),
        "weight": {"unit": "KG", "value": 0.3},
        "stocks": stocks,
    }
    allocations = [{"warehouse": {"id": EAST_ID}, "quantity": allocated_east}] if allocated_east else []
    return order_line_payload(
        line_id=line_id, sku=sku, quantity=quantity, unit_price="10", variant=variant, allocations=allocations
    )


def _order(typename: str, after: timedelta, *, tees_east: int = 0, **order: Any) -> bytes:
    """Two mugs Saleor allocated in East, the only place holding them, and a tee only the 3PL holds (until
    East gets ``tees_east``); Saleor allocated the tee nowhere."""
    lines = [
        _line("L1", "MUG-1", 2, east=2, west=0, allocated_east=2),
        _line("L2", "TEE-1", 1, east=tees_east, west=5, allocated_east=0),
    ]
    payload = order_payload(
        typename=typename,
        issued_at=(NOW + after).isoformat(),
        total="30",
        lines=lines,
        shippingAddress=TEXAS,
        deliveryMethod={"__typename": "ShippingMethod", "id": STANDARD, "name": "Standard"},
        **order,
    )
    return body_of(payload)


async def _created_and_paid(send: Send) -> None:
    await send("ORDER_CREATED", _order("OrderCreated", timedelta(0)))
    await send("ORDER_FULLY_PAID", _order("OrderFullyPaid", timedelta(minutes=1), transactions=PAID))


def _shipping(fake_saleor: FakeSaleor) -> list[tuple[str, str]]:
    written = json.loads(fake_saleor.metadata[ORDER]["ops.shipping"])
    return [(entry["source"], f"{entry['carrier']} {entry['service']}") for entry in written["shipments"]]


def _shipping_notes(fake_saleor: FakeSaleor) -> list[str]:
    return [note for note in fake_saleor.notes[ORDER] if note.startswith("Saleor Ops shipping")]


async def _plan_revision(runtime: Runtime) -> int | None:
    async with runtime.sessions() as session:
        (row,) = (await session.scalars(select(ShippingDecisionRow))).all()
    return row.plan_revision


async def test_an_order_split_by_routing_gets_one_service_per_planned_shipment_from_its_origin(
    send: Send,
    respx_router: respx.MockRouter,
    fake_saleor: FakeSaleor,
    runtime: Runtime,
    sources: InMemoryRoutingSources,
) -> None:
    respx_router.post(WEST_3PL.address).mock(return_value=httpx.Response(202))
    await _created_and_paid(send)
    routing = json.loads(fake_saleor.metadata[ORDER]["ops.routing"])
    assert [(entry["lineId"], entry["source"]["id"]) for entry in routing["plan"]] == [("L1", EAST_ID), ("L2", WEST_ID)]
    # Saleor allocated only the mugs, in East: the plan's two shipments are what is chosen for.
    assert _shipping(fake_saleor) == [(EAST_ID, "UPS Ground"), (WEST_ID, "UPS Ground")]
    (note,) = _shipping_notes(fake_saleor)
    assert f"{EAST_ID}: UPS Ground, 9.00 USD" in note
    assert f"{WEST_ID}: UPS Ground, 12.00 USD" in note
    assert note.endswith("as planned by routing's plan (revision 1)")
    assert await _plan_revision(runtime) == 1
    # Later events and the same ones again choose nothing more.
    await send("ORDER_UPDATED", _order("OrderUpdated", timedelta(minutes=5), transactions=PAID))
    await _created_and_paid(send)
    assert len(_shipping_notes(fake_saleor)) == 1


async def test_a_3pl_s_rejection_re_plans_and_shipping_is_chosen_again_once(
    send: Send,
    respx_router: respx.MockRouter,
    fake_saleor: FakeSaleor,
    runtime: Runtime,
    sources: InMemoryRoutingSources,
    partner: Partner,
) -> None:
    sources.secrets["p-west"] = SECRET
    respx_router.post(WEST_3PL.address).mock(return_value=httpx.Response(202))
    await _created_and_paid(send)
    (hand_off,) = await _hand_offs(runtime)
    rejected = await partner.call(hand_off.id, "reject", {"reason": "out of tees"})
    assert rejected.status_code == 200
    # The rejection's note makes Saleor send ORDER_UPDATED; East has tees by then.
    await send("ORDER_UPDATED", _order("OrderUpdated", timedelta(minutes=10), tees_east=3, transactions=PAID))
    routing = json.loads(fake_saleor.metadata[ORDER]["ops.routing"])
    assert [(entry["lineId"], entry["source"]["id"]) for entry in routing["plan"]] == [("L1", EAST_ID), ("L2", EAST_ID)]
    assert _shipping(fake_saleor) == [(EAST_ID, "UPS Ground"), (EAST_ID, "UPS Ground")]
    first, again = _shipping_notes(fake_saleor)
    assert again.startswith("Saleor Ops shipping (standard), re-chosen for routing's plan (revision 2): ")
    assert again.endswith(f"; {WEST_ID}: its shipment is no longer planned")
    assert await _plan_revision(runtime) == 2
    # Another event of the order, and the same one again, write nothing more.
    await send("ORDER_UPDATED", _order("OrderUpdated", timedelta(minutes=20), tees_east=3, transactions=PAID))
    await send("ORDER_UPDATED", _order("OrderUpdated", timedelta(minutes=10), tees_east=3, transactions=PAID))
    assert len(_shipping_notes(fake_saleor)) == 2
    written = [
        call
        for call in fake_saleor.calls("RecordCogs")
        if any(item["key"] == "ops.shipping" for item in call["variables"]["metadata"])
    ]
    assert len(written) == 2
