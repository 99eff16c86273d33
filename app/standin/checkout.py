"""Checkouts as Saleor runs them: a cart with an address, its delivery methods listed (the store's
own, then every app's answer to the sync ``SHIPPING_LIST_METHODS_FOR_CHECKOUT``), one chosen, and
the checkout completed into an order.

Saleor's sources: ``saleor/checkout/webhooks/list_shipping_methods.py`` (who is called, what is kept),
``saleor/webhook/response_schemas/shipping.py`` (how an answer is read), ``saleor/webhook/transport/
shipping_helpers.py`` (the ID an app's option gets), ``saleor/checkout/delivery_context.py`` (built-in
methods first, then the apps') and ``saleor/checkout/complete_checkout.py`` (what the order keeps).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, Field, ValidationError, WrapValidator

from app.standin import actions
from app.standin.graphql_api import EventEnvelope
from app.standin.signing import SigningKey
from app.standin.state import (
    Address,
    App,
    AppWebhook,
    Channel,
    Checkout,
    CheckoutLine,
    Customer,
    Metadata,
    Order,
    ProductVariant,
    ShippingMethod,
    Store,
    TransactionItem,
)
from app.standin.webhooks import TIMEOUT, delivery_headers, render, subscribed_webhooks

log = logging.getLogger(__name__)

LIST_METHODS_EVENT = "SHIPPING_LIST_METHODS_FOR_CHECKOUT"
LIST_METHODS_PERMISSION = "MANAGE_SHIPPING"
# Where Saleor keeps an app's option on the checkout and then the order (``order/delivery_context.py``).
PRIVATE_META_APP_SHIPPING_ID = "external_app_shipping_id"


class CheckoutRefused(ValueError):
    """A checkout mutation Saleor would answer with an error; nothing changed."""


def create_checkout(
    store: Store,
    channel: Channel,
    lines: Sequence[tuple[ProductVariant, int]],
    *,
    at: datetime,
    customer: Customer | None = None,
    email: str | None = None,
    shipping_address: Address | None = None,
    billing_address: Address | None = None,
) -> Checkout:
    """``checkoutCreate``: lines priced from the channel's listings, the addresses copied."""
    checkout_lines = []
    for variant, quantity in lines:
        listing = variant.listing_in(channel.pk)
        if listing is None:
            raise CheckoutRefused(f"variant {variant.sku or variant.pk} is not sold in channel {channel.slug}")
        checkout_lines.append(
            CheckoutLine(store.new_uuid(), variant.pk, quantity, channel.currency_code, listing.price)
        )
    checkout = Checkout(
        store.new_uuid(),
        channel.pk,
        channel.currency_code,
        at,
        email=email or (customer.email if customer else None),
        user_pk=customer.pk if customer else None,
        lines=checkout_lines,
        shipping_address=store.with_pk(replace(shipping_address, pk=0)) if shipping_address else None,
        billing_address=store.with_pk(replace(billing_address, pk=0)) if billing_address else None,
    )
    store.checkouts[checkout.pk] = checkout
    return checkout


def built_in_methods(store: Store, checkout: Checkout) -> list[ShippingMethod]:
    """The store's own methods for this checkout: none without an address, else those in its currency
    (the stand-in has one shipping zone, the whole world)."""
    if checkout.shipping_address is None:
        return []
    return [method for method in store.shipping_methods.values() if method.currency == checkout.currency]


def list_own_methods(store: Store, checkout: Checkout) -> list[ShippingMethod]:
    """The listing of a Saleor where no app subscribes to the event: the store's own methods."""
    checkout.shipping_methods = built_in_methods(store, checkout)
    _forget_unlisted_choice(checkout)
    return checkout.shipping_methods


def _forget_unlisted_choice(checkout: Checkout) -> None:
    if checkout.delivery_method is not None and checkout.delivery_method not in checkout.shipping_methods:
        checkout.delivery_method = None


def app_method_id(app: App, method_id: str) -> str:
    """``to_shipping_app_id``: base64 of ``app:<identifier, or pk without one>:<the app's id>``."""
    return base64.b64encode(f"app:{app.identifier or app.pk}:{method_id}".encode()).decode()


def _metadata_or_empty(value: Any, handler: Any) -> Metadata:
    try:
        result: Metadata = handler(value)
    except ValidationError:
        return {}
    return result


