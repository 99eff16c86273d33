"""A partner's shipment callback to the Saleor fulfilment it makes: latency against the stand-in.

On a throwaway PostgreSQL database (127.0.0.1:5432, user ``postgres``, dropped after):

- the Saleor stand-in (``app.standin``) served over HTTP in this process: a channel, a mug held by a
  3PL's warehouse, ``--callbacks`` (plus ``--warmup``) paid orders of two mugs, and the app installed
  with its token and ``MANAGE_ORDERS``;
- the app (``app.main:create_app`` under uvicorn, one process, its pipeline worker in-process as
  deployed by default), its database seeded with the installation, the 3PL partner with its signing
  secret, and one plan with a hand-off of each order's mugs to the 3PL.

Each callback is the partner confirming its shipment (``POST /api/routing/hand-offs/{id}/shipments``,
signed with its secret and the current second), sent one at a time over one keep-alive connection.
Its latency runs from the start of the POST until the stand-in holds the order's fulfilment from the
3PL's warehouse with the tracking number (the app's ``orderFulfill`` effect delivered; both clocks are
this process's). The POST's own answer time is shown beside it. Target (issue 13): p50 < 200 ms.

    .venv/bin/python -m bench.routing_callback [--callbacks 200] [--warmup 10] [--timeout 10]

Exits non-zero only when something crashes, never because a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.routing import SqlRoutingSources
from app.db.repositories.routing_plans import SqlRoutingPlans
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.money import Money
from app.domain.routing.model import PickPackFees, SourceKind
from app.runtime import Runtime
from app.services.routing.model import HandOffMethod, Partner
from app.services.routing.plans import HandOff, HandOffStatus, OrderRouting, RoutedShipment, RoutedUnits
from app.services.routing.signing import signed_headers
from app.standin import actions
from app.standin.facade import StandIn
from app.standin.state import Address, App, Order, Payment, PaymentChargeStatus, to_global_id
from bench.harness import (
    Connection,
    app_environment,
    bench_settings,
    free_port,
    percentile,
    throwaway_postgresql,
    wait_healthy,
)
from bench.servers import app_processes
from tests.builders import make_installation

TARGET_P50_MS = 200.0
TOKEN = "bench-app-token"
SECRET = "bench-partner-secret"
PARTNER = "p-west"


class _Server(uvicorn.Server):
    """The stand-in shares this process's loop with the load: its signals are the bench's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: object, port: int) -> AsyncIterator[None]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)  # type: ignore[arg-type]
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"the stand-in on port {port} stopped before it started")
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


def standin_store(standin: StandIn, orders: int) -> tuple[str, list[Order]]:
    """The 3PL's warehouse id and ``orders`` paid orders of two mugs each."""
    store = standin.store
    channel = store.add_channel(slug="default-channel", name="Default", currency_code="USD")
    mugs = store.add_product(name="Mug", product_type=store.add_product_type(name="Drinkware"))
    mug = store.add_variant(
        mugs, sku="MUG-1", name="Blue", prices={channel: (Decimal("12.50"), Decimal("4.10"))}, weight_kg=Decimal("0.4")
    )
    tpl = store.add_warehouse(name="West 3PL", slug="west")
    store.assign_warehouse(channel, tpl)
    store.add_shipping_zone(name="United States", countries=["US"], warehouses=[tpl], channels=[channel])
    store.set_stock(tpl, mug, 2 * orders)
    store.add_app(
        App(
            pk=store.next_pk("App"),
            identifier="app.saleor-ops",
            name="Saleor Ops",
            token=TOKEN,
            permissions=("MANAGE_ORDERS", "MANAGE_SHIPPING"),
            is_installed=True,
        )
    )
    now = datetime.now(UTC)
    address = Address(first_name="Ada", last_name="Lovelace", street_address1="1 Main St", city="Dallas")
    placed = []
    for _ in range(orders):
        order = actions.place_order(store, channel, [(mug, 2)], at=now, shipping_address=address)
        order.payments.append(
            Payment(
                store.next_pk("Payment"),
                "mirumee.payments.dummy",
                order.currency,
                order.total_gross,
                order.total_gross,
                PaymentChargeStatus.FULLY_CHARGED,
                now,
                now,
            )
        )
        placed.append(order)
    store.outbox.clear()  # no app listens for the stand-in's webhooks here
    return to_global_id("Warehouse", tpl.pk), placed


async def seed_app(
    runtime: Runtime, api_url: SaleorApiUrl, jwks: str, warehouse: str, orders: list[Order]
) -> list[str]:
    """The installation, the 3PL partner and a hand-off of each order's mugs; the hand-offs' ids."""
    now = datetime.now(UTC)
    usd = Money(Decimal("1.00"), "USD")
    partner = Partner(
        PARTNER,
        "West",
        SourceKind.THIRD_PARTY,
        SaleorId(warehouse),
        HandOffMethod.WEBHOOK,
        "http://127.0.0.1:9/orders",  # never called: the hand-offs are stored as sent already
        timedelta(hours=4),
        fees=PickPackFees(usd, usd),
    )
    hand_offs = []
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(
            make_installation(saleor_api_url=api_url, token=TOKEN, jwks=jwks)
        )
        await SqlRoutingSources(session, runtime.cipher).add_partner(api_url, partner, SECRET, now)
    for order in orders:
        order_id, line_id = to_global_id("Order", order.pk), to_global_id("OrderLine", order.lines[0].pk)
        units = (RoutedUnits(line_id, "MUG-1", 2),)
        shipment = RoutedShipment(SaleorId(warehouse), SourceKind.THIRD_PARTY, PARTNER, units)
        routing = OrderRouting(order_id, 1, True, (shipment,), {"v": 1}, now, now)
        hand_off = HandOff(
            f"bench-{order.pk}", order_id, 1, PARTNER, SaleorId(warehouse), units, HandOffStatus.SENT, now, now
        )
        async with runtime.sessions.begin() as session:
            plans = SqlRoutingPlans(session)
            assert await plans.add(api_url, routing)
            await plans.add_hand_off(api_url, hand_off)
        hand_offs.append(hand_off.id)
    return hand_offs


