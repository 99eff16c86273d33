"""Customers' e-mail into tickets, as Mailgun's inbound routes post it (``forward()`` to a URL, fully parsed).

Mailgun signs each post: ``signature`` is the hex HMAC-SHA256 of ``timestamp`` followed by ``token``
under the domain's webhook signing key (kept per store, encrypted, in the support mail settings). A
post is refused unless the signature is right, its timestamp is within ``FRESH_FOR`` of now, and its
token was not seen before (``SeenTokens``); only then is the message itself read.

A message to a reply address (``mail.reply_address``) threads into its ticket as the customer's reply,
reopening it if it was pending or solved; a closed ticket gets a follow-up ticket instead. The reply
address, not the From header, says which ticket: it cannot be guessed. A message to any other address
of the domain (or with a reply address that does not verify) opens a new ticket on the e-mail channel.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from app.domain.ids import SaleorApiUrl
from app.domain.support.model import Channel
from app.domain.support.ticket import (
    CustomerReplied,
    Notification,
    Requester,
    Status,
    Ticket,
    open_follow_up,
    open_ticket,
)
from app.services.input_problems import InputProblem
from app.services.ports import Clock, SettingsStore, SlaTicketStore
from app.services.support.desk import act, add_ticket
from app.services.support.mail import ticket_of_reply_address

FRESH_FOR = timedelta(minutes=10)
MAX_TEXT_CHARS = 50_000
MAX_SUBJECT_CHARS = 500
NO_SUBJECT = "(no subject)"


class SeenTokens:
    """Mailgun tokens already taken, for as long as their timestamps are fresh (after which the timestamp
    alone refuses them). In this process's memory: a replay to another web process is not caught."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}

    def first_time(self, token: str, timestamp: datetime) -> bool:
        """True, and the token remembered, unless it was seen while fresh."""
        if token in self._until:
            return False
        self._until[token] = timestamp + FRESH_FOR
        return True

    def forget_stale(self, now: datetime) -> None:
        self._until = {token: until for token, until in self._until.items() if until > now}


@dataclass(frozen=True, slots=True)
class MailgunRefusal:
    reason: str
    replayed: bool = False  # signed right, but taken already


def mailgun_refusal(
    fields: Mapping[str, str], signing_key: str, *, seen: SeenTokens, now: datetime
) -> MailgunRefusal | None:
    """Why this post is not Mailgun's (or was taken already); None when it is, its token now taken."""
    timestamp, token, signature = (fields.get(name, "") for name in ("timestamp", "token", "signature"))
    if not (timestamp and token and signature):
        return MailgunRefusal("timestamp, token and signature are required")
    expected = hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        return MailgunRefusal("the signature does not match the store's inbound signing key")
    if not (timestamp.isascii() and timestamp.isdigit()):
        return MailgunRefusal("the timestamp is not a number of seconds")
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(now - signed_at) > FRESH_FOR:
        return MailgunRefusal(f"signed at {signed_at:%Y-%m-%d %H:%M:%S} UTC, more than {FRESH_FOR} from now")
    seen.forget_stale(now)
    if not seen.first_time(token, signed_at):
        return MailgunRefusal("this post was received already (its token was used)", replayed=True)
    return None


@dataclass(frozen=True, slots=True)
class InboundMail:
    recipient: str
    sender: str
    subject: str
    text: str


def read_mailgun_message(fields: Mapping[str, str]) -> InboundMail | tuple[InputProblem, ...]:
    """The message in a verified post: the reply without the quoted thread when Mailgun could separate them."""
    problems = []
    recipient = fields.get("recipient", "").strip()
    if not recipient:
        problems.append(InputProblem(None, "recipient", "", "the recipient is required"))
    _, sender = parseaddr(fields.get("from", "") or fields.get("sender", ""))
    try:
        Requester(sender)
    except ValueError:
        problems.append(InputProblem(None, "from", sender[:40], "the sender has no e-mail address"))
    subject = " ".join(fields.get("subject", "").split())
    if len(subject) > MAX_SUBJECT_CHARS:
        problems.append(
            InputProblem(None, "subject", subject[:40], f"a subject has at most {MAX_SUBJECT_CHARS} characters")
        )
    text = (fields.get("stripped-text") or fields.get("body-plain") or "").strip()
    if not text:
        problems.append(InputProblem(None, "body-plain", "", "the message has no text"))
    elif len(text) > MAX_TEXT_CHARS:
        problems.append(InputProblem(None, "body-plain", "", f"a message has at most {MAX_TEXT_CHARS} characters"))
    if problems:
        return tuple(problems)
    return InboundMail(recipient, sender, subject or NO_SUBJECT, text)


@dataclass(frozen=True, slots=True)
class MailThreaded:
    """The customer's reply, in ``ticket``; ``follow_up`` when it had to open a follow-up of a closed one.
    ``notifications``: whom to tell (the assignee hears the customer wrote)."""

    ticket: Ticket
    follow_up: bool = False
    notifications: tuple[Notification, ...] = ()


@dataclass(frozen=True, slots=True)
class MailOpened:
    ticket: Ticket


async def receive_mail(
    url: SaleorApiUrl,
    mail: InboundMail,
    *,
    tickets: SlaTicketStore,
    settings: SettingsStore,
    secret: str,
    clock: Clock,
) -> MailThreaded | MailOpened:
    now = clock.now()
    ticket_id = ticket_of_reply_address(secret, url, mail.recipient)
    ticket = None if ticket_id is None else await tickets.get(url, ticket_id)
    if ticket is None:
        opened = open_ticket(
            await tickets.next_id(url),
            requester=Requester(mail.sender),
            subject=mail.subject,
            description=mail.text,
            channel=Channel.EMAIL,
            now=now,
        )
        await add_ticket(tickets, settings, url, opened, now)
        return MailOpened(opened)
    if ticket.status is Status.CLOSED:
        follow_up = open_follow_up(ticket, await tickets.next_id(url), body=mail.text, now=now)
        await add_ticket(tickets, settings, url, follow_up, now)
        return MailThreaded(follow_up, follow_up=True)
    # A clock behind the ticket's last change (another process's) must not refuse the customer's answer.
    at = max(now, ticket.updated_at or now)
    replied = await act(tickets, settings, url, ticket.id, CustomerReplied(mail.text), at)
    return MailThreaded(replied.ticket, notifications=replied.notifications)
