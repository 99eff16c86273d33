"""Housekeeping through the whole app: webhook bodies erased after the store's retention, pages intact."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import FraudAssessmentRow, OrderEventRow
from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.support import SqlTicketStore
from app.domain.support.model import Channel
from app.domain.support.ticket import Assigned, Requester, Status, StatusSet, open_ticket
from app.pipeline.housekeeping import housekeeping
from app.pipeline.worker import Worker
from app.runtime import Runtime
from app.services.support.desk import act
from tests.api.conftest import Send
from tests.builders import SHOP_API_URL
from tests.conftest import FixedClock

pytestmark = pytest.mark.usefixtures("installation")


async def _bodies(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(OrderEventRow.payload)))


class TestPayloadRetention:
    async def test_a_processed_body_is_erased_after_thirty_days_and_the_pages_still_show_the_event(
        self, send: Send, runtime: Runtime, client: httpx.AsyncClient, staff_headers: Any, clock: FixedClock
    ) -> None:
        await send()
        assert "userEmail" in (await _bodies(runtime))[0]

        not_yet = await housekeeping(runtime, clock.now() + timedelta(days=29, hours=23))
        assert not_yet.delivery_payloads == 0
        assert "userEmail" in (await _bodies(runtime))[0]

        done = await housekeeping(runtime, clock.now() + timedelta(days=30, minutes=1))
        assert done.delivery_payloads == 1
        assert await _bodies(runtime) == ["{}"]
        home = await client.get("/api/dashboard/fragments/home", headers=staff_headers())
        assert "#1001" in home.text
        card = await client.get(
            "/api/dashboard/fragments/order", params={"orderId": "T3JkZXI6MQ=="}, headers=staff_headers()
        )
        assert "Order created" in card.text
        async with runtime.sessions() as session:
            assert (await session.scalars(select(FraudAssessmentRow.order_number))).all() == ["1001"]

    async def test_the_merchants_retention_is_honoured(
        self, send: Send, runtime: Runtime, client: httpx.AsyncClient, staff_headers: Any, clock: FixedClock
    ) -> None:
        await client.post(
            "/api/dashboard/settings/general",
            data={"timezone": "UTC", "payload_retention_days": "7"},
            headers=staff_headers(),
        )
        await send()
        assert (await housekeeping(runtime, clock.now() + timedelta(days=8))).delivery_payloads == 1

    async def test_a_delivery_still_waiting_keeps_its_body_and_is_processed_later(
        self, send: Send, runtime: Runtime, worker: Worker, clock: FixedClock
    ) -> None:
        await send(process=False)
        clock.advance(days=40)
        assert (await housekeeping(runtime, clock.now())).delivery_payloads == 0
        await worker.drain()
        async with runtime.sessions() as session:
            assert (await session.scalars(select(OrderEventRow.status))).all() == ["done"]
            assert (await session.scalars(select(FraudAssessmentRow.order_number))).all() == ["1001"]


class TestSolvedTickets:
    async def test_a_solved_ticket_closes_four_days_after_it_was_solved(
        self, runtime: Runtime, clock: FixedClock
    ) -> None:
        solved_at = clock.now()
        async with runtime.sessions.begin() as session:
            tickets = SqlTicketStore(session)
            ticket = open_ticket(
                await tickets.next_id(SHOP_API_URL),
                requester=Requester("ann@example.com"),
                subject="Refund?",
                description="",
                channel=Channel.EMAIL,
                now=solved_at,
            )
            await tickets.add(SHOP_API_URL, ticket)
            for event in (Assigned("agent@shop.test"), StatusSet(Status.SOLVED)):
                await act(tickets, SqlSettingsStore(session), SHOP_API_URL, ticket.id, event, solved_at)

        async def status() -> Status:
            async with runtime.sessions() as session:
                kept = await SqlTicketStore(session).get(SHOP_API_URL, ticket.id)
            assert kept is not None
            return kept.status

        await housekeeping(runtime, solved_at + timedelta(days=3, hours=23))
        assert await status() is Status.SOLVED
        await housekeeping(runtime, solved_at + timedelta(days=4))
        assert await status() is Status.CLOSED
