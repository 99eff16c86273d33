"""Support's e-mail: each store's SMTP server, the replies that go out through it, and the reply address
that threads the customer's answer back into its ticket.

The reply address is ``support+<ticket>-<mac>@<reply domain>``: ``mac`` is an HMAC of the store and the
ticket id under the app's secret key, so an answer finds its ticket with no table of addresses, and
nobody can write into a ticket by guessing its number.

A reply's e-mail is kept as an effect in the transaction that records the reply (``queue_reply``), as is an
assignee's notice (``queue_notices``: the ticket is theirs now, or its customer wrote), and sent by the
effects dispatcher (``deliver_mail``), never inside a transaction: a slow or failing mail
server cannot hold or roll back the reply, and a mail that does not go out is retried with the
dispatcher's backoff and shown with the other failed effects on the Order processing page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from email.utils import formataddr, make_msgid
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.domain.ids import AppId, SaleorApiUrl, SaleorId
from app.domain.support.ticket import Message, Notification, NotificationKind, Requester, Ticket, TicketId
from app.security import SecretCipher, SecretDecryptionError
from app.services.input_problems import InputProblem
from app.services.pipeline import EffectKind, EffectOutbox, NewEffect
from app.services.ports import Clock, MailNotSent, MailSender, SettingsChange, SettingsStore, SmtpServer
from app.services.settings import SECTIONS, read_settings
from app.services.support.settings import SupportSettings

SECTION = "support_mail"
# A reply's effect is ordered per ticket, not per order: its "order" is this prefix and the ticket id.
TICKET_KEY = "ticket:"
REPLY_MAILBOX = "support"
_MAC_HEX = 20  # 80 bits of the HMAC: beyond guessing, short enough for a mailbox name
_REPLY_ADDRESS = re.compile(
    rf"^{REPLY_MAILBOX}\+(?P<ticket>[0-9A-Za-z]+)-(?P<mac>[0-9a-fA-F]{{{_MAC_HEX}}})@(?P<domain>.+)$"
)
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _email(value: str) -> str:
    value = value.strip()
    Requester(value)  # the one check of an address the ticket's requester gets too
    if any(character in value for character in '\r\n<>,;" '):
        raise ValueError(f"{value!r} is not a plain e-mail address")
    return value


class SupportMailSettings(BaseModel):
    """A store's support mail as kept: the secrets encrypted with the app's key, never in clear."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    smtp_host: str = Field(min_length=1, max_length=253, title="SMTP server")
    smtp_port: int = Field(default=587, ge=1, le=65535, title="Port")
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", title="Security", description="STARTTLS (usually port 587), TLS (465), or none."
    )
    username: str = Field(default="", max_length=320)
    password_encrypted: str = ""
    from_address: str = Field(title="From", description="The address replies come from, e.g. help@shop.example.")
    from_name: str = Field(default="", max_length=100)
    reply_domain: str = Field(
        title="Reply domain",
        description="Customers answer to support+…@ this domain; its inbound mail is posted to the app.",
    )
    inbound_signing_key_encrypted: str = ""

    @field_validator("from_address")
    @classmethod
    def _plain_address(cls, value: str) -> str:
        return _email(value)

    @field_validator("reply_domain", "smtp_host")
    @classmethod
    def _a_domain(cls, value: str) -> str:
        value = value.strip().lower()
        if not _DOMAIN.match(value) and value not in ("localhost", "127.0.0.1"):
            raise ValueError(f"{value!r} is not a domain name")
        return value

    @field_validator("from_name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())


# What the settings form sends: the secrets in clear, an empty one keeping what is kept.
_SECRET_FIELDS = {"password": "password_encrypted", "inbound_signing_key": "inbound_signing_key_encrypted"}


async def mail_settings(store: SettingsStore, url: SaleorApiUrl) -> SupportMailSettings | None:
    """The store's support mail settings; None until they are set."""
    stored = await store.get(url, SECTION)
    return None if stored is None else SupportMailSettings.model_validate(stored)


async def change_mail_settings(
    store: SettingsStore,
    url: SaleorApiUrl,
    submitted: Mapping[str, object],
    *,
    cipher: SecretCipher,
    changed_by: str,
    clock: Clock,
) -> SupportMailSettings | tuple[InputProblem, ...]:
    """Validate and keep the section whole; secrets are encrypted, and one left empty keeps the kept one."""
    before = await mail_settings(store, url)
    values: dict[str, object] = {}
    problems: list[InputProblem] = []
    for name, value in submitted.items():
        if name in _SECRET_FIELDS:
            if not isinstance(value, str):
                problems.append(InputProblem(None, name, "", "must be text"))
            elif value:
                values[_SECRET_FIELDS[name]] = cipher.encrypt(value)
            elif before is not None:
                values[_SECRET_FIELDS[name]] = getattr(before, _SECRET_FIELDS[name])
        elif name in SupportMailSettings.model_fields and name not in _SECRET_FIELDS.values():
            values[name] = value
        else:
            problems.append(InputProblem(None, name, "", "is not a support mail setting"))
    try:
        settings = SupportMailSettings.model_validate(values)
    except ValidationError as exc:
        problems += [
            InputProblem(
                None, str(error["loc"][0]) if error["loc"] else None, "", error["msg"].removeprefix("Value error, ")
            )
            for error in exc.errors()
        ]
    if problems:
        return tuple(problems)
    if settings != before:
        await store.save(
            url,
            SettingsChange(
                section=SECTION,
                changed_at=clock.now(),
                changed_by=changed_by,
                before=json.dumps(before.model_dump(mode="json") if before else {}, sort_keys=True),
                after=json.dumps(settings.model_dump(mode="json"), sort_keys=True),
            ),
        )
    return settings


def smtp_server(settings: SupportMailSettings, cipher: SecretCipher) -> SmtpServer:
    """Where to send, with the password decrypted (``SecretDecryptionError`` if the app's key changed)."""
    return SmtpServer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.security,
        username=settings.username or None,
        password=cipher.decrypt(settings.password_encrypted) if settings.password_encrypted else None,
    )


