"""The stand-in refuses fields as Saleor does: by the permission notes of its schema and the checks
Saleor's resolvers make without a note, nulling up to the nearest nullable parent."""

import json
from datetime import datetime

import pytest
from graphql import GraphQLInterfaceType, GraphQLObjectType

from app.saleor.manifest import build_manifest
from app.standin import actions
from app.standin.facade import StandIn
from app.standin.permissions import needs_private_metadata_permission, requirements_in
from app.standin.state import App, AppWebhook, CreditCard, Order, Payment, PaymentChargeStatus, to_global_id
from tests.conftest import FixedClock
from tests.standin.conftest import Catalogue
from tests.standin.test_schema_subset import _ours, _saleor

PAYMENT_METADATA = """subscription { event { __typename issuedAt ... on OrderFullyPaid {
  order { id payments { id gateway metadata { key value } } } } } }"""
HANDLE_PAYMENTS_ERROR = "To access this path, you need one of the following permissions: HANDLE_PAYMENTS"


def marked_as_paid(standin: StandIn, catalogue: Catalogue, at: datetime) -> Order:
    """An order with a legacy Payment carrying metadata, as a payment plugin leaves it."""
    order = actions.place_order(standin.store, catalogue.channel, [(catalogue.tee, 1)], at=at)
    order.payments.append(
        Payment(
            7,
            "mirumee.payments.dummy",
            order.currency,
            order.total_gross,
            order.total_gross,
            PaymentChargeStatus.FULLY_CHARGED,
            at,
            at,
            customer_ip_address="203.0.113.9",
            credit_card=CreditCard("visa", "4242", first_digits="424242"),
            metadata={"avs_result": "Y"},
        )
    )
    return order


def subscriber(standin: StandIn, query: str, *permissions: str, events: tuple[str, ...] = ("ORDER_FULLY_PAID",)) -> App:
    webhook = AppWebhook("w", "https://app.test/api/webhooks/order-fully-paid", query, events)
    pk = len(standin.store.apps) + 100
    return standin.store.add_app(
        App(pk, f"app-{pk}", "App", f"token-{pk}", permissions=permissions, webhooks=[webhook])
    )


