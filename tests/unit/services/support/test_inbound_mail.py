import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.ids import SaleorApiUrl
from app.domain.support.model import Channel
from app.domain.support.ticket import (
    AgentReplied,
    Assigned,
    Author,
    Notification,
    NotificationKind,
    Requester,
    SolvedTicketClosed,
    Status,
    Ticket,
    TicketId,
    apply_ticket_event,
    open_ticket,
)
from app.services.support.inbound_mail import (
    InboundMail,
    MailgunRefusal,
    MailOpened,
    MailThreaded,
    SeenTokens,
    mailgun_refusal,
    read_mailgun_message,
    receive_mail,
)
from app.services.support.mail import reply_address
from tests.conftest import FixedClock
from tests.fakes.in_memory import InMemorySettingsStore
from tests.fakes.support import InMemoryTicketStore

URL = SaleorApiUrl("https://shop.test/graphql/")
SECRET = "test-secret-key"
KEY = "mailgun-signing-key"
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def signed(timestamp: datetime = NOW, token: str = "t" * 50, key: str = KEY) -> dict[str, str]:
    stamp = str(int(timestamp.timestamp()))
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": stamp, "token": token, "signature": signature}


class TestMailgunSignature:
    def test_a_signed_fresh_post_is_taken_once(self) -> None:
        seen = SeenTokens()
        assert mailgun_refusal(signed(), KEY, seen=seen, now=NOW) is None
        again = mailgun_refusal(signed(), KEY, seen=seen, now=NOW + timedelta(seconds=5))
        assert again == MailgunRefusal("this post was received already (its token was used)", replayed=True)

    @pytest.mark.parametrize(
        ("fields", "reason"),
        [
            pytest.param(signed(key="another-key"), "does not match", id="another-key"),
            pytest.param({**signed(), "token": "u" * 50}, "does not match", id="token-swapped"),
            pytest.param({**signed(), "signature": ""}, "are required", id="unsigned"),
            pytest.param(signed(NOW - timedelta(minutes=11)), "more than 0:10:00 from now", id="stale"),
            pytest.param(signed(NOW + timedelta(minutes=11)), "more than 0:10:00 from now", id="from-the-future"),
        ],
    )
    def test_a_forged_or_stale_post_is_refused_with_the_reason(self, fields: dict[str, str], reason: str) -> None:
        refusal = mailgun_refusal(fields, KEY, seen=SeenTokens(), now=NOW)
        assert refusal is not None
        assert not refusal.replayed
        assert reason in refusal.reason

    def test_a_token_is_forgotten_once_its_timestamp_refuses_it_anyway(self) -> None:
        seen = SeenTokens()
        assert mailgun_refusal(signed(), KEY, seen=seen, now=NOW) is None
        seen.forget_stale(NOW + timedelta(minutes=11))
        assert seen.first_time("t" * 50, NOW + timedelta(minutes=11))


class TestReadMailgunMessage:
    def test_reads_the_reply_without_the_quoted_thread(self) -> None:
        fields = {
            "recipient": "support+1-abc@mail.shop.example",
            "from": "Ada Lovelace <ada@example.com>",
            "subject": "Re: [#1042]\r\n Where is it?",
            "body-plain": "Thanks!\n\n> It left today.",
            "stripped-text": "Thanks!",
        }
        assert read_mailgun_message(fields) == InboundMail(
            "support+1-abc@mail.shop.example", "ada@example.com", "Re: [#1042] Where is it?", "Thanks!"
        )

    def test_refuses_a_message_with_no_sender_and_no_text(self) -> None:
        problems = read_mailgun_message({"recipient": "support@mail.shop.example", "from": "nobody", "body-plain": " "})
        assert isinstance(problems, tuple)
        assert [p.column for p in problems] == ["from", "body-plain"]

    def test_refuses_an_oversized_text(self) -> None:
        fields = {"recipient": "support@d.example", "from": "ada@example.com", "body-plain": "x" * 50_001}
        problems = read_mailgun_message(fields)
        assert isinstance(problems, tuple)
        assert "at most 50000" in problems[0].message


