"""A million-row receipts file imported through ``saleor-ops import-receipts``'s own code.

Writes a seeded CSV (``--rows`` receipts over ``--skus`` SKUs in two warehouses, a year of dates
in order, a PO every 20 lines) into a temporary folder, migrates a fresh SQLite database there,
installs one store, and runs the command's import function on it: the warehouses come from the
real GraphQL gateway (answered in-process by an httpx mock transport), the whole file is checked,
then booked 5,000 rows per ``book`` call in one transaction. Progress lines go to stderr as the
command prints them. Then the same file is imported again (every row already in the ledger).

    .venv/bin/python -m bench.receipt_import [--rows 1000000] [--skus 10000] [--seed 7] [--no-again]

Reports rows/s per stage, total time and the process's peak RSS. Exits non-zero only when the
import fails, never because it is slow.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.config import Settings
from app.db.migrate import upgrade_to_head
from app.db.models import InventoryMoveRow
from app.db.repositories.installations import SqlInstallationStore
from app.receipts_cli import Console, import_receipts
from app.runtime import Runtime
from tests.builders import SHOP_API_URL, make_installation

WAREHOUSES = [("V2FyZWhvdXNlOjE=", "east", "East"), ("V2FyZWhvdXNlOjI=", "west", "West")]
START = datetime(2025, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def write_file(path: Path, rows: int, skus: int, seed: int) -> None:
    """Receipts in date order, as a purchasing system exports them."""
    rng = random.Random(seed)
    base_costs = [Decimal(rng.randrange(50, 5_000)) / 100 for _ in range(skus)]
    step = (NOW - timedelta(days=1) - START) / rows
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["sku", "warehouse", "quantity", "unit_cost", "currency", "received_at", "reference"])
        for number in range(rows):
            sku = rng.randrange(skus)
            cost = (base_costs[sku] * Decimal(rng.randrange(90, 111)) / 100).quantize(Decimal("0.01"))
            at = START + step * number
            writer.writerow(
                [
                    f"SKU-{sku:05d}",
                    WAREHOUSES[rng.randrange(2)][1],
                    rng.randrange(1, 100),
                    cost,
                    "USD",
                    at.strftime("%Y-%m-%dT%H:%M:%S"),
                    f"PO-{number // 20:06d}",
                ]
            )


def saleor_answers(request: httpx.Request) -> httpx.Response:
    """The store's Saleor, as far as an import asks it: its warehouses."""
    body = json.loads(request.content)
    if body.get("operationName") != "Warehouses":
        return httpx.Response(200, json={"errors": [{"message": f"unexpected {body.get('operationName')}"}]})
    edges = [{"node": {"id": id_, "slug": slug, "name": name}} for id_, slug, name in WAREHOUSES]
    page = {"pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": edges}
    return httpx.Response(200, json={"data": {"warehouses": page}})


class StageClock(io.StringIO):
    """The command's stderr, echoed; a stage's last progress line marks when it finished."""

    def __init__(self) -> None:
        super().__init__()
        self.done: dict[str, float] = {}

    def write(self, text: str) -> int:
        sys.stderr.write(text)
        stage = text.partition(" ")[0]
        if stage in ("checked", "booked"):
            self.done[stage] = time.perf_counter()
        return len(text)


async def run_import(runtime: Runtime, path: Path) -> tuple[int, float, dict[str, float], str]:
    out, err = io.StringIO(), StageClock()
    started = time.perf_counter()
    code = await import_receipts(runtime, SHOP_API_URL, path, Console(out, err))
    return code, time.perf_counter() - started, {k: v - started for k, v in err.done.items()}, out.getvalue()


async def bench(folder: Path, database_url: str, rows: int, again: bool) -> int:
    path = folder / "receipts.csv"
    settings = Settings(database_url=database_url, data_dir=folder, secret_key="bench", log_json=False, _env_file=None)
    runtime = Runtime.build(settings, http=httpx.AsyncClient(transport=httpx.MockTransport(saleor_answers)))
    try:
        async with runtime.sessions.begin() as session:
            await SqlInstallationStore(session, runtime.cipher).save(make_installation(jwks="{}", at=NOW))
        rss_before = peak_rss_mib()
        runs = [("first import", *await run_import(runtime, path))]
        if again:
            runs.append(("again", *await run_import(runtime, path)))
        async with runtime.sessions() as session:
            stored = await session.scalar(select(func.count()).select_from(InventoryMoveRow))
    finally:
        await runtime.close()

    print(f"\n{rows:,} rows into SQLite at {folder}")
    print(f"  {'run':<13} {'check s':>8} {'book s':>8} {'total s':>8} {'rows/s':>9}   result")
    for name, code, total, stages, summary in runs:
        if code != 0:
            print(f"  {name}: exit {code}\n{summary}")
            return 1
        checked = stages.get("checked", float("nan"))
        booked = stages.get("booked", total) - checked
        result = ", ".join(" ".join(line.split()) for line in summary.splitlines()[1:3])
        print(f"  {name:<13} {checked:>8.1f} {booked:>8.1f} {total:>8.1f} {rows / total:>9,.0f}   {result}")
    print(f"  moves in the ledger: {stored:,}")
    print(f"  peak RSS: {peak_rss_mib():.0f} MiB ({rss_before:.0f} MiB before the first import)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-again", action="store_true", help="skip the second import of the same file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-receipts-") as name:
        folder = Path(name)
        started = time.perf_counter()
        write_file(folder / "receipts.csv", args.rows, args.skus, args.seed)
        size = (folder / "receipts.csv").stat().st_size / 2**20
        print(
            f"wrote {args.rows:,} rows over {args.skus:,} SKUs x 2 warehouses ({size:.1f} MiB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        database_url = f"sqlite+aiosqlite:///{folder}/bench.db"
        upgrade_to_head(database_url)
        return asyncio.run(bench(folder, database_url, args.rows, not args.no_again))


if __name__ == "__main__":
    raise SystemExit(main())
