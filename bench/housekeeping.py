"""Housekeeping on a store with a long history: what a round costs when bodies are due, and when none is.

Seeds one store with ``--erased`` processed deliveries whose bodies retention already erased,
``--due`` processed 40 days ago (past the default 30-day retention) with a 2 KB body each,
``--recent`` processed yesterday and ``--waiting`` not processed yet. Then it runs
``app.pipeline.housekeeping.housekeeping`` twice: the first round erases the due bodies in batches
of 1,000 rows, each batch its own transaction, and the second finds nothing due. If pruning walked
through the erased rows, the second round would grow with ``--erased``; it should not.

    .venv/bin/python -m bench.housekeeping [--erased 300000] [--due 5000] [--recent 20000] [--waiting 1000]
                                           [--database-url postgresql+asyncpg://…/empty_db]   # default: temp SQLite

Reports both rounds' times and the time per 1,000-row batch. Exits non-zero only when a round
prunes the wrong number of bodies, never because it is slow.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from app.config import Settings
from app.db.migrate import upgrade_to_head
from app.db.models import PRUNED_PAYLOAD, OrderEventRow
from app.db.repositories.installations import SqlInstallationStore
from app.pipeline.housekeeping import housekeeping
from app.runtime import Runtime
from app.services.retention import PRUNE_BATCH
from tests.builders import SHOP_API_URL, make_installation

NOW = datetime(2026, 12, 1, tzinfo=UTC)
BODY = '{"order": {"userEmail": "ada@example.com", "note": "' + "x" * 2000 + '"}}'
CHUNK = 5_000


def deliveries(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Every delivery of the store, oldest first, as the pipeline leaves them."""
    processed_at = {
        "erased": NOW - timedelta(days=200),
        "due": NOW - timedelta(days=40),
        "recent": NOW - timedelta(days=1),
        "waiting": None,
    }
    rows = []
    for kind, count in counts.items():
        for number in range(count):
            at = processed_at[kind] or NOW
            rows.append(
                {
                    "saleor_api_url": SHOP_API_URL,
                    "event": "order_created",
                    "order_id": f"{kind}-{number}",
                    "order_number": str(number),
                    "issued_at": at - timedelta(minutes=1),
                    "payload": PRUNED_PAYLOAD if kind == "erased" else BODY,
                    "received_at": at - timedelta(minutes=1),
                    "status": "pending" if kind == "waiting" else "done",
                    "attempts": 0,
                    "next_attempt_at": at,
                    "processed_at": processed_at[kind],
                }
            )
    return rows


async def seed(runtime: Runtime, counts: dict[str, int]) -> float:
    started = time.perf_counter()
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(make_installation(jwks="{}"))
    rows = deliveries(counts)
    for start in range(0, len(rows), CHUNK):
        async with runtime.sessions.begin() as session:
            await session.execute(insert(OrderEventRow), rows[start : start + CHUNK])
    return time.perf_counter() - started


async def run(url: str, counts: dict[str, int]) -> int:
    runtime = Runtime.build(Settings(database_url=url, secret_key="bench-secret-key-bench-secret-key-0000"))
    try:
        seeded = await seed(runtime, counts)
        print(
            f"seeded {sum(counts.values()):,} deliveries in {seeded:.1f} s: "
            + ", ".join(f"{count:,} {kind}" for kind, count in counts.items())
        )
        rounds = []
        for _ in range(2):
            started = time.perf_counter()
            report = await housekeeping(runtime, NOW)
            rounds.append((time.perf_counter() - started, report.delivery_payloads))
        async with runtime.sessions() as session:
            kept = await session.scalar(
                select(func.count()).select_from(OrderEventRow).where(OrderEventRow.payload != PRUNED_PAYLOAD)
            )
    finally:
        await runtime.close()
    (first, pruned), (second, again) = rounds
    batches = pruned // PRUNE_BATCH + 1  # the last one comes back short
    print(f"round 1: {pruned:,} bodies erased in {first * 1000:,.0f} ms ({first * 1000 / batches:,.0f} ms per batch)")
    print(f"round 2: {again:,} bodies erased in {second * 1000:,.1f} ms (nothing due)")
    print(f"bodies kept: {kept:,} (the recent and the waiting)")
    return 0 if (pruned, again, kept) == (counts["due"], 0, counts["recent"] + counts["waiting"]) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--erased", type=int, default=300_000)
    parser.add_argument("--due", type=int, default=5_000)
    parser.add_argument("--recent", type=int, default=20_000)
    parser.add_argument("--waiting", type=int, default=1_000)
    parser.add_argument("--database-url", help="an empty database to migrate and fill (default: a temporary SQLite)")
    args = parser.parse_args()
    counts = {"erased": args.erased, "due": args.due, "recent": args.recent, "waiting": args.waiting}
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        upgrade_to_head(url)
        sys.exit(asyncio.run(run(url, counts)))


if __name__ == "__main__":
    main()
