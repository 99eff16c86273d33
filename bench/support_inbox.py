"""The support inbox fragment over many tickets: render time through the ASGI app, per filter.

Loads ``--tickets`` tickets of one store in bulk into a throw-away PostgreSQL database (or a SQLite file
with ``--database sqlite``): most closed, the rest new, open, pending, on hold or solved, a tag each, a
third unassigned, with next SLA deadlines spread over a week around now for those whose clocks run.
Then requests the inbox fragment in-process (JWT verification, the query, the template) with each
filter and reports p50/p95. Target (issue 14): p95 under 150 ms with 100,000 tickets on PostgreSQL.

    .venv/bin/python -m bench.support_inbox [--tickets 100000] [--requests 50] [--database postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

from app.config import Settings
from app.db.migrate import upgrade_to_head
from app.db.models import SupportTicketRow, SupportTicketTagRow
from app.db.repositories.installations import SqlInstallationStore
from app.main import create_app
from app.runtime import Runtime
from bench.harness import throwaway_postgresql
from bench.stats import percentile
from tests.builders import SHOP_API_URL, make_installation
from tests.fakes.saleor_signer import SaleorSigner

INBOX = "/api/dashboard/fragments/support"
TARGET_MS = 150
CHUNK = 5_000
STATUSES = ("closed",) * 7 + ("solved", "open", "new", "pending", "on-hold")
RUNNING = frozenset({"new", "open"})  # the others' clocks are stopped or paused: no deadline
TAGS = ("vip", "refund", "shipping", "store-held-for-review")
ASSIGNEES = (None, "staff@shop.test", "bob@shop.test")  # the first is the token's own staff user
REQUESTS = {
    "unsolved (default)": INBOX,
    "all": INBOX + "?status=all",
    "mine": INBOX + "?assignee=me",
    "unassigned": INBOX + "?assignee=none",
    "tag vip": INBOX + "?tag=vip",
    "overdue": INBOX + "?due=breached&status=all",
    "solved": INBOX + "?status=solved",
    "page 20": INBOX + "?status=all&page=20",
}


def _rows(count: int, now: datetime) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    chosen = random.Random(14)
    tickets: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    for number in range(1, count + 1):
        status = chosen.choice(STATUSES)
        due = now + timedelta(minutes=chosen.randint(-3 * 24 * 60, 4 * 24 * 60)) if status in RUNNING else None
        created = now - timedelta(days=chosen.randint(0, 365))
        tickets.append(
            {
                "saleor_api_url": SHOP_API_URL,
                "number": number,
                "requester_email": f"customer{number}@example.com",
                "subject": f"Question about order {number}",
                "description": "",
                "channel": "email",
                "status": status,
                "priority": chosen.choice(("low", "normal", "high", "urgent")),
                "assignee": chosen.choice(ASSIGNEES),
                "created_at": created,
                "updated_at": created,
                "solved_at": created if status == "solved" else None,
                "sla_policy": "Standard",
                "sla_due_at": due,
                "sla_due_metric": None if due is None else "first_reply",
            }
        )
        tags.append({"saleor_api_url": SHOP_API_URL, "ticket_number": number, "tag": chosen.choice(TAGS)})
        if len(tickets) == CHUNK:
            yield tickets, tags
            tickets, tags = [], []
    if tickets:
        yield tickets, tags


async def seed(runtime: Runtime, signer: SaleorSigner, count: int, now: datetime) -> None:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(make_installation(jwks=signer.jwks_text(), at=now))
    for tickets, tags in _rows(count, now):
        async with runtime.sessions.begin() as session:
            await session.execute(insert(SupportTicketRow), tickets)
            await session.execute(insert(SupportTicketTagRow), tags)
    if runtime.settings.database_url.startswith("postgresql"):
        async with runtime.sessions.begin() as session:
            await session.execute(text("ANALYZE"))  # what autovacuum does within a minute of a bulk load


async def measure(database_url: str, folder: Path, args: argparse.Namespace) -> dict[str, list[float]]:
    settings = Settings(
        database_url=database_url, data_dir=folder, secret_key="bench", log_level="WARNING", _env_file=None
    )
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    signer, now = SaleorSigner(0), datetime.now(UTC)
    started = time.perf_counter()
    await seed(runtime, signer, args.tickets, now)
    print(f"loaded {args.tickets:,} tickets in {time.perf_counter() - started:.1f} s")
    token = signer.dashboard_token(issued_at=now.timestamp(), ttl=3600, user_permissions=["MANAGE_ORDERS"])
    headers = {"authorization-bearer": token, "saleor-api-url": SHOP_API_URL}
    timings: dict[str, list[float]] = {name: [] for name in REQUESTS}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for i in range(args.requests + 3):  # the first 3 warm caches and are not counted
            for name, path in REQUESTS.items():
                start = time.perf_counter()
                response = await client.get(path, headers=headers)
                elapsed = time.perf_counter() - start
                if response.status_code != 200 or "data-inbox" not in response.text:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")
                if i >= 3:
                    timings[name].append(elapsed * 1000)
    await runtime.close()
    return timings


@contextmanager
def database(kind: str, folder: str) -> Iterator[str]:
    if kind == "postgresql":
        with throwaway_postgresql(f"saleor_ops_support_{os.getpid()}") as url:
            yield url
        return
    url = f"sqlite+aiosqlite:///{folder}/support.db"
    upgrade_to_head(url)
    yield url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="saleor-ops-bench-") as folder, database(args.database, folder) as url:
        timings = asyncio.run(measure(url, Path(folder), args))
    print(f"\nSupport inbox on {args.database}, {args.tickets:,} tickets of one store")
    print(f"  {'filter':<22}{'p50 ms':>9}{'p95 ms':>9}   target p95 < {TARGET_MS} ms")
    for name, values in timings.items():
        p95 = percentile(values, 95)
        print(f"  {name:<22}{percentile(values, 50):>9.1f}{p95:>9.1f}   {'met' if p95 < TARGET_MS else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
