"""What a subscriber is handed: one delivery, parsed, with the transaction it decides in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.repositories.pipeline import Delivery
from app.db.repositories.settings import SqlSettingsStore
from app.domain.ids import SaleorApiUrl
from app.domain.installation import Installation
from app.services.pipeline import Outbox
from app.services.ports import RoutingSources
from app.services.shipping.quoting import LiveQuoteCache
from app.webhooks.payloads import OrderEventPayload

T = TypeVar("T")
# Under this key a batch keeps the cost pools of its orders' SKUs (fraud reads them); whatever moves
# goods in the batch forgets it.
COST_POOLS = "cost pools"


class BatchReads:
    """What the deliveries of one batch (one transaction) read once between them: a store's settings
    and lists, which nothing a subscriber does changes, and what each order had stored before the
    capability now processing the batch (``per_order``). A batch lasts milliseconds; a change made from
    the dashboard meanwhile reaches the next batch."""

    def __init__(self, deliveries: Sequence[tuple[Delivery, OrderEventPayload]] = ()) -> None:
        self._deliveries = [delivery for delivery, _ in deliveries]
        self._payloads = deliveries
        self._read: dict[Hashable, Any] = {}
        self._unread: dict[Hashable, set[str]] = {}

    def next_capability(self) -> None:
        """A capability has processed the whole batch and may have written what ``per_order`` read for
        it: the next capability reads its orders' rows anew (all of them in one query again)."""
        for key in self._unread:
            self._read.pop(key, None)
        self._unread.clear()

    def forget(self, key: Hashable) -> None:
        """What ``once`` read under ``key`` has changed in this batch: the next ask reads it again."""
        self._read.pop(key, None)

    def skus(self, url: SaleorApiUrl) -> set[str]:
        """The SKUs the lines of the batch's orders of the store sell."""
        return {
            line.product_sku
            for delivery, payload in self._payloads
            if delivery.saleor_api_url == url
            for line in payload.order.lines
            if line.product_sku
        }

    def order_ids(self, url: SaleorApiUrl) -> set[str]:
        """The batch's orders of the store."""
        return {delivery.order_id for delivery in self._deliveries if delivery.saleor_api_url == url}

    async def once(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        if key not in self._read:
            self._read[key] = await read()
        value: T = self._read[key]
        return value

    async def per_order(
        self,
        what: str,
        url: SaleorApiUrl,
        order_id: str,
        read: Callable[[list[str]], Awaitable[Mapping[str, T]]],
    ) -> T | None:
        """The order's row(s) of ``what``, read for all of the batch's orders of the store in one query
        when the first of them asks. Its orders are different orders, so what one of them writes is no
        other's; each order's share is handed out once, and an order asking again (after writing) reads
        anew."""
        key = (what, url)
        if key not in self._read:
            order_ids = self.order_ids(url)
            self._read[key] = await read(sorted(order_ids | {order_id}))
            self._unread[key] = order_ids | {order_id}
        if order_id in self._unread[key]:
            self._unread[key].discard(order_id)
            found: Mapping[str, T] = self._read[key]
        else:
            found = await read([order_id])
        return found.get(order_id)


@dataclass(frozen=True, slots=True)
class Processing:
    delivery: Delivery
    payload: OrderEventPayload
    installation: Installation
    session: AsyncSession  # the one transaction: decisions and their effects commit together
    saleor: Outbox  # what is written to Saleor becomes effects of this delivery
    now: datetime
    live_quotes: LiveQuoteCache  # what carriers answered checkouts in this process: read, never asked
    routing_sources: RoutingSources
    reads: BatchReads = field(default_factory=BatchReads)  # shared by the deliveries of one batch

    @property
    def by_this_app(self) -> bool:
        """The event follows one of our own writes (a note makes Saleor send ORDER_UPDATED)."""
        principal = self.payload.issuing_principal
        return principal is not None and principal.id == self.installation.app_id


@dataclass(frozen=True, slots=True)
class BatchStarting:
    """What a capability is handed once per batch, before the batch's first delivery: every delivery of the
    batch, parsed (of any event: it picks its own), the batch's transaction, and the ``engine`` for a short
    transaction of its own, committed before the batch's."""

    session: AsyncSession
    engine: AsyncEngine
    reads: BatchReads
    deliveries: Sequence[tuple[Delivery, OrderEventPayload]]
    now: datetime


BatchStart = Callable[[BatchStarting], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A capability's handler and the events (lower_snake, as Saleor names them) it needs."""

    name: str
    events: frozenset[str]
    handle: Callable[[Processing], Awaitable[None]]
    starting_a_batch: BatchStart | None = None  # run once per batch, however many subscriptions share it


class SettingsReadOncePerBatch(SqlSettingsStore):
    """The store's settings as its batch read them first."""

    def __init__(self, session: AsyncSession, reads: BatchReads) -> None:
        super().__init__(session)
        self._reads = reads

    async def get(self, saleor_api_url: SaleorApiUrl, section: str) -> dict[str, object] | None:
        read = super().get
        return await self._reads.once(("settings", saleor_api_url, section), lambda: read(saleor_api_url, section))