LenientMetadata = Annotated[dict[str, str], WrapValidator(_metadata_or_empty)]


class _AppShippingMethod(BaseModel):
    """One item of an app's answer, with the rules of Saleor's ``ShippingMethodSchema``."""

    id: Annotated[str, Field(coerce_numbers_to_str=True)]
    name: Annotated[str, Field(max_length=100)]  # ShippingMethod.name's column
    amount: Annotated[Decimal, Field(ge=Decimal(0))]
    currency: str
    maximum_delivery_days: Annotated[int, Field(ge=0)] | None = None
    minimum_delivery_days: Annotated[int, Field(ge=0)] | None = None
    description: Annotated[str, Field(max_length=255)] | None = None
    metadata: LenientMetadata | None = None
    private_metadata: LenientMetadata | None = None


def parse_app_methods(answer: Any, app: App, currency: str) -> list[ShippingMethod]:
    """What Saleor keeps of an app's answer: a JSON array, each invalid item skipped with a log
    line, the currency matched exactly; anything but an array (or null) gives nothing."""
    if answer is None:
        return []
    if not isinstance(answer, list):
        log.warning("Skipping invalid shipping method response", extra={"app": app.identifier})
        return []
    methods = []
    for item in answer:
        try:
            parsed = _AppShippingMethod.model_validate(item)
        except ValidationError as exc:
            log.warning("Skipping invalid shipping method (ListShippingMethodsSchema)", extra={"reason": str(exc)})
            continue
        if parsed.currency != currency:
            log.warning(
                "ShippingMethod currency mismatch: expected %s, got %s",
                currency,
                parsed.currency,
                extra={"app": app.identifier},
            )
            continue
        methods.append(
            ShippingMethod(
                0,
                parsed.name,
                parsed.amount,
                parsed.currency,
                minimum_delivery_days=parsed.minimum_delivery_days,
                maximum_delivery_days=parsed.maximum_delivery_days,
                metadata=parsed.metadata or {},
                description=parsed.description,
                private_metadata=parsed.private_metadata or {},
                external_id=app_method_id(app, parsed.id),
            )
        )
    return methods


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
    built_in = built_in_methods(store, checkout)
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
            for method in parse_app_methods(answer, app, checkout.currency):
                assert method.external_id is not None
                external[method.external_id] = method
    checkout.shipping_methods = [*built_in, *external.values()]
    _forget_unlisted_choice(checkout)
    return checkout.shipping_methods


def select_delivery_method(checkout: Checkout, delivery_method_id: str) -> ShippingMethod:
    """``checkoutDeliveryMethodUpdate``: one of the methods listed for this checkout."""
    chosen = next((m for m in checkout.shipping_methods if m.global_id == delivery_method_id), None)
    if chosen is None:
        raise CheckoutRefused(f"{delivery_method_id} is not a delivery method of this checkout")
    checkout.delivery_method = chosen
    return chosen


def complete_checkout(
    store: Store, checkout: Checkout, *, at: datetime, transactions: Sequence[TransactionItem] = ()
) -> Order:
    """``checkoutComplete``: the order, its shipping name and price from the chosen method; an app's
    option leaves its ID in the private metadata Saleor copies from checkout to order (the order
    has no column for it, and ``Order.deliveryMethod`` reads it back). The checkout is gone after."""
    method = checkout.delivery_method
    if method is None:
        raise CheckoutRefused("Shipping method is not set")
    if method not in checkout.shipping_methods:
        raise CheckoutRefused("This shipping method is not applicable.")
    if method.external_id is not None:
        checkout.private_metadata[PRIVATE_META_APP_SHIPPING_ID] = method.external_id
    channel = store.channels[checkout.channel_pk]
    customer = store.customers.get(checkout.user_pk) if checkout.user_pk else None
    order = actions.place_order(
        store,
        channel,
        [(store.variants[line.variant_pk], line.quantity) for line in checkout.lines],
        at=at,
        customer=customer,
        email=checkout.email,
        shipping_address=checkout.shipping_address,
        billing_address=checkout.billing_address,
        shipping=method,
        transactions=transactions,
        private_metadata=checkout.private_metadata,
        metadata=checkout.metadata,
    )
    del store.checkouts[checkout.pk]
    return order
