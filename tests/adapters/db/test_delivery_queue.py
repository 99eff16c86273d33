"""Claiming stored deliveries: only the head of each order, and claimers side by side start apart."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from app.db.repositories.order_events import SqlOrderEventLog
from app.db.repositories.pipeline import SqlDeliveryQueue
from app.domain.ids import SaleorId
from app.domain.installation import Installation
from app.domain.order_event import ReceivedOrderEvent
from app.runtime import Runtime
from tests.builders import NOW, SHOP_API_URL


def _event(order: str, minute: int) -> ReceivedOrderEvent:
    return ReceivedOrderEvent(
        saleor_api_url=SHOP_API_URL,
        event="order_updated",
        order_id=SaleorId(order),
        order_number=order,
        issued_at=NOW + timedelta(minutes=minute),
        saleor_version=None,
        received_at=NOW,
        payload="{}",
    )


@pytest.fixture
async def stored(runtime: Runtime, installation: Installation) -> None:
    async with runtime.sessions.begin() as session:
        log = SqlOrderEventLog(session)
        for order, minute in (("A", 0), ("A", 1), ("B", 0)):
            await log.record(_event(order, minute))


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(("lane", "claimed"), [(0, ("A", 0)), (1, ("B", 0)), (2, ("A", 0)), (3, ("B", 0))])
async def test_each_lane_starts_from_another_orders_head_and_never_past_one(
    runtime: Runtime, lane: int, claimed: tuple[str, int]
) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("on SQLite one loop claims, always the first head: its claim is one statement")
    async with runtime.sessions() as session, session.begin():
        delivery = await SqlDeliveryQueue(session).claim(NOW + timedelta(hours=1), lane=lane)
        assert delivery is not None
        assert (delivery.order_id, delivery.issued_at) == (claimed[0], NOW + timedelta(minutes=claimed[1]))


class TestABatchClaimReadsTheFirstDueHeadsOnly:
    """Not every waiting delivery: a claim that checked and sorted them all cost in proportion to the backlog."""

    WAITING, LIMIT = 200, 16

    @pytest.fixture(autouse=True)
    async def _backlog(self, runtime: Runtime, installation: Installation) -> None:
        async with runtime.sessions.begin() as session:
            log = SqlOrderEventLog(session)
            for number in range(self.WAITING):
                await log.record(_event(f"order-{number}", number % 7))

    async def _plan(self, runtime: Runtime, explain: str) -> list[Any]:
        """The claim's plan, as ``explain`` (prefixed to the statement) gives it, then rolled back."""
        statements: list[tuple[str, Any]] = []

        def capture(*args: Any) -> None:
            statements.append((args[2], args[3]))  # the statement and its parameters

        async with runtime.sessions() as session, session.begin():
            event.listen(runtime.engine.sync_engine, "before_cursor_execute", capture)
            try:
                claimed = await SqlDeliveryQueue(session).claim_batch(NOW + timedelta(hours=1), limit=self.LIMIT)
            finally:
                event.remove(runtime.engine.sync_engine, "before_cursor_execute", capture)
            assert len(claimed) == self.LIMIT
            await session.rollback()
        async with runtime.sessions() as session, session.begin():
            connection = await session.connection()
            (statement, parameters) = statements[-1]
            rows = list(await connection.exec_driver_sql(explain + statement, parameters))
            await session.rollback()
        return rows

    async def test_the_scan_stops_at_the_limit(self, runtime: Runtime) -> None:
        if runtime.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's index ends with the rowid, the id: it always came out in the claim's order")
        ((plan,),) = await self._plan(runtime, "EXPLAIN (ANALYZE, FORMAT JSON) ")

        def scans(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
            if node.get("Alias") == "d":
                yield node
            for child in node.get("Plans", ()):
                yield from scans(child)

        (waiting,) = scans(plan[0]["Plan"])
        assert waiting["Actual Rows"] <= 2 * self.LIMIT
