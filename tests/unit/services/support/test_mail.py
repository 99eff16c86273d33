from datetime import UTC, datetime

import pytest

from app.domain.ids import AppId, SaleorApiUrl
from app.domain.support.model import Channel
from app.domain.support.ticket import (
    AgentReplied,
    Assigned,
    CustomerReplied,
    NoteAdded,
    Requester,
    Ticket,
    TicketId,
    apply_ticket_event,
    open_ticket,
)
from app.security import SecretCipher
from app.services.pipeline import EffectKind
from app.services.ports import MailNotSent
from app.services.settings import SECTIONS, change_settings
from app.services.support.mail import (
    SECTION,
    ReplyNotQueued,
    ReplyQueued,
    SupportMailSettings,
    change_mail_settings,
    dashboard_address,
    deliver_mail,
    mail_settings,
    queue_notices,
    queue_reply,
    reply_address,
    ticket_of_reply_address,
)
from tests.conftest import FixedClock
from tests.fakes.in_memory import InMemorySettingsStore
from tests.fakes.support import FakeMailSender
from tests.unit.services.test_pipeline import ListOutbox

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


class TestQueueAndDeliverReply:
    async def setup(self) -> tuple[InMemorySettingsStore, Ticket]:
        settings = InMemorySettingsStore()
        await change_mail_settings(settings, URL, FORM, cipher=CIPHER, changed_by="ada", clock=FixedClock(NOW))
        ticket = open_ticket(
            TicketId("1042"),
            requester=Requester("ada@example.com"),
            subject="Where is\r\nmy parcel?",
            description="It is late.",
            channel=Channel.WEB_FORM,
            now=NOW,
        )
        replied, _ = apply_ticket_event(ticket, AgentReplied("Grace", "It left today."), NOW)
        return settings, replied

    async def queue(
        self, settings: InMemorySettingsStore, ticket: Ticket, outbox: ListOutbox
    ) -> ReplyQueued | ReplyNotQueued:
        return await queue_reply(
            URL, ticket, ticket.thread[-1], outbox=outbox, settings=settings, secret=SECRET, now=NOW
        )

    async def test_keeps_the_reply_as_one_effect_threading_back_and_sends_it_when_delivered(self) -> None:
        settings, ticket = await self.setup()
        outbox = ListOutbox()
        queued = await self.queue(settings, ticket, outbox)
        assert isinstance(queued, ReplyQueued)
        assert queued.queued
        ((key, effect),) = outbox.stored.items()
        assert key == "support-reply:1042:0"
        assert (effect.order_id, effect.kind) == ("ticket:1042", EffectKind.SUPPORT_REPLY)
        again = await self.queue(settings, ticket, outbox)
        assert isinstance(again, ReplyQueued)
        assert not again.queued
        assert len(outbox.stored) == 1

        sender = FakeMailSender()
        outcome = await deliver_mail(effect.payload, await mail_settings(settings, URL), sender=sender, cipher=CIPHER)
        assert outcome == "e-mailed to ada@example.com"
        ((server, message),) = sender.sent
        assert (server.host, server.port, server.security, server.password) == (
            "smtp.shop.example",
            587,
            "starttls",
            "s3cret",
        )
        assert message["Message-ID"] == queued.message_id
        assert message["To"] == "ada@example.com"
        assert message["From"] == "Shop support <help@shop.example>"
        assert message["Subject"] == "[#1042] Where is my parcel?"
        assert ticket_of_reply_address(SECRET, URL, message["Reply-To"]) == "1042"
        assert message["Reply-To"].endswith("@mail.shop.example")
        assert message.get_content().strip() == "It left today."

    async def test_without_settings_nothing_is_queued_and_the_agent_is_told_why(self) -> None:
        _, ticket = await self.setup()
        outbox = ListOutbox()
        outcome = await self.queue(InMemorySettingsStore(), ticket, outbox)
        assert outcome == ReplyNotQueued("support mail has no SMTP server set (Support · E-mail)")
        assert outbox.stored == {}

    async def test_a_refused_mail_fails_the_delivery_with_the_servers_reason(self) -> None:
        settings, ticket = await self.setup()
        outbox = ListOutbox()
        await self.queue(settings, ticket, outbox)
        (effect,) = outbox.stored.values()
        sender = FakeMailSender()
        sender.refuse = "smtp.shop.example:587 did not take the message: 535 bad credentials"
        with pytest.raises(MailNotSent, match="535 bad credentials"):
            await deliver_mail(effect.payload, await mail_settings(settings, URL), sender=sender, cipher=CIPHER)

    async def test_a_password_kept_under_another_key_is_asked_for_again(self) -> None:
        settings, ticket = await self.setup()
        outbox = ListOutbox()
        await self.queue(settings, ticket, outbox)
        (effect,) = outbox.stored.values()
        settings.values[(URL, SECTION)]["password_encrypted"] = SecretCipher("another-key").encrypt("s3cret")
        sender = FakeMailSender()
        with pytest.raises(MailNotSent, match="enter it again"):
            await deliver_mail(effect.payload, await mail_settings(settings, URL), sender=sender, cipher=CIPHER)
        assert sender.sent == []

    async def test_an_internal_note_is_never_e_mailed(self) -> None:
        settings, ticket = await self.setup()
        noted, _ = apply_ticket_event(ticket, NoteAdded("Grace", "Call the carrier"), NOW)
        with pytest.raises(ValueError, match="only a public reply"):
            await self.queue(settings, noted, ListOutbox())


