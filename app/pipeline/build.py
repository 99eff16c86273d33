"""A worker with every capability's subscription, sized for the database it runs on."""

from __future__ import annotations

from datetime import timedelta

from app.db.engine import is_sqlite
from app.pipeline import SUBSCRIPTIONS
from app.pipeline.worker import Worker
from app.runtime import Runtime

# Deliveries processed in one transaction: they share its claim, commit and reads. On SQLite the
# transaction holds the one write lock, which the acknowledge path waits for, so it stays short.
BATCH_POSTGRESQL = 16
BATCH_SQLITE = 4


def build_worker(runtime: Runtime) -> Worker:
    settings = runtime.settings
    sqlite = is_sqlite(settings.database_url)
    return Worker(
        runtime,
        SUBSCRIPTIONS,
        # SQLite has one writer: more than one transaction at a time would only queue on its lock.
        concurrency=1 if sqlite else settings.worker_concurrency,
        batch=BATCH_SQLITE if sqlite else BATCH_POSTGRESQL,
        poll_seconds=settings.worker_poll_seconds,
        lease=timedelta(seconds=settings.worker_lease_seconds),
    )
