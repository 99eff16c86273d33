"""Support → Reports and the Support inbox over 100,000 tickets on PostgreSQL.

Opens ``--tickets`` tickets spread over the last year on a throw-away PostgreSQL database (the domain's
own events: assigned, answered, waiting on the customer, answered again, solved, closed, in the mix a
support desk sees), each kept with the SLA due and the report measures the desk computes, in bulk inserts.
Then requests through the ASGI app in-process (JWT verification, queries, templates) and reports p50/p95 of:

- the report of the last four weeks (the page's default) per week, assignee and reason, and its CSV;
- the report of the whole year (every ticket) per week;
- the inbox fragment: unsolved by what breaches first, one assignee's, one tag's, the overdue ones.

Targets: the inbox fragment p95 < 150 ms (issue 14); the four-week report p95 < 1 s.

    .venv/bin/python -m bench.support_reports [--tickets 100000] [--requests 30] [--year-requests 5]
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

from app.config import Settings
from app.db.models import (
    SupportCounterRow,
    SupportMessageRow,
    SupportStatusChangeRow,
    SupportTicketRow,
    SupportTicketTagRow,
)
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.support import measure_columns
from app.domain.support.model import Channel, Priority
from app.domain.support.reports import ticket_measures
from app.domain.support.sla import measure_sla, select_policy
from app.domain.support.ticket import (
    AgentReplied,
    Assigned,
    CustomerReplied,
    NoteAdded,
    Requester,
    SolvedTicketClosed,
    Status,
    StatusSet,
    Ticket,
    TicketEvent,
    TicketId,
    apply_ticket_event,
    open_ticket,
)
from app.main import create_app
from app.runtime import Runtime
from app.services.support.desk import sla_due
from app.services.support.settings import SupportSettings
from bench.harness import throwaway_postgresql
from bench.stats import percentile
from tests.builders import SHOP_API_URL, make_installation
from tests.fakes.saleor_signer import SaleorSigner

INBOX = "/api/dashboard/fragments/support"
REPORTS = "/api/dashboard/fragments/support/reports"
CSV = "/api/dashboard/support/reports.csv"
AGENTS = tuple(f"agent{i}@shop.test" for i in range(12))
TAGS = ("shipping", "refund", "damaged", "address", "vip", "wholesale", "late", "exchange")
INSERT_CHUNK = 5_000
MINUTE = timedelta(minutes=1)


def _events(rng: random.Random) -> Iterator[tuple[timedelta, TicketEvent]]:
    """What happens to one ticket, at minutes after its creation; a share of tickets stays new or open."""
    if rng.random() < 0.08:
        return  # nobody has looked at it yet
    agent = rng.choice(AGENTS)
    at = timedelta(minutes=rng.randint(1, 600))
    yield at, Assigned(agent)
    if rng.random() < 0.3:
        yield at, NoteAdded(agent, "Checking with the warehouse.")
    if rng.random() < 0.1:
        return  # assigned, not answered yet
    at += timedelta(minutes=rng.randint(1, 900))
    waiting = rng.random() < 0.4
    yield at, AgentReplied(agent, "Thank you for writing, here is what happened.", Status.PENDING if waiting else None)
    if waiting:
        at += timedelta(minutes=rng.randint(30, 3_000))
        yield at, CustomerReplied("Thanks, but it has still not arrived.")
        at += timedelta(minutes=rng.randint(5, 900))
        yield at, AgentReplied(agent, "The carrier confirmed a new date.")
    if rng.random() < 0.05:
        at += MINUTE
        yield at, StatusSet(Status.ON_HOLD)
        return
    if rng.random() < 0.15:
        return  # still open
    at += timedelta(minutes=rng.randint(10, 4_000))
    yield at, StatusSet(Status.SOLVED)
    if rng.random() < 0.8:
        yield at + timedelta(days=4), SolvedTicketClosed()


def tickets(count: int, now: datetime, seed: int = 14) -> Iterator[Ticket]:
    """``count`` tickets created over the year before ``now``, numbered in the order they were created."""
    rng = random.Random(seed)
    first = now - timedelta(days=365)
    step = timedelta(days=365) / count
    for number in range(1, count + 1):
        created = first + step * (number - 1)
        ticket = open_ticket(
            TicketId(str(number)),
            requester=Requester(f"customer{rng.randrange(20_000)}@example.com"),
            subject=f"Order {10_000 + number}",
            description="Where is my parcel? It was due yesterday.",
            channel=rng.choice((Channel.EMAIL, Channel.EMAIL, Channel.WEB_FORM)),
            now=created,
            priority=rng.choice((Priority.NORMAL, Priority.NORMAL, Priority.NORMAL, Priority.HIGH, Priority.URGENT)),
            tags=rng.sample(TAGS, rng.randint(0, 2)),
        )
        for offset, event in _events(rng):
            if created + offset > now:
                break
            ticket = apply_ticket_event(ticket, event, created + offset)[0]
        yield ticket


Row = dict[str, Any]


def _rows(ticket: Ticket, now: datetime, configuration: Any) -> tuple[Row, list[Row], list[Row], list[Row]]:
    number = int(ticket.id)
    policy = select_policy(configuration.policies, ticket)
    sla = None if policy is None else measure_sla(ticket, policy, now, warn_before=configuration.warn_before)
    due = sla_due(sla)
    hours = configuration.hours if policy is None else policy.hours
    key = {"saleor_api_url": SHOP_API_URL, "ticket_number": number}
    return (
        {
            "saleor_api_url": SHOP_API_URL,
            "number": number,
            "requester_email": ticket.requester.email,
            "requester_customer_id": None,
            "subject": ticket.subject,
            "description": ticket.description,
            "channel": ticket.channel.value,
            "status": ticket.status.value,
            "priority": ticket.priority.value,
            "assignee": ticket.assignee,
            "order_value": None,
            "order_currency": None,
            "follow_up_of": None,
            "store_reason": None,
            "store_key": None,
            "created_at": ticket.created_at,
            "updated_at": ticket.updated_at or ticket.created_at,
            "solved_at": ticket.solved_at,
            "sla_policy": due.policy,
            "sla_due_at": due.due_at,
            "sla_due_metric": None if due.metric is None else due.metric.value,
            **measure_columns(ticket_measures(ticket, hours, sla)),
        },
        [
            {
                **key,
                "position": position,
                "author": message.author.value,
                "author_name": message.author_name,
                "body": message.body,
                "public": message.public,
                "written_at": message.at,
            }
            for position, message in enumerate(ticket.thread)
        ],
        [
            {**key, "position": position, "status": change.status.value, "changed_at": change.at}
            for position, change in enumerate(ticket.history)
        ],
        [{**key, "tag": tag} for tag in sorted(ticket.tags)],
    )


async def seed(runtime: Runtime, signer: SaleorSigner, count: int, now: datetime) -> None:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(make_installation(jwks=signer.jwks_text(), at=now))
        await session.execute(insert(SupportCounterRow), [{"saleor_api_url": SHOP_API_URL, "last_number": count}])
    configuration = SupportSettings().configuration()  # the store keeps the default support settings
    batch: list[Ticket] = []
    for ticket in tickets(count, now):
        batch.append(ticket)
        if len(batch) == INSERT_CHUNK:
            await _insert(runtime, batch, now, configuration)
            batch = []
    if batch:
        await _insert(runtime, batch, now, configuration)
    async with runtime.sessions.begin() as session:
        await session.execute(text("ANALYZE"))  # what autovacuum does within a minute of a bulk load


async def _insert(runtime: Runtime, batch: list[Ticket], now: datetime, configuration: Any) -> None:
    """COPY, not INSERT: on a PostgreSQL shared with other benches a bulk load by statements took minutes."""
    rows = [_rows(ticket, now, configuration) for ticket in batch]
    async with runtime.sessions.begin() as session:
        connection = await (await session.connection()).get_raw_connection()
        driver = connection.driver_connection
        assert driver is not None
        for table, entries in (
            (SupportTicketRow.__tablename__, [row[0] for row in rows]),
            (SupportMessageRow.__tablename__, [entry for row in rows for entry in row[1]]),
            (SupportStatusChangeRow.__tablename__, [entry for row in rows for entry in row[2]]),
            (SupportTicketTagRow.__tablename__, [entry for row in rows for entry in row[3]]),
        ):
            if entries:
                columns = list(entries[0])
                records = [tuple(entry[column] for column in columns) for entry in entries]
                await driver.copy_records_to_table(table, records=records, columns=columns)


async def timed(
    client: httpx.AsyncClient, paths: dict[str, str], headers: dict[str, str], requests: int
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in paths}
    for i in range(requests + 2):  # the first 2 warm caches and are not counted
        for name, path in paths.items():
            start = time.perf_counter()
            response = await client.get(path, headers=headers)
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")
            if i >= 2:
                timings[name].append(elapsed * 1000)
    return timings


async def measure(url: str, folder: Path, args: argparse.Namespace) -> dict[str, list[float]]:
    settings = Settings(database_url=url, data_dir=folder, secret_key="bench", log_level="WARNING", _env_file=None)
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    signer, now = SaleorSigner(0), datetime.now(UTC)
    started = time.perf_counter()
    await seed(runtime, signer, args.tickets, now)
    print(f"opened and kept {args.tickets:,} tickets in {time.perf_counter() - started:.1f} s")
    token = signer.dashboard_token(issued_at=now.timestamp(), ttl=3600, user_permissions=["MANAGE_ORDERS"])
    headers = {"authorization-bearer": token, "saleor-api-url": SHOP_API_URL}
    year = {"from": (now - timedelta(days=365)).date().isoformat(), "to": now.date().isoformat()}
    recent = {
        "inbox: unsolved": INBOX,
        "inbox: one assignee": f"{INBOX}?assignee={AGENTS[3]}",
        "inbox: one tag": f"{INBOX}?tag=refund",
        "inbox: overdue": f"{INBOX}?due=breached",
        "inbox: all, page 20": f"{INBOX}?status=all&page=20",
        "report 4 weeks per week": REPORTS,
        "report 4 weeks per assignee": f"{REPORTS}?group=assignee",
        "report 4 weeks per reason": f"{REPORTS}?group=reason",
        "report 4 weeks CSV": CSV,
    }
    whole_year = {"report 1 year per week": f"{REPORTS}?from={year['from']}&to={year['to']}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        timings = await timed(client, recent, headers, args.requests)
        timings |= await timed(client, whole_year, headers, args.year_requests)
    await runtime.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--year-requests", type=int, default=5)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="saleor-ops-bench-") as folder,
        throwaway_postgresql(f"saleor_ops_support_{os.getpid()}") as url,
    ):
        timings = asyncio.run(measure(url, Path(folder), args))
    print(f"\nSupport on PostgreSQL, {args.tickets:,} tickets over a year")
    print(f"  {'request':<30}{'n':>4}{'p50 ms':>10}{'p95 ms':>10}")
    for name, values in timings.items():
        print(f"  {name:<30}{len(values):>4}{percentile(values, 50):>10.1f}{percentile(values, 95):>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
