"""The stand-in speaks Saleor's wire protocol: JWKS, signatures, headers, install, HTTP API."""

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import jwt
import pytest

from app.domain.ids import AppId
from app.saleor.dashboard_token import verify_dashboard_token
from app.saleor.jwks import parse_key_set
from app.saleor.signature import verify_webhook_signature
from app.standin import actions
from app.standin.encoding import dump_json
from app.standin.facade import StandIn
from app.standin.install import InstallFailed
from app.standin.signing import SigningKey
from app.standin.state import App, AppWebhook, to_global_id
from app.standin.webhooks import events_in_query
from tests.conftest import FixedClock
from tests.standin.conftest import MANIFEST_URL, Catalogue

ORDER_QUERY = "subscription { event { __typename issuedAt version ... on OrderCreated { order { id number } } } }"
Handler = Callable[[httpx.Request], httpx.Response]


def manifest(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "com.example.ops",
        "name": "Ops",
        "version": "1.0.0",
        "permissions": ["MANAGE_ORDERS"],
        "tokenTargetUrl": "https://ops.test/api/register",
        "requiredSaleorVersion": ">=3.20",
        "webhooks": [
            {
                "name": "order-created",
                "asyncEvents": ["ORDER_CREATED"],
                "query": ORDER_QUERY,
                "targetUrl": "https://ops.test/hooks/order-created",
                "customHeaders": {"X-Ops-Tenant": "shop-1"},
            }
        ],
        **overrides,
    }


class FakeApp:
    """The app's side, recording what the stand-in sends it."""

    def __init__(self, body: dict[str, Any], register: httpx.Response | None = None) -> None:
        self.manifest = body
        self.register = register or httpx.Response(200, json={"success": True})
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/api/manifest":
            return httpx.Response(200, json=self.manifest)
        if request.url.path == "/api/register":
            return self.register
        return httpx.Response(200, json={"status": "recorded"})

    def to(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]


def connect(standin: StandIn, fake: FakeApp) -> None:
    standin.http = httpx.AsyncClient(transport=httpx.MockTransport(fake))


class TestSigning:
    def test_the_jwks_is_the_key_with_its_rfc7638_kid(self, standin: StandIn) -> None:
        (jwk,) = standin.key.jwks()["keys"]
        assert jwk["kid"] == standin.key.kid
        assert len(standin.key.kid) == 43  # SHA-256, base64url without padding
        assert (jwk["alg"], jwk["use"], jwk["e"]) == ("RS256", "sig", "AQAB")

    def test_a_key_survives_a_pem_round_trip(self, standin_key: SigningKey) -> None:
        again = SigningKey.from_pem(standin_key.to_pem())
        assert again.kid == standin_key.kid
        verify_webhook_signature(again.sign(b"{}"), b"{}", parse_key_set(standin_key.jwks_text()))

    def test_dashboard_tokens_verify_as_the_apps_own_check_does(
        self, standin: StandIn, caller: App, clock: FixedClock
    ) -> None:
        token = standin.dashboard_token(caller, user_permissions=["MANAGE_ORDERS", "MANAGE_PRODUCTS"])
        user = verify_dashboard_token(
            token, parse_key_set(standin.key.jwks_text()), app_id=AppId("QXBwOjE="), now=clock.now()
        )
        assert user.permissions == frozenset({"MANAGE_ORDERS"})
        claims = jwt.decode(token, options={"verify_signature": False})
        assert (claims["iss"], claims["iat"], claims["exp"] - claims["iat"]) == (
            standin.api_url,
            int(clock.now().timestamp()),
            300,
        )