class TestWebhookPayloads:
    def test_an_app_without_handle_payments_gets_order_null_and_saleors_error(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = marked_as_paid(standin, catalogue, clock.now())
        app = subscriber(standin, PAYMENT_METADATA, "MANAGE_ORDERS")
        body = standin.payload_for("ORDER_FULLY_PAID", order, app)
        assert body is not None
        payload = json.loads(body)
        assert payload["__typename"] == "OrderFullyPaid"
        assert payload["order"] is None
        assert payload["errors"] == [
            {
                "message": HANDLE_PAYMENTS_ERROR,
                "locations": [{"line": 2, "column": 36}],
                "path": ["event", "order", "payments", 0, "metadata"],
                "extensions": {"exception": {"code": "PermissionDenied"}},
            }
        ]

    def test_with_handle_payments_the_same_subscription_gets_the_order(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = marked_as_paid(standin, catalogue, clock.now())
        app = subscriber(standin, PAYMENT_METADATA, "MANAGE_ORDERS", "HANDLE_PAYMENTS")
        payload = json.loads(standin.payload_for("ORDER_FULLY_PAID", order, app) or b"")
        assert "errors" not in payload
        assert payload["order"]["payments"][0]["metadata"] == [{"key": "avs_result", "value": "Y"}]

    @pytest.mark.parametrize("event", ["ORDER_CREATED", "ORDER_FULLY_PAID", "ORDER_UPDATED", "ORDER_FULFILLED"])
    def test_the_apps_own_subscriptions_get_the_whole_order(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, event: str
    ) -> None:
        order = marked_as_paid(standin, catalogue, clock.now())
        manifest = build_manifest("https://app.test")
        (webhook,) = [w for w in manifest["webhooks"] if event in w.get("asyncEvents", [])]
        app = subscriber(standin, webhook["query"], *manifest["permissions"], events=(event,))
        payload = json.loads(standin.payload_for(event, order, app) or b"")
        assert "errors" not in payload
        assert payload["order"]["payments"][0]["customerIpAddress"] == "203.0.113.9"
        assert payload["order"]["payments"][0]["creditCard"]["lastDigits"] == "4242"


class TestQueries:
    async def test_a_refused_field_nulls_up_to_the_nullable_order(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = marked_as_paid(standin, catalogue, clock.now())
        app = subscriber(standin, PAYMENT_METADATA, "MANAGE_ORDERS")
        result = await standin.execute(
            "query($id: ID!) { order(id: $id) { number payments { metadata { key } } } }",
            {"id": to_global_id("Order", order.pk)},
            app=app,
        )
        assert result.data == {"order": None}
        assert [(e.message, e.path) for e in result.errors or []] == [
            (HANDLE_PAYMENTS_ERROR, ["order", "payments", 0, "metadata"])
        ]

    @pytest.mark.parametrize(
        ("selection", "permissions", "refused"),
        [
            pytest.param("privateMetadata { key }", ("MANAGE_ORDERS",), None, id="order-private-metadata"),
            pytest.param(
                "payments { privateMetadata { key } }",
                ("MANAGE_ORDERS",),
                "You do not have permission to perform this action",
                id="payment-private-metadata",
            ),
            pytest.param("transactions { id }", ("HANDLE_PAYMENTS",), None, id="one-of-two-is-enough"),
            pytest.param(
                "lines { variant { channelListings { margin } } }",
                ("MANAGE_ORDERS",),
                "To access this path, you need one of the following permissions: MANAGE_PRODUCTS",
                id="margin",
            ),
        ],
    )
    async def test_what_each_permission_reads(
        self,
        standin: StandIn,
        catalogue: Catalogue,
        clock: FixedClock,
        selection: str,
        permissions: tuple[str, ...],
        refused: str | None,
    ) -> None:
        order = marked_as_paid(standin, catalogue, clock.now())
        app = subscriber(standin, PAYMENT_METADATA, *permissions)
        result = await standin.execute(
            f"query($id: ID!) {{ order(id: $id) {{ id {selection} }} }}",
            {"id": to_global_id("Order", order.pk)},
            app=app,
        )
        assert [e.message for e in result.errors or []] == ([refused] if refused else [])

    async def test_an_app_reads_its_own_private_metadata(self, standin: StandIn) -> None:
        app = subscriber(standin, PAYMENT_METADATA)
        app.private_metadata["k"] = "v"
        result = await standin.execute("{ app { privateMetadata { key value } } }", app=app)
        assert result.errors is None
        assert result.data == {"app": {"privateMetadata": [{"key": "k", "value": "v"}]}}

    async def test_an_app_without_manage_orders_cannot_list_orders(self, standin: StandIn) -> None:
        result = await standin.execute("{ orders(first: 1) { totalCount } }", app=subscriber(standin, PAYMENT_METADATA))
        assert result.data == {"orders": None}
        assert [e.message for e in result.errors or []] == [
            "To access this path, you need one of the following permissions: MANAGE_ORDERS"
        ]


def test_the_permission_notes_are_saleors() -> None:
    """Each field carries Saleor's notes, but those only for orders from before Saleor 3.2 (the stand-in has none)."""
    ours, saleor = _ours(), _saleor()
    differ = []
    for type_name, own_type in sorted(ours.type_map.items()):
        if not isinstance(own_type, GraphQLObjectType | GraphQLInterfaceType) or type_name.startswith("__"):
            continue
        saleor_type = saleor.type_map[type_name]
        assert isinstance(saleor_type, GraphQLObjectType | GraphQLInterfaceType)
        for field_name, field in own_type.fields.items():
            own, theirs = field.description, saleor_type.fields[field_name].description
            if requirements_in(own) != [r for r in requirements_in(theirs) if not r.only_for_old_objects]:
                differ.append(f"{type_name}.{field_name}: {own!r}, Saleor: {theirs!r}")
            elif needs_private_metadata_permission(own) != needs_private_metadata_permission(theirs):
                differ.append(f"{type_name}.{field_name}: private metadata note differs from Saleor's")
    assert not differ, "\n".join(differ)
