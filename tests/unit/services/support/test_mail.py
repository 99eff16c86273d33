from datetime import UTC, datetime

import pytest

from app.domain.ids import SaleorApiUrl
from app.domain.support.model import Channel
from app.domain.support.ticket import AgentReplied, Author, Requester, TicketId, apply_ticket_event, open_ticket
from app.security import SecretCipher
from app.services.support.mail import (
    SECTION,
    ReplyNotSent,
    ReplySent,
    SupportMailSettings,
    change_mail_settings,
    mail_settings,
    reply_address,
    send_reply,
    ticket_of_reply_address,
)
from tests.conftest import FixedClock
from tests.fakes.in_memory import InMemorySettingsStore
from tests.fakes.support import FakeMailSender, InMemoryTicketStore

URL = SaleorApiUrl("https://shop.test/graphql/")
OTHER = SaleorApiUrl("https://other.test/graphql/")
SECRET = "test-secret-key"
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
CIPHER = SecretCipher(SECRET)
FORM: dict[str, object] = {
    "smtp_host": "smtp.shop.example",
    "smtp_port": 587,
    "security": "starttls",
    "username": "help@shop.example",
    "password": "s3cret",
    "from_address": "help@shop.example",
    "from_name": "Shop\nsupport",
    "reply_domain": "Mail.Shop.Example",
    "inbound_signing_key": "key-1",
}


class TestReplyAddress:
    def test_threads_back_to_its_ticket_and_store_only(self) -> None:
        address = reply_address(SECRET, URL, TicketId("1042"), "mail.shop.example")
        assert address.startswith("support+1042-")
        assert ticket_of_reply_address(SECRET, URL, address) == "1042"
        assert ticket_of_reply_address(SECRET, URL, address.upper().replace("SUPPORT", "support")) == "1042"
        assert ticket_of_reply_address(SECRET, OTHER, address) is None
        assert ticket_of_reply_address("another-secret", URL, address) is None

    @pytest.mark.parametrize(
        "address",
        [
            pytest.param("support+1043-{mac}@mail.shop.example", id="another-ticket-same-mac"),
            pytest.param("support+1042-{mac}0@mail.shop.example", id="longer-mac"),
            pytest.param("support@mail.shop.example", id="no-token"),
            pytest.param("help+1042-{mac}@mail.shop.example", id="another-mailbox"),
        ],
    )
    def test_a_forged_or_foreign_address_threads_nowhere(self, address: str) -> None:
        mac = reply_address(SECRET, URL, TicketId("1042"), "d.example").split("-")[1].split("@")[0]
        assert ticket_of_reply_address(SECRET, URL, address.format(mac=mac)) is None

    def test_refuses_a_ticket_id_that_cannot_be_a_mailbox_name(self) -> None:
        with pytest.raises(ValueError, match="letters and digits"):
            reply_address(SECRET, URL, TicketId("10 42"), "d.example")


class TestChangeMailSettings:
    async def test_keeps_secrets_encrypted_and_an_empty_one_keeps_the_kept_one(self) -> None:
        store = InMemorySettingsStore()
        saved = await change_mail_settings(store, URL, FORM, cipher=CIPHER, changed_by="ada", clock=FixedClock(NOW))
        assert isinstance(saved, SupportMailSettings)
        kept = store.values[(URL, SECTION)]
        assert "s3cret" not in str(kept)
        assert "key-1" not in str(kept)
        assert CIPHER.decrypt(saved.password_encrypted) == "s3cret"
        assert (saved.reply_domain, saved.from_name) == ("mail.shop.example", "Shop support")
        again = await change_mail_settings(
            store,
            URL,
            {**FORM, "password": "", "smtp_port": 2525},
            cipher=CIPHER,
            changed_by="ada",
            clock=FixedClock(NOW),
        )
        assert isinstance(again, SupportMailSettings)
        assert (again.smtp_port, again.password_encrypted) == (2525, saved.password_encrypted)
        assert [change.changed_by for change in store.changes] == ["ada", "ada"]

    async def test_refuses_bad_values_with_each_reason_and_saves_nothing(self) -> None:
        store = InMemorySettingsStore()
        outcome = await change_mail_settings(
            store,
            URL,
            {**FORM, "smtp_port": 70000, "from_address": "Shop <help@shop.example>", "reply_domain": "no", "x": 1},
            cipher=CIPHER,
            changed_by="ada",
            clock=FixedClock(NOW),
        )
        assert isinstance(outcome, tuple)
        assert sorted(problem.column or "" for problem in outcome) == ["from_address", "reply_domain", "smtp_port", "x"]
        assert await mail_settings(store, URL) is None
        assert store.changes == []


