"""The ticket card on Saleor's order page: loaded into the order card, it lists the order's tickets with what
is due next, opens each in place, and opens a new ticket about the order."""

import httpx
import pytest

from app.domain.support.model import Channel
from app.runtime import Runtime
from tests.api.dashboard.support_tickets import ORDER_ID, kept_ticket, open_order_ticket

pytestmark = pytest.mark.usefixtures("installation")
CARD = "/api/dashboard/fragments/support/order"
OPEN = "/api/dashboard/support/order-tickets"


async def test_the_order_card_loads_the_orders_ticket_card(client: httpx.AsyncClient, staff_headers) -> None:
    card = await client.get("/api/dashboard/fragments/order", params={"orderId": ORDER_ID}, headers=staff_headers())
    assert f'data-include="{CARD}?orderId=T3JkZXI6MQ%3D%3D"' in card.text


async def test_the_ticket_card_lists_the_orders_tickets_with_what_is_due_next(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime
) -> None:
    empty = await client.get(CARD, params={"orderId": ORDER_ID}, headers=staff_headers())
    assert empty.status_code == 200
    assert "No ticket is about this order." in empty.text
    await open_order_ticket(runtime, "Where is my parcel?")
    await open_order_ticket(runtime, "Change the address", order_id="T3JkZXI6Mg==")
    await open_order_ticket(runtime, "Gift wrap, please")
    card = await client.get(CARD, params={"orderId": ORDER_ID}, headers=staff_headers())
    assert card.text.count("<tr data-ticket=") == 2
    assert 'data-fragment="/api/dashboard/fragments/support/ticket?id=3">#3 · Gift wrap, please</a>' in card.text
    assert 'data-fragment="/api/dashboard/fragments/support/ticket?id=1">#1 · Where is my parcel?</a>' in card.text
    assert "Change the address" not in card.text
    # Also opened on the Support page, the dashboard's path that the assignee e-mails link to.
    assert 'data-redirect="/apps/QXBwOjE%3D/app/support?ticket=3"' in card.text
    assert card.text.count("First reply in ") == 2  # the default policy's clock, in business hours
    assert (
        await client.get(CARD, params={"orderId": ORDER_ID}, headers=staff_headers("MANAGE_PRODUCTS"))
    ).status_code == 403


async def test_a_new_ticket_is_opened_about_the_order_from_its_card(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime
) -> None:
    opened = await client.post(
        OPEN,
        data={
            "orderId": ORDER_ID,
            "requester": "ada@example.com",
            "subject": "Called about delivery",
            "description": "Wants Friday.",
        },
        headers=staff_headers(),
    )
    assert opened.status_code == 200
    assert opened.headers["x-ops-notice"] == "Ticket #1 opened."
    assert "#1 · Called about delivery" in opened.text
    ticket = await kept_ticket(runtime, "1")
    assert (ticket.channel, ticket.order_ids, ticket.requester.email) == (Channel.STAFF, (ORDER_ID,), "ada@example.com")


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"requester": "not-an-address", "subject": "Hi"}, "the requester needs an e-mail address"),
        ({"requester": "ada@example.com", "subject": "  "}, "a ticket needs a subject"),
    ],
)
async def test_a_ticket_that_cannot_be_opened_says_why_and_nothing_is_kept(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, form: dict[str, str], reason: str
) -> None:
    refused = await client.post(OPEN, data={"orderId": ORDER_ID, **form}, headers=staff_headers())
    assert refused.status_code == 422
    assert reason in refused.text.replace("&#39;", "'")
    assert "No ticket is about this order." in refused.text
    missing = await client.post(OPEN, data={"subject": "Hi", "requester": "ada@example.com"}, headers=staff_headers())
    assert missing.status_code == 422
