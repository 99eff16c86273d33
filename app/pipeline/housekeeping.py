"""Housekeeping: the data lifecycle run (``app.services.retention``) beside the worker's loops, the
support desk's automation that closes tickets solved long enough (``app.services.support.desk``) and
clears the store's tickets about orders sold beyond stock once receipts covered them
(``app.services.support.shortfalls``), and routing's hand-offs whose partner let its acceptance
window pass (``app.services.routing.lifecycle``).

The service decides what is due; here each of its steps gets its own short transaction. Call
``housekeeping`` now and then, every ``HOUSEKEEPING_INTERVAL`` or so. Running it in two processes at
once is safe: a row pruned by one is skipped by the other, and a store is deleted only once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.order_events import SqlOrderEventLog
from app.db.repositories.pipeline import SqlEffectOutbox
from app.db.repositories.retention import SqlRetentionStore
from app.db.repositories.routing_plans import SqlRoutingPlans
from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.support import SqlTicketStore
from app.domain.ids import SaleorApiUrl, SaleorId
from app.services.pipeline import Outbox
from app.services.ports import RetentionWork
from app.services.retention import HousekeepingReport, keep_house
from app.services.routing.hand_offs import OrderForPartners
from app.services.routing.lifecycle import EXPIRE_BATCH, expire_unanswered
from app.services.support.desk import CLOSE_BATCH, close_solved
from app.services.support.shortfalls import clear_covered_shortfalls
from app.webhooks.order_routing import kept_order_for_partners

if TYPE_CHECKING:
    from app.runtime import Runtime

log = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class _SqlRetentionWork:
    retention: SqlRetentionStore
    settings: SqlSettingsStore


async def housekeeping(runtime: Runtime, now: datetime) -> HousekeepingReport:
    """Delete the stores whose grace period after uninstalling is over, and prune what every other
    store's retention says is due."""

    @asynccontextmanager
    async def transaction() -> AsyncIterator[RetentionWork]:
        async with runtime.sessions.begin() as session:
            yield _SqlRetentionWork(SqlRetentionStore(session), SqlSettingsStore(session))

    report = await keep_house(
        now, grace=timedelta(days=runtime.settings.uninstalled_grace_days), transaction=transaction
    )
    await close_solved_tickets(runtime, now)
    await expire_unanswered_hand_offs(runtime, now)
    await clear_covered_stock_tickets(runtime, now)
    if report.did_anything:
        log.info(
            "housekeeping done",
            extra={
                "deleted_stores": list(report.deleted_stores),
                "failed_stores": list(report.failed_stores),
                "delivery_payloads": report.delivery_payloads,
                "failed_delivery_payloads": report.failed_delivery_payloads,
                "effect_payloads": report.effect_payloads,
                "velocity_keys": report.velocity_keys,
            },
        )
    return report


async def _each_store(
    runtime: Runtime, step: Callable[[AsyncSession, SaleorApiUrl], Awaitable[int]], *, batch: int | None, failure: str
) -> int:
    """``step`` for every installed store, each run in a transaction of its own and run again while it
    did a full ``batch``; how much it did in all. One store's trouble must not hold the others back."""
    async with runtime.sessions.begin() as session:
        stores = await SqlRetentionStore(session).stores()
    done = 0
    for store in stores:
        if store.uninstalled_at is not None:
            continue
        url = store.saleor_api_url
        try:
            while True:
                async with runtime.sessions.begin() as session:
                    did = await step(session, url)
                done += did
                if batch is None or did < batch:
                    break
        except Exception:
            log.exception(failure, extra={"saleor_api_url": url})
    return done


async def close_solved_tickets(runtime: Runtime, now: datetime) -> int:
    """Close every installed store's tickets solved longer ago than its setting, a batch per transaction;
    how many closed in all."""

    async def step(session: AsyncSession, url: SaleorApiUrl) -> int:
        return await close_solved(SqlTicketStore(session), SqlSettingsStore(session), url, now)

    closed = await _each_store(runtime, step, batch=CLOSE_BATCH, failure="closing solved tickets failed for a store")
    if closed:
        log.info("solved tickets closed", extra={"closed_tickets": closed})
    return closed


async def expire_unanswered_hand_offs(runtime: Runtime, now: datetime) -> int:
    """Expire every installed store's hand-offs left unanswered past their partner's acceptance window, a
    batch per transaction; how many in all. Two workers at it expire each one once: the status moves
    from sent only where it still is sent, and each one's effects are named after it."""

    async def step(session: AsyncSession, url: SaleorApiUrl) -> int:
        outbox, events = SqlEffectOutbox(session), SqlOrderEventLog(session)

        async def order_for(order_id: str) -> OrderForPartners:
            return kept_order_for_partners(await events.for_order(url, SaleorId(order_id)))

        return await expire_unanswered(
            url,
            plans=SqlRoutingPlans(session),
            sources=runtime.routing_sources(session),
            writer_for=lambda cause: Outbox(outbox, url, cause, now),
            order_for=order_for,
            now=now,
        )

    expired = await _each_store(
        runtime, step, batch=EXPIRE_BATCH, failure="expiring unanswered hand-offs failed for a store"
    )
    if expired:
        runtime.wake_workers()
        log.info("unanswered hand-offs expired", extra={"expired_hand_offs": expired})
    return expired


async def clear_covered_stock_tickets(runtime: Runtime, now: datetime) -> int:
    """Clear every installed store's tickets about orders sold beyond stock that receipts have since
    covered, a store per transaction; how many were cleared."""

    async def step(session: AsyncSession, url: SaleorApiUrl) -> int:
        ledger = SqlInventoryLedger(session)
        return await clear_covered_shortfalls(SqlTicketStore(session), SqlSettingsStore(session), ledger, url, now)

    cleared = await _each_store(runtime, step, batch=None, failure="clearing covered stock tickets failed for a store")
    if cleared:
        log.info("tickets about orders sold beyond stock cleared", extra={"cleared_tickets": cleared})
    return cleared
