import hashlib
import hmac
import json
from email import message_from_string
from email.message import EmailMessage
from email.policy import default

import httpx
import pytest
from sqlalchemy import select

from app.api.support import store_ref
from app.db.models import EffectRow
from app.db.repositories.settings import SqlSettingsStore
from app.domain.ids import SaleorApiUrl
from app.domain.installation import Installation
from app.domain.support.model import Channel
from app.domain.support.ticket import Assigned, Requester, Status, TicketId, apply_ticket_event, open_ticket
from app.runtime import Runtime
from app.services.support.mail import SupportMailSettings, change_mail_settings, reply_address
from tests.conftest import FixedClock
from tests.fakes.support import InMemoryTicketStore

URL = SaleorApiUrl("https://shop.test/graphql/")
PATH = f"/api/stores/{store_ref(URL)}/support/inbound-mail/mailgun"
KEY = "mailgun-signing-key"


@pytest.fixture
async def mail_set_up(runtime: Runtime, installation: Installation, clock: FixedClock) -> SupportMailSettings:
    async with runtime.sessions.begin() as session:
        saved = await change_mail_settings(
            SqlSettingsStore(session),
            URL,
            {
                "smtp_host": "smtp.shop.example",
                "from_address": "help@shop.example",
                "reply_domain": "mail.shop.example",
                "inbound_signing_key": KEY,
            },
            cipher=runtime.cipher,
            changed_by="ada",
            clock=clock,
        )
    assert isinstance(saved, SupportMailSettings)
    return saved


def post(clock: FixedClock, *, token: str = "t" * 50, key: str = KEY, **fields: str) -> dict[str, str]:
    stamp = str(int(clock.now().timestamp()))
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    message = {
        "recipient": "support@mail.shop.example",
        "sender": "ada@example.com",
        "from": "Ada <ada@example.com>",
        "subject": "My order",
        "body-plain": "Where is it?",
    }
    return {**message, **fields, "timestamp": stamp, "token": token, "signature": signature}


