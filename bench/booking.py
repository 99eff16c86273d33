"""Booking a fulfilment on a ledger that already holds a million moves.

Fills a fresh SQLite file (or a throw-away PostgreSQL database with ``--database
postgresql``) with ``--moves`` moves over 1,000 SKUs in two warehouses — a receipt
for every ten sales, through the booking service in batches, so pools, postings and
snapshots are what production would hold — then books ``--fulfilments`` new
fulfilments of ten lines each, one transaction per fulfilment, and reports p50/p95
for two paths:

- ``book``: the ten issue moves through ``app.services.inventory.book`` (pool rows
  locked and read, moves and postings inserted, pools and snapshots written);
- ``cost_order``: the whole webhook path after parsing — earlier postings of the order
  read, the issues booked, the order's postings read back, ``ops.cogs`` built, and the
  write-back handed to an in-memory gateway (no network).

Target: ≤ 5 ms p50 for booking a 10-line fulfilment on SQLite: no replay of history.

    .venv/bin/python -m bench.booking [--moves 1000000] [--fulfilments 300] [--database sqlite|postgresql]
                                      [--keep FILE]   # SQLite: fill FILE once, measure on it again later
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from app.config import Settings
from app.db.migrate import upgrade_to_head
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.inventory import SqlInventoryLedger
from app.domain.ids import SaleorApiUrl
from app.domain.inventory import CostingPolicy, Move, MoveKind
from app.runtime import Runtime
from app.services.inventory import book
from app.services.order_costing import CostedLine, FulfilledUnits, FulfillmentView, OrderFulfillments, cost_order
from app.services.ports import LedgerEntry
from bench.stats import percentile
from tests.builders import SHOP_API_URL, make_installation
from tests.fakes.in_memory import FakeSaleorGateway

SKUS = 1_000
WAREHOUSES = ("W1", "W2")
BATCH = 20_000
POLICY = CostingPolicy()
START = datetime(2026, 1, 1, tzinfo=UTC)


def history(moves: int, rng: random.Random) -> list[LedgerEntry]:
    """A year of a store: every pool receives stock, then sells it ten units at a time."""
    step = timedelta(days=365) / moves
    entries = []
    for number in range(moves):
        sku, warehouse = f"SKU-{rng.randrange(SKUS)}", rng.choice(WAREHOUSES)
        at = START + step * number
        if number % 11 == 0:
            move = Move(
                id=f"r{number}",
                kind=MoveKind.RECEIPT,
                sku=sku,
                warehouse=warehouse,
                at=at,
                quantity=rng.randint(50, 150),
                currency="USD",
                unit_cost=Decimal(rng.randint(500, 2000)) / 100,
            )
        else:
            move = Move(
                id=f"i{number}",
                kind=MoveKind.ISSUE,
                sku=sku,
                warehouse=warehouse,
                at=at,
                quantity=rng.randint(1, 3),
                currency="USD",
                reference=f"line-{number}",
            )
        entries.append(LedgerEntry(move, source="bench", recorded_by="bench", order_id=f"order-{number // 3}"))
    return entries


async def fill(runtime: Runtime, moves: int, rng: random.Random) -> float:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(make_installation(jwks='{"keys": []}', at=START))
    started = time.perf_counter()
    entries = history(moves, rng)
    for first in range(0, moves, BATCH):
        async with runtime.sessions.begin() as session:
            await book(
                SHOP_API_URL,
                entries[first : first + BATCH],
                ledger=SqlInventoryLedger(session),
                policy=POLICY,
                now=START,
            )
        print(f"  {min(first + BATCH, moves):>9,} moves in the ledger", file=sys.stderr)
    return time.perf_counter() - started


def fulfilment(number: int, rng: random.Random) -> OrderFulfillments:
    lines = tuple(
        CostedLine(f"bench-line-{number}-{n}", f"SKU-{rng.randrange(SKUS)}", None, None, 2, Decimal("30"), None)
        for n in range(10)
    )
    shipped = FulfillmentView(
        f"f-{number}",
        "FULFILLED",
        START + timedelta(days=366, seconds=number),  # after the whole history: nothing replays
        rng.choice(WAREHOUSES),
        tuple(FulfilledUnits(f"bench-fl-{number}-{n}", line.id, line.quantity) for n, line in enumerate(lines)),
    )
    return OrderFulfillments(f"bench-order-{number}", str(number), "USD", lines, (shipped,))


def issues(order: OrderFulfillments) -> list[LedgerEntry]:
    (shipped,) = order.fulfillments
    lines = {line.id: line for line in order.lines}
    return [
        LedgerEntry(
            Move(
                id=f"issue:{units.id}",
                kind=MoveKind.ISSUE,
                sku=lines[units.order_line_id].sku or "",
                warehouse=shipped.warehouse_id or "",
                at=shipped.created,
                quantity=units.quantity,
                currency="USD",
                reference=units.order_line_id,
            ),
            source="bench",
            recorded_by="bench",
            order_id=order.order_id,
        )
        for units in shipped.lines
    ]


async def measure(runtime: Runtime, fulfilments: int, rng: random.Random, run: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"book": [], "cost_order": []}
    saleor = FakeSaleorGateway()
    for number in range(fulfilments):
        for path in timings:
            order = fulfilment(run * 10_000 + number * 2 + (path == "cost_order"), rng)
            started = time.perf_counter()
            async with runtime.sessions.begin() as session:
                ledger = SqlInventoryLedger(session)
                if path == "book":
                    await book(SHOP_API_URL, issues(order), ledger=ledger, policy=POLICY, now=START)
                else:
                    costed = await cost_order(
                        SaleorApiUrl(SHOP_API_URL),
                        order,
                        seen_at=START,
                        ledger=ledger,
                        policy=POLICY,
                        saleor=saleor,
                        now=START,
                    )
                    assert costed is not None
            timings[path].append((time.perf_counter() - started) * 1000)
    return timings


def database(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    name = f"ops_bench_{int(time.time())}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def run(url: str, moves: int, fulfilments: int, *, filled_before: bool) -> None:
    runtime = Runtime.build(Settings(database_url=url, secret_key="bench-secret-key-bench-secret-key-0000"))
    rng = random.Random(2026)
    try:
        # A later run on a kept file books later fulfilments, with new ids: none is backdated.
        run_number = int(time.time() // 60) - 29_000_000 if filled_before else 0  # minutes, rising
        if not filled_before:
            filled = await fill(runtime, moves, rng)
            print(f"ledger filled: {moves:,} moves in {filled:.0f} s ({moves / filled:,.0f} moves/s)")
        timings = await measure(runtime, fulfilments, rng, run_number)
    finally:
        await runtime.close()
    for path, values in timings.items():
        print(
            f"{path:>10}: p50 {statistics.median(values):.2f} ms, p95 {percentile(values, 95):.2f} ms "
            f"({fulfilments} fulfilments of 10 lines)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=1_000_000)
    parser.add_argument("--fulfilments", type=int, default=300)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--keep", type=Path, help="SQLite file to fill once and measure on again")
    args = parser.parse_args()
    if args.keep is not None:
        url, filled_before = f"sqlite+aiosqlite:///{args.keep.resolve()}", args.keep.exists()
        if not filled_before:
            upgrade_to_head(url)
        asyncio.run(run(url, args.moves, args.fulfilments, filled_before=filled_before))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = database(args.database, Path(folder))
        upgrade_to_head(url)
        asyncio.run(run(url, args.moves, args.fulfilments, filled_before=False))


if __name__ == "__main__":
    main()
