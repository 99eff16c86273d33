"""A worker with every capability's subscription, sized for the database it runs on."""

from __future__ import annotations

from datetime import timedelta

from app.db.engine import is_sqlite
from app.pipeline import SUBSCRIPTIONS
from app.pipeline.worker import Worker
from app.runtime import Runtime


def build_worker(runtime: Runtime) -> Worker:
    settings = runtime.settings
    return Worker(
        runtime,
        SUBSCRIPTIONS,
        # SQLite has one writer: more than one delivery at a time would only queue on its lock.
        concurrency=1 if is_sqlite(settings.database_url) else settings.worker_concurrency,
        poll_seconds=settings.worker_poll_seconds,
        lease=timedelta(seconds=settings.worker_lease_seconds),
    )