@pytest.mark.usefixtures("mail_set_up")
class TestInboundMail:
    async def test_an_answer_to_a_reply_address_threads_into_its_ticket(
        self, client: httpx.AsyncClient, tickets: InMemoryTicketStore, clock: FixedClock, runtime: Runtime
    ) -> None:
        opened = open_ticket(
            TicketId("1042"),
            requester=Requester("ada@example.com"),
            subject="Where is my parcel?",
            description="It is late.",
            channel=Channel.WEB_FORM,
            now=clock.now(),
        )
        await tickets.add(URL, opened)
        address = reply_address(runtime.settings.resolve_secret_key(), URL, opened.id, "mail.shop.example")
        response = await client.post(PATH, data=post(clock, recipient=address, **{"stripped-text": "Thanks"}))
        assert response.status_code == 200, response.text
        assert response.json() == {"ticket": "1042", "threaded": True, "followUpOf": None}
        assert tickets.tickets[URL][opened.id].thread[-1].body == "Thanks"

    async def test_an_answer_in_an_assigned_ticket_is_e_mailed_to_its_assignee(
        self, client: httpx.AsyncClient, tickets: InMemoryTicketStore, clock: FixedClock, runtime: Runtime
    ) -> None:
        opened = open_ticket(
            TicketId("1042"),
            requester=Requester("ada@example.com"),
            subject="Where is my parcel?",
            description="It is late.",
            channel=Channel.WEB_FORM,
            now=clock.now(),
        )
        assigned, _ = apply_ticket_event(opened, Assigned("grace@shop.example"), clock.now())
        await tickets.add(URL, assigned)
        address = reply_address(runtime.settings.resolve_secret_key(), URL, opened.id, "mail.shop.example")
        response = await client.post(PATH, data=post(clock, recipient=address, **{"stripped-text": "Any news?"}))
        assert response.status_code == 200, response.text
        async with runtime.sessions() as session:
            (payload,) = (
                await session.scalars(select(EffectRow.payload).where(EffectRow.kind == "support_notice"))
            ).all()
        mail = message_from_string(json.loads(payload)["mail"], policy=default)
        assert isinstance(mail, EmailMessage)
        assert mail["To"] == "grace@shop.example"
        text = mail.get_content()
        assert "Any news?" in text
        assert "https://shop.test/dashboard/apps/" in text
        assert "/app/support?ticket=1042" in text

    async def test_mail_with_attachments_to_the_support_address_opens_a_ticket(
        self, client: httpx.AsyncClient, tickets: InMemoryTicketStore, clock: FixedClock
    ) -> None:
        files = {"attachment-1": ("photo.jpg", b"\xff\xd8" * 1000, "image/jpeg")}
        response = await client.post(PATH, data=post(clock, **{"attachment-count": "1"}), files=files)
        assert response.status_code == 200, response.text
        (ticket,) = tickets.all(URL)
        assert response.json() == {"ticket": ticket.id, "threaded": False, "followUpOf": None}
        assert (ticket.channel, ticket.status, ticket.subject) == (Channel.EMAIL, Status.NEW, "My order")

    async def test_a_forged_post_is_refused_before_anything_is_read(
        self, client: httpx.AsyncClient, tickets: InMemoryTicketStore, clock: FixedClock
    ) -> None:
        response = await client.post(PATH, data=post(clock, key="guessed"))
        assert response.status_code == 401
        assert response.json()["error"] == {
            "type": "INVALID_SIGNATURE",
            "message": "the signature does not match the store's inbound signing key",
        }
        assert tickets.all(URL) == []

    async def test_a_replayed_post_is_refused_and_stores_nothing_twice(
        self, client: httpx.AsyncClient, tickets: InMemoryTicketStore, clock: FixedClock
    ) -> None:
        form = post(clock)
        assert (await client.post(PATH, data=form)).status_code == 200
        clock.advance(seconds=30)
        replay = await client.post(PATH, data=form)
        assert replay.status_code == 406
        assert replay.json()["error"]["type"] == "REPLAYED"
        assert len(tickets.all(URL)) == 1

    async def test_an_old_signed_post_is_refused(
        self, client: httpx.AsyncClient, tickets: InMemoryTicketStore, clock: FixedClock
    ) -> None:
        form = post(clock)
        clock.advance(minutes=11)
        response = await client.post(PATH, data=form)
        assert response.status_code == 401
        assert "more than 0:10:00 from now" in response.json()["error"]["message"]
        assert tickets.all(URL) == []

    async def test_a_malformed_message_is_refused_with_the_reason(
        self, client: httpx.AsyncClient, tickets: InMemoryTicketStore, clock: FixedClock
    ) -> None:
        response = await client.post(PATH, data=post(clock, **{"body-plain": "", "from": "", "sender": ""}))
        assert response.status_code == 406
        assert [e["field"] for e in response.json()["errors"]] == ["from", "body-plain"]
        assert tickets.all(URL) == []

    async def test_an_oversized_post_is_refused(
        self, client: httpx.AsyncClient, tickets: InMemoryTicketStore, clock: FixedClock
    ) -> None:
        files = {"attachment-1": ("big.bin", b"x" * (10 * 1024 * 1024 + 1), "application/octet-stream")}
        response = await client.post(PATH, data=post(clock), files=files)
        assert response.status_code == 413
        assert tickets.all(URL) == []


class TestInboundMailNotSetUp:
    async def test_a_store_without_a_signing_key_takes_no_mail(
        self, client: httpx.AsyncClient, installation: Installation, tickets: InMemoryTicketStore, clock: FixedClock
    ) -> None:
        response = await client.post(PATH, data=post(clock))
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "INBOUND_MAIL_NOT_SET_UP"
        assert tickets.all(URL) == []
