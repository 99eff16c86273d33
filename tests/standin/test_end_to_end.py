"""The real app against the stand-in, in-process: installed through Saleor's protocol, fed signed webhooks.

Nothing is seeded in the app's database: the install is the stand-in fetching
the manifest and POSTing the token, and the app confirming it with ``AppIdentity``
and fetching the JWKS from the stand-in, exactly as against Saleor.
"""

import json
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.db.models import OrderEventRow
from app.db.repositories.installations import SqlInstallationStore
from app.domain.ids import SaleorApiUrl, SaleorId
from app.errors import SaleorMutationError, SaleorUnauthorizedError
from app.runtime import Runtime
from app.standin import actions
from app.standin.facade import StandIn
from app.standin.state import App, Order, to_global_id
from app.webhooks import WEBHOOKS
from app.webhooks.payloads import OrderEventPayload
from tests.conftest import FixedClock
from tests.standin.conftest import MANIFEST_URL, Catalogue

API_URL = SaleorApiUrl("http://shop.standin/graphql/")


def runtime_of(ops: FastAPI) -> Runtime:
    runtime: Runtime = ops.state.runtime
    return runtime


async def recorded(ops: FastAPI, order: Order) -> list[OrderEventRow]:
    runtime = runtime_of(ops)
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(OrderEventRow)
            .where(OrderEventRow.order_id == to_global_id("Order", order.pk))
            .order_by(OrderEventRow.id)
        )
        return list(rows)


@pytest.fixture
async def installed(ops: FastAPI, standin: StandIn) -> App:
    return await standin.install(MANIFEST_URL)


class TestInstall:
    async def test_the_app_registers_with_the_standins_token_id_and_keys(
        self, ops: FastAPI, standin: StandIn, installed: App
    ) -> None:
        runtime = runtime_of(ops)
        async with runtime.sessions() as session:
            installation = await SqlInstallationStore(session, runtime.cipher).get(API_URL)
        assert installation is not None
        assert installation.app_id == to_global_id("App", installed.pk)
        assert installation.token == installed.token
        assert json.loads(installation.jwks) == standin.key.jwks()
        assert (installation.saleor_domain, installation.schema_version, installation.saleor_version) == (
            "shop.standin",
            "3.20",
            "3.20.119",
        )

    async def test_the_manifest_webhooks_become_the_apps_subscriptions(self, installed: App) -> None:
        assert installed.identifier == "app.saleor-ops"
        assert installed.permissions == ("MANAGE_ORDERS", "MANAGE_SHIPPING")
        assert {w.name: w.events for w in installed.webhooks} == {
            definition.path.rsplit("/", 1)[1]: (definition.event,) for definition in WEBHOOKS
        }
        assert all(w.target_url.startswith("https://ops.test/api/webhooks/") for w in installed.webhooks)


