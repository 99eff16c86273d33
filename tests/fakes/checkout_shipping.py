"""A ``CheckoutShipping`` for route tests: records each cart it is asked about and answers the
options (or the error) it was given."""

from __future__ import annotations

import asyncio
from datetime import datetime

from app.domain.ids import SaleorApiUrl
from app.services.shipping.model import Cart, CheckoutOption


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
