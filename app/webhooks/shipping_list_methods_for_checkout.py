"""SHIPPING_LIST_METHODS_FOR_CHECKOUT: Saleor asks, while the shopper waits, which delivery options
the app offers this checkout (PROTOCOL.md d.1).

The answer is a JSON array of options in the checkout's currency. A delivery that is not Saleor's
(unsigned, badly signed, an unknown store) or not this event is refused as the app's error handlers
refuse it. Whatever goes wrong after the signature check (no address yet, a checkout Saleor could not
render, quoting failing or too slow, the database) is answered with [] and a log line: Saleor then
offers its own methods and checkout keeps working. Nothing is written to the database.

Every shopper's checkout waits on this answer, so it is served by ``CheckoutWebhookIntake``, a plain
ASGI layer in front of the app's routes, like the order webhooks (``app.webhooks.intake``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from starlette.types import ASGIApp

from app.dependencies import kept_checkout_options, shipping_quoter
from app.domain.ids import SaleorApiUrl
from app.runtime import Runtime
from app.saleor.webhook_auth import WebhookRejected
from app.services.shipping.model import Cart, CartLine, CheckoutOption, Place
from app.webhooks.definition import WebhookDefinition
from app.webhooks.intake import WebhookIntake, json_body
from app.webhooks.parsing import parse_payload
from app.webhooks.payloads import CheckoutPayload, ShippingListMethodsForCheckoutPayload

definition = WebhookDefinition("SHIPPING_LIST_METHODS_FOR_CHECKOUT")
log = logging.getLogger(__name__)
_NO_OPTIONS = json_body([])  # Saleor then offers its own methods

# Saleor waits up to 18 s for a sync answer while the shopper's page waits on Saleor; the quoting
# service answers from cache or its tables long before this, so hitting it means something is stuck.
ANSWER_WITHIN_SECONDS = 5.0
# Saleor skips an option whose name or description is longer (ShippingMethodSchema).
NAME_LIMIT = 100
DESCRIPTION_LIMIT = 255


def cart_of(checkout: CheckoutPayload) -> Cart | None:
    """The cart to quote, or None for a checkout without a shipping address (nothing to quote yet)."""
    address = checkout.shipping_address
    if address is None:
        return None
    return Cart(
        channel=checkout.channel.slug,
        currency=checkout.channel.currency_code,
        destination=Place(
            country=address.country.code.upper(),
            postal_code=address.postal_code,
            city=address.city,
            country_area=address.country_area,
            street=address.street_address_1,
            company_name=address.company_name,
        ),
        lines=tuple(
            CartLine(
                variant_id=line.variant.id,
                sku=line.variant.sku,
                product_type=(
                    line.variant.product.product_type.name
                    if line.variant.product is not None and line.variant.product.product_type is not None
                    else None
                ),
                quantity=line.quantity,
                weight_kg=line.variant.weight_kg,
                line_total=line.undiscounted_total_price.amount,
                product_weight_kg=line.variant.product_weight_kg,
                product_type_weight_kg=line.variant.product_type_weight_kg,
                attributes=line.variant.attribute_readings,
            )
            for line in checkout.lines
        ),
    )


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=4_096)
def answer_bytes(options: tuple[CheckoutOption, ...]) -> bytes:
    """The answer's JSON, encoded once per set of options: a day's checkouts share a few."""
    return json_body([answer_of(option) for option in options])


def answer_of(option: CheckoutOption) -> dict[str, Any]:
    """One item of the answer, keyed as Saleor's ``ShippingMethodSchema`` reads it (the amount a decimal string)."""
    return {
        "id": option.id,
        "name": _shortened(option.name, NAME_LIMIT),
        "amount": str(option.amount),
        "currency": option.currency,
        "minimum_delivery_days": option.minimum_delivery_days,
        "maximum_delivery_days": option.maximum_delivery_days,
        "description": _shortened(option.description, DESCRIPTION_LIMIT) if option.description is not None else None,
    }


class CheckoutWebhookIntake(WebhookIntake):
    """Answers POSTs to the checkout webhook's path; everything else goes on to the app."""

    def __init__(self, app: ASGIApp, *, runtime: Runtime) -> None:
        super().__init__(app, runtime=runtime, definitions=(definition,))

    async def answer(self, definition: WebhookDefinition, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        try:
            # Checked against the installation as read in the last few seconds: this path writes nothing
            # a stale copy could let through.
            webhook = await self.verified(definition, headers, body)
            payload = parse_payload(ShippingListMethodsForCheckoutPayload, webhook, definition)
        except WebhookRejected as exc:
            return self.refused(definition, exc)
        except Exception as exc:  # the installation unreadable, say: checkout must keep working
            log.exception(
                "checkout options not offered: the delivery could not be checked",
                extra={"event": definition.header_value, "reason": repr(exc)},
            )
            return 200, _NO_OPTIONS
        return 200, answer_bytes(await self._options(webhook.installation.saleor_api_url, payload))

    async def _options(
        self, store: SaleorApiUrl, payload: ShippingListMethodsForCheckoutPayload
    ) -> tuple[CheckoutOption, ...]:
        context = {"event": definition.header_value, "saleor_api_url": store}
        if payload.checkout is None:
            reasons = "; ".join(error.message for error in payload.errors) or "no checkout in the payload"
            log.warning("checkout options not offered: Saleor sent no checkout", extra={**context, "reason": reasons})
            return ()
        cart = cart_of(payload.checkout)
        if cart is None:
            log.info(
                "checkout options not offered: no shipping address yet",
                extra={**context, "checkout": payload.checkout.id},
            )
            return ()
        context["checkout"] = payload.checkout.id
        runtime = self._runtime
        now = runtime.clock.now()
        kept = kept_checkout_options(runtime, store, cart, now)
        options = kept if kept is not None else await self._quoted(store, cart, now, context)
        offered = tuple(option for option in options if option.currency == cart.currency)
        if len(offered) < len(options):
            log.warning(
                "checkout options in another currency left out",
                extra={**context, "currency": cart.currency, "left_out": [o.id for o in options if o not in offered]},
            )
        return offered

    async def _quoted(
        self, store: SaleorApiUrl, cart: Cart, now: datetime, context: dict[str, Any]
    ) -> Sequence[CheckoutOption]:
        """The checkout's options as quoting gives them, within ``ANSWER_WITHIN_SECONDS``; none if it fails."""
        runtime = self._runtime
        # Read only: the session takes a connection only when quoting misses its caches, and is closed
        # only then (closing an unused one costs a tenth of a checkout's CPU), as soon as the settings
        # and tables are read: not held while the carriers are asked.
        session = runtime.sessions()

        async def read_done() -> None:
            if session.in_transaction():
                await session.close()

        try:
            async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
                quoter = shipping_quoter(runtime, session, read_done=read_done)
                return await quoter.checkout_options(store, cart, now)
        except Exception as exc:  # checkout must keep working whatever quoting does
            reason = f"no answer within {ANSWER_WITHIN_SECONDS:g} s" if isinstance(exc, TimeoutError) else repr(exc)
            log.exception("checkout options not offered: quoting failed", extra={**context, "reason": reason})
            return ()
        finally:
            await read_done()