def _mac(secret: str, url: SaleorApiUrl, ticket_id: TicketId) -> str:
    message = f"saleor-ops/support-reply/v1\n{url}\n{ticket_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:_MAC_HEX]


def reply_address(secret: str, url: SaleorApiUrl, ticket_id: TicketId, domain: str) -> str:
    if not ticket_id.isalnum() or not ticket_id.isascii():
        raise ValueError(f"a reply address carries a ticket id of letters and digits, not {ticket_id!r}")
    return f"{REPLY_MAILBOX}+{ticket_id}-{_mac(secret, url, ticket_id)}@{domain}"


def ticket_of_reply_address(secret: str, url: SaleorApiUrl, address: str) -> TicketId | None:
    """The ticket a reply address was made for, by this store; None for any other address."""
    match = _REPLY_ADDRESS.match(address.strip())
    if match is None:
        return None
    ticket_id = TicketId(match["ticket"])
    # Mail systems may change the case of an address; the MAC is compared as written in lower case.
    if not hmac.compare_digest(_mac(secret, url, ticket_id), match["mac"].lower()):
        return None
    return ticket_id


def _one_line(text: str) -> str:
    return " ".join(text.split())


def compose_reply(ticket: Ticket, reply: Message, *, settings: SupportMailSettings, reply_to: str) -> EmailMessage:
    """The e-mail of an agent's public reply to the ticket's requester."""
    message = EmailMessage()
    message["From"] = formataddr((settings.from_name, settings.from_address))
    message["To"] = ticket.requester.email
    message["Reply-To"] = reply_to
    subject = _one_line(ticket.subject)
    message["Subject"] = f"[#{ticket.id}] {subject}"
    message["Message-ID"] = make_msgid(domain=settings.reply_domain)
    message.set_content(reply.body)
    return message


@dataclass(frozen=True, slots=True)
class ReplyQueued:
    message_id: str
    queued: bool  # False: this reply was queued before (the same decision run again)


@dataclass(frozen=True, slots=True)
class ReplyNotQueued:
    reason: str


def reply_effect_key(ticket: Ticket, reply: Message) -> str:
    """One e-mail per reply: the reply's place in its ticket's thread names it."""
    return f"support-reply:{ticket.id}:{ticket.thread.index(reply)}"


async def queue_reply(
    url: SaleorApiUrl,
    ticket: Ticket,
    reply: Message,
    *,
    outbox: EffectOutbox,
    settings: SettingsStore,
    secret: str,
    now: datetime,
) -> ReplyQueued | ReplyNotQueued:
    """Keep the e-mail of ``reply`` (an agent's public reply in ``ticket``) as an effect, in the same
    transaction as the reply, for the dispatcher to send (``deliver_reply``); never sent from here.
    Not queued, with the reason for the agent, when the store has no SMTP server set."""
    if not reply.public or reply not in ticket.thread:
        raise ValueError("only a public reply of this ticket is e-mailed")
    configured = await mail_settings(settings, url)
    if configured is None:
        return ReplyNotQueued("support mail has no SMTP server set (Support · E-mail)")
    message = compose_reply(
        ticket, reply, settings=configured, reply_to=reply_address(secret, url, ticket.id, configured.reply_domain)
    )
    effect = NewEffect(SaleorId(f"{TICKET_KEY}{ticket.id}"), EffectKind.SUPPORT_REPLY, {"mail": message.as_string()})
    queued = await outbox.add(url, reply_effect_key(ticket, reply), effect, now)
    return ReplyQueued(str(message["Message-ID"]), queued)


