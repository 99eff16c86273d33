"""Checkouts as Saleor runs them: a cart with an address, its delivery methods listed (the store's
own, then every app's answer to the sync ``SHIPPING_LIST_METHODS_FOR_CHECKOUT``, which
``webhooks.list_delivery_methods`` calls), one chosen, and the checkout completed into an order.
A refusal raises ``ActionRefused`` with Saleor's ``CheckoutErrorCode`` and changes nothing.

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

from pydantic import BaseModel, Field, ValidationError, WrapValidator

from app.standin import actions
from app.standin.actions import ActionError, ActionRefused
from app.standin.state import (
    Address,
    App,
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

log = logging.getLogger(__name__)

# Where Saleor keeps an app's option on the checkout and then the order (``order/delivery_context.py``).
PRIVATE_META_APP_SHIPPING_ID = "external_app_shipping_id"


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
            raise ActionRefused(
                ActionError(
                    "lines",
                    f"Cannot add lines with unavailable variants: {variant.sku or variant.pk}.",
                    "UNAVAILABLE_VARIANT_IN_CHANNEL",
                )
            )
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
    for line in checkout_lines:
        line.checkout_pk = checkout.pk
    store.checkouts[checkout.pk] = checkout
    return checkout


def built_in_methods(store: Store, checkout: Checkout) -> list[ShippingMethod]:
    """The store's own methods for this checkout: none without an address, else those in its currency
    (the stand-in ties no method to a shipping zone: each is offered as if its zone covered the world)."""
    if checkout.shipping_address is None:
        return []
    return [method for method in store.shipping_methods.values() if method.currency == checkout.currency]


def list_own_methods(store: Store, checkout: Checkout) -> list[ShippingMethod]:
    """The listing of a Saleor where no app subscribes to the event: the store's own methods."""
    return keep_listing(checkout, built_in_methods(store, checkout))


def keep_listing(checkout: Checkout, methods: list[ShippingMethod]) -> list[ShippingMethod]:
    """Keep what was just listed (as 3.23+ keeps ``CheckoutDelivery`` rows); a chosen method no
    longer offered is dropped."""
    checkout.shipping_methods = methods
    if checkout.delivery_method is not None and checkout.delivery_method not in methods:
        checkout.delivery_method = None
    return methods


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


def select_delivery_method(checkout: Checkout, delivery_method_id: str) -> ShippingMethod:
    """``checkoutDeliveryMethodUpdate``: one of the methods listed for this checkout."""
    chosen = next((m for m in checkout.shipping_methods if m.global_id == delivery_method_id), None)
    if chosen is None:
        raise ActionRefused(
            ActionError("deliveryMethodId", "This shipping method is not applicable.", "DELIVERY_METHOD_NOT_APPLICABLE")
        )
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
        raise ActionRefused(ActionError("shippingMethod", "Shipping method is not set", "SHIPPING_METHOD_NOT_SET"))
    if method not in checkout.shipping_methods:
        raise ActionRefused(
            ActionError("shippingMethod", "This shipping method is not applicable.", "DELIVERY_METHOD_NOT_APPLICABLE")
        )
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