class TestWebhookDelivery:
    async def test_posts_the_event_object_signed_with_saleors_headers(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        fake = FakeApp(manifest())
        connect(standin, fake)
        app = await standin.install(MANIFEST_URL)
        order = actions.place_order(standin.store, catalogue.channel, [(catalogue.tee, 1)], at=clock.now())
        (delivery,) = await standin.deliver("ORDER_CREATED", order)
        (sent,) = fake.to("/hooks/order-created")
        assert sent.content == delivery.body
        assert json.loads(sent.content) == {
            "__typename": "OrderCreated",
            "issuedAt": clock.now().isoformat(),
            "version": "3.20.119",
            "order": {"id": to_global_id("Order", order.pk), "number": "1"},
        }
        assert b", " not in sent.content  # compact, as Saleor serialises
        headers = sent.headers
        assert headers["content-type"] == "application/json"
        assert (headers["saleor-event"], headers["x-saleor-event"]) == ("order_created", "order_created")
        assert (headers["saleor-domain"], headers["x-saleor-domain"]) == ("shop.standin", "shop.standin")
        assert headers["saleor-api-url"] == "http://shop.standin/graphql/"
        assert headers["user-agent"] == "Saleor/3.20"
        assert headers["x-ops-tenant"] == "shop-1"
        assert "saleor-schema-version" not in headers
        assert headers["saleor-signature"] == headers["x-saleor-signature"]
        verify_webhook_signature(headers["saleor-signature"], sent.content, parse_key_set(standin.key.jwks_text()))
        assert app.is_installed

    async def test_never_follows_a_redirect(self, standin: StandIn, catalogue: Catalogue, clock: FixedClock) -> None:
        fake = FakeApp(manifest())
        connect(standin, fake)
        await standin.install(MANIFEST_URL)
        standin.http = httpx.AsyncClient(
            transport=httpx.MockTransport(lambda request: httpx.Response(307, headers={"location": "/elsewhere"}))
        )
        order = actions.place_order(standin.store, catalogue.channel, [(catalogue.tee, 1)], at=clock.now())
        (delivery,) = await standin.deliver("ORDER_CREATED", order)
        assert delivery.response.status_code == 307

    async def test_delivers_queued_events_only_to_subscribed_webhooks(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        fake = FakeApp(manifest())
        connect(standin, fake)
        await standin.install(MANIFEST_URL)
        actions.place_order(standin.store, catalogue.channel, [(catalogue.tee, 1)], at=clock.now())
        deliveries = await standin.deliver_pending()
        assert [d.event for d in deliveries] == ["ORDER_CREATED"]  # not APP_INSTALLED nor ORDER_CONFIRMED
        assert standin.store.outbox == []

    async def test_an_app_without_manage_orders_gets_no_order_events(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        fake = FakeApp(manifest())
        connect(standin, fake)
        await standin.install(MANIFEST_URL, permissions=[])
        order = actions.place_order(standin.store, catalogue.channel, [(catalogue.tee, 1)], at=clock.now())
        assert await standin.deliver("ORDER_CREATED", order) == []

    def test_events_come_from_the_query_when_the_manifest_lists_none(self) -> None:
        query = """subscription { event {
            ... on OrderFullyPaid { order { id } }
            ... on FulfillmentCreated { order { id } }
        } }"""
        assert events_in_query(query) == ("ORDER_FULLY_PAID", "FULFILLMENT_CREATED")

    def test_resolver_errors_travel_next_to_the_data(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        query = "subscription { event { ... on OrderCreated { order { number channel { slug } } } } }"
        app = standin.store.add_app(
            App(1, "x", "X", "t", webhooks=[AppWebhook("w", "https://x.test/", query, ("ORDER_CREATED",))])
        )
        order = actions.place_order(standin.store, catalogue.channel, [(catalogue.tee, 1)], at=clock.now())
        del standin.store.channels[catalogue.channel.pk]  # Channel! cannot resolve, so the order is null
        body = standin.payload_for("ORDER_CREATED", order, app)
        assert body is not None
        payload = json.loads(body)
        assert payload["order"] is None
        assert [e["path"] for e in payload["errors"]] == [["event", "order", "channel"]]

    def test_an_event_the_subscription_cannot_render_is_not_sent(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        query = "subscription { event { __typename } }"
        app = standin.store.add_app(
            App(1, "x", "X", "t", webhooks=[AppWebhook("w", "https://x.test/", query, ("ORDER_EXPIRED",))])
        )
        order = actions.place_order(standin.store, catalogue.channel, [(catalogue.tee, 1)], at=clock.now())
        # The stand-in's schema has no OrderExpired type: the subscription yields nothing.
        assert standin.payload_for("ORDER_EXPIRED", order, app) is None


class TestInstall:
    async def test_fetches_the_manifest_and_posts_the_token_as_saleor_does(self, standin: StandIn) -> None:
        fake = FakeApp(manifest())
        connect(standin, fake)
        app = await standin.install(MANIFEST_URL)
        (get,) = fake.to("/api/manifest")
        assert get.method == "GET"
        assert get.headers["saleor-schema-version"] == "3.20"
        (post,) = fake.to("/api/register")
        assert json.loads(post.content) == {"auth_token": app.token}
        assert {k: post.headers[k] for k in ("saleor-domain", "x-saleor-domain", "saleor-api-url")} == {
            "saleor-domain": "shop.standin",
            "x-saleor-domain": "shop.standin",
            "saleor-api-url": "http://shop.standin/graphql/",
        }
        assert (post.headers["saleor-schema-version"], post.headers["user-agent"]) == ("3.20", "Saleor/3.20")
        assert post.headers["content-type"] == "application/json"
        assert (app.identifier, app.permissions, app.is_installed) == ("com.example.ops", ("MANAGE_ORDERS",), True)
        (webhook,) = app.webhooks
        assert (webhook.events, webhook.custom_headers) == (("ORDER_CREATED",), {"x-ops-tenant": "shop-1"})
        assert [e.event for e in standin.store.outbox] == ["APP_INSTALLED"]

    @pytest.mark.parametrize(
        ("register", "message"),
        [
            pytest.param(
                httpx.Response(403, json={"success": False, "error": {"code": "X", "message": "Not from there."}}),
                "Not from there.",
                id="app-message",
            ),
            pytest.param(
                httpx.Response(500, text="boom"),
                "App internal error (500). Try later or contact with app support.",
                id="generic",
            ),
            pytest.param(
                httpx.Response(307, headers={"location": "/api/register/"}),
                "App internal error (307). Try later or contact with app support.",
                id="redirect",
            ),
        ],
    )
    async def test_a_refused_token_fails_the_install_and_removes_the_app(
        self, standin: StandIn, register: httpx.Response, message: str
    ) -> None:
        fake = FakeApp(manifest(), register=register)
        connect(standin, fake)
        with pytest.raises(InstallFailed) as failure:
            await standin.install(MANIFEST_URL)
        assert failure.value.message == message
        assert standin.store.apps == {}
        assert len(fake.to("/api/register")) == 1
        assert standin.store.outbox == []

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            pytest.param(manifest(requiredSaleorVersion=">=3.21"), "UNSUPPORTED_SALEOR_VERSION", id="too-old"),
            pytest.param(manifest(requiredSaleorVersion="three"), "INVALID", id="bad-range"),
            pytest.param({"name": "Ops", "version": "1"}, "INVALID_MANIFEST_FORMAT", id="no-id"),
            pytest.param(
                manifest(webhooks=[{"name": "w", "targetUrl": "https://ops.test/w", "query": "subscription { nope }"}]),
                "INVALID",
                id="bad-query",
            ),
            pytest.param(manifest(permissions=["MANAGE_APPS"]), "OUT_OF_SCOPE_PERMISSION", id="manage-apps"),
        ],
    )
    async def test_refuses_a_manifest_saleor_would_refuse(
        self, standin: StandIn, body: dict[str, Any], code: str
    ) -> None:
        fake = FakeApp(body)
        connect(standin, fake)
        with pytest.raises(InstallFailed) as failure:
            await standin.install(MANIFEST_URL)
        assert failure.value.code == code
        assert fake.to("/api/register") == []

    async def test_the_same_app_cannot_be_installed_twice(self, standin: StandIn) -> None:
        connect(standin, FakeApp(manifest()))
        await standin.install(MANIFEST_URL)
        with pytest.raises(InstallFailed) as failure:
            await standin.install(MANIFEST_URL)
        assert failure.value.code == "UNIQUE"


class TestHttpApi:
    @pytest.fixture
    def client(self, standin: StandIn) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=standin.asgi), base_url="http://shop.standin")

    async def test_serves_its_jwks_at_the_site_root(self, standin: StandIn, client: httpx.AsyncClient) -> None:
        response = await client.get("/.well-known/jwks.json")
        assert response.status_code == 200
        assert response.json() == standin.key.jwks()

    @pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic caller-token"])
    async def test_refuses_a_request_without_a_valid_app_token(
        self, client: httpx.AsyncClient, caller: App, authorization: str | None
    ) -> None:
        headers = {"authorization": authorization} if authorization else {}
        response = await client.post("/graphql/", json={"query": "{ app { id } }"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["exception"]["code"] == "InvalidTokenError"

    async def test_answers_data_for_a_valid_token(self, client: httpx.AsyncClient, caller: App) -> None:
        response = await client.post(
            "/graphql/",
            json={"query": "query AppId { app { id } }", "operationName": "AppId"},
            headers={"authorization": "Bearer caller-token"},
        )
        assert (response.status_code, response.json()) == (200, {"data": {"app": {"id": "QXBwOjE="}}})

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"query": "{ app { id "}, id="syntax"),
            pytest.param({"query": "{ app { nope } }"}, id="validation"),
            pytest.param({"variables": {}}, id="no-query"),
        ],
    )
    async def test_a_query_that_cannot_run_is_a_400_with_errors(
        self, client: httpx.AsyncClient, caller: App, body: dict[str, Any]
    ) -> None:
        response = await client.post("/graphql/", json=body, headers={"authorization": "Bearer caller-token"})
        assert response.status_code == 400
        assert response.json()["errors"]

    async def test_amounts_are_json_numbers_that_parse_back_exactly(
        self, standin: StandIn, catalogue: Catalogue, client: httpx.AsyncClient, caller: App
    ) -> None:
        catalogue.tee.listings[0].price = Decimal("0.1")
        response = await client.post(
            "/graphql/",
            json={"query": '{ productVariant(sku: "TEE-M") { channelListings { price { amount } } } }'},
            headers={"authorization": "Bearer caller-token"},
        )
        assert b'"amount":0.1' in response.content
        parsed = json.loads(response.content, parse_float=Decimal)
        assert parsed["data"]["productVariant"]["channelListings"][0]["price"]["amount"] == Decimal("0.1")

    def test_decimals_are_written_digit_for_digit(self) -> None:
        assert dump_json({"a": Decimal("12345678901234567.89"), "b": [Decimal("0.10")]}) == (
            b'{"a":12345678901234567.89,"b":[0.10]}'
        )