# What an assignee hears about, and the line their e-mail opens with.
_NOTICES: dict[NotificationKind, str] = {
    NotificationKind.ASSIGNED: "Ticket #{id} is assigned to you.",
    NotificationKind.CUSTOMER_REPLIED: "{requester} wrote in ticket #{id}, assigned to you:",
    NotificationKind.CAUSE_CLEARED: "The reason the store opened ticket #{id} is over; its conversation is yours:",
}


def dashboard_address(configured: str | None, url: SaleorApiUrl) -> str:
    """Where the team opens the Saleor dashboard: as set, or Saleor's default (the API's host, /dashboard/)."""
    if configured:
        return configured
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/dashboard/", "", ""))


def ticket_path(app_id: AppId, ticket_id: TicketId) -> str:
    """The ticket's dashboard path: the app's Support page, which opens the ticket its query names (the
    dashboard hands its own query to the app's page)."""
    return f"/apps/{quote(app_id, safe='')}/app/support?ticket={quote(ticket_id, safe='')}"


def ticket_link(dashboard: str, app_id: AppId, ticket_id: TicketId) -> str:
    """The ticket in the dashboard, as a link for an e-mail."""
    return dashboard.rstrip("/") + ticket_path(app_id, ticket_id)


def compose_notice(
    ticket: Ticket, notification: Notification, *, settings: SupportMailSettings, link: str
) -> EmailMessage:
    """The e-mail telling an assignee about their ticket: no reply address (an answer must not reach the
    customer's thread), marked automatic so that mailboxes do not answer it."""
    message = EmailMessage()
    message["From"] = formataddr((settings.from_name, settings.from_address))
    message["To"] = notification.recipient
    message["Subject"] = f"[#{ticket.id}] {_one_line(ticket.subject)}"
    message["Message-ID"] = make_msgid(domain=settings.reply_domain)
    message["Auto-Submitted"] = "auto-generated"
    lines = [_NOTICES[notification.kind].format(id=ticket.id, requester=ticket.requester.email), ""]
    if notification.message is not None:
        lines += [notification.message.body, ""]
    lines.append(f"Open it in the Saleor dashboard: {link}")
    message.set_content("\n".join(lines))
    return message


async def queue_notices(
    url: SaleorApiUrl,
    ticket: Ticket,
    notifications: Sequence[Notification],
    *,
    outbox: EffectOutbox,
    settings: SettingsStore,
    app_id: AppId,
    now: datetime,
    actor: str | None = None,
) -> ReplyNotQueued | None:
    """Keep the e-mail of each notification to the ticket's assignee as an effect, in the transaction of the
    change that caused it; none for what ``actor`` did themselves, none when the store's Support settings
    turn them off. The reason, when some could not be queued because support mail is not set."""
    wanted = [n for n in notifications if n.kind in _NOTICES and n.recipient != actor]
    if not wanted:
        return None
    support = await read_settings(settings, url, SECTIONS["support"])
    assert isinstance(support, SupportSettings)
    if not support.notify_assignees:
        return None
    configured = await mail_settings(settings, url)
    if configured is None:
        return ReplyNotQueued("support mail has no SMTP server set (Support · E-mail)")
    link = ticket_link(dashboard_address(support.dashboard_url, url), app_id, ticket.id)
    changed = (ticket.updated_at or ticket.created_at).isoformat()
    for notification in wanted:
        mail = compose_notice(ticket, notification, settings=configured, link=link)
        effect = NewEffect(SaleorId(f"{TICKET_KEY}{ticket.id}"), EffectKind.SUPPORT_NOTICE, {"mail": mail.as_string()})
        # One e-mail per change and recipient: the same change decided again names the same effect.
        key = f"support-notice:{ticket.id}:{notification.kind.value}:{notification.recipient}:{changed}"
        await outbox.add(url, key, effect, now)
    return None


async def deliver_mail(
    payload: Mapping[str, Any], configured: SupportMailSettings | None, *, sender: MailSender, cipher: SecretCipher
) -> str:
    """Send a queued reply or notice through the store's SMTP server as it is set now (a corrected password
    applies to mail waiting for a retry); ``MailNotSent`` when it did not go out."""
    if configured is None:
        raise MailNotSent("support mail has no SMTP server set (Support · E-mail)")
    message = message_from_string(payload["mail"], policy=default)
    assert isinstance(message, EmailMessage), "the default policy parses into EmailMessage"
    await send_mail(message, configured, sender=sender, cipher=cipher)
    return f"e-mailed to {message['To']}"


async def send_mail(
    message: EmailMessage, configured: SupportMailSettings, *, sender: MailSender, cipher: SecretCipher
) -> None:
    """Send through the store's SMTP server (support replies, routing's purchase orders); ``MailNotSent``
    when it did not go out."""
    try:
        server = smtp_server(configured, cipher)
    except SecretDecryptionError:
        raise MailNotSent(
            "the SMTP password no longer decrypts (the app's secret key changed); enter it again"
        ) from None
    await sender.send(server, message)
