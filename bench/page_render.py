"""Dashboard page fragments: server-side render time with a store that has many orders.

Seeds one installation with ``--orders`` orders (three webhook events each:
created, fully paid, fulfilled; a fraud assessment each, one in twenty held for
review) into a fresh SQLite file (or a throw-away
PostgreSQL database with ``--database postgresql``), then requests each
fragment through the ASGI app in-process — JWT verification, queries and
template rendering included, no network — and reports p50/p95 per fragment.
Target: p95 under 50 ms with 10,000 orders.

    .venv/bin/python -m bench.page_render [--orders 10000] [--requests 300] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import insert

from app.config import Settings
from app.db.migrate import upgrade_to_head
from app.db.models import FraudAssessmentRow, FraudReviewRow, OrderEventRow
from app.db.repositories.installations import SqlInstallationStore
from app.main import create_app
from app.runtime import Runtime
from bench.stats import percentile
from tests.builders import SHOP_API_URL, make_installation
from tests.fakes.saleor_signer import SaleorSigner

EVENTS = ("order_created", "order_fully_paid", "order_fulfilled")
FRAGMENTS = ("home", "order", "reviews", "settings")


def order_id(index: int) -> str:
    return base64.b64encode(f"Order:bench-{index}".encode()).decode()


async def seed(runtime: Runtime, signer: SaleorSigner, orders: int, now: datetime) -> None:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(make_installation(jwks=signer.jwks_text(), at=now))
        rows = [
            {
                "saleor_api_url": SHOP_API_URL,
                "event": event,
                "order_id": order_id(i),
                "order_number": str(i),
                # Spread over thirty days so "the last 24 hours" is a real slice.
                "issued_at": now - timedelta(minutes=(orders - i) * 43_200 / orders) + timedelta(seconds=step),
                "saleor_version": "3.22.0",
                "payload": "{}",
                "received_at": now,
            }
            for i in range(orders)
            for step, event in enumerate(EVENTS)
        ]
        for start in range(0, len(rows), 5_000):
            await session.execute(insert(OrderEventRow), rows[start : start + 5_000])
        # Each order was scored; one in twenty waits in the review queue.
        reasons = '[{"code": "baseline", "points": 10, "detail": "Every order starts here", "sentiment": "neutral"}]'
        assessments = [
            {
                "saleor_api_url": SHOP_API_URL,
                "order_id": order_id(i),
                "order_number": str(i),
                "stage": "created",
                "channel": "default-channel",
                "email": f"c{i % 2000}@example.com",
                "customer_id": None,
                "total": Decimal("64.90"),
                "currency": "USD",
                "score": 70 if i % 20 == 0 else 20,
                "decision": "review" if i % 20 == 0 else "approve",
                "deciding_rule": "threshold:review>=65" if i % 20 == 0 else "score:approve<65",
                "reasons": reasons,
                "probability": Decimal("0.2"),
                "expected_loss": None,
                "margin": None,
                "assessed_at": now - timedelta(minutes=(orders - i) * 43_200 / orders),
            }
            for i in range(orders)
        ]
        for start in range(0, len(assessments), 5_000):
            await session.execute(insert(FraudAssessmentRow), assessments[start : start + 5_000])
        await session.execute(
            insert(FraudReviewRow),
            [
                {
                    "saleor_api_url": SHOP_API_URL,
                    "order_id": order_id(i),
                    "order_number": str(i),
                    "status": "open",
                    "opened_at": now,
                    "opened_by": "threshold:review>=65",
                    "note": "",
                }
                for i in range(0, orders, 20)
            ],
        )


async def measure(database_url: str, folder: Path, args: argparse.Namespace) -> dict[str, list[float]]:
    settings = Settings(
        database_url=database_url, data_dir=folder, secret_key="bench", log_level="WARNING", _env_file=None
    )
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    signer, now = SaleorSigner(0), datetime.now(UTC)
    await seed(runtime, signer, args.orders, now)
    token = signer.dashboard_token(issued_at=now.timestamp(), ttl=3600, user_permissions=["MANAGE_ORDERS"])
    headers = {"authorization-bearer": token, "saleor-api-url": SHOP_API_URL}
    timings: dict[str, list[float]] = {name: [] for name in FRAGMENTS}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for i in range(args.requests + 20):  # the first 20 warm caches and are not counted
            for name in FRAGMENTS:
                params = {"orderId": order_id(i * 7919 % args.orders)} if name == "order" else {}
                start = time.perf_counter()
                response = await client.get(f"/api/dashboard/fragments/{name}", params=params, headers=headers)
                elapsed = time.perf_counter() - start
                if response.status_code != 200:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")
                if i >= 20:
                    timings[name].append(elapsed * 1000)
    await runtime.close()
    return timings


def psql(sql: str) -> None:
    command = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql]
    subprocess.run(command, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="saleor-ops-bench-") as folder:
        if args.database == "sqlite":
            url = f"sqlite+aiosqlite:///{folder}/render.db"
            name = None
        else:
            name = f"saleor_ops_render_{os.getpid()}"
            psql(f"CREATE DATABASE {name}")
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        try:
            upgrade_to_head(url)
            timings = asyncio.run(measure(url, Path(folder), args))
        finally:
            if name:
                psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    print(
        f"\nFragments on {args.database}, {args.orders:,} orders ({len(EVENTS) * args.orders:,} events), "
        f"{args.requests} requests each"
    )
    print(f"  {'fragment':<10}{'p50 ms':>9}{'p95 ms':>9}   target p95 < 50 ms")
    for fragment, values in timings.items():
        p95 = percentile(values, 95)
        verdict = "met" if p95 < 50 else "MISSED"
        print(f"  {fragment:<10}{percentile(values, 50):>9.2f}{p95:>9.2f}   {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
