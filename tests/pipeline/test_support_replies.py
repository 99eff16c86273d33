"""Support replies are effects: kept with the reply, e-mailed by the dispatcher outside any transaction,
retried with its backoff while the mail server refuses them, and shown as failed like any effect."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db.models import EffectRow
from app.db.repositories.pipeline import SqlEffectOutbox
from app.db.repositories.settings import SqlSettingsStore
from app.domain.ids import SaleorApiUrl
from app.domain.support.model import Channel
from app.domain.support.ticket import AgentReplied, Requester, Ticket, TicketId, apply_ticket_event, open_ticket
from app.pipeline.worker import Worker
from app.runtime import Runtime
from app.services.support.mail import ReplyQueued, SupportMailSettings, change_mail_settings, queue_reply
from tests.conftest import FixedClock
from tests.fakes.support import FakeMailSender

pytestmark = pytest.mark.usefixtures("installation")
URL = SaleorApiUrl("https://shop.test/graphql/")


@pytest.fixture
def mailer(runtime: Runtime) -> FakeMailSender:
    runtime.mail_sender = sender = FakeMailSender()
    return sender


async def _replied_and_queued(runtime: Runtime, clock: FixedClock) -> Ticket:
    """The store's mail set up, and an agent's reply queued in the transaction that keeps it."""
    ticket = open_ticket(
        TicketId("1042"),
        requester=Requester("ada@example.com"),
        subject="Where is my parcel?",
        description="It is late.",
        channel=Channel.WEB_FORM,
        now=clock.now(),
    )
    replied, _ = apply_ticket_event(ticket, AgentReplied("Grace", "It left today."), clock.now())
    async with runtime.sessions.begin() as session:
        settings = SqlSettingsStore(session)
        saved = await change_mail_settings(
            settings,
            URL,
            {
                "smtp_host": "smtp.shop.example",
                "from_address": "help@shop.example",
                "reply_domain": "mail.shop.example",
            },
            cipher=runtime.cipher,
            changed_by="grace",
            clock=clock,
        )
        assert isinstance(saved, SupportMailSettings)
        queued = await queue_reply(
            URL,
            replied,
            replied.thread[-1],
            outbox=SqlEffectOutbox(session),
            settings=settings,
            secret=runtime.settings.resolve_secret_key(),
            now=clock.now(),
        )
    assert isinstance(queued, ReplyQueued)
    return replied


async def _effect(runtime: Runtime) -> tuple[str, int, str | None]:
    async with runtime.sessions() as session:
        (row,) = (await session.execute(select(EffectRow.status, EffectRow.attempts, EffectRow.last_error))).all()
        return row[0], row[1], row[2]


class TestSupportReplies:
    async def test_the_dispatcher_e_mails_a_queued_reply_once(
        self, runtime: Runtime, worker: Worker, clock: FixedClock, mailer: FakeMailSender
    ) -> None:
        await _replied_and_queued(runtime, clock)
        await worker.drain()
        ((server, message),) = mailer.sent
        assert (server.host, server.port) == ("smtp.shop.example", 587)
        assert message["To"] == "ada@example.com"
        assert (await _effect(runtime))[:2] == ("done", 1)
        await worker.drain()
        assert len(mailer.sent) == 1

    async def test_a_refusing_server_delays_the_reply_and_says_why_until_it_takes_it(
        self, runtime: Runtime, worker: Worker, clock: FixedClock, mailer: FakeMailSender
    ) -> None:
        await _replied_and_queued(runtime, clock)
        mailer.refuse = "smtp.shop.example:587 did not take the message: 421 try later"
        await worker.drain()
        status, attempts, error = await _effect(runtime)
        assert (status, attempts) == ("pending", 1)
        assert error is not None
        assert "421 try later" in error
        assert mailer.sent == []
        mailer.refuse = None
        clock.advance(hours=1)
        await worker.drain()
        assert len(mailer.sent) == 1
        assert (await _effect(runtime))[0] == "done"
