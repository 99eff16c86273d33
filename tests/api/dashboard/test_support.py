"""Support in the dashboard: the inbox by what breaches first with its filters, and a ticket worked from its page
(assign, reply, note, status, priority, tags), refusing what the rules forbid and changing nothing then."""

import re

import httpx
import pytest
from sqlalchemy import select

from app.db.models import EffectRow
from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.support import SqlTicketStore
from app.domain.installation import Installation
from app.domain.support.ticket import Status, TicketId
from app.runtime import Runtime
from app.services.support.mail import change_mail_settings
from tests.api.conftest import Send
from tests.builders import SHOP_API_URL
from tests.conftest import FixedClock
from tests.fakes.saleor_signer import SaleorSigner

pytestmark = pytest.mark.usefixtures("installation")
INBOX = "/api/dashboard/fragments/support"
TICKET = "/api/dashboard/fragments/support/ticket?id=1"
ACTIONS = "/api/dashboard/support/tickets/1"


@pytest.fixture
async def held(installation: Installation, send: Send, client: httpx.AsyncClient, staff_headers) -> None:
    """Order #1001 is held for review, so the store opened ticket 1 about it."""
    response = await client.post(
        "/api/dashboard/lists",
        data={"kind": "email", "value": "buyer@example.com", "list": "block"},
        headers=staff_headers(),
    )
    assert response.status_code == 200
    await send()


async def _status(runtime: Runtime) -> Status:
    async with runtime.sessions() as session:
        ticket = await SqlTicketStore(session).get(SHOP_API_URL, TicketId("1"))
    assert ticket is not None
    return ticket.status


def _inbox_ids(page: str) -> list[str]:
    return re.findall(r'<tr data-ticket="(\d+)"', page)


async def test_the_support_page_is_an_entry_of_the_apps_pages(client: httpx.AsyncClient) -> None:
    page = await client.get("/dashboard/support")
    assert page.status_code == 200
    assert 'data-page="support"' in page.text
    assert 'data-page-link="support" aria-current="page">Support</a>' in page.text


async def test_support_needs_the_permission_to_manage_orders(client: httpx.AsyncClient, staff_headers) -> None:
    for path in (INBOX, TICKET):
        assert (await client.get(path, headers=staff_headers("MANAGE_PRODUCTS"))).status_code == 403
    refused = await client.post(f"{ACTIONS}/note", data={"body": "x"}, headers=staff_headers("MANAGE_PRODUCTS"))
    assert refused.status_code == 403


async def test_an_empty_inbox_says_what_will_appear(client: httpx.AsyncClient, staff_headers) -> None:
    page = await client.get(INBOX, headers=staff_headers())
    assert page.status_code == 200
    assert "No ticket matches" in page.text


@pytest.mark.usefixtures("held")
async def test_the_inbox_lists_the_stores_ticket_with_its_next_target_and_filters(
    client: httpx.AsyncClient, staff_headers, clock: FixedClock, signer: SaleorSigner
) -> None:
    page = await client.get(INBOX, headers=staff_headers())
    assert _inbox_ids(page.text) == ["1"]
    assert "Order 1001 is held for review" in page.text
    assert "store-held-for-review" in page.text
    assert "First reply due" in page.text

    async def ids(**query: str) -> list[str]:
        response = await client.get(INBOX, params=query, headers=staff_headers())
        assert response.status_code == 200
        return _inbox_ids(response.text)

    assert await ids(status="new") == ["1"]
    assert await ids(status="solved") == []
    assert await ids(assignee="none") == ["1"]
    assert await ids(assignee="me") == []
    assert await ids(tag="Store-Held-For-Review") == ["1"]
    assert await ids(tag="vip") == []
    assert await ids(due="breached") == []
    assert await ids(due="4h") == ["1"]  # high priority: a first reply within 2 business hours

    clock.advance(days=3)  # a token the dashboard issued then
    token = signer.dashboard_token(issued_at=clock.now().timestamp(), user_permissions=["MANAGE_ORDERS"])
    later = {"authorization-bearer": token, "saleor-api-url": "https://shop.test/graphql/"}
    overdue = await client.get(INBOX, params={"due": "breached"}, headers=later)
    assert _inbox_ids(overdue.text) == ["1"]
    assert "First reply overdue" in overdue.text

    refused = await client.get(INBOX, params={"status": "lost", "due": "soon"}, headers=later)
    assert refused.status_code == 422
    assert "Unknown status &#39;lost&#39;. Unknown SLA filter &#39;soon&#39;." in refused.text


@pytest.mark.usefixtures("held")
async def test_a_ticket_shows_its_order_thread_and_clocks(client: httpx.AsyncClient, staff_headers) -> None:
    page = await client.get(TICKET, headers=staff_headers())
    assert page.status_code == 200
    assert 'data-redirect="/orders/T3JkZXI6MQ==">#1001</a>' in page.text
    assert "Policy <strong>Standard</strong>" in page.text
    assert "First reply due" in page.text
    assert "Nobody has written yet." in page.text
    assert (await client.get(f"{INBOX}/ticket?id=99", headers=staff_headers())).status_code == 404


