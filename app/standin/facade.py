"""``StandIn``: one Saleor in a box — its store, key, API URL, ASGI app, installs and webhook deliveries.

standin = StandIn(api_url="http://shop.standin/graphql/")
app = create_app(settings, http=httpx.AsyncClient(transport=httpx.ASGITransport(app=standin.asgi)))
standin.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://ops.test")
installed = await standin.install("https://ops.test/api/manifest")
order = actions.place_order(standin.store, channel, [(variant, 1)], at=standin.clock())
await standin.deliver_pending()  # ORDER_CREATED (and ORDER_CONFIRMED) to the app

Or through a checkout, calling the apps' shipping-list webhook on the way:
cart = checkout.create_checkout(standin.store, channel, [(variant, 1)], at=..., shipping_address=...)
checkout.select_delivery_method(cart, (await standin.list_delivery_methods(cart))[-1].global_id)
order = checkout.complete_checkout(standin.store, cart, at=standin.clock())
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from graphql import ExecutionResult

from app.standin import webhooks
from app.standin.graphql_api import execute
from app.standin.install import install_app
from app.standin.server import create_asgi_app
from app.standin.signing import SigningKey
from app.standin.state import (
    App,
    Checkout,
    Fulfillment,
    Order,
    PendingEvent,
    Principal,
    ShippingMethod,
    Store,
    to_global_id,
)
from app.standin.webhooks import Delivery

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StandIn:
    def __init__(
        self,
        *,
        api_url: str = "http://shop.standin/graphql/",
        store: Store | None = None,
        key: SigningKey | None = None,
        version: str | None = None,
        clock: Clock = _utc_now,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        """``http`` reaches the apps (manifest, register, webhooks); it may be set later, once the app exists."""
        self.api_url = api_url
        self.store = store if store is not None else Store()
        if version is not None:
            self.store.shop.version = version
        self.key = key if key is not None else SigningKey()
        self.clock = clock
        self.http = http
        self.asgi = create_asgi_app(
            store=self.store,
            key=self.key,
            api_url=api_url,
            clock=clock,
            list_delivery_methods=self.list_delivery_methods,
        )

    def _client(self) -> httpx.AsyncClient:
        if self.http is None:
            raise RuntimeError("give the stand-in an httpx.AsyncClient (StandIn.http) to reach apps")
        return self.http

    async def install(self, manifest_url: str, *, permissions: list[str] | None = None) -> App:
        """The full install: manifest, app and token, token POSTed to the app. Raises ``InstallFailed``."""
        return await install_app(
            manifest_url,
            http=self._client(),
            store=self.store,
            api_url=self.api_url,
            now=self.clock(),
            permissions=permissions,
        )

    async def execute(self, query: str, variables: dict[str, Any] | None = None, *, app: App) -> ExecutionResult:
        """Run an operation as ``app``, without HTTP."""
        return await execute(
            self.store,
            query,
            app=app,
            now=self.clock(),
            variables=variables,
            list_delivery_methods=self.list_delivery_methods,
        )

    def payload_for(
        self,
        event: str,
        subject: Order | Fulfillment | App,
        app: App,
        *,
        issuing_principal: Principal | None = None,
        notify_customer: bool = False,
    ) -> bytes | None:
        """The body ``app`` would receive for ``event`` (UPPER_SNAKE) about ``subject``, or None."""
        return webhooks.payload_for(
            self.store,
            event,
            subject,
            app,
            issued_at=self.clock(),
            issuing_principal=issuing_principal,
            notify_customer=notify_customer,
        )

    async def deliver(
        self,
        event: str,
        subject: Order | Fulfillment | App,
        *,
        issuing_principal: Principal | None = None,
        notify_customer: bool = False,
    ) -> list[Delivery]:
        """Send one event now, to every installed app subscribed to it (a redelivery is the same call again)."""
        pending = PendingEvent(event, subject, self.clock(), issuing_principal, notify_customer)
        return await webhooks.deliver(self._client(), pending, store=self.store, key=self.key, api_url=self.api_url)

    async def deliver_pending(self) -> list[Delivery]:
        """Send what the actions and mutations queued, in order, and empty the queue."""
        pending = list(self.store.outbox)
        self.store.outbox.clear()
        deliveries: list[Delivery] = []
        for event in pending:
            deliveries += await webhooks.deliver(
                self._client(), event, store=self.store, key=self.key, api_url=self.api_url
            )
        return deliveries

    async def list_delivery_methods(self, checkout: Checkout) -> list[ShippingMethod]:
        """What the storefront sees when it asks for ``checkout.shippingMethods``: the store's own
        methods, then the options every app subscribed to SHIPPING_LIST_METHODS_FOR_CHECKOUT answers."""
        return await webhooks.list_delivery_methods(
            self.store, checkout, http=self._client(), key=self.key, api_url=self.api_url, now=self.clock()
        )

    async def uninstall(self, app: App) -> list[Delivery]:
        """Delete the app: APP_DELETED goes to its own webhooks first (as 3.24 does), then its token stops working."""
        deliveries = await self.deliver("APP_DELETED", app)
        del self.store.apps[app.pk]
        return deliveries

    def dashboard_token(
        self,
        app: App,
        *,
        user_permissions: list[str],
        email: str = "staff@shop.test",
        ttl: int = 300,
        **extra: Any,
    ) -> str:
        """The JWT the dashboard would give ``app``'s pages for a staff user holding ``user_permissions`` (the
        store gains that staff user the first time); Saleor takes it as a bearer token too (``users``)."""
        user = self.store.staff_user(email)
        claims: dict[str, Any] = {"token": user.jwt_token_key, **extra}
        return self.key.dashboard_token(
            app_id=to_global_id("App", app.pk),
            iss=self.api_url,
            user_permissions=user_permissions,
            permissions=[p for p in app.permissions if p in user_permissions],
            email=email,
            user_id=to_global_id("User", user.pk),
            issued_at=self.clock().timestamp(),
            ttl=ttl,
            **claims,
        )
