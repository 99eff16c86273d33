"""Cost and valuation report fragments and CSV files: render time over a ledger of many moves.

Books ``--moves`` moves of ``bench.valuation``'s seeded store (sales with their prices, receipts,
late receipts that correct sales beyond stock, returns, write-offs, transfers, landed costs)
through the booking service into a fresh SQLite file (or a throw-away PostgreSQL database with
``--database postgresql``), then requests each report through the ASGI app in-process (JWT
verification, queries, templates) and reports p50/p95. Target: p95 under 50 ms at 10,000 moves;
the comparison of methods replays every move three times and is measured per SKU as well.

    .venv/bin/python -m bench.inventory_reports [--moves 10000] [--skus 100] [--requests 50]
        [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import text

from app.config import Settings
from app.db.migrate import upgrade_to_head
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.inventory import SqlInventoryLedger
from app.domain.inventory import CostingPolicy, MoveKind
from app.main import create_app
from app.runtime import Runtime
from app.services.inventory import book
from app.services.ports import LedgerEntry
from bench.stats import percentile
from bench.valuation import History
from tests.builders import SHOP_API_URL, make_installation
from tests.fakes.saleor_signer import SaleorSigner

FRAGMENTS = "/api/dashboard/fragments/inventory"
EXPORTS = "/api/dashboard/inventory"
SOLD = (MoveKind.ISSUE, MoveKind.CUSTOMER_RETURN)


def requests(sku: str) -> dict[str, str]:
    return {
        "valuation": FRAGMENTS + "/valuation",
        "valuation as of a day": FRAGMENTS + "/valuation?date=2025-01-02",
        "methods, one SKU": FRAGMENTS + f"/methods?sku={sku}",
        "methods, all": FRAGMENTS + "/methods",
        "margin by day": FRAGMENTS + "/margin?period=day",
        "margin by month": FRAGMENTS + "/margin?period=month",
        "value by day": FRAGMENTS + "/value?period=day",
        "history, one SKU": FRAGMENTS + f"/history?sku={sku}",
        "valuation.csv": EXPORTS + "/valuation.csv",
        "margin.csv": EXPORTS + "/margin.csv?period=day",
        "history.csv": EXPORTS + f"/history.csv?sku={sku}",
    }


async def seed(runtime: Runtime, signer: SaleorSigner, args: argparse.Namespace, now: datetime) -> None:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(make_installation(jwks=signer.jwks_text(), at=now))
    for chunk in History(args.moves, args.skus, seed=7).chunks(5_000):
        entries = [
            LedgerEntry(
                dataclasses.replace(move, seq=0),  # the ledger numbers them
                source="saleor" if move.kind in SOLD else "csv",
                recorded_by="bench",
                order_id=f"order-{move.id}" if move.kind in SOLD else None,
                unit_price=Decimal("29.90") if move.kind in SOLD else None,
            )
            for move in chunk
        ]
        async with runtime.sessions.begin() as session:
            await book(SHOP_API_URL, entries, ledger=SqlInventoryLedger(session), policy=CostingPolicy(), now=now)
    if runtime.settings.database_url.startswith("postgresql"):
        # What autovacuum does within a minute of a bulk load; without statistics the planner
        # probes the tenant-and-time index instead of the pool-position one.
        async with runtime.sessions.begin() as session:
            await session.execute(text("ANALYZE"))


async def measure(database_url: str, folder: Path, args: argparse.Namespace) -> dict[str, list[float]]:
    settings = Settings(
        database_url=database_url, data_dir=folder, secret_key="bench", log_level="WARNING", _env_file=None
    )
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    signer, now = SaleorSigner(0), datetime.now(UTC)
    started = time.perf_counter()
    await seed(runtime, signer, args, now)
    print(f"booked {args.moves:,} moves in {time.perf_counter() - started:.1f} s")
    token = signer.dashboard_token(issued_at=now.timestamp(), ttl=3600, user_permissions=["MANAGE_ORDERS"])
    headers = {"authorization-bearer": token, "saleor-api-url": SHOP_API_URL}
    paths = requests("SKU-00001")
    timings: dict[str, list[float]] = {name: [] for name in paths}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for i in range(args.requests + 3):  # the first 3 warm caches and are not counted
            for name, path in paths.items():
                start = time.perf_counter()
                response = await client.get(path, headers=headers)
                elapsed = time.perf_counter() - start
                if response.status_code != 200:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")
                if i >= 3:
                    timings[name].append(elapsed * 1000)
    await runtime.close()
    return timings


def psql(sql: str) -> None:
    command = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql]
    subprocess.run(command, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=10_000)
    parser.add_argument("--skus", type=int, default=100)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="saleor-ops-bench-") as folder:
        if args.database == "sqlite":
            url, name = f"sqlite+aiosqlite:///{folder}/reports.db", None
        else:
            name = f"saleor_ops_reports_{os.getpid()}"
            psql(f"CREATE DATABASE {name}")
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        try:
            upgrade_to_head(url)
            timings = asyncio.run(measure(url, Path(folder), args))
        finally:
            if name:
                psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    print(f"\nReports on {args.database}, {args.moves:,} moves over {args.skus} SKUs in 2 warehouses")
    print(f"  {'report':<24}{'p50 ms':>9}{'p95 ms':>9}   target p95 < 50 ms")
    for report, values in timings.items():
        p95 = percentile(values, 95)
        print(f"  {report:<24}{percentile(values, 50):>9.1f}{p95:>9.1f}   {'met' if p95 < 50 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
