"""What a subscriber is handed: one delivery, parsed, with the transaction it decides in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories.pipeline import Delivery
from app.domain.installation import Installation
from app.services.pipeline import Outbox
from app.services.shipping.quoting import LiveQuoteCache
from app.webhooks.payloads import OrderEventPayload


@dataclass(frozen=True, slots=True)
class Processing:
    delivery: Delivery
    payload: OrderEventPayload
    installation: Installation
    session: AsyncSession  # the one transaction: decisions and their effects commit together
    saleor: Outbox  # what is written to Saleor becomes effects of this delivery
    now: datetime
    live_quotes: LiveQuoteCache  # what carriers answered checkouts in this process: read, never asked

    @property
    def by_this_app(self) -> bool:
        """The event follows one of our own writes (a note makes Saleor send ORDER_UPDATED)."""
        principal = self.payload.issuing_principal
        return principal is not None and principal.id == self.installation.app_id


@dataclass(frozen=True, slots=True)
class Subscription:
    """A capability's handler and the events (lower_snake, as Saleor names them) it needs."""

    name: str
    events: frozenset[str]
    handle: Callable[[Processing], Awaitable[None]]