def ticket(status: Status = Status.PENDING) -> Ticket:
    opened = open_ticket(
        TicketId("1042"),
        requester=Requester("ada@example.com"),
        subject="Where is my parcel?",
        description="It is late.",
        channel=Channel.WEB_FORM,
        now=NOW - timedelta(days=10),
    )
    opened, _ = apply_ticket_event(opened, Assigned("grace"), NOW - timedelta(days=10))
    target = Status.SOLVED if status is Status.CLOSED else status
    opened, _ = apply_ticket_event(opened, AgentReplied("grace", "It left today.", target), NOW - timedelta(days=9))
    if status is Status.CLOSED:
        opened, _ = apply_ticket_event(opened, SolvedTicketClosed(), NOW - timedelta(days=5))
    return opened


class TestReceiveMail:
    async def receive(self, tickets: InMemoryTicketStore, recipient: str) -> MailThreaded | MailOpened:
        mail = InboundMail(recipient, "ada@example.com", "Re: [#1042] Where is my parcel?", "Still nothing.")
        return await receive_mail(
            URL, mail, tickets=tickets, settings=InMemorySettingsStore(), secret=SECRET, clock=FixedClock(NOW)
        )

    async def test_an_answer_to_the_reply_address_reopens_its_ticket(self) -> None:
        tickets = InMemoryTicketStore()
        await tickets.add(URL, ticket(Status.PENDING))
        outcome = await self.receive(tickets, reply_address(SECRET, URL, TicketId("1042"), "mail.shop.example"))
        kept = tickets.tickets[URL][TicketId("1042")]
        told = Notification(NotificationKind.CUSTOMER_REPLIED, TicketId("1042"), "grace", kept.thread[-1])
        assert outcome == MailThreaded(kept, notifications=(told,)), "the assignee hears the customer wrote"
        assert kept.status is Status.OPEN
        assert (kept.thread[-1].author, kept.thread[-1].body) == (Author.CUSTOMER, "Still nothing.")
        assert len(tickets.all(URL)) == 1

    async def test_an_answer_to_a_closed_ticket_opens_its_follow_up(self) -> None:
        tickets = InMemoryTicketStore()
        await tickets.add(URL, ticket(Status.CLOSED))
        outcome = await self.receive(tickets, reply_address(SECRET, URL, TicketId("1042"), "mail.shop.example"))
        assert isinstance(outcome, MailThreaded)
        assert outcome.follow_up
        assert outcome.ticket.follow_up_of == "1042"
        assert outcome.ticket.description == "Still nothing."
        assert tickets.tickets[URL][TicketId("1042")].status is Status.CLOSED

    @pytest.mark.parametrize(
        "recipient",
        [
            pytest.param("support@mail.shop.example", id="plain-support-address"),
            pytest.param(
                reply_address("another-secret", URL, TicketId("1042"), "mail.shop.example"), id="forged-token"
            ),
            pytest.param(reply_address(SECRET, URL, TicketId("77"), "mail.shop.example"), id="unknown-ticket"),
        ],
    )
    async def test_mail_that_cannot_be_threaded_opens_a_new_email_ticket(self, recipient: str) -> None:
        tickets = InMemoryTicketStore()
        await tickets.add(URL, ticket(Status.PENDING))
        outcome = await self.receive(tickets, recipient)
        assert isinstance(outcome, MailOpened)
        assert (outcome.ticket.channel, outcome.ticket.requester.email) == (Channel.EMAIL, "ada@example.com")
        assert outcome.ticket.subject == "Re: [#1042] Where is my parcel?"
        assert tickets.tickets[URL][TicketId("1042")].status is Status.PENDING
        assert len(tickets.all(URL)) == 2
