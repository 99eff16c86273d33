"""Support's mail through a real SMTP conversation: aiosmtpd on this machine, plain and with STARTTLS."""

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.integrations.mail.smtp import AiosmtplibMailSender
from app.services.ports import MailNotSent, SmtpServer


@dataclass
class Mailbox:
    """What the local server took: each message as (envelope sender, recipients, parsed message)."""

    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        message = BytesParser(policy=default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"help", b"s3cret")
    return AuthResult(success=ok)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture(autouse=True)
async def transports_finish_closing() -> AsyncIterator[None]:
    """A transport closed by a failed send releases its socket a loop turn later: let those turns run
    before the test's event loop is closed, or the socket is left for the garbage collector to warn
    about in whichever test comes next."""
    yield
    await asyncio.sleep(0.05)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def plain_server(mailbox: Mailbox) -> Iterator[int]:
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, authenticator=check_login, auth_require_tls=False)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def starttls_server(mailbox: Mailbox, certificate: tuple[Path, Path]) -> Iterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="localhost",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=check_login,
        auth_require_tls=True,
    )
    controller.start()
    yield port
    controller.stop()


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "help@shop.example"
    mail["To"] = "ada@example.com"
    mail["Reply-To"] = "support+1042-0123456789abcdef0123@mail.shop.example"
    mail["Subject"] = "[#1042] Where is my parcel?"
    mail.set_content("It left today.")
    return mail


class TestAiosmtplibMailSender:
    async def test_hands_the_message_to_the_server_after_logging_in(self, plain_server: int, mailbox: Mailbox) -> None:
        server = SmtpServer("127.0.0.1", plain_server, "none", "help", "s3cret")
        await AiosmtplibMailSender(timeout_seconds=5).send(server, message())
        ((sender, recipients, taken),) = mailbox.received
        assert (sender, recipients) == ("help@shop.example", ["ada@example.com"])
        assert taken["Reply-To"] == "support+1042-0123456789abcdef0123@mail.shop.example"
        assert taken.get_content().strip() == "It left today."

    async def test_a_wrong_password_is_mail_not_sent(self, plain_server: int, mailbox: Mailbox) -> None:
        server = SmtpServer("127.0.0.1", plain_server, "none", "help", "wrong")
        # aiosmtplib tries the server's other login mechanism after the refusal and waits for an answer.
        with pytest.raises(MailNotSent, match=f"127.0.0.1:{plain_server} did not take the message"):
            await AiosmtplibMailSender(timeout_seconds=1).send(server, message())
        assert mailbox.received == []

    async def test_starttls_encrypts_before_the_password_goes(
        self, starttls_server: int, mailbox: Mailbox, certificate: tuple[Path, Path]
    ) -> None:
        trusted = ssl.create_default_context(cafile=str(certificate[0]))
        server = SmtpServer("localhost", starttls_server, "starttls", "help", "s3cret")
        await AiosmtplibMailSender(timeout_seconds=5, tls_context=trusted).send(server, message())
        assert len(mailbox.received) == 1

    async def test_an_untrusted_certificate_is_refused(self, starttls_server: int, mailbox: Mailbox) -> None:
        server = SmtpServer("localhost", starttls_server, "starttls", "help", "s3cret")
        with pytest.raises(MailNotSent):
            await AiosmtplibMailSender(timeout_seconds=5).send(server, message())
        assert mailbox.received == []

    async def test_a_server_that_does_not_answer_is_mail_not_sent(self) -> None:
        server = SmtpServer("127.0.0.1", free_port(), "none", None, None)
        with pytest.raises(MailNotSent):
            await AiosmtplibMailSender(timeout_seconds=5).send(server, message())
