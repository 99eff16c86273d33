"""The data lifecycle: what the app stops keeping, and when.

- **Delivery bodies.** A stored order webhook holds what Saleor sent: the customer's e-mail, names,
  addresses and phone, IP address, card BIN and last 4. The workers need it until they have processed
  the delivery. After the store's retention (Settings → General, 30 days unless the merchant sets
  another) the body of a processed delivery is erased. The row stays, with what the pages show: the
  event, the order's id and number, when it was issued, its status. Deliveries that are still
  waiting or have failed keep their bodies, because a person may retry them. The bodies of
  deliveries Saleor could not render, and of effects already delivered (notes and metadata that
  Saleor itself keeps), are erased after the same retention.
- **Velocity keys.** Fraud scoring keeps each order's e-mail, card, IP address and shipping address so
  that it can count the orders per value within a window. No window is longer than
  ``LONGEST_WINDOW_HOURS``, so older keys count in none and are deleted. The exception is an order
  the app still holds: the review queue shows its values and can block them.
- **Kept on purpose.** Fraud assessments (their reasons name what a decision rested on; the e-mail
  and customer id make up a customer's history), reviews, the merchant's allow and block lists, the
  cost ledger, the shipping decisions (services, dates and promise checks; no personal data), routing
  plans and hand-offs, the settings with their history, and support tickets with their threads (the
  store's conversations with its customers: a solved ticket closes, it is not erased). These record
  what was decided and why, and they are the store's own data. They go when the store goes.
- **Removed stores.** When the app is deleted in Saleor, the store keeps everything for a grace period.
  A reinstall restores it, and ``saleor-ops export-store`` can export it. After that the store is
  deleted with everything it owns.

Every prune runs in batches of ``PRUNE_BATCH`` rows, each batch its own short transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.fraud import LONGEST_WINDOW_HOURS
from app.domain.ids import SaleorApiUrl
from app.services.ports import KeptStore, RetentionStore, RetentionTransaction
from app.services.settings import payload_retention_days

log = logging.getLogger(__name__)

PRUNE_BATCH = 1000
VELOCITY_KEPT = timedelta(hours=LONGEST_WINDOW_HOURS)


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """A store's records from before these instants are due for pruning."""

    payloads: datetime
    velocity: datetime


def cutoffs(now: datetime, retention_days: int) -> Cutoffs:
    return Cutoffs(payloads=now - timedelta(days=retention_days), velocity=now - VELOCITY_KEPT)


def grace_over(store: KeptStore, now: datetime, grace: timedelta) -> bool:
    """True when the store was uninstalled at least ``grace`` ago and has not been reinstalled since."""
    return store.uninstalled_at is not None and store.uninstalled_at <= now - grace


@dataclass(frozen=True, slots=True)
class HousekeepingReport:
    """What one round of housekeeping did: stores deleted, and rows pruned per kind."""

    deleted_stores: tuple[SaleorApiUrl, ...] = ()
    failed_stores: tuple[SaleorApiUrl, ...] = ()
    delivery_payloads: int = 0
    failed_delivery_payloads: int = 0
    effect_payloads: int = 0
    velocity_keys: int = 0

    @property
    def pruned(self) -> int:
        return sum(getattr(self, name) for name in _PRUNES)

    @property
    def did_anything(self) -> bool:
        return bool(self.deleted_stores or self.failed_stores or self.pruned)


Prune = Callable[[RetentionStore, SaleorApiUrl, Cutoffs, int], Awaitable[int]]

# Each count of the report, and the prune that adds to it.
_PRUNES: dict[str, Prune] = {
    "delivery_payloads": lambda store, url, due, limit: store.prune_delivery_payloads(
        url, processed_before=due.payloads, limit=limit
    ),
    "failed_delivery_payloads": lambda store, url, due, limit: store.prune_failed_delivery_payloads(
        url, received_before=due.payloads, limit=limit
    ),
    "effect_payloads": lambda store, url, due, limit: store.prune_effect_payloads(
        url, done_before=due.payloads, limit=limit
    ),
    "velocity_keys": lambda store, url, due, limit: store.forget_velocity_keys(
        url, seen_before=due.velocity, limit=limit
    ),
}


async def keep_house(
    now: datetime, *, grace: timedelta, transaction: RetentionTransaction, batch: int = PRUNE_BATCH
) -> HousekeepingReport:
    """Delete the stores whose grace period is over, and prune every other store's records that are due."""
    async with transaction() as work:
        stores = await work.retention.stores()
    deleted: list[SaleorApiUrl] = []
    failed: list[SaleorApiUrl] = []
    counts = dict.fromkeys(_PRUNES, 0)
    for store in stores:
        url = store.saleor_api_url
        try:
            if grace_over(store, now, grace):
                if await _delete(url, now - grace, transaction):
                    deleted.append(url)
                continue
            async with transaction() as work:
                due = cutoffs(now, await payload_retention_days(work.settings, url))
            for kind, prune in _PRUNES.items():
                counts[kind] += await _in_batches(url, due, prune, transaction, batch)
        except Exception:
            # One store's trouble must not keep the other stores' data past its time.
            log.exception("housekeeping failed for a store", extra={"saleor_api_url": url})
            failed.append(url)
    return HousekeepingReport(deleted_stores=tuple(deleted), failed_stores=tuple(failed), **counts)


async def _delete(url: SaleorApiUrl, uninstalled_before: datetime, transaction: RetentionTransaction) -> bool:
    async with transaction() as work:
        deleted = await work.retention.delete_uninstalled(url, uninstalled_before=uninstalled_before)
    if deleted:
        log.info("store deleted: its grace period after uninstalling is over", extra={"saleor_api_url": url})
    return deleted


async def _in_batches(
    url: SaleorApiUrl, due: Cutoffs, prune: Prune, transaction: RetentionTransaction, batch: int
) -> int:
    """Prune until a batch comes back short, one transaction per batch; how many rows in all."""
    total = 0
    while True:
        async with transaction() as work:
            pruned = await prune(work.retention, url, due, batch)
        total += pruned
        if pruned < batch:
            return total
