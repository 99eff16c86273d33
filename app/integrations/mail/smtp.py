"""Support's outgoing mail through a store's SMTP server, with aiosmtplib (asyncio, no thread held)."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import aiosmtplib

from app.services.ports import MailNotSent, SmtpServer


class AiosmtplibMailSender:
    """One connection per message: replies are sent one at a time, minutes apart, so none is kept open.

    ``tls_context`` replaces the system's trusted certificates (a test server's own, say); certificates
    are always verified."""

    def __init__(self, *, timeout_seconds: float = 20.0, tls_context: ssl.SSLContext | None = None) -> None:
        self._timeout = timeout_seconds
        self._tls_context = tls_context

    async def send(self, server: SmtpServer, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.security == "tls",
                # False, not None: a server set up without security is never upgraded behind the store's back.
                start_tls=server.security == "starttls",
                timeout=self._timeout,
                tls_context=self._tls_context,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:  # TLS and timeouts included
            raise MailNotSent(f"{server.host}:{server.port} did not take the message: {exc}") from exc
