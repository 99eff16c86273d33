"""Routing through the pipeline on SQLite: an order fraud approves is planned over the store's sources
in the same transaction, priced from each origin by the shipping settings and rate tables, and
``ops.routing`` with one note reaches Saleor once, however often the order's events come."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.db.models import EffectRow, RoutingPlanRow
from app.db.repositories.pipeline import SqlEffectOutbox
from app.db.repositories.routing_plans import SqlRoutingPlans
from app.db.repositories.settings import SqlSettingsStore
from app.domain.ids import SaleorApiUrl, SaleorId
from app.pipeline.housekeeping import expire_unanswered_hand_offs
from app.pipeline.worker import Worker
from app.runtime import Runtime
from app.services.pipeline import Outbox
from app.services.routing.model import HandOffMethod, RoutingSetup
from app.services.routing.plans import HandOff
from app.services.routing.purchase_orders import NO_SMTP
from app.services.routing.signing import signature
from app.services.support.mail import SupportMailSettings, change_mail_settings
from tests.adapters.integrations.test_smtp import Mailbox, check_login, free_port
from tests.api.conftest import Send
from tests.api.dashboard.test_shipping_rate_tables import HEADER, _upload
from tests.api.receipt_answers import EAST_ID
from tests.builders import NOW, body_of, order_line_payload, order_payload, variant_payload
from tests.conftest import FixedClock
from tests.fakes.fake_saleor import FakeSaleor
from tests.fakes.routing import InMemoryRoutingSources
from tests.unit.services.routing.builders import WEST_3PL

WEST_ID = "V2FyZWhvdXNlOjI="
SHOP = SaleorApiUrl("https://shop.test/graphql/")
ORDER = "T3JkZXI6MQ=="
MANAGER = ("MANAGE_ORDERS", "MANAGE_SHIPPING")
WAREHOUSES = {
    "data": {
        "warehouses": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "edges": [
                {"node": {"id": EAST_ID, "slug": "east", "name": "East"}},
                {"node": {"id": WEST_ID, "slug": "west", "name": "West 3PL"}},
            ],
        }
    }
}
RATES = "\r\n".join(
    [
        HEADER,
        "east,UPS,Ground,USD,5000,standard,Mon-Fri,0,0,0,,0,,,All,US,1,3,,5,9.00",
        "west,UPS,Ground,USD,5000,standard,Mon-Fri,0,0,0,,0,,,All,US,1,3,,5,12.00",
        "",
    ]
)


def _warehouse(warehouse_id: str, name: str) -> dict[str, Any]:
    return {
        "id": warehouse_id,
        "name": name,
        "origin": {"country": "US", "postal_code": "75201"},
        "time_zone": "America/Chicago",
    }


SETTINGS = {
    "locale": "en_GB",
    "warehouses": json.dumps([_warehouse(EAST_ID, "East"), _warehouse(WEST_ID, "West 3PL")]),
    "channels": json.dumps(
        [{"channel": "default-channel", "warehouse": EAST_ID, "levels": {"standard": {"promise_days": 5}}}]
    ),
    "boxes": json.dumps(
        [{"name": "M", "length_cm": 40, "width_cm": 30, "height_cm": 20, "max_weight_kg": 20, "tare_kg": "0.5"}]
    ),
    "product_types": json.dumps([{"product_type": "Mugs", "length_cm": 12, "width_cm": 10, "height_cm": 10}]),
    "dimension_attributes": "",
    "carrier_preference": "UPS",
    "rules": "",
}
STANDARD = base64.b64encode(b"app:app.saleor-ops:standard").decode()
PAID = [
    {
        "id": base64.b64encode(b"TransactionItem:1").decode(),
        "pspReference": "ch_1",
        "chargedAmount": {"amount": 40, "currency": "USD"},
        "metadata": [],
    }
]
TEXAS = {"streetAddress1": "1 Main St", "city": "DALLAS", "postalCode": "75001", "country": {"code": "US"}}


@pytest.fixture
async def sources(
    installation: Any, client: httpx.AsyncClient, fake_saleor: FakeSaleor, staff_headers: Any, runtime: Runtime
) -> InMemoryRoutingSources:
    fake_saleor.on("Warehouses", WAREHOUSES)
    assert (await _upload(client, staff_headers(*MANAGER), RATES)).status_code == 200
    saved = await client.post("/api/dashboard/settings/shipping", data=SETTINGS, headers=staff_headers(*MANAGER))
    assert saved.status_code == 200, saved.text
    sources = InMemoryRoutingSources(RoutingSetup(partners=(replace(WEST_3PL, warehouse_id=SaleorId(WEST_ID)),)))
    runtime.routing_sources = lambda session: sources
    return sources


def _order(typename: str, after: timedelta, *, east: int, west: int, **order: Any) -> bytes:
    stocks = [
        {"warehouse": {"id": EAST_ID, "name": "East"}, "quantity": east, "quantityAllocated": 0},
        {"warehouse": {"id": WEST_ID, "name": "West 3PL"}, "quantity": west, "quantityAllocated": 0},
    ]
    variant = {
        **variant_payload(sku="MUG-1", product_type="Mugs"),
        "weight": {"unit": "KG", "value": 0.3},
        "stocks": stocks,
    }
    line = order_line_payload(
        line_id="L1", sku="MUG-1", quantity=2, unit_price="20", variant=variant, productName="Mug", variantName="Blue"
    )
    payload = order_payload(
        typename=typename,
        issued_at=(NOW + after).isoformat(),
        total="40",
        lines=[line],
        shippingAddress=TEXAS,
        deliveryMethod={"__typename": "ShippingMethod", "id": STANDARD, "name": "Standard"},
        **order,
    )
    return body_of(payload)


def _routing_notes(fake_saleor: FakeSaleor) -> list[str]:
    return [note for note in fake_saleor.notes[ORDER] if note.startswith("Saleor Ops routing")]


async def _created_and_paid(send: Send, *, east: int, west: int) -> None:
    await send("ORDER_CREATED", _order("OrderCreated", timedelta(0), east=east, west=west))
    await send(
        "ORDER_FULLY_PAID", _order("OrderFullyPaid", timedelta(minutes=1), east=east, west=west, transactions=PAID)
    )


async def test_nothing_is_planned_while_fraud_holds_the_order_for_payment(
    send: Send, fake_saleor: FakeSaleor, sources: InMemoryRoutingSources
) -> None:
    await send("ORDER_CREATED", _order("OrderCreated", timedelta(0), east=0, west=5))
    assert "ops.routing" not in fake_saleor.metadata[ORDER]
    assert _routing_notes(fake_saleor) == []
    assert sources.asked == []


async def test_an_approved_order_is_planned_once_and_written_back_once(
    send: Send, fake_saleor: FakeSaleor, runtime: Runtime, sources: InMemoryRoutingSources
) -> None:
    await _created_and_paid(send, east=0, west=5)
    routing = json.loads(fake_saleor.metadata[ORDER]["ops.routing"])
    assert [(entry["lineId"], entry["quantity"], entry["source"]) for entry in routing["plan"]] == [
        ("L1", 2, {"kind": "3pl", "id": WEST_ID, "name": "West"})
    ]
    (note,) = _routing_notes(fake_saleor)
    assert "3PL West" in note
    # Later events of the order, and the same one again, plan nothing more.
    await send("ORDER_UPDATED", _order("OrderUpdated", timedelta(minutes=5), east=5, west=5, transactions=PAID))
    await _created_and_paid(send, east=0, west=5)
    assert len(_routing_notes(fake_saleor)) == 1
    async with runtime.sessions() as session:
        (row,) = (await session.scalars(select(RoutingPlanRow))).all()
    assert (row.order_id, row.revision, row.routed) == (ORDER, 1, True)


async def test_an_order_no_source_can_ship_gets_a_note_saying_why(
    send: Send, fake_saleor: FakeSaleor, sources: InMemoryRoutingSources
) -> None:
    await _created_and_paid(send, east=1, west=0)
    routing = json.loads(fake_saleor.metadata[ORDER]["ops.routing"])
    assert routing["plan"] == []
    assert routing["shipments"] == 0
    (note,) = _routing_notes(fake_saleor)
    assert "MUG-1: 1 of 2 in stock across the sources" in note


async def _hand_offs(runtime: Runtime) -> list[HandOff]:
    async with runtime.sessions() as session:
        return await SqlRoutingPlans(session).hand_offs(SHOP, ORDER)


async def _hand_off_effect(runtime: Runtime) -> tuple[str, int, dict[str, Any]]:
    async with runtime.sessions() as session:
        (row,) = (await session.scalars(select(EffectRow).where(EffectRow.kind == "hand_off"))).all()
    return row.status, row.attempts, json.loads(row.payload)


class TestHandOff:
    async def test_the_3pl_s_shipment_is_posted_to_it_signed_with_its_secret(
        self, send: Send, respx_router: respx.MockRouter, runtime: Runtime, sources: InMemoryRoutingSources
    ) -> None:
        sources.secrets["p-west"] = "west-secret"
        partner = respx_router.post(WEST_3PL.address).mock(return_value=httpx.Response(202))
        await _created_and_paid(send, east=0, west=5)
        (call,) = partner.calls
        body = call.request.content.decode()
        timestamp = call.request.headers["X-Ops-Timestamp"]
        assert call.request.headers["X-Ops-Signature"] == signature("west-secret", timestamp, body)
        assert int(timestamp) == int(NOW.timestamp())
        sent = json.loads(body)
        assert (sent["orderId"], sent["orderNumber"], sent["warehouseId"]) == (ORDER, "1001", WEST_ID)
        assert sent["lines"] == [{"lineId": "L1", "sku": "MUG-1", "quantity": 2}]
        assert sent["shipTo"]["city"] == "DALLAS"
        (hand_off,) = await _hand_offs(runtime)
        assert sent["handOffId"] == hand_off.id
        assert (await _hand_off_effect(runtime))[:2] == ("done", 1)

    async def test_a_partner_that_is_down_is_tried_again_later_until_it_takes_the_hand_off(
        self,
        send: Send,
        respx_router: respx.MockRouter,
        runtime: Runtime,
        worker: Worker,
        clock: FixedClock,
        fake_saleor: FakeSaleor,
        sources: InMemoryRoutingSources,
    ) -> None:
        sources.secrets["p-west"] = "west-secret"
        partner = respx_router.post(WEST_3PL.address).mock(
            side_effect=[httpx.Response(503), httpx.ConnectError("down"), httpx.Response(202)]
        )
        await _created_and_paid(send, east=0, west=5)
        assert (await _hand_off_effect(runtime))[:2] == ("pending", 1)
        # While the partner is down, what the order must write to Saleor still goes.
        async with runtime.sessions.begin() as session:
            await Outbox(SqlEffectOutbox(session), SHOP, "test:later", clock.now()).add_order_note(
                SaleorId(ORDER), "a later note"
            )
        await worker.drain()
        assert fake_saleor.notes[ORDER][-1] == "a later note"
        assert (await _hand_off_effect(runtime))[:2] == ("pending", 1)
        for _ in range(2):
            clock.advance(hours=1)
            await worker.drain()
        assert len(partner.calls) == 3
        assert (await _hand_off_effect(runtime))[:2] == ("done", 3)

    async def test_a_partner_that_refuses_the_request_is_not_asked_again(
        self, send: Send, respx_router: respx.MockRouter, runtime: Runtime, sources: InMemoryRoutingSources
    ) -> None:
        sources.secrets["p-west"] = "west-secret"
        respx_router.post(WEST_3PL.address).mock(return_value=httpx.Response(400, text="unknown SKU MUG-1"))
        await _created_and_paid(send, east=0, west=5)
        assert (await _hand_off_effect(runtime))[:2] == ("failed", 1)

    async def test_nothing_is_sent_for_an_order_fraud_holds(
        self, send: Send, respx_router: respx.MockRouter, runtime: Runtime, sources: InMemoryRoutingSources
    ) -> None:
        partner = respx_router.post(WEST_3PL.address).mock(return_value=httpx.Response(202))
        await send("ORDER_CREATED", _order("OrderCreated", timedelta(0), east=0, west=5))
        assert partner.calls.call_count == 0
        async with runtime.sessions() as session:
            assert (await session.scalars(select(EffectRow).where(EffectRow.kind == "hand_off"))).all() == []


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A local SMTP server that takes mail after a login, as the store's would."""
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=check_login, auth_require_tls=False)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def by_e_mail(sources: InMemoryRoutingSources) -> InMemoryRoutingSources:
    """The 3PL West takes its orders by e-mail."""
    (west,) = sources.setup_.partners
    sources.setup_ = replace(
        sources.setup_, partners=(replace(west, hand_off=HandOffMethod.EMAIL, address="orders@west.example"),)
    )
    return sources


