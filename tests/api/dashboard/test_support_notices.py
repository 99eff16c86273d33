"""Whom a ticket is assigned to hears of it by e-mail, through the store's support mail, with a link to the ticket
in the Saleor dashboard; not when they took it themselves, and not when the store turned it off."""

import json
from email import message_from_string
from email.message import EmailMessage
from email.policy import default

import httpx
import pytest
from sqlalchemy import select

from app.db.models import EffectRow
from app.db.repositories.settings import SqlSettingsStore
from app.domain.installation import Installation
from app.runtime import Runtime
from app.services.settings import SECTIONS, change_settings
from app.services.support.mail import change_mail_settings
from tests.api.conftest import Send
from tests.builders import SHOP_API_URL
from tests.conftest import FixedClock

pytestmark = pytest.mark.usefixtures("installation")
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


async def _notices(runtime: Runtime) -> list[EmailMessage]:
    """The assignee e-mails queued for the dispatcher, as they will be sent."""
    async with runtime.sessions() as session:
        payloads = (await session.scalars(select(EffectRow.payload).where(EffectRow.kind == "support_notice"))).all()
    mails = [message_from_string(json.loads(payload)["mail"], policy=default) for payload in payloads]
    return [mail for mail in mails if isinstance(mail, EmailMessage)]


async def _set_mail(runtime: Runtime, clock: FixedClock) -> None:
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


@pytest.mark.usefixtures("held")
async def test_a_colleague_assigned_a_ticket_gets_an_e_mail_linking_to_it(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, clock: FixedClock, installation: Installation
) -> None:
    async def assign(to: str) -> httpx.Response:
        return await client.post(f"{ACTIONS}/assign", data={"assignee": to}, headers=staff_headers())

    unsent = await assign("grace@shop.test")
    expected = "Assigned to grace@shop.test. The assignee is not e-mailed: support mail has no SMTP server set"
    assert unsent.headers["x-ops-notice"].startswith(expected)
    await _set_mail(runtime, clock)
    taken = await assign("me")
    assert taken.headers["x-ops-notice"] == "Assigned to you."
    assert await _notices(runtime) == [], "nobody is told what they did themselves"
    clock.advance(minutes=1)
    await assign("grace@shop.test")
    (mail,) = await _notices(runtime)
    assert mail["To"] == "grace@shop.test"
    text = mail.get_content()
    assert text.startswith("Ticket #1 is assigned to you.")
    app_id = installation.app_id.replace("=", "%3D")
    assert f"https://shop.test/dashboard/apps/{app_id}/app/support?ticket=1" in text


@pytest.mark.usefixtures("held")
async def test_a_store_that_turned_assignee_mail_off_sends_none(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, clock: FixedClock
) -> None:
    await _set_mail(runtime, clock)
    async with runtime.sessions.begin() as session:
        saved = await change_settings(
            SqlSettingsStore(session),
            SHOP_API_URL,
            SECTIONS["support"],
            {"notify_assignees": False},
            changed_by="grace",
            now=clock.now(),
        )
        assert not hasattr(saved, "errors"), saved
    assigned = await client.post(f"{ACTIONS}/assign", data={"assignee": "grace@shop.test"}, headers=staff_headers())
    assert assigned.headers["x-ops-notice"] == "Assigned to grace@shop.test."
    assert await _notices(runtime) == []


async def test_settings_turn_assignee_mail_off_and_name_the_dashboard(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime
) -> None:
    page = await client.get("/api/dashboard/fragments/settings", headers=staff_headers())
    assert "E-mail assignees" in page.text
    assert "Saleor dashboard address" in page.text
    refused = await client.post(
        "/api/dashboard/settings/support", data={"dashboard_url": "ftp://admin.shop.test/"}, headers=staff_headers()
    )
    assert refused.status_code == 422
    assert "is not the address of a dashboard" in refused.text
    saved = await client.post(
        "/api/dashboard/settings/support",
        data={"dashboard_url": "https://admin.shop.test/dashboard/"},  # the checkbox left unticked
        headers=staff_headers(),
    )
    assert saved.status_code == 200, saved.text
    async with runtime.sessions() as session:
        stored = await SqlSettingsStore(session).get(SHOP_API_URL, "support")
    assert stored is not None
    assert (stored["notify_assignees"], stored["dashboard_url"]) == (False, "https://admin.shop.test/dashboard/")