class TestWebhooks:
    async def test_order_created_is_recorded_once(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = actions.place_order(
            standin.store, catalogue.channel, [(catalogue.mug, 2)], at=clock.now(), customer=catalogue.customer
        )
        (delivery,) = await standin.deliver("ORDER_CREATED", order)
        assert (delivery.response.status_code, delivery.response.json()) == (200, {"status": "recorded"})
        (row,) = await recorded(ops, order)
        assert (row.event, row.order_number, row.saleor_version) == ("order_created", "1", "3.20.119")
        assert row.payload == delivery.body.decode()

        (again,) = await standin.deliver("ORDER_CREATED", order)
        assert (again.response.status_code, again.response.json()) == (200, {"status": "duplicate"})
        assert len(await recorded(ops, order)) == 1

    async def test_the_payload_from_the_subscription_parses_as_the_apps_model(
        self, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = actions.place_order(
            standin.store, catalogue.channel, [(catalogue.mug, 2)], at=clock.now(), customer=catalogue.customer
        )
        body = standin.payload_for("ORDER_CREATED", order, installed, issuing_principal=catalogue.customer)
        assert body is not None
        payload = OrderEventPayload.model_validate_json(body)
        assert (payload.typename, payload.issued_at, payload.version) == ("OrderCreated", clock.now(), "3.20.119")
        assert payload.issuing_principal is not None
        assert payload.issuing_principal.typename == "User"
        assert payload.order.id == to_global_id("Order", order.pk)
        assert (payload.order.number, payload.order.status, payload.order.user_email) == (
            "1",
            "UNFULFILLED",
            "ada@example.com",
        )
        assert payload.order.total.gross.to_money().amount == Decimal("25.00")
        (line,) = payload.order.lines
        assert (line.product_sku, line.quantity, line.unit_price.gross.amount) == ("MUG-BLUE", 2, Decimal("12.5"))
        assert line.product_variant_id == to_global_id("ProductVariant", catalogue.mug.pk)

    async def test_a_day_of_one_order_reaches_the_app_in_saleors_order(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        standin.store.outbox.clear()  # APP_INSTALLED: the app does not subscribe to it
        order = actions.place_order(
            standin.store, catalogue.channel, [(catalogue.tee, 1)], at=clock.now(), customer=catalogue.customer
        )
        actions.record_charge(standin.store, order, Decimal("20.00"), at=clock.now(), psp_reference="pi_1")
        line = to_global_id("OrderLine", order.lines[0].pk)
        warehouse = to_global_id("Warehouse", catalogue.main.pk)
        result = await standin.execute(
            """mutation($order: ID!, $line: ID!, $warehouse: ID!) {
                orderFulfill(order: $order, input: {
                  lines: [{orderLineId: $line, stocks: [{warehouse: $warehouse, quantity: 1}]}]
                }) { errors { code } }
            }""",
            {"order": to_global_id("Order", order.pk), "line": line, "warehouse": warehouse},
            app=installed,
        )
        assert result.data == {"orderFulfill": {"errors": []}}
        deliveries = await standin.deliver_pending()
        # The clock stands still here, so the second ORDER_UPDATED carries the first one's issuedAt:
        # the app takes it for a redelivery (and still costs what it says; nothing was new).
        assert [(d.event, d.response.json()["status"]) for d in deliveries] == [
            ("ORDER_CREATED", "recorded"),
            ("ORDER_PAID", "recorded"),
            ("ORDER_FULLY_PAID", "recorded"),
            ("ORDER_UPDATED", "recorded"),
            ("ORDER_UPDATED", "duplicate"),
            ("FULFILLMENT_CREATED", "recorded"),
            ("ORDER_FULFILLED", "recorded"),
            ("FULFILLMENT_APPROVED", "recorded"),
        ]
        assert [row.event for row in await recorded(ops, order)] == [
            "order_created",
            "order_paid",
            "order_fully_paid",
            "order_updated",
            "fulfillment_created",
            "order_fulfilled",
            "fulfillment_approved",
        ]
        # The app's own mutation comes back with the app as its issuing principal (its loop guard).
        fulfilled = json.loads(deliveries[-1].body)
        assert fulfilled["issuingPrincipal"] == {"__typename": "App", "id": to_global_id("App", installed.pk)}


class TestWriteBack:
    async def test_the_apps_gateway_writes_notes_and_private_metadata(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = actions.place_order(standin.store, catalogue.channel, [(catalogue.tee, 1)], at=clock.now())
        standin.store.outbox.clear()
        gateway = runtime_of(ops).saleor.gateway(API_URL, installed.token)
        order_id = SaleorId(to_global_id("Order", order.pk))

        await gateway.add_order_note(order_id, "Fraud score 12: approve")
        await gateway.update_private_metadata(order_id, {"ops.fraud": '{"v":1,"score":12}'})

        note = order.events[-1]
        assert (note.type, note.message, note.app_pk) == ("NOTE_ADDED", "Fraud score 12: approve", installed.pk)
        assert order.private_metadata == {"ops.fraud": '{"v":1,"score":12}'}
        assert [(e.event, e.issuing_principal) for e in standin.store.outbox] == [
            ("ORDER_UPDATED", installed),
            ("ORDER_METADATA_UPDATED", installed),
        ]

    async def test_a_refused_mutation_reaches_the_app_as_saleors_error(
        self, ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = actions.place_order(standin.store, catalogue.channel, [(catalogue.tee, 1)], at=clock.now())
        gateway = runtime_of(ops).saleor.gateway(API_URL, installed.token)
        with pytest.raises(SaleorMutationError) as refused:
            await gateway.add_order_note(SaleorId(to_global_id("Order", order.pk)), "   ")
        assert [(e.field, e.code) for e in refused.value.errors] == [("message", "REQUIRED")]


class TestUninstall:
    async def test_app_deleted_erases_the_token_keeps_the_store_and_the_token_stops_working(
        self, ops: FastAPI, standin: StandIn, installed: App
    ) -> None:
        (delivery,) = await standin.uninstall(installed)
        assert delivery.response.json() == {"status": "uninstalled"}
        runtime = runtime_of(ops)
        async with runtime.sessions() as session:
            kept = await SqlInstallationStore(session, runtime.cipher).get(API_URL)
        assert kept is not None
        assert (kept.token, kept.is_revoked, kept.uninstalled_at is not None) == ("", True, True)
        with pytest.raises(SaleorUnauthorizedError):
            await runtime.saleor.gateway(API_URL, installed.token).identify_app()
