"""Webhook payloads from the app's own subscription queries, signed and POSTed as Saleor does (PROTOCOL.md c).

The payload is the subscription document the app declared in its manifest,
executed by graphql-core against the store with an event object as the root's
``event``; the body is the object under ``event`` (wrapper removed), compact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, parse

from app.standin import checkout as checkouts
from app.standin.encoding import dump_json
from app.standin.graphql_api import EventEnvelope, execute_subscription, standin_schema
from app.standin.signing import SigningKey
from app.standin.state import (
    App,
    AppWebhook,
    Checkout,
    Fulfillment,
    Order,
    PendingEvent,
    Principal,
    ShippingMethod,
    Store,
)

log = logging.getLogger(__name__)

# Saleor's WEBHOOK_TIMEOUT and WEBHOOK_SYNC_TIMEOUT: 2 s to connect, 18 s to answer.
TIMEOUT = httpx.Timeout(18.0, connect=2.0)
LIST_METHODS_EVENT = "SHIPPING_LIST_METHODS_FOR_CHECKOUT"
LIST_METHODS_PERMISSION = "MANAGE_SHIPPING"


def event_typename(event: str) -> str:
    """``ORDER_FULLY_PAID`` → ``OrderFullyPaid``, the type under ``event``."""
    return "".join(part.capitalize() for part in event.split("_"))


def events_in_query(query: str) -> tuple[str, ...]:
    """The events a webhook without ``asyncEvents`` gets: one per ``... on <Type>`` under ``event``."""
    events: list[str] = []
    for definition in parse(query).definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for root in definition.selection_set.selections:
            if not isinstance(root, FieldNode) or root.name.value != "event" or root.selection_set is None:
                continue
            for selection in root.selection_set.selections:
                if isinstance(selection, InlineFragmentNode) and selection.type_condition is not None:
                    name = selection.type_condition.name.value
                    events.append("".join(f"_{c}" if c.isupper() else c.upper() for c in name).lstrip("_"))
    return tuple(events)


def subscribed_webhooks(app: App, event: str) -> list[AppWebhook]:
    return [webhook for webhook in app.webhooks if webhook.is_active and event in webhook.events]


def recipients(store: Store, pending: PendingEvent) -> list[App]:
    """Installed, active apps that get this event.

    Order and fulfillment events need MANAGE_ORDERS. An app's lifecycle events go to
    that app alone, with no permission, as Saleor 3.24 delivers them.
    """
    apps = [app for app in store.apps.values() if app.is_active and app.is_installed]
    if isinstance(pending.subject, App):
        return [app for app in apps if app is pending.subject]
    return [app for app in apps if "MANAGE_ORDERS" in app.permissions]


def envelope(
    store: Store,
    event: str,
    subject: Order | Fulfillment | App,
    recipient: App,
    *,
    issued_at: datetime,
    issuing_principal: Principal | None = None,
    notify_customer: bool = False,
) -> EventEnvelope:
    order = subject if isinstance(subject, Order) else None
    fulfillment = subject if isinstance(subject, Fulfillment) else None
    if fulfillment is not None:
        order = store.orders.get(fulfillment.order_pk)
    return EventEnvelope(
        typename=event_typename(event),
        issued_at=issued_at,
        version=store.shop.version,
        recipient=recipient,
        issuing_principal=issuing_principal,
        order=order,
        fulfillment=fulfillment,
        app=subject if isinstance(subject, App) else None,
        notify_customer=notify_customer,
    )


def render(store: Store, webhook: AppWebhook, event: EventEnvelope) -> bytes | None:
    """The body Saleor would POST for ``webhook``, or None when the subscription yields nothing.

    As Saleor's ``generate_payload_from_subscription``: a document that does not run sends
    nothing; resolver errors (a field the app may not read) go under ``errors`` beside what
    did resolve, and an ``event`` nulled whole leaves ``{"errors": [...]}`` alone.
    """
    if standin_schema().get_type(event.typename) is None:
        return None  # an event the stand-in does not model; Saleor would render it
    result = execute_subscription(store, webhook.query, event, now=event.issued_at)
    if result.data is None:
        return None
    payload = result.data.get("event") or {}
    if result.errors:
        payload = {**payload, "errors": [error.formatted for error in result.errors]}
    return dump_json(payload) if payload else None


def payload_for(
    store: Store,
    event: str,
    subject: Order | Fulfillment | App,
    app: App,
    *,
    issued_at: datetime,
    issuing_principal: Principal | None = None,
    notify_customer: bool = False,
) -> bytes | None:
    """The body of ``event`` about ``subject`` for ``app``'s (first) webhook subscribed to it."""
    webhooks = subscribed_webhooks(app, event)
    if not webhooks:
        raise LookupError(f"app {app.identifier} has no active webhook for {event}")
    root = envelope(
        store,
        event,
        subject,
        app,
        issued_at=issued_at,
        issuing_principal=issuing_principal,
        notify_customer=notify_customer,
    )
    return render(store, webhooks[0], root)