class TestSendReply:
    async def setup(self) -> tuple[InMemorySettingsStore, InMemoryTicketStore, FakeMailSender]:
        settings = InMemorySettingsStore()
        await change_mail_settings(settings, URL, FORM, cipher=CIPHER, changed_by="ada", clock=FixedClock(NOW))
        tickets = InMemoryTicketStore()
        ticket = open_ticket(
            TicketId("1042"),
            requester=Requester("ada@example.com"),
            subject="Where is\r\nmy parcel?",
            description="It is late.",
            channel=Channel.WEB_FORM,
            now=NOW,
        )
        replied, _ = apply_ticket_event(ticket, AgentReplied("Grace", "It left today."), NOW)
        await tickets.add(URL, replied)
        return settings, tickets, FakeMailSender()

    async def send(
        self, settings: InMemorySettingsStore, tickets: InMemoryTicketStore, sender: FakeMailSender
    ) -> ReplySent | ReplyNotSent:
        ticket = await tickets.get(URL, TicketId("1042"))
        assert ticket is not None
        reply = ticket.thread[-1]
        assert reply.author is Author.AGENT
        return await send_reply(
            URL,
            ticket,
            reply,
            settings=settings,
            tickets=tickets,
            sender=sender,
            cipher=CIPHER,
            secret=SECRET,
            clock=FixedClock(NOW),
        )

    async def test_mails_the_reply_from_the_store_with_the_threading_reply_address(self) -> None:
        settings, tickets, sender = await self.setup()
        outcome = await self.send(settings, tickets, sender)
        ((server, message),) = sender.sent
        assert isinstance(outcome, ReplySent)
        assert outcome.message_id == message["Message-ID"]
        assert (server.host, server.port, server.security, server.password) == (
            "smtp.shop.example",
            587,
            "starttls",
            "s3cret",
        )
        assert message["To"] == "ada@example.com"
        assert message["From"] == "Shop support <help@shop.example>"
        assert message["Subject"] == "[#1042] Where is my parcel?"
        assert ticket_of_reply_address(SECRET, URL, message["Reply-To"]) == "1042"
        assert message["Reply-To"].endswith("@mail.shop.example")
        assert message.get_content().strip() == "It left today."

    async def test_a_refused_mail_is_noted_on_the_ticket_for_the_agent(self) -> None:
        settings, tickets, sender = await self.setup()
        sender.refuse = "smtp.shop.example:587 did not take the message: 535 bad credentials"
        assert await self.send(settings, tickets, sender) == ReplyNotSent(sender.refuse)
        ticket = await tickets.get(URL, TicketId("1042"))
        assert ticket is not None
        note = ticket.thread[-1]
        assert (note.public, note.author_name) == (False, "mail")
        assert note.body == f"The reply was not e-mailed: {sender.refuse}"

    async def test_without_settings_nothing_is_sent_and_the_ticket_says_so(self) -> None:
        _, tickets, sender = await self.setup()
        outcome = await self.send(InMemorySettingsStore(), tickets, sender)
        assert outcome == ReplyNotSent("support mail has no SMTP server set")
        assert sender.sent == []

    async def test_a_password_kept_under_another_key_is_asked_for_again(self) -> None:
        settings, tickets, sender = await self.setup()
        kept = settings.values[(URL, SECTION)]
        kept["password_encrypted"] = SecretCipher("another-key").encrypt("s3cret")
        outcome = await self.send(settings, tickets, sender)
        assert isinstance(outcome, ReplyNotSent)
        assert "enter it again" in outcome.reason
        assert sender.sent == []