class Answered:
    """The stand-in's ASGI app, setting ``event`` each time it has answered a request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.event = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        self.event.set()


async def callbacks(
    app_url: str,
    answered_by: Answered,
    warehouse: str,
    hand_offs: list[str],
    orders: list[Order],
    within_seconds: float,
) -> tuple[list[float], list[float], int]:
    """Each hand-off's shipment confirmed in turn: seconds to the fulfilment in the stand-in, seconds to
    the POST's answer, and how many failed (refused, or no fulfilment within ``within_seconds``)."""
    visible: list[float] = []
    answered: list[float] = []
    failures = 0
    connection = await Connection.open(app_url)
    try:
        for hand_off, order in zip(hand_offs, orders, strict=True):
            line = to_global_id("OrderLine", order.lines[0].pk)
            body = json.dumps(
                {
                    "shipmentId": f"s-{hand_off}",
                    "carrier": "UPS",
                    "trackingNumber": f"1Z{order.number}",
                    "lines": [{"lineId": line, "quantity": 2}],
                }
            )
            headers = {k.lower(): v for k, v in signed_headers(SECRET, body, datetime.now(UTC)).items()}
            start = time.perf_counter()
            status, answer = await connection.request(
                "POST", f"/api/routing/hand-offs/{hand_off}/shipments", headers, body.encode()
            )
            answered.append(time.perf_counter() - start)
            if status != 200:
                print(f"  {hand_off}: {status} {answer[:200]!r}", file=sys.stderr)
                failures += 1
                continue
            if not await _fulfilled(order, answered_by.event, start + within_seconds):
                failures += 1
                continue
            visible.append(time.perf_counter() - start)
            (fulfillment,) = order.fulfillments
            expected = (to_global_id("Warehouse", fulfillment.warehouse_pk or 0), f"1Z{order.number}")
            if expected != (warehouse, fulfillment.tracking_number):
                raise RuntimeError(f"order {order.number} was fulfilled otherwise: {fulfillment}")
    finally:
        connection.close()
    return visible, answered, failures


async def _fulfilled(order: Order, answered: asyncio.Event, deadline: float) -> bool:
    """Whether the order has a fulfilment, looked at after each request the stand-in answers."""
    while not order.fulfillments:
        answered.clear()
        left = deadline - time.perf_counter()
        if left <= 0:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(answered.wait(), left)
    return True


def _load() -> str:
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def _ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callbacks", type=int, default=200, help="measured callbacks (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="callbacks before the measured ones (default 10)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a fulfilment may take to show")
    args = parser.parse_args()

    print(f"Python {platform.python_version()} on {platform.machine()}; load average before: {_load()}")
    with tempfile.TemporaryDirectory(prefix="saleor-ops-routing-") as folder, ExitStack() as stack:
        tmp = Path(folder)
        port = free_port()
        api_url = SaleorApiUrl(f"http://127.0.0.1:{port}/graphql/")
        standin = StandIn(api_url=api_url)
        warehouse, orders = standin_store(standin, args.warmup + args.callbacks)
        url = stack.enter_context(throwaway_postgresql(f"saleor_ops_routing_{os.getpid()}"))
        settings = bench_settings(url, tmp / "app")

        async def seed() -> list[str]:
            runtime = Runtime.build(settings)
            try:
                return await seed_app(runtime, api_url, json.dumps(standin.key.jwks()), warehouse, orders)
            finally:
                await runtime.close()

        hand_offs = asyncio.run(seed())
        env = app_environment(url, tmp / "app")
        app_url, _ = stack.enter_context(app_processes("uvicorn", "app.main:create_app", 1, env, tmp / "app.log"))

        async def run() -> tuple[list[float], list[float], int]:
            answered_by = Answered(standin.asgi)
            async with serving(answered_by, port):
                await wait_healthy("app", app_url)
                warm = args.warmup
                await callbacks(app_url, answered_by, warehouse, hand_offs[:warm], orders[:warm], args.timeout)
                return await callbacks(app_url, answered_by, warehouse, hand_offs[warm:], orders[warm:], args.timeout)

        visible, answered, failures = asyncio.run(run())
    print(f"{len(visible)} callbacks to a visible fulfilment, {failures} failed; load average after: {_load()}")
    if visible:
        print(
            f"  callback to fulfilment in Saleor: p50 {_ms(visible, 50)} ms, p95 {_ms(visible, 95)} ms, "
            f"p99 {_ms(visible, 99)} ms, max {max(visible) * 1000:.1f} ms"
        )
        print(f"  the callback's own answer:        p50 {_ms(answered, 50)} ms, p95 {_ms(answered, 95)} ms")
        verdict = "meets" if percentile(visible, 50) * 1000 < TARGET_P50_MS else "misses"
        print(f"  {verdict} the target of p50 < {TARGET_P50_MS:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
