"""Fraud: each order scored when it is created, and again once a payment shows (``assess_order``)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime

from app.db.repositories.fraud import SqlFraudRepository
from app.db.repositories.inventory import SqlInventoryLedger
from app.domain.fraud import ListEntry, OrderFacts, VelocityProbe
from app.domain.ids import SaleorApiUrl
from app.pipeline.processing import (
    COST_POOLS,
    BatchStarting,
    Processing,
    SettingsReadOncePerBatch,
    Subscription,
)
from app.services.fraud import OrderSnapshot, ScoredOn, assess_order, counted_velocity, store_configuration
from app.services.inventory import next_unit_costs
from app.services.ports import (
    CustomerHistory,
    FraudReview,
    InventoryLedger,
    StoredAssessment,
    StoredPool,
    StoreHistory,
)
from app.webhooks.order_facts import order_facts


async def with_ledger_costs(url: SaleorApiUrl, facts: OrderFacts, ledger: InventoryLedger) -> OrderFacts:
    """The order's lines at what the cost ledger says their next units cost, where it knows."""
    costs = await next_unit_costs(url, {line.sku for line in facts.lines if line.sku}, facts.currency, ledger=ledger)
    lines = tuple(
        dataclasses.replace(line, unit_cost=costs[line.sku]) if line.sku in costs else line for line in facts.lines
    )
    return dataclasses.replace(facts, lines=lines)


class FraudReadPerBatch(SqlFraudRepository):
    """The store's allow and block lists as its batch read them first; each order's review and
    assessments read with the batch's other orders' (by fraud, and again by each capability after it,
    which read what fraud decided); and the store's order count and usual order value once per batch,
    of its orders before the batch (the median of its last 500 orders was most of each order's reads)."""

    def __init__(self, processing: Processing) -> None:
        super().__init__(processing.session)
        self._reads = processing.reads

    async def list_entries(self, url: SaleorApiUrl) -> list[ListEntry]:
        read = super().list_entries
        return list(await self._reads.once(("fraud lists", url), lambda: read(url)))

    async def review(self, url: SaleorApiUrl, order_id: str) -> FraudReview | None:
        return await self._reads.per_order("fraud review", url, order_id, lambda ids: self.reviews_of(url, ids))

    async def assessments(self, url: SaleorApiUrl, order_id: str) -> list[StoredAssessment]:
        read = self.assessments_of
        return await self._reads.per_order("fraud assessments", url, order_id, lambda ids: read(url, ids)) or []

    async def record_velocity_and_history(
        self,
        url: SaleorApiUrl,
        probes: Sequence[VelocityProbe],
        facts: OrderFacts,
        *,
        at: datetime,
        count_to: int,
        store: StoreHistory | None = None,
    ) -> tuple[dict[VelocityProbe, int], CustomerHistory]:
        if store is None:
            excluded = self._reads.order_ids(url) | {facts.order_id}
            read = functools.partial(self.store_history, url, facts.currency, count_to=count_to, excluded=excluded)
            store = await self._reads.once(("fraud store history", url, facts.currency, count_to), read)
        return await super().record_velocity_and_history(url, probes, facts, at=at, count_to=count_to, store=store)


class _PoolsReadOncePerBatch(SqlInventoryLedger):
    """The cost pools of every SKU the batch's orders of the store sell, read when the first order asks
    and again after the inventory subscriber moved goods in this batch."""

    def __init__(self, processing: Processing) -> None:
        super().__init__(processing.session)
        self._reads = processing.reads

    async def pools_of_skus(self, url: SaleorApiUrl, skus: Collection[str]) -> list[StoredPool]:
        read = super().pools_of_skus

        async def for_the_batch() -> tuple[set[str], list[StoredPool]]:
            covered = self._reads.skus(url) | set(skus)
            return covered, await read(url, covered)

        covered, pools = await self._reads.once((COST_POOLS, url), for_the_batch)
        if not set(skus) <= covered:  # SKUs no line of the batch named when the pools were read
            return await read(url, skus)
        return [stored for stored in pools if stored.pool.sku in skus]


_SCORED_ON_CREATION = frozenset({"order_created"})
_SCORED_ON_PAYMENT = frozenset({"order_paid", "order_fully_paid", "order_updated"})


async def record_velocity_of_batch(batch: BatchStarting) -> None:
    """Every velocity key the batch's orders use, recorded before its first order in a short transaction of
    its own (``record_velocity_ahead``): another batch whose orders share a key waits for that transaction,
    not for this whole batch. Each order then counts the orders that used a key before it did."""
    settings = SettingsReadOncePerBatch(batch.session, batch.reads)
    used: list[tuple[SaleorApiUrl, str, Sequence[VelocityProbe]]] = []
    for delivery, payload in batch.deliveries:
        # A cancelled order is not scored (``assess_order``), so it uses no key.
        if delivery.event in _SCORED_ON_CREATION | _SCORED_ON_PAYMENT and payload.order.status != "CANCELED":
            url = delivery.saleor_api_url
            config = await store_configuration(settings, url)
            used.append((url, delivery.order_id, counted_velocity(order_facts(payload.order), config)))
    await SqlFraudRepository(batch.session).record_velocity_ahead(batch.engine, used, at=batch.now)


def _assessing(scored_on: ScoredOn) -> Callable[[Processing], Awaitable[None]]:
    async def assess(processing: Processing) -> None:
        url, order = processing.delivery.saleor_api_url, processing.payload.order
        facts = await with_ledger_costs(url, order_facts(order), _PoolsReadOncePerBatch(processing))
        await assess_order(
            url,
            facts,
            OrderSnapshot(number=order.number, status=order.status),
            scored_on=scored_on,
            fraud=FraudReadPerBatch(processing),
            settings=SettingsReadOncePerBatch(processing.session, processing.reads),
            saleor=processing.saleor,
            now=processing.now,
        )

    return assess


on_creation = Subscription("fraud", _SCORED_ON_CREATION, _assessing(ScoredOn.CREATION), record_velocity_of_batch)
on_payment = Subscription("fraud", _SCORED_ON_PAYMENT, _assessing(ScoredOn.PAYMENT), record_velocity_of_batch)