def delivery_headers(event: str, body: bytes, *, key: SigningKey, api_url: str, store: Store) -> dict[str, str]:
    """Saleor's webhook headers (c.1); no ``Saleor-Schema-Version`` on webhooks."""
    domain = urlsplit(api_url).netloc
    signature = key.sign(body)
    header_event = event.lower()
    return {
        "Content-Type": "application/json",
        "Saleor-Event": header_event,
        "Saleor-Domain": domain,
        "Saleor-Api-Url": api_url,
        "Saleor-Signature": signature,
        # Deprecated twins, still sent until Saleor 4.0 (there is no X-Saleor-Api-Url).
        "X-Saleor-Event": header_event,
        "X-Saleor-Domain": domain,
        "X-Saleor-Signature": signature,
        "User-Agent": f"Saleor/{store.shop.schema_version}",
    }


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST of one event to one webhook, with the app's answer."""

    app: App
    webhook: AppWebhook
    event: str
    body: bytes
    response: httpx.Response


async def deliver(
    http: httpx.AsyncClient, pending: PendingEvent, *, store: Store, key: SigningKey, api_url: str
) -> list[Delivery]:
    """Send ``pending`` to every webhook subscribed to it; redirects are never followed."""
    deliveries: list[Delivery] = []
    for app in recipients(store, pending):
        for webhook in subscribed_webhooks(app, pending.event):
            root = envelope(
                store,
                pending.event,
                pending.subject,
                app,
                issued_at=pending.issued_at,
                issuing_principal=pending.issuing_principal,
                notify_customer=pending.notify_customer,
            )
            body = render(store, webhook, root)
            if body is None:
                continue
            headers = httpx.Headers(delivery_headers(pending.event, body, key=key, api_url=api_url, store=store))
            for name, value in webhook.custom_headers.items():
                headers[name] = value  # applied last, so they may override Saleor's own
            response = await http.post(
                webhook.target_url, content=body, headers=headers, timeout=TIMEOUT, follow_redirects=False
            )
            log.info(
                "webhook delivered",
                extra={"event": pending.event, "target_url": webhook.target_url, "status": response.status_code},
            )
            deliveries.append(Delivery(app, webhook, pending.event, body, response))
    return deliveries


# -- sync: a checkout's delivery methods -----------------------------------------------------


def _listing_apps(store: Store) -> list[App]:
    """Active, installed apps that may receive the event (``get_webhooks_for_event`` checks the permission)."""
    return [
        app
        for app in store.apps.values()
        if app.is_active and app.is_installed and LIST_METHODS_PERMISSION in app.permissions
    ]


async def _ask_app(
    http: httpx.AsyncClient, webhook: AppWebhook, body: bytes, *, key: SigningKey, api_url: str, store: Store
) -> Any:
    """One sync call, no retry: the decoded JSON of a 2xx answer, else None (no answer)."""
    target_url = webhook.target_url
    headers = httpx.Headers(delivery_headers(LIST_METHODS_EVENT, body, key=key, api_url=api_url, store=store))
    for name, value in webhook.custom_headers.items():
        headers[name] = value  # applied last, as for async deliveries
    try:
        response = await http.post(target_url, content=body, headers=headers, timeout=TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        log.warning(
            "sync webhook failed", extra={"event": LIST_METHODS_EVENT, "target_url": target_url, "reason": repr(exc)}
        )
        return None
    log.info(
        "sync webhook answered",
        extra={"event": LIST_METHODS_EVENT, "target_url": target_url, "status": response.status_code},
    )
    if not response.is_success:
        return None
    try:
        return response.json()
    except ValueError:
        return None


async def list_delivery_methods(
    store: Store, checkout: Checkout, *, http: httpx.AsyncClient, key: SigningKey, api_url: str, now: datetime
) -> list[ShippingMethod]:
    """Refresh the checkout's delivery methods: the store's own, then each app's options in the
    checkout's currency (an app's duplicate id replaces its earlier one). The chosen method is
    dropped when it is no longer offered."""
    built_in = checkouts.built_in_methods(store, checkout)
    external: dict[str, ShippingMethod] = {}
    # Saleor asks the apps even before the checkout has an address (3.20's ``get_all_shipping_methods_list``
    # and the newest ``fetch_shipping_methods_for_checkout`` alike): the apps must cope.
    for app in _listing_apps(store):
        for webhook in subscribed_webhooks(app, LIST_METHODS_EVENT):
            event = EventEnvelope(
                typename="ShippingListMethodsForCheckout",
                issued_at=now,
                version=store.shop.version,
                recipient=app,
                checkout=checkout,
                shipping_methods=tuple(built_in),
            )
            body = render(store, webhook, event)
            if body is None:
                continue
            answer = await _ask_app(http, webhook, body, key=key, api_url=api_url, store=store)
            for method in checkouts.parse_app_methods(answer, app, checkout.currency):
                assert method.external_id is not None
                external[method.external_id] = method
    return checkouts.keep_listing(checkout, [*built_in, *external.values()])
