"""Webhook payloads from the app's own subscription queries, signed and POSTed as Saleor does (PROTOCOL.md c).

The payload is the subscription document the app declared in its manifest,
executed by graphql-core against the store with an event object as the root's
``event``; the body is the object under ``event`` (wrapper removed), compact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, parse

from app.standin.encoding import dump_json
from app.standin.graphql_api import EventEnvelope, execute_subscription, standin_schema
from app.standin.signing import SigningKey
from app.standin.state import App, AppWebhook, Fulfillment, Order, PendingEvent, Principal, Store

log = logging.getLogger(__name__)

# Saleor's WEBHOOK_TIMEOUT: 2 s to connect, 18 s to answer.
TIMEOUT = httpx.Timeout(18.0, connect=2.0)


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
