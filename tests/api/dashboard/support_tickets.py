"""Tickets about an order, opened straight in the store's database for the dashboard's support tests."""

from typing import Any

from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.support import SqlTicketStore
from app.domain.ids import SaleorId
from app.domain.support.model import Channel
from app.domain.support.ticket import Requester, Ticket, TicketId, open_ticket
from app.runtime import Runtime
from app.services.support.desk import add_ticket
from tests.builders import SHOP_API_URL

ORDER_ID = SaleorId("T3JkZXI6MQ==")


async def open_order_ticket(
    runtime: Runtime, subject: str = "Where is my parcel?", order_id: str = ORDER_ID, *also: str
) -> Ticket:
    now = runtime.clock.now()
    async with runtime.sessions.begin() as session:
        desk = SqlTicketStore(session)
        ticket = open_ticket(
            await desk.next_id(SHOP_API_URL),
            requester=Requester("ada@example.com"),
            subject=subject,
            description="It has not arrived.",
            channel=Channel.EMAIL,
            now=now,
            order_ids=[SaleorId(order_id), *map(SaleorId, also)],
        )
        await add_ticket(desk, SqlSettingsStore(session), SHOP_API_URL, ticket, now)
    return ticket


async def kept_ticket(runtime: Runtime, ticket_id: str) -> Ticket:
    async with runtime.sessions() as session:
        ticket = await SqlTicketStore(session).get(SHOP_API_URL, TicketId(ticket_id))
    assert ticket is not None
    return ticket


def support_order(
    *,
    status: str = "UNFULFILLED",
    fulfillments: list[dict[str, str]] | None = None,
    order_id: str = ORDER_ID,
    number: str = "1001",
) -> dict[str, Any]:
    """Saleor's answer to ``SupportOrder`` for order #1001 (or the one given)."""
    return {
        "data": {
            "order": {
                "id": order_id,
                "number": number,
                "status": status,
                "userEmail": "ada@example.com",
                "user": {"firstName": "Ada", "lastName": "Lovelace"},
                "billingAddress": {"firstName": "A.", "lastName": "L."},
                "fulfillments": fulfillments or [],
            }
        }
    }