APP = AppId("QXBwOjE=")


class TestAssigneeNotices:
    async def setup(self) -> tuple[InMemorySettingsStore, Ticket]:
        settings = InMemorySettingsStore()
        await change_mail_settings(settings, URL, FORM, cipher=CIPHER, changed_by="ada", clock=FixedClock(NOW))
        ticket = open_ticket(
            TicketId("1042"),
            requester=Requester("ada@example.com"),
            subject="Where is my parcel?",
            description="It is late.",
            channel=Channel.WEB_FORM,
            now=NOW,
        )
        return settings, ticket

    async def test_the_new_assignee_gets_one_mail_linking_to_the_ticket_in_the_dashboard(self) -> None:
        settings, ticket = await self.setup()
        assigned, notifications = apply_ticket_event(ticket, Assigned("grace@shop.example"), NOW)
        outbox = ListOutbox()
        for _ in range(2):  # the same change decided again
            assert (
                await queue_notices(
                    URL, assigned, notifications, outbox=outbox, settings=settings, app_id=APP, now=NOW, actor="ada"
                )
                is None
            )
        ((key, effect),) = outbox.stored.items()
        assert key == f"support-notice:1042:assigned:grace@shop.example:{NOW.isoformat()}"
        assert (effect.order_id, effect.kind) == ("ticket:1042", EffectKind.SUPPORT_NOTICE)

        sender = FakeMailSender()
        outcome = await deliver_mail(effect.payload, await mail_settings(settings, URL), sender=sender, cipher=CIPHER)
        assert outcome == "e-mailed to grace@shop.example"
        ((_, message),) = sender.sent
        assert message["To"] == "grace@shop.example"
        assert message["Subject"] == "[#1042] Where is my parcel?"
        assert message["Reply-To"] is None, "an answer must not thread into the customer's ticket"
        assert message["Auto-Submitted"] == "auto-generated"
        assert message.get_content().splitlines() == [
            "Ticket #1042 is assigned to you.",
            "",
            "Open it in the Saleor dashboard: https://shop.test/dashboard/apps/QXBwOjE%3D/app/support?ticket=1042",
        ]

    async def test_the_customer_s_words_reach_the_assignee(self) -> None:
        settings, ticket = await self.setup()
        assigned, _ = apply_ticket_event(ticket, Assigned("grace@shop.example"), NOW)
        replied, notifications = apply_ticket_event(assigned, CustomerReplied("Any news?"), NOW)
        outbox = ListOutbox()
        await queue_notices(URL, replied, notifications, outbox=outbox, settings=settings, app_id=APP, now=NOW)
        ((_, effect),) = outbox.stored.items()
        body = effect.payload["mail"]
        assert "ada@example.com wrote in ticket #1042, assigned to you:" in body
        assert "Any news?" in body

    async def test_nobody_is_mailed_about_what_they_did_themselves(self) -> None:
        settings, ticket = await self.setup()
        assigned, notifications = apply_ticket_event(ticket, Assigned("grace@shop.example"), NOW)
        outbox = ListOutbox()
        await queue_notices(
            URL,
            assigned,
            notifications,
            outbox=outbox,
            settings=settings,
            app_id=APP,
            now=NOW,
            actor="grace@shop.example",
        )
        assert outbox.stored == {}

    async def test_a_store_that_turned_them_off_sends_none(self) -> None:
        settings, ticket = await self.setup()
        saved = await change_settings(
            settings, URL, SECTIONS["support"], {"notify_assignees": False}, changed_by="ada", now=NOW
        )
        assert not hasattr(saved, "errors"), saved
        assigned, notifications = apply_ticket_event(ticket, Assigned("grace@shop.example"), NOW)
        outbox = ListOutbox()
        await queue_notices(URL, assigned, notifications, outbox=outbox, settings=settings, app_id=APP, now=NOW)
        assert outbox.stored == {}

    async def test_without_support_mail_the_person_assigning_is_told_why(self) -> None:
        _, ticket = await self.setup()
        assigned, notifications = apply_ticket_event(ticket, Assigned("grace@shop.example"), NOW)
        outbox = ListOutbox()
        outcome = await queue_notices(
            URL, assigned, notifications, outbox=outbox, settings=InMemorySettingsStore(), app_id=APP, now=NOW
        )
        assert outcome == ReplyNotQueued("support mail has no SMTP server set (Support · E-mail)")
        assert outbox.stored == {}


def test_the_dashboard_is_where_saleor_serves_it_unless_the_store_says_otherwise() -> None:
    assert dashboard_address(None, SaleorApiUrl("https://api.shop.test:8443/graphql/")) == (
        "https://api.shop.test:8443/dashboard/"
    )
    assert dashboard_address("https://admin.shop.test/", URL) == "https://admin.shop.test/"