async def _set_smtp(runtime: Runtime, clock: FixedClock, port: int) -> None:
    async with runtime.sessions.begin() as session:
        saved = await change_mail_settings(
            SqlSettingsStore(session),
            SHOP,
            {
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "security": "none",
                "username": "help",
                "password": "s3cret",
                "from_address": "orders@shop.example",
                "from_name": "Shop",
                "reply_domain": "mail.shop.example",
            },
            cipher=runtime.cipher,
            changed_by="grace",
            clock=clock,
        )
    assert isinstance(saved, SupportMailSettings), saved


async def _purchase_order_effect(runtime: Runtime) -> EffectRow:
    async with runtime.sessions() as session:
        (row,) = (await session.scalars(select(EffectRow).where(EffectRow.kind == "purchase_order"))).all()
    return row


@pytest.mark.usefixtures("by_e_mail")
class TestPurchaseOrderByEMail:
    async def test_the_partner_is_e_mailed_the_order_with_its_lines_as_csv_through_the_store_s_smtp_server(
        self,
        send: Send,
        runtime: Runtime,
        clock: FixedClock,
        fake_saleor: FakeSaleor,
        mailbox: tuple[Mailbox, int],
    ) -> None:
        box, port = mailbox
        await _set_smtp(runtime, clock, port)
        await _created_and_paid(send, east=0, west=5)
        ((sender, recipients, message),) = box.received
        assert (sender, recipients) == ("orders@shop.example", ["orders@west.example"])
        assert message["Subject"] == "Purchase order for order #1001 from Shop"
        (hand_off,) = await _hand_offs(runtime)
        body = message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert "  MUG-1  Mug Blue  x 2  (line L1)\r\n" in text
        assert "DALLAS" in text
        assert f"POST https://ops.test/api/routing/hand-offs/{hand_off.id}/accept" in text
        (attachment,) = message.iter_attachments()
        rows = list(csv.reader(io.StringIO(attachment.get_content(), newline="")))
        assert rows[1] == ["L1", "MUG-1", "Mug Blue", "2", "", "", ""]
        effect = await _purchase_order_effect(runtime)
        assert (effect.status, effect.attempts, effect.lane) == ("done", 1, "partner:p-west")
        # The order's note says what was planned; nobody is asked to send anything by hand.
        (note,) = _routing_notes(fake_saleor)
        assert "e-mail" not in note

    async def test_without_smtp_the_purchase_order_waits_saying_why_and_goes_once_the_server_is_set(
        self,
        send: Send,
        client: httpx.AsyncClient,
        staff_headers: Any,
        runtime: Runtime,
        worker: Worker,
        clock: FixedClock,
        mailbox: tuple[Mailbox, int],
    ) -> None:
        box, port = mailbox
        await _created_and_paid(send, east=0, west=5)
        effect = await _purchase_order_effect(runtime)
        assert (effect.status, effect.attempts) == ("pending", 1)
        assert effect.last_error == f"MailNotSent: {NO_SMTP}"
        assert box.received == []
        page = await client.get("/api/dashboard/fragments/pipeline", headers=staff_headers())
        assert "Purchase order (e-mail to a partner)" in page.text
        assert "Not e-mailed: purchase orders go out through the store&#39;s SMTP server, and none is set" in page.text
        await _set_smtp(runtime, clock, port)
        clock.advance(hours=1)
        await worker.drain()
        assert len(box.received) == 1
        effect = await _purchase_order_effect(runtime)
        assert (effect.status, effect.attempts) == ("done", 2)

    async def test_an_order_cancelled_in_saleor_e_mails_the_cancel_after_the_purchase_order_it_cancels(
        self,
        send: Send,
        client: httpx.AsyncClient,
        staff_headers: Any,
        runtime: Runtime,
        worker: Worker,
        clock: FixedClock,
        mailbox: tuple[Mailbox, int],
    ) -> None:
        box, port = mailbox
        # The SMTP server is not set yet: the purchase order waits, and its cancel waits behind it.
        await _created_and_paid(send, east=0, west=5)
        cancelled = _order("OrderUpdated", timedelta(minutes=5), east=0, west=5, transactions=PAID, status="CANCELED")
        await send("ORDER_UPDATED", cancelled)
        async with runtime.sessions() as session:
            rows = (await session.scalars(select(EffectRow).where(EffectRow.lane == "partner:p-west"))).all()
        assert [(row.kind, row.status) for row in rows] == [
            ("purchase_order", "pending"),
            ("cancel_purchase_order", "pending"),
        ]
        page = await client.get("/api/dashboard/fragments/pipeline", headers=staff_headers())
        assert "Purchase order cancel (e-mail to a partner)" in page.text
        assert box.received == []
        await _set_smtp(runtime, clock, port)
        clock.advance(hours=1)
        await worker.drain()
        clock.advance(hours=1)
        await worker.drain()
        (hand_off,) = await _hand_offs(runtime)
        subjects = [(recipients, message["Subject"]) for _, recipients, message in box.received]
        assert subjects == [
            (["orders@west.example"], "Purchase order for order #1001 from Shop"),
            (["orders@west.example"], f"CANCELLED: purchase order for order #1001 from Shop (ref. {hand_off.id})"),
        ]
        body = box.received[1][2].get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert f"Hand-off reference: {hand_off.id}\r\n" in text
        assert "  MUG-1  Mug Blue  x 2  (line L1)\r\n" in text
        assert "Reason: the order was cancelled in Saleor\r\n" in text

    async def test_a_purchase_order_unanswered_past_the_window_is_cancelled_by_e_mail_naming_the_kept_order(
        self, send: Send, runtime: Runtime, worker: Worker, clock: FixedClock, mailbox: tuple[Mailbox, int]
    ) -> None:
        box, port = mailbox
        await _set_smtp(runtime, clock, port)
        await _created_and_paid(send, east=0, west=5)
        clock.advance(hours=4, minutes=1)
        assert await expire_unanswered_hand_offs(runtime, clock.now()) == 1
        await worker.drain()
        (hand_off,) = await _hand_offs(runtime)
        _, _, cancel = box.received[-1]
        assert cancel["Subject"] == f"CANCELLED: purchase order for order #1001 from Shop (ref. {hand_off.id})"
        body = cancel.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        # The order's name and number come from its webhook the app kept.
        assert "  MUG-1  Mug Blue  x 2  (line L1)\r\n" in text
        assert "Reason: no answer within 4 hours\r\n" in text

    async def test_the_window_runs_from_when_the_purchase_order_went_out_not_while_it_waits_for_smtp(
        self, send: Send, runtime: Runtime, worker: Worker, clock: FixedClock, mailbox: tuple[Mailbox, int]
    ) -> None:
        box, port = mailbox
        await _created_and_paid(send, east=0, west=5)
        clock.advance(hours=4, minutes=1)
        assert await expire_unanswered_hand_offs(runtime, clock.now()) == 0  # still waiting to be e-mailed
        await _set_smtp(runtime, clock, port)
        await worker.drain()
        assert (await _purchase_order_effect(runtime)).status == "done"
        mailed = clock.now()
        assert await expire_unanswered_hand_offs(runtime, mailed + timedelta(hours=3, minutes=59)) == 0
        assert await expire_unanswered_hand_offs(runtime, mailed + timedelta(hours=4, minutes=1)) == 1