@pytest.mark.usefixtures("held")
async def test_a_ticket_is_worked_from_its_page(client: httpx.AsyncClient, staff_headers, runtime: Runtime) -> None:
    async def post(action: str, **form: str) -> httpx.Response:
        return await client.post(f"{ACTIONS}/{action}", data=form, headers=staff_headers())

    assigned = await post("assign", assignee="me")
    assert assigned.status_code == 200
    assert assigned.headers["x-ops-notice"] == "Assigned to you."
    assert "<strong data-assignee>staff@shop.test</strong>" in assigned.text
    assert await _status(runtime) is Status.OPEN

    replied = await post("reply", body="We are checking your order.", status="pending")
    assert replied.status_code == 200
    assert 'data-message-kind="public"' in replied.text
    assert await _status(runtime) is Status.PENDING
    assert 'data-clock="achieved"' in replied.text  # the first reply came in time

    noted = await post("note", body="Card country differs; ask for ID.")
    assert 'data-message-kind="internal"' in noted.text

    assert (await post("priority", priority="urgent")).status_code == 200
    tagged = await post("tags", add="vip, fraud-check", **{"remove:store-held-for-review": "1"})
    assert tagged.status_code == 200
    async with runtime.sessions() as session:
        ticket = await SqlTicketStore(session).get(SHOP_API_URL, TicketId("1"))
    assert ticket is not None
    assert ticket.tags == frozenset({"vip", "fraud-check"})
    assert ticket.priority.value == "urgent"
    assert [message.public for message in ticket.thread] == [True, False]

    solved = await post("status", status="solved")
    assert solved.status_code == 200
    assert await _status(runtime) is Status.SOLVED


@pytest.mark.usefixtures("held")
@pytest.mark.parametrize(
    ("action", "form", "reason"),
    [
        ("reply", {"body": "  "}, "Write something first."),
        ("reply", {"body": "x" * 20_001}, "at most 20000 characters"),
        ("status", {"status": "solved"}, "solving a ticket needs an assignee"),
        ("status", {"status": "new"}, "cannot be set new by hand"),
        ("status", {"status": "closed"}, "cannot be set closed by hand"),
        ("assign", {"assignee": "somebody"}, "Choose whom to assign"),
        ("priority", {"priority": "asap"}, "Choose a priority"),
        ("tags", {"add": "x" * 65}, "at most 64 characters"),
        ("shout", {}, "Unknown action &#39;shout&#39;"),
    ],
)
async def test_what_the_rules_forbid_is_refused_with_the_reason_and_changes_nothing(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, action: str, form: dict[str, str], reason: str
) -> None:
    async with runtime.sessions() as session:
        before = await SqlTicketStore(session).get(SHOP_API_URL, TicketId("1"))
    response = await client.post(f"{ACTIONS}/{action}", data=form, headers=staff_headers())
    assert response.status_code == 422
    assert reason in response.text
    assert response.headers["x-ops-notice"].startswith("Nothing changed: ")
    async with runtime.sessions() as session:
        assert await SqlTicketStore(session).get(SHOP_API_URL, TicketId("1")) == before


async def test_an_unknown_ticket_is_not_found(client: httpx.AsyncClient, staff_headers) -> None:
    response = await client.post(
        "/api/dashboard/support/tickets/7/note", data={"body": "hello"}, headers=staff_headers()
    )
    assert response.status_code == 404


@pytest.mark.usefixtures("held")
async def test_a_public_reply_is_e_mailed_once_the_store_has_its_smtp_server(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, clock: FixedClock
) -> None:
    async def reply(body: str) -> httpx.Response:
        return await client.post(f"{ACTIONS}/reply", data={"body": body}, headers=staff_headers())

    unsent = await reply("We are checking your order.")
    assert "Not e-mailed: support mail has no SMTP server set" in unsent.headers["x-ops-notice"]
    async with runtime.sessions.begin() as session:
        await change_mail_settings(
            SqlSettingsStore(session),
            SHOP_API_URL,
            {
                "smtp_host": "smtp.shop.example",
                "from_address": "help@shop.example",
                "reply_domain": "mail.shop.example",
            },
            cipher=runtime.cipher,
            changed_by="grace",
            clock=clock,
        )
    sent = await reply("It leaves today.")
    assert sent.headers["x-ops-notice"] == "Reply added."
    await client.post(f"{ACTIONS}/note", data={"body": "Internal only."}, headers=staff_headers())
    async with runtime.sessions() as session:
        mails = (await session.scalars(select(EffectRow.payload).where(EffectRow.kind == "support_reply"))).all()
    assert len(mails) == 1
    assert "It leaves today." in mails[0]
    assert "Internal only." not in mails[0]
