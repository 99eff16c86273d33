"""The store opens a support ticket for an order fraud holds for review, once, and closes it once the review is
closed and the order's next event arrives."""

import httpx
import pytest
from sqlalchemy import select

from app.db.models import FraudReviewRow
from app.db.repositories.support import SqlTicketStore
from app.domain.ids import SaleorId
from app.domain.support.model import Priority, StoreReason
from app.domain.support.sla import Metric
from app.domain.support.store import store_ticket_key
from app.domain.support.ticket import Author, Status, Ticket
from app.runtime import Runtime
from app.services.support.model import SlaDue
from tests.api.conftest import Send
from tests.builders import SHOP_API_URL, body_of, order_payload
from tests.fakes.fake_saleor import FRAUD_DECISION_OK, FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")
ORDER = SaleorId("T3JkZXI6MQ==")
HELD_KEY = store_ticket_key(ORDER, StoreReason.HELD_FOR_REVIEW)


async def _held_ticket(runtime: Runtime) -> tuple[Ticket | None, SlaDue | None]:
    async with runtime.sessions() as session:
        tickets = SqlTicketStore(session)
        ticket = await tickets.opened_by_store(SHOP_API_URL, HELD_KEY)
        return ticket, None if ticket is None else await tickets.sla_due(SHOP_API_URL, ticket.id)


async def _block_buyer(client: httpx.AsyncClient, staff_headers) -> None:
    response = await client.post(
        "/api/dashboard/lists",
        data={"kind": "email", "value": "buyer@example.com", "list": "block"},
        headers=staff_headers(),
    )
    assert response.status_code == 200


async def test_an_ordinary_order_opens_no_ticket(send: Send, runtime: Runtime) -> None:
    await send()
    assert await _held_ticket(runtime) == (None, None)


async def test_an_order_held_for_review_opens_one_ticket_closed_once_the_review_is_approved(
    send: Send, runtime: Runtime, client: httpx.AsyncClient, staff_headers
) -> None:
    await _block_buyer(client, staff_headers)
    await send()
    ticket, due = await _held_ticket(runtime)
    assert ticket is not None
    assert (ticket.subject, ticket.priority, ticket.tags, ticket.order_ids) == (
        "Order 1001 is held for review",
        Priority.HIGH,
        frozenset({"store-held-for-review"}),
        (ORDER,),
    )
    assert ticket.requester.email == "buyer@example.com"
    assert ticket.order_value is not None
    assert str(ticket.order_value.amount) == "129.9"
    # What counted against the order, not every fact its assessment weighed.
    assert ticket.description.startswith(
        "Held for review by list:block:email. Score 20 (reject): email buyer@example.com is on the block list; "
    )
    assert "Every order starts here" not in ticket.description
    assert due is not None
    assert (due.policy, due.metric) == ("Standard", Metric.FIRST_REPLY)

    updated = body_of(order_payload(typename="OrderUpdated", issued_at="2026-11-26T12:01:00+00:00"))
    await send("ORDER_UPDATED", body=updated)
    again, _ = await _held_ticket(runtime)
    assert again == ticket, "one ticket per order and reason"

    decided = await client.post(
        f"/api/dashboard/reviews/{ORDER}", data={"decision": "approve", "reason": "approved"}, headers=staff_headers()
    )
    assert decided.status_code == 200
    noted = body_of(order_payload(typename="OrderUpdated", issued_at="2026-11-26T12:02:00+00:00"))
    await send("ORDER_UPDATED", body=noted)
    closed, due = await _held_ticket(runtime)
    assert closed is not None
    assert closed.status is Status.CLOSED
    (note,) = closed.thread
    assert note.author is Author.STORE
    assert not note.public
    assert "approved" in note.body
    assert due == SlaDue("Standard")


async def test_an_order_without_an_email_opens_no_ticket(
    send: Send, runtime: Runtime, client: httpx.AsyncClient, staff_headers
) -> None:
    response = await client.post(
        "/api/dashboard/lists", data={"kind": "country", "value": "US", "list": "block"}, headers=staff_headers()
    )
    assert response.status_code == 200
    address = {"country": {"code": "US"}, "postalCode": "10001", "city": "New York", "streetAddress1": "1 Main St"}
    await send(body=body_of(order_payload(userEmail=None, shippingAddress=address, billingAddress=address)))
    async with runtime.sessions() as session:
        assert await session.scalar(select(FraudReviewRow.status)) == "open", "held, as the test needs"
    assert await _held_ticket(runtime) == (None, None)


REFUSED = {
    "data": {
        "updatePrivateMetadata": {"errors": [{"field": "id", "message": "Order not found", "code": "NOT_FOUND"}]},
        "orderNoteAdd": {"errors": []},
        "orderConfirm": {"errors": []},
    }
}


async def test_a_write_saleor_refuses_for_good_opens_one_ticket_and_one_that_waits_opens_none(
    send: Send, runtime: Runtime, fake_saleor: FakeSaleor
) -> None:
    fake_saleor.on("FraudDecision", REFUSED, httpx.Response(503), FRAUD_DECISION_OK)
    await send(body=body_of(order_payload()))
    await send(body=body_of(order_payload(order_id="T3JkZXI6Mg==", number="1002")))
    async with runtime.sessions() as session:
        tickets = SqlTicketStore(session)
        failed = await tickets.opened_by_store(SHOP_API_URL, store_ticket_key(ORDER, StoreReason.EFFECT_FAILED))
        waiting = await tickets.for_order(SHOP_API_URL, SaleorId("T3JkZXI6Mg=="))
    assert failed is not None
    assert failed.subject == "The app could not update order 1001 in Saleor"
    assert failed.requester.email == "buyer@example.com"
    assert "could not write the fraud decision to Saleor after 1 attempt(s)" in failed.description
    assert "Order not found" in failed.description
    assert waiting == []
