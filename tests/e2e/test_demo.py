"""The demo, headless, on a small day: what it reports must be what the app and the stand-in hold."""

from __future__ import annotations

import io
import json
import sqlite3
from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from app.demo import DemoOptions, DemoSummary, play
from app.services.routing.planning import NOTE_PREFIX as ROUTING_NOTE
from app.standin.facade import StandIn
from app.standin.state import to_global_id
from tests.net import free_port


def test_the_demo_plays_a_day_through_the_real_endpoints(tmp_path: Path) -> None:
    options = DemoOptions(
        orders=12,
        seed=4,
        day=date(2026, 11, 25),
        serve=False,
        port=free_port(),
        standin_port=free_port(),
        data_dir=tmp_path / "demo",
    )
    out = io.StringIO()
    summary, standin = play(options, out=out)

    store = standin.store
    assert summary.failed_deliveries == 0
    assert summary.orders == len(store.orders) == 12
    # Shoppers checked out asking the app, which quotes from the demo's shipping settings and rate tables.
    assert 0 < summary.checkouts < 12
    assert summary.app_shipping > 0
    assert summary.app_shipping == sum(
        bool(o.shipping_method and o.shipping_method.external_id) for o in store.orders.values()
    )
    assert f"Checkouts               {summary.checkouts}, " in out.getvalue()
    # The app chose the carrier service of orders shipped with its options once fraud cleared them.
    chosen = [o for o in store.orders.values() if "ops.shipping" in o.private_metadata]
    assert 0 < summary.shipping_chosen == len(chosen)
    assert all(o.shipping_method and o.shipping_method.external_id for o in chosen)
    for order in chosen:
        written = json.loads(order.private_metadata["ops.shipping"])
        assert written["v"] == 1
        assert written["shipments"]
        notes = [e.message or "" for e in order.events if e.type == "NOTE_ADDED"]
        # Chosen once, and again for each plan routing revised with other shipments (a partner's rejection).
        shipping_notes = sum(note.startswith("Saleor Ops shipping (") for note in notes)
        plans = sum(note.startswith(ROUTING_NOTE) for note in notes)
        assert 1 <= shipping_notes <= max(1, plans)
    assert f"Shipping chosen         {summary.shipping_chosen} orders, {summary.shipping_late} not keeping" in (
        out.getvalue()
    )
    assert summary.order_statuses == dict(Counter(o.status.value for o in store.orders.values()))

    with sqlite3.connect(tmp_path / "demo" / "saleor-ops.db") as db:
        (installed_app,) = db.execute("SELECT app_id FROM installations").fetchall()
        recorded = dict(db.execute("SELECT event, count(*) FROM order_events GROUP BY event").fetchall())
        created_for = {row[0] for row in db.execute("SELECT order_id FROM order_events WHERE event='order_created'")}
        scored = {row[0] for row in db.execute("SELECT order_id FROM fraud_assessments")}
        approved_paid = {
            row[0]
            for row in db.execute("SELECT order_id FROM fraud_assessments WHERE stage='paid' AND decision='approve'")
        }
        held = {row[0] for row in db.execute("SELECT order_id FROM fraud_reviews WHERE status='open'")}
        awaiting_payment = {
            row[0] for row in db.execute("SELECT order_id FROM fraud_reviews WHERE status='awaiting_payment'")
        }
        rate_tables = [row[0] for row in db.execute("SELECT warehouse_id FROM shipping_rate_tables ORDER BY position")]
    (app,) = store.apps.values()
    # The demo's rate tables, one per warehouse of the stand-in, by its Saleor ID.
    assert rate_tables == [to_global_id("Warehouse", w.pk) for w in store.warehouses.values()]
    assert "Rate tables imported from demo_rate_tables.csv: 20 carrier services in 4 warehouses" in out.getvalue()
    assert installed_app == (to_global_id("App", app.pk),)
    assert summary.recorded_events == recorded
    # Every order the stand-in took reached the app, once.
    assert created_for == {to_global_id("Order", order.pk) for order in store.orders.values()}
    for event in ("ORDER_CREATED", "ORDER_FULLY_PAID", "ORDER_FULFILLED"):
        assert recorded.get(event.lower(), 0) == summary.deliveries.get(event, 0)
    # Every order was scored when it was created, and what was held stayed UNCONFIRMED in the stand-in.
    assert scored == created_for
    _held_orders_are_released_only_by_an_assessment_that_saw_their_payment(standin, approved_paid, awaiting_payment)
    assert (summary.held_orders, summary.awaiting_payment) == (len(held), len(awaiting_payment))
    assert sum(summary.decisions.values()) == 12
    for order in store.orders.values():
        verdict = json.loads(order.private_metadata["ops.fraud"])
        assert verdict["v"] == 1
        if to_global_id("Order", order.pk) in held:
            assert verdict["decision"] in ("review", "reject")
    assert "Orders placed           12" in out.getvalue()
    _every_shipped_line_is_costed_as_the_ledger_says(summary, standin, tmp_path / "demo" / "saleor-ops.db")
    _partners_answered_through_the_callbacks(summary, standin, tmp_path / "demo" / "saleor-ops.db", out.getvalue())
    _tickets_are_the_ones_the_app_keeps(summary, tmp_path / "demo" / "saleor-ops.db", out.getvalue())


