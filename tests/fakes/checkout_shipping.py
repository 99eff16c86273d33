"""A ``CheckoutShipping`` for the checkout webhook's tests: records each cart it is asked about and
answers the options (or the error) it was given."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from app.domain.ids import SaleorApiUrl
from app.services.shipping.model import Cart, CheckoutOption
from app.webhooks import shipping_list_methods_for_checkout


class FakeCheckoutShipping:
    def __init__(self, options: list[CheckoutOption] | None = None, *, error: Exception | None = None) -> None:
        self.options = options or []
        self.error = error
        self.delay_seconds = 0.0
        self.asked: list[tuple[SaleorApiUrl, Cart, datetime]] = []

    async def checkout_options(self, saleor_api_url: SaleorApiUrl, cart: Cart, now: datetime) -> list[CheckoutOption]:
        self.asked.append((saleor_api_url, cart, now))
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.error is not None:
            raise self.error
        return self.options


def answer_checkouts_with(monkeypatch: pytest.MonkeyPatch, fake: FakeCheckoutShipping) -> None:
    """Make the checkout webhook ask ``fake`` instead of the quoter it builds per request."""
    monkeypatch.setattr(shipping_list_methods_for_checkout, "shipping_quoter", lambda runtime, session, **_: fake)
