"""Housekeeping: the data lifecycle run (``app.services.retention``) beside the worker's loops.

The service decides what is due; here each of its steps gets its own short transaction. Call
``housekeeping`` now and then, every ``HOUSEKEEPING_INTERVAL`` or so. Running it in two processes at
once is safe: a row pruned by one is skipped by the other, and a store is deleted only once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from app.db.repositories.retention import SqlRetentionStore
from app.db.repositories.settings import SqlSettingsStore
from app.services.ports import RetentionWork
from app.services.retention import HousekeepingReport, keep_house

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
