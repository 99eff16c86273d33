"""The Saleor side of inventory costing against the stand-in.

The app's fulfilment subscriptions render from the stand-in's state and map to costing's
views; the app's gateway writes ``ops.cogs`` on orders and their lines and reads every
warehouse's stock over HTTP, as it would against Saleor.
"""

import asyncio
import json
from decimal import Decimal
from uuid import UUID

import pytest
from fastapi import FastAPI

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.money import Money
from app.errors import SaleorMutationError
from app.graphql.client import GqlSaleorGateway
from app.graphql.documents import load
from app.runtime import Runtime
from app.services.order_costing import FulfilledUnits, OrderFulfillments
from app.services.ports import ChannelRef, SaleorName, StockLevel, WarehouseRef
from app.standin import actions
from app.standin.facade import StandIn
from app.standin.state import App, AppWebhook, Order, Payment, PaymentChargeStatus, PendingEvent, to_global_id
from app.webhooks.order_fulfillments import order_fulfillments
from app.webhooks.payloads import OrderEventPayload
from tests.conftest import FixedClock
from tests.standin.conftest import MANIFEST_URL, Catalogue

API_URL = SaleorApiUrl("http://shop.standin/graphql/")
COSTING_EVENTS = ("FULFILLMENT_CREATED", "FULFILLMENT_APPROVED", "FULFILLMENT_CANCELED", "ORDER_UPDATED")


@pytest.fixture
def subscriber(caller: App) -> App:
    """An app subscribed with the app's own costing subscriptions (the lead wires them into the manifest)."""
    for event in COSTING_EVENTS:
        query = load("subscriptions", event.lower()).source
        caller.webhooks.append(AppWebhook(event.lower(), f"https://ops.test/{event.lower()}", query, (event,)))
    return caller


def received(standin: StandIn, app: App, pending: PendingEvent) -> OrderEventPayload:
    body = standin.payload_for(pending.event, pending.subject, app, issuing_principal=pending.issuing_principal)
    assert body is not None
    assert "errors" not in json.loads(body)  # every selected field resolved
    return OrderEventPayload.model_validate_json(body)


def gid(type_name: str, pk: int | UUID) -> str:
    return to_global_id(type_name, pk)


def ship_mugs_and_a_tee(standin: StandIn, catalogue: Catalogue, clock: FixedClock) -> Order:
    """7 mugs (5 from Main, 2 from the 3PL) and a tee from Main: two fulfillments, the order complete."""
    order = actions.place_order(
        standin.store, catalogue.channel, [(catalogue.mug, 7), (catalogue.tee, 1)], at=clock.now()
    )
    main, tpl = gid("Warehouse", catalogue.main.pk), gid("Warehouse", catalogue.tpl.pk)
    mug, tee = (gid("OrderLine", line.pk) for line in order.lines)
    clock.advance(hours=2)
    actions.fulfill_order(
        standin.store, order, [(mug, [(main, 5), (tpl, 2)]), (tee, [(main, 1)])], at=clock.now(), principal=None
    )
    return order