def _partners_answered_through_the_callbacks(summary: DemoSummary, standin: StandIn, database: Path, out: str) -> None:
    routing = summary.routing
    with sqlite3.connect(database) as db:
        hand_offs = dict(db.execute("SELECT status, count(*) FROM routing_hand_offs GROUP BY status").fetchall())
        partners = dict(db.execute("SELECT name, warehouse_id FROM routing_partners").fetchall())
        shipments = {row[0] for row in db.execute("SELECT tracking_number FROM routing_shipments")}
        planned = {row[0] for row in db.execute("SELECT order_id FROM routing_plans WHERE routed")}
    assert {p.name for p in routing.partners} == set(partners) == {"ShipHero", "Red Stag", "Grindworks"}
    # Every answer a partner sent was taken, and what the partners did is what the app recorded.
    assert routing.refused == ()
    assert routing.unanswered == 0
    assert sum(p.received for p in routing.partners) == sum(hand_offs.values()) > 0
    assert sum(p.rejected for p in routing.partners) == hand_offs.get("rejected", 0)
    assert sum(p.shipped for p in routing.partners) == len(shipments) == routing.partner_fulfilments > 0
    assert all(p.accepted + p.rejected == p.received for p in routing.partners)
    # This seed's day hands off to every partner, and Red Stag rejects one: its units are planned again.
    assert all(p.received > 0 for p in routing.partners)
    assert hand_offs.get("rejected", 0) > 0
    assert routing.replanned > 0
    # Each confirmed shipment became a Saleor fulfilment from that partner's warehouse, with its tracking number
    # (one refunded or returned since may have left the order, not its history).
    warehouse_ids = set(partners.values())
    from_partners = [f for o in standin.store.orders.values() for f in o.fulfillments if f.tracking_number in shipments]
    assert len(from_partners) <= len(shipments)
    assert all(to_global_id("Warehouse", f.warehouse_pk) in warehouse_ids for f in from_partners if f.warehouse_pk)
    # The plans written back are the app's, and a re-planned order says why.
    written = {
        to_global_id("Order", o.pk): json.loads(o.private_metadata["ops.routing"])
        for o in standin.store.orders.values()
        if "ops.routing" in o.private_metadata
    }
    assert {order for order, plan in written.items() if plan["plan"]} == planned
    assert routing.planned == len(planned)
    assert routing.replanned == sum(
        plan["explanation"][0].startswith("re-planned without") for plan in written.values()
    )
    assert f"Routing                 {routing.planned} orders planned (" in out


def _tickets_are_the_ones_the_app_keeps(summary: DemoSummary, database: Path, out: str) -> None:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT store_reason, channel, status FROM support_tickets").fetchall()
    kept: dict[str, Counter[str]] = defaultdict(Counter)
    for reason, channel, status in rows:
        kept[reason or f"customer ({channel})"][status] += 1
    assert summary.tickets == kept
    # The customer wrote through the storefront's request endpoint; the store opened one for a held order.
    assert kept["customer (web_form)"] == Counter({"new": 1})
    assert sum(kept["held_for_review"].values()) > 0
    assert sum(kept["promise_at_risk"].values()) > 0  # a partner's parcel left too late for its promise
    # No write to Saleor failed: staff and partners never shipped the same units twice.
    assert "effect_failed" not in kept
    assert f"Support tickets         {len(rows)}" in out


def _held_orders_are_released_only_by_an_assessment_that_saw_their_payment(
    standin: StandIn, approved_paid: set[str], awaiting_payment: set[str]
) -> None:
    (app,) = standin.store.apps.values()
    released_by_app = 0
    ways_paid: Counter[str] = Counter()
    for order in standin.store.orders.values():
        order_id = to_global_id("Order", order.pk)
        paid_at = [t.created_at for t in order.transactions] + [p.created_at for p in order.payments]
        ways_paid.update(
            ["mark as paid"] * len(order.payments)
            + ["checkout" if t.created_at == order.created_at else "card" for t in order.transactions]
        )
        for event in order.events:
            if event.type == "CONFIRMED" and event.app_pk == app.pk:
                # The app confirmed it: only after the payment, and only on a paid-stage approval.
                assert paid_at, f"order {order.number} was released before any payment"
                assert min(paid_at) <= event.date
                assert order_id in approved_paid
                released_by_app += 1
        if order_id in awaiting_payment:
            # Still waiting: nothing paid it, and it is still held.
            assert not paid_at
            assert order.status.value == "UNCONFIRMED"
    assert released_by_app > 0
    # The day pays in every way Saleor knows: a card after the order, at checkout, and "Mark as paid".
    assert set(ways_paid) == {"card", "checkout", "mark as paid"}


def _every_shipped_line_is_costed_as_the_ledger_says(summary: DemoSummary, standin: StandIn, database: Path) -> None:
    costing = summary.costing
    assert costing.fulfilled_lines > 0
    assert costing.costed_lines == costing.fulfilled_lines
    assert summary.opening.booked > 0
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT move_id, reference, kind, posted_cogs, posted_corrections FROM inventory_moves"
        ).fetchall()
    line_of = {move_id: reference for move_id, reference, kind, _, _ in rows if kind == "issue"}
    ledger_cogs: dict[str, Decimal] = defaultdict(Decimal)
    for _, reference, kind, cogs, corrections in rows:
        if kind in ("issue", "customer_return"):
            ledger_cogs[reference] += Decimal(cogs)
        for corrected, _, _, _, _, _, amount in json.loads(corrections):
            if corrected in line_of:
                ledger_cogs[line_of[corrected]] += Decimal(amount)
    checked = 0
    for order in standin.store.orders.values():
        for line in order.lines:
            if "ops.cogs" in line.private_metadata:
                written = json.loads(line.private_metadata["ops.cogs"])
                expected = ledger_cogs[to_global_id("OrderLine", line.pk)].quantize(Decimal("0.01"), ROUND_HALF_UP)
                assert Decimal(written["cogs"]) == expected, written
                checked += 1
    assert checked == costing.costed_lines
