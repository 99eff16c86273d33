"""Long-lived collaborators built once per process in ``create_app``'s lifespan."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.engine import create_engine, create_session_factory
from app.db.repositories.installations import RecentInstallations, SqlInstallationStore
from app.db.repositories.order_events import DeliveryBatcher, delivery_writer
from app.db.repositories.routing import SqlRoutingSources
from app.db.repositories.shipping_carriers import StoresWithoutCarrierAccounts
from app.domain.ids import SaleorApiUrl
from app.domain.installation import Installation
from app.graphql.client import SaleorClientFactory
from app.integrations.karrio.client import KarrioCalls
from app.integrations.mail.smtp import AiosmtplibMailSender
from app.saleor.jwks import JwksFetcher
from app.security import SecretCipher
from app.services.pipeline import EffectOutbox, OutboxGateway
from app.services.ports import Clock, MailSender, RoutingSources, SystemClock
from app.services.shipping.quoting import LiveQuoteCache, QuotingCache
from app.services.support.inbound_mail import SeenTokens
from app.services.support.rate_limit import SenderLimits, customer_request_limits


def _skip_sniffio_lookups() -> None:
    """httpcore imports ``sniffio`` for every lock it makes (several per request); when it is not
    installed each attempt searches the whole import path again. Marking it absent once makes the
    attempt fail at once, and httpcore then assumes asyncio, as it would have."""
    if importlib.util.find_spec("sniffio") is None:
        sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    cipher: SecretCipher
    jwks: JwksFetcher
    saleor: SaleorClientFactory
    clock: Clock
    # The webhook path's per-process state: installations read once per interval, and deliveries
    # stored in batches, each answered after its commit.
    installations: RecentInstallations
    deliveries: DeliveryBatcher
    # Dashboards refused to frame a page, each logged once per process (the browser tells only its console).
    refused_frame_origins: set[str] = field(default_factory=set)
    # Tells this process's worker that a delivery was stored (``app.main`` connects it).
    wake_workers: Callable[[], None] = field(default=lambda: None)
    # The worker threads live carrier rates are fetched in (Karrio blocks), and the carriers' tokens.
    carrier_calls: KarrioCalls = field(default_factory=KarrioCalls)
    # The carriers' answers at checkout, shared by this process's requests (see ``LiveQuoteCache``).
    live_quotes: LiveQuoteCache = field(default_factory=LiveQuoteCache)
    # What checkout derives from each store's shipping settings and tables (see ``QuotingCache``).
    quoting: QuotingCache = field(default_factory=QuotingCache)
    # Customers' support requests, counted per sender address and per e-mail in this process.
    support_senders: SenderLimits = field(default_factory=customer_request_limits)
    # Mailgun tokens of inbound mail taken by this process, so a replayed post is refused.
    support_mail_tokens: SeenTokens = field(default_factory=SeenTokens)
    # Support's replies, out through each store's SMTP server.
    mail_sender: MailSender = field(default_factory=AiosmtplibMailSender)
    # Stores found with no carrier account in the last second: their checkouts ask no carrier and open
    # no session to find that out (see ``StoresWithoutCarrierAccounts``).
    stores_without_carrier_accounts: StoresWithoutCarrierAccounts = field(default_factory=StoresWithoutCarrierAccounts)
    # A store's routing sources in a session (``SqlRoutingSources`` unless a test gives others).
    routing_sources: Callable[[AsyncSession], RoutingSources] = field(init=False)

    def __post_init__(self) -> None:
        self.routing_sources = partial(SqlRoutingSources, cipher=self.cipher)

    @classmethod
    def build(cls, settings: Settings, *, http: httpx.AsyncClient | None = None, clock: Clock | None = None) -> Runtime:
        # What a worker holds at once: each processing loop's batch and fraud's short transaction beside it,
        # the dispatcher's and housekeeping's. Fewer kept open, a connection was opened and closed per batch.
        engine = create_engine(settings.database_url, connections=2 * settings.worker_concurrency + 2)
        sessions = create_session_factory(engine)
        _skip_sniffio_lookups()
        http = http or httpx.AsyncClient(
            timeout=settings.saleor_timeout_seconds,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            headers={"User-Agent": "saleor-ops"},
        )
        cipher = SecretCipher(settings.resolve_secret_key())
        clock = clock or SystemClock()
        runtime = cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            http=http,
            cipher=cipher,
            jwks=JwksFetcher(
                http,
                refetch_interval_seconds=settings.jwks_refetch_interval_seconds,
                timeout_seconds=settings.saleor_timeout_seconds,
            ),
            saleor=SaleorClientFactory(
                http,
                timeout_seconds=settings.saleor_timeout_seconds,
                max_attempts=settings.saleor_max_attempts,
                backoff_seconds=settings.saleor_backoff_seconds,
            ),
            clock=clock,
            installations=RecentInstallations(sessions, cipher, ttl_seconds=settings.installation_cache_seconds),
            deliveries=DeliveryBatcher(delivery_writer(engine), on_recorded=lambda: runtime.wake_workers()),
        )
        runtime.saleor.on_unauthorized = runtime.mark_revoked
        return runtime

    def deciding(self, installation: Installation, effects: EffectOutbox, cause: str) -> OutboxGateway:
        """The store's API for work that decides: it reads from Saleor at once, and what it writes is
        stored as effects of ``cause`` in the caller's transaction, for the dispatcher to deliver."""
        live = self.saleor.gateway(installation.saleor_api_url, installation.token)
        return OutboxGateway(live, effects, installation.saleor_api_url, cause, self.clock.now())

    async def mark_revoked(self, saleor_api_url: SaleorApiUrl) -> None:
        """Saleor said 401 to our token: the app was removed (the only sign ≤3.23 gives).

        Committed in its own transaction so the caller's rollback does not undo it.
        """
        async with self.sessions.begin() as session:
            await SqlInstallationStore(session, self.cipher).mark_revoked(saleor_api_url, self.clock.now())
        self.installations.forget(saleor_api_url)

    async def close(self) -> None:
        await self.quoting.close()
        await self.http.aclose()
        await self.deliveries.close()
        await self.engine.dispose()
        self.carrier_calls.close()
