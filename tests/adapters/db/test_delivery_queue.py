"""Claiming stored deliveries: only the head of each order, and claimers side by side start apart."""

from datetime import timedelta

import pytest

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