class TestFulfilmentWebhooks:
    def test_fulfillment_created_carries_the_lines_costs_and_each_warehouses_units(
        self, standin: StandIn, subscriber: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = ship_mugs_and_a_tee(standin, catalogue, clock)
        created = [p for p in standin.store.outbox if p.event == "FULFILLMENT_CREATED"]
        assert len(created) == 2

        payload = received(standin, subscriber, created[0])
        view = order_fulfillments(payload.order)

        assert payload.typename == "FulfillmentCreated"
        assert isinstance(view, OrderFulfillments)
        assert (view.order_id, view.number, view.currency) == (gid("Order", order.pk), "1", "USD")
        mug, tee = view.lines
        assert (mug.sku, mug.product_type, mug.quantity, mug.unit_price_net, mug.cost_price) == (
            "MUG-BLUE",
            "Drinkware",
            7,
            Decimal("12.50"),
            Decimal("4.10"),
        )
        assert mug.variant_id == gid("ProductVariant", catalogue.mug.pk)
        assert (tee.sku, tee.product_type, tee.cost_price) == ("TEE-M", "Apparel", Decimal("7.00"))
        main, tpl = view.fulfillments
        assert (main.status, main.warehouse_id, main.created) == (
            "FULFILLED",
            gid("Warehouse", catalogue.main.pk),
            clock.now(),
        )
        assert [(units.order_line_id, units.quantity) for units in main.lines] == [(mug.id, 5), (tee.id, 1)]
        assert tpl.warehouse_id == gid("Warehouse", catalogue.tpl.pk)
        assert tpl.lines == (
            FulfilledUnits(
                id=gid("FulfillmentLine", order.fulfillments[1].lines[0].pk), order_line_id=mug.id, quantity=2
            ),
        )

    def test_the_order_completed_sends_fulfillment_approved_with_the_same_order(
        self, standin: StandIn, subscriber: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        ship_mugs_and_a_tee(standin, catalogue, clock)
        approved = [p for p in standin.store.outbox if p.event == "FULFILLMENT_APPROVED"]
        assert len(approved) == 2
        payload = received(standin, subscriber, approved[0])
        assert payload.typename == "FulfillmentApproved"
        assert payload.order.status == "FULFILLED"
        assert len(order_fulfillments(payload.order).fulfillments) == 2

    @pytest.mark.parametrize(
        ("version", "in_the_order"),
        [
            # Up to 3.20.85 Saleor shows CANCELED fulfilments to staff users only (Order.resolve_fulfillments);
            # from 3.20.86 (saleor/saleor#17679) to apps too.
            pytest.param("3.20.85", False, id="3.20.85-hides-it-from-apps"),
            pytest.param("3.20.86", True, id="3.20.86-shows-it-to-apps"),
            pytest.param("3.20.119", True, id="3.20.119-shows-it-to-apps"),
            pytest.param("3.21.0", True, id="3.21-shows-it-to-apps"),
        ],
    )
    def test_a_cancelled_fulfilment_comes_with_the_event_and_its_stock_is_back(
        self,
        standin: StandIn,
        subscriber: App,
        catalogue: Catalogue,
        clock: FixedClock,
        version: str,
        in_the_order: bool,
    ) -> None:
        standin.store.shop.version = version
        order = ship_mugs_and_a_tee(standin, catalogue, clock)
        standin.store.outbox.clear()
        from_tpl = order.fulfillments[1]
        actions.cancel_fulfillment(
            standin.store, order, from_tpl, warehouse=catalogue.tpl, at=clock.now(), principal=subscriber
        )

        canceled, updated = standin.store.outbox
        payload = received(standin, subscriber, canceled)

        assert (payload.typename, updated.event) == ("FulfillmentCanceled", "ORDER_UPDATED")
        assert payload.issuing_principal is not None
        assert payload.issuing_principal.id == gid("App", subscriber.pk)  # the app's own loop guard
        assert payload.order.status == "PARTIALLY_FULFILLED"
        cancelled_id = gid("Fulfillment", from_tpl.pk)
        assert (cancelled_id in {f.id for f in payload.order.fulfillments}) is in_the_order
        assert payload.fulfillment is not None
        assert (payload.fulfillment.id, payload.fulfillment.status) == (cancelled_id, "CANCELED")
        statuses = {f.id: f.status for f in order_fulfillments(payload.order, payload.fulfillment).fulfillments}
        assert statuses[cancelled_id] == "CANCELED"
        stock = standin.store.stock_for(catalogue.tpl.pk, catalogue.mug.pk)
        assert stock is not None
        assert (stock.quantity, stock.quantity_allocated) == (10, 2)

    def test_a_refund_moves_units_into_a_refunded_fulfilment_under_new_line_ids_and_no_stock(
        self, standin: StandIn, subscriber: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = ship_mugs_and_a_tee(standin, catalogue, clock)
        paid_by_plugin(order, clock)
        standin.store.outbox.clear()
        clock.advance(days=1)
        mugs_from_main = order.fulfillments[0].lines[0]
        actions.refund_lines(
            standin.store, order, fulfillment_lines=[(mugs_from_main, 2)], at=clock.now(), principal=None
        )

        refunded_event, updated = standin.store.outbox
        view = order_fulfillments(received(standin, subscriber, updated).order)

        assert (refunded_event.event, updated.event) == ("ORDER_REFUNDED", "ORDER_UPDATED")
        shipped, _, refunded = view.fulfillments
        assert [units.quantity for units in shipped.lines] == [3, 1]
        assert (refunded.status, refunded.warehouse_id) == ("REFUNDED", gid("Warehouse", catalogue.main.pk))
        (units,) = refunded.lines
        assert (units.order_line_id, units.quantity) == (view.lines[0].id, 2)
        assert units.id not in {shipped_units.id for shipped_units in shipped.lines}
        stock = standin.store.stock_for(catalogue.main.pk, catalogue.mug.pk)
        assert stock is not None
        assert (stock.quantity, stock.quantity_allocated) == (0, 0)
        assert order.payments[0].captured_amount == Decimal("82.50")  # 7 x 12.50 + 20.00, less 2 x 12.50

    def test_a_return_arrives_as_order_updated_with_a_returned_fulfilment_from_the_same_warehouse(
        self, standin: StandIn, subscriber: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = ship_mugs_and_a_tee(standin, catalogue, clock)
        standin.store.outbox.clear()
        clock.advance(days=3)
        mugs_from_main = order.fulfillments[0].lines[0]
        actions.return_lines(standin.store, order, [(mugs_from_main, 1)], at=clock.now(), principal=None)

        (updated,) = standin.store.outbox
        view = order_fulfillments(received(standin, subscriber, updated).order)

        shipped, _, returned = view.fulfillments
        assert [units.quantity for units in shipped.lines] == [4, 1]
        assert (returned.status, returned.warehouse_id, returned.created) == (
            "RETURNED",
            gid("Warehouse", catalogue.main.pk),
            clock.now(),
        )
        assert [(units.order_line_id, units.quantity) for units in returned.lines] == [(view.lines[0].id, 1)]


def paid_by_plugin(order: Order, clock: FixedClock) -> Payment:
    """What a payment plugin's checkout (or "Mark as paid") leaves on the order: a captured legacy payment."""
    payment = Payment(
        1,
        "mirumee.payments.dummy",
        order.currency,
        order.total_gross,
        order.total_gross,
        PaymentChargeStatus.FULLY_CHARGED,
        clock.now(),
        clock.now(),
    )
    order.payments.append(payment)
    return payment


def gateway_of(ops: FastAPI, app: App) -> GqlSaleorGateway:
    runtime: Runtime = ops.state.runtime
    return runtime.saleor.gateway(API_URL, app.token)


@pytest.fixture
async def installed(ops: FastAPI, standin: StandIn) -> App:
    return await standin.install(MANIFEST_URL)


class TestGatewayOverHttp:
    async def test_record_cogs_writes_the_order_each_line_and_one_note(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = ship_mugs_and_a_tee(standin, catalogue, clock)
        standin.store.outbox.clear()
        mug, tee = order.lines
        traces = {
            SaleorId(gid("OrderLine", mug.pk)): {"ops.cogs": '{"cogs":"28.70"}'},
            SaleorId(gid("OrderLine", tee.pk)): {"ops.cogs": '{"cogs":"7.00"}'},
        }

        await gateway_of(ops, installed).record_cogs(
            SaleorId(gid("Order", order.pk)), {"ops.cogs": '{"v":1}'}, traces, "COGS 35.70 USD"
        )

        assert order.private_metadata == {"ops.cogs": '{"v":1}'}
        assert [line.private_metadata for line in order.lines] == [
            {"ops.cogs": '{"cogs":"28.70"}'},
            {"ops.cogs": '{"cogs":"7.00"}'},
        ]
        note = order.events[-1]
        assert (note.type, note.message, note.app_pk) == ("NOTE_ADDED", "COGS 35.70 USD", installed.pk)
        assert [(e.event, e.issuing_principal) for e in standin.store.outbox] == [
            ("ORDER_METADATA_UPDATED", installed),
            ("ORDER_UPDATED", installed),
        ]

    async def test_record_cogs_for_an_order_of_more_lines_than_saleor_runs_mutations_in_one_document(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        """Saleor (3.20.118 on) refuses a document of more than 4 mutations: five lines go in two."""
        bought = [(catalogue.mug, 1), (catalogue.tee, 1)] * 2 + [(catalogue.mug, 2)]
        order = actions.place_order(standin.store, catalogue.channel, bought, at=clock.now())
        traces = {
            SaleorId(gid("OrderLine", line.pk)): {"ops.cogs": f'{{"n":{n}}}'} for n, line in enumerate(order.lines)
        }

        await gateway_of(ops, installed).record_cogs(
            SaleorId(gid("Order", order.pk)), {"ops.cogs": "{}"}, traces, "COGS"
        )

        assert len(order.lines) == 5
        assert [line.private_metadata for line in order.lines] == [{"ops.cogs": f'{{"n":{n}}}'} for n in range(5)]
        assert [(event.type, event.message) for event in order.events if event.type == "NOTE_ADDED"] == [
            ("NOTE_ADDED", "COGS")
        ]

    async def test_record_cogs_for_an_order_without_line_traces(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = actions.place_order(standin.store, catalogue.channel, [(catalogue.tee, 1)], at=clock.now())
        await gateway_of(ops, installed).record_cogs(SaleorId(gid("Order", order.pk)), {"ops.cogs": "{}"}, {}, "none")
        assert (order.private_metadata, order.lines[0].private_metadata) == ({"ops.cogs": "{}"}, {})

    async def test_writes_sent_together_in_one_document_are_each_taken_or_refused_on_their_own(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        """Saleor runs a batch's mutations one after another, each answering in its own payload."""
        first, second = (
            actions.place_order(standin.store, catalogue.channel, [(catalogue.tee, 1)], at=clock.now())
            for _ in range(2)
        )
        runtime: Runtime = ops.state.runtime
        saleor = runtime.saleor.batching_gateway(
            API_URL, installed.token, in_flight=asyncio.Semaphore(1), at_once=1
        )  # one request for all three

        outcomes = await asyncio.gather(
            saleor.record_cogs(SaleorId(gid("Order", first.pk)), {"ops.cogs": "{}"}, {}, "COGS 7.00 USD"),
            saleor.add_order_note(SaleorId(gid("Order", UUID(int=1))), "to no order"),
            saleor.add_order_note(SaleorId(gid("Order", second.pk)), "second"),
            return_exceptions=True,
        )

        assert outcomes[0] is None
        assert outcomes[2] is None
        # OrderNoteAddErrorCode has no NOT_FOUND: Saleor nulls the code, with a GraphQL error at its path
        # (as a real Saleor 3.20 answers, tests/real_saleor/test_batched_requests.py). Still a refusal.
        assert isinstance(outcomes[1], SaleorMutationError)
        (refused,) = outcomes[1].errors
        missing = gid("Order", UUID(int=1))
        assert (refused.field, refused.message, refused.code) == ("id", f"Couldn't resolve to a node: {missing}", None)
        assert first.private_metadata == {"ops.cogs": "{}"}
        assert [event.message for event in first.events if event.type == "NOTE_ADDED"] == ["COGS 7.00 USD"]
        assert [event.message for event in second.events if event.type == "NOTE_ADDED"] == ["second"]

    async def test_lists_every_warehouse(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue
    ) -> None:
        assert await gateway_of(ops, installed).warehouses() == [
            WarehouseRef(id=gid("Warehouse", catalogue.main.pk), slug="main", name="Main"),
            WarehouseRef(id=gid("Warehouse", catalogue.tpl.pk), slug="shipwell", name="Shipwell 3PL"),
        ]

    async def test_lists_every_channel_by_slug(self, ops: FastAPI, standin: StandIn, installed: App) -> None:
        standin.store.add_channel(slug="eu", name="Europe", currency_code="EUR")
        standin.store.add_channel(slug="b2b", name="Wholesale", currency_code="USD")
        assert await gateway_of(ops, installed).channels() == [
            ChannelRef("b2b", "Wholesale", "USD"),
            ChannelRef("eu", "Europe", "EUR"),
        ]

    async def test_reads_every_stock_with_its_variants_type_and_cost_prices(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        ship_mugs_and_a_tee(standin, catalogue, clock)
        main, tpl = gid("Warehouse", catalogue.main.pk), gid("Warehouse", catalogue.tpl.pk)
        mug, tee = gid("ProductVariant", catalogue.mug.pk), gid("ProductVariant", catalogue.tee.pk)
        usd = {"default-channel": Money(Decimal("4.10"), "USD")}

        levels = [level async for level in gateway_of(ops, installed).stock_levels()]

        in_main, in_tpl = SaleorName(main, "Main", "main"), SaleorName(tpl, "Shipwell 3PL", "shipwell")
        blue_mug = SaleorName(mug, "Mug / Blue")
        assert levels == [
            StockLevel(mug, "MUG-BLUE", "Drinkware", main, 0, usd, in_main, blue_mug),
            StockLevel(
                tee,
                "TEE-M",
                "Apparel",
                main,
                2,
                {"default-channel": Money(Decimal("7.00"), "USD")},
                in_main,
                SaleorName(tee, "T-shirt / M"),
            ),
            StockLevel(mug, "MUG-BLUE", "Drinkware", tpl, 8, usd, in_tpl, blue_mug),
        ]

    async def test_pages_through_a_warehouse_with_more_stock_records_than_a_page(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue
    ) -> None:
        store = standin.store
        bulk = store.add_product(name="Sample", product_type=store.add_product_type(name="Samples"))
        for number in range(150):
            store.set_stock(catalogue.tpl, store.add_variant(bulk, sku=f"SAMPLE-{number:03}"), number)

        levels = [level async for level in gateway_of(ops, installed).stock_levels()]

        in_tpl = [level for level in levels if level.warehouse_id == gid("Warehouse", catalogue.tpl.pk)]
        assert len(in_tpl) == 151
        assert [level.sku for level in in_tpl[1:]] == [f"SAMPLE-{number:03}" for number in range(150)]
        assert all(level.cost_prices == {} and level.product_type == "Samples" for level in in_tpl[1:])


def cogs_in_saleor(order: Order) -> str:
    cogs: str = json.loads(order.private_metadata["ops.cogs"])["cogs"]
    return cogs


class TestCostingThroughTheApp:
    """The real app fed by the stand-in playing Saleor 3.20; costs come from the mug's cost price, 4.10."""

    async def test_a_refund_keeps_the_cost_and_a_cancel_brings_back_what_the_fulfilment_still_held(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        store = standin.store
        order = actions.place_order(store, catalogue.channel, [(catalogue.mug, 3)], at=clock.now())
        paid_by_plugin(order, clock)
        main = gid("Warehouse", catalogue.main.pk)
        clock.advance(hours=1)
        (shipped,) = actions.fulfill_order(
            store, order, [(gid("OrderLine", order.lines[0].pk), [(main, 3)])], at=clock.now(), principal=None
        )
        await standin.deliver_pending()
        assert cogs_in_saleor(order) == "12.30"

        clock.advance(hours=1)
        actions.refund_lines(store, order, fulfillment_lines=[(shipped.lines[0], 1)], at=clock.now(), principal=None)
        await standin.deliver_pending()
        assert cogs_in_saleor(order) == "12.30"  # the refunded mug left and stays with the customer

        clock.advance(hours=1)
        actions.cancel_fulfillment(store, order, shipped, warehouse=catalogue.main, at=clock.now(), principal=None)
        deliveries = await standin.deliver_pending()
        assert [d.response.status_code for d in deliveries] == [200, 200]
        assert cogs_in_saleor(order) == "4.10"  # two mugs back on the shelf, the refunded one still out

    async def test_a_fulfilment_the_app_creates_for_a_partners_shipment_is_costed(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        store = standin.store
        order = actions.place_order(store, catalogue.channel, [(catalogue.mug, 3)], at=clock.now())
        paid_by_plugin(order, clock)
        clock.advance(hours=1)
        # Saleor names the app as the principal of its own orderFulfill: its events are the app's own.
        actions.fulfill_order(
            store,
            order,
            [(gid("OrderLine", order.lines[0].pk), [(gid("Warehouse", catalogue.tpl.pk), 3)])],
            at=clock.now(),
            principal=installed,
            tracking_number="1Z999AA10123456784",
        )
        fulfilled = [pending for pending in store.outbox if pending.event.startswith("FULFILLMENT")]
        assert fulfilled
        assert {pending.issuing_principal for pending in fulfilled} == {installed}
        await standin.deliver_pending()
        assert cogs_in_saleor(order) == "12.30"
