"""FastAPI providers and their ``Annotated`` aliases; the shell that wires adapters to requests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories.api_keys import SqlApiKeyStore
from app.db.repositories.fraud import SqlFraudRepository
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.inventory_reports import SqlInventoryReports
from app.db.repositories.order_events import SqlOrderEventLog
from app.db.repositories.pipeline import SqlDeliveryQueue, SqlEffectOutbox
from app.db.repositories.pipeline_reports import SqlPipelineReports
from app.db.repositories.receipts import SqlReceiptLog
from app.db.repositories.routing import SqlRoutingSources
from app.db.repositories.routing_plans import SqlRoutingPlans
from app.db.repositories.saleor_names import SqlSaleorNames
from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.shipping import SqlRateTableStore, SqlShippingRevisions
from app.db.repositories.shipping_carriers import CarrierAccountsOnTheirOwnSession, SqlCarrierAccounts
from app.db.repositories.shipping_decisions import SqlShippingDecisions
from app.db.repositories.support import SqlTicketStore
from app.db.repositories.support_macros import SqlMacroStore
from app.db.repositories.support_reports import SqlSupportReports
from app.domain.ids import InvalidSaleorApiUrl, SaleorApiUrl, saleor_api_url
from app.domain.installation import Installation
from app.errors import NotInstalledError, SignatureError
from app.integrations.karrio.client import KarrioCarrierQuotes
from app.runtime import Runtime
from app.saleor import headers
from app.saleor.dashboard_token import StaffUser, verify_dashboard_token
from app.saleor.keyring import verify_with_rotation
from app.saleor.webhook_auth import VerifiedWebhook, verify_webhook
from app.services.api_keys import ApiKey, authenticate_api_key
from app.services.ports import Clock, OrderLookup, RoutingSources, ShippingRevisions
from app.services.routing.planning import OriginQuotes, ShippingOriginQuotes
from app.services.shipping import quoting
from app.services.shipping.model import Cart, CheckoutOption
from app.services.shipping.quoting import ShippingQuoter


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_clock(runtime: RuntimeDep) -> Clock:
    return runtime.clock


ClockDep = Annotated[Clock, Depends(get_clock)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the handler returns, rolled back if it raises.

    ``scope="function"`` commits before the response is sent, so Saleor never
    gets a 2xx for work that did not reach the database.
    """
    async with runtime.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_installation_store(session: SessionDep, runtime: RuntimeDep) -> SqlInstallationStore:
    return SqlInstallationStore(session, runtime.cipher)


InstallationStoreDep = Annotated[SqlInstallationStore, Depends(get_installation_store)]


def order_event_log(session: AsyncSession) -> SqlOrderEventLog:
    return SqlOrderEventLog(session)


async def get_order_event_log(session: SessionDep) -> SqlOrderEventLog:
    return order_event_log(session)


OrderEventLogDep = Annotated[SqlOrderEventLog, Depends(get_order_event_log)]


async def get_fraud_repository(session: SessionDep) -> SqlFraudRepository:
    return SqlFraudRepository(session)


FraudRepositoryDep = Annotated[SqlFraudRepository, Depends(get_fraud_repository)]


async def get_inventory_ledger(session: SessionDep) -> SqlInventoryLedger:
    return SqlInventoryLedger(session)


InventoryLedgerDep = Annotated[SqlInventoryLedger, Depends(get_inventory_ledger)]


async def get_saleor_names(session: SessionDep) -> SqlSaleorNames:
    return SqlSaleorNames(session)


SaleorNamesDep = Annotated[SqlSaleorNames, Depends(get_saleor_names)]


async def get_shipping_decisions(session: SessionDep) -> SqlShippingDecisions:
    return SqlShippingDecisions(session)


ShippingDecisionsDep = Annotated[SqlShippingDecisions, Depends(get_shipping_decisions)]


async def get_ticket_store(session: SessionDep) -> SqlTicketStore:
    return SqlTicketStore(session)


TicketStoreDep = Annotated[SqlTicketStore, Depends(get_ticket_store)]


async def get_macro_store(session: SessionDep) -> SqlMacroStore:
    return SqlMacroStore(session)


MacroStoreDep = Annotated[SqlMacroStore, Depends(get_macro_store)]


async def get_support_reports(session: SessionDep) -> SqlSupportReports:
    return SqlSupportReports(session)


SupportReportsDep = Annotated[SqlSupportReports, Depends(get_support_reports)]


async def get_inventory_reports(session: SessionDep) -> SqlInventoryReports:
    return SqlInventoryReports(session)


InventoryReportsDep = Annotated[SqlInventoryReports, Depends(get_inventory_reports)]


async def get_settings_store(session: SessionDep) -> SqlSettingsStore:
    return SqlSettingsStore(session)


SettingsStoreDep = Annotated[SqlSettingsStore, Depends(get_settings_store)]


async def get_api_key_store(session: SessionDep) -> SqlApiKeyStore:
    return SqlApiKeyStore(session)


ApiKeyStoreDep = Annotated[SqlApiKeyStore, Depends(get_api_key_store)]


async def get_receipt_log(session: SessionDep) -> SqlReceiptLog:
    return SqlReceiptLog(session)


ReceiptLogDep = Annotated[SqlReceiptLog, Depends(get_receipt_log)]


async def get_effect_outbox(session: SessionDep) -> SqlEffectOutbox:
    return SqlEffectOutbox(session)


EffectOutboxDep = Annotated[SqlEffectOutbox, Depends(get_effect_outbox)]


async def get_delivery_queue(session: SessionDep) -> SqlDeliveryQueue:
    return SqlDeliveryQueue(session)


DeliveryQueueDep = Annotated[SqlDeliveryQueue, Depends(get_delivery_queue)]


async def get_pipeline_reports(session: SessionDep) -> SqlPipelineReports:
    return SqlPipelineReports(session)


PipelineReportsDep = Annotated[SqlPipelineReports, Depends(get_pipeline_reports)]


async def get_rate_table_store(session: SessionDep) -> SqlRateTableStore:
    return SqlRateTableStore(session)


RateTableStoreDep = Annotated[SqlRateTableStore, Depends(get_rate_table_store)]


@dataclass(frozen=True, slots=True)
class ApiCaller:
    installation: Installation
    key: ApiKey


async def get_api_caller(
    request: Request, keys: ApiKeyStoreDep, store: InstallationStoreDep, runtime: RuntimeDep
) -> ApiCaller:
    """The store behind a call to the app's HTTP API, from its ``Authorization: Bearer <API key>``."""
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise SignatureError("send the store's API key as 'Authorization: Bearer <key>'")
    key = await authenticate_api_key(keys, presented.strip(), now=runtime.clock.now())
    installation = None if key is None else await store.get(key.saleor_api_url)
    if key is None or installation is None:
        raise SignatureError("this API key is unknown or was revoked")
    return ApiCaller(installation, key)


ApiCallerDep = Annotated[ApiCaller, Depends(get_api_caller)]


def verified_webhook(event: str, *, accept_revoked: bool = False) -> Callable[..., Awaitable[VerifiedWebhook]]:
    """A dependency that admits only a correctly signed delivery of ``event`` (lower_snake) from a store
    whose token is not revoked (``accept_revoked`` admits those too)."""

    async def dependency(request: Request, store: InstallationStoreDep, runtime: RuntimeDep) -> VerifiedWebhook:
        return await verify_webhook(
            request.headers,
            await request.body(),
            expected_event=event,
            store=store,
            fetcher=runtime.jwks,
            now=runtime.clock.now(),
            accept_revoked=accept_revoked,
        )

    return dependency


@dataclass(frozen=True, slots=True)
class DashboardContext:
    installation: Installation
    user: StaffUser


async def get_dashboard_context(request: Request, store: InstallationStoreDep, runtime: RuntimeDep) -> DashboardContext:
    """The staff user behind an AppBridge call, from the JWT the dashboard issued (PROTOCOL.md e.4)."""
    token = request.headers.get(headers.AUTHORIZATION_BEARER)
    api_url_header = request.headers.get(headers.SALEOR_API_URL)
    if not token or not api_url_header:
        raise SignatureError("Missing authorization-bearer or saleor-api-url header.")
    try:
        api_url = saleor_api_url(api_url_header)
    except InvalidSaleorApiUrl as exc:
        raise SignatureError(str(exc)) from exc
    installation = await store.get(api_url)
    if installation is None:
        raise NotInstalledError("This Saleor has not installed the app.")
    now = runtime.clock.now()
    user = await verify_with_rotation(
        installation,
        lambda keys: verify_dashboard_token(token, keys, app_id=installation.app_id, now=now),
        fetcher=runtime.jwks,
        store=store,
        now=now,
    )
    return DashboardContext(installation=installation, user=user)


DashboardContextDep = Annotated[DashboardContext, Depends(get_dashboard_context)]


def require_permissions(*permissions: str) -> Callable[[DashboardContext], Awaitable[DashboardContext]]:
    """``Depends(require_permissions("MANAGE_ORDERS"))``: 403 unless the staff user holds them all."""

    # Dependencies are async so FastAPI does not hop to a worker thread for each of them.
    async def dependency(context: DashboardContextDep) -> DashboardContext:
        context.user.require(*permissions)
        return context

    return dependency


async def get_carrier_accounts(session: SessionDep, runtime: RuntimeDep) -> SqlCarrierAccounts:
    return SqlCarrierAccounts(session, runtime.cipher)


CarrierAccountsDep = Annotated[SqlCarrierAccounts, Depends(get_carrier_accounts)]


async def get_routing_source_store(session: SessionDep, runtime: RuntimeDep) -> SqlRoutingSources:
    """The store's sources to read and change (the Routing pages, suppliers' feeds)."""
    return SqlRoutingSources(session, runtime.cipher)


RoutingSourceStoreDep = Annotated[SqlRoutingSources, Depends(get_routing_source_store)]


async def get_routing_sources(session: SessionDep, runtime: RuntimeDep) -> RoutingSources:
    """The store's sources as routing reads them, as the pipeline's workers do (``Runtime.routing_sources``)."""
    return runtime.routing_sources(session)


RoutingSourcesDep = Annotated[RoutingSources, Depends(get_routing_sources)]


async def get_carrier_quotes(accounts: CarrierAccountsDep, runtime: RuntimeDep) -> KarrioCarrierQuotes:
    """Live rates from the store's carrier accounts (``CarrierQuotes``) and their connection checks."""
    return KarrioCarrierQuotes(accounts, runtime.carrier_calls, runtime.clock)


CarrierQuotesDep = Annotated[KarrioCarrierQuotes, Depends(get_carrier_quotes)]


def shipping_quoter(
    runtime: Runtime, session: AsyncSession, *, read_done: Callable[[], Awaitable[None]] | None = None
) -> ShippingQuoter:
    """The store's shipping settings and rate tables read on ``session``, its carrier accounts live, and
    this process's caches of the carriers' answers and of what quoting derives from the settings and
    tables (shared by every request, checked against the store's revision). The carriers read the
    accounts on a session of their own, unless this process recently found the store has none: their
    question may outlive this request (``LiveQuoteCache.ask``)."""
    accounts = CarrierAccountsOnTheirOwnSession(
        runtime.sessions, runtime.cipher, runtime.stores_without_carrier_accounts
    )
    return ShippingQuoter(
        SqlSettingsStore(session),
        SqlRateTableStore(session),
        KarrioCarrierQuotes(accounts, runtime.carrier_calls, runtime.clock),
        cache=runtime.live_quotes,
        revisions=SqlShippingRevisions(session),
        quoting_cache=runtime.quoting,
        read_done=read_done,
        confirm_apart=partial(_confirm_shipping_revision, runtime),
    )


def kept_checkout_options(
    runtime: Runtime, saleor_api_url: SaleorApiUrl, cart: Cart, now: datetime
) -> tuple[CheckoutOption, ...] | None:
    """The options this process keeps for a checkout asked again, if they still hold (no I/O; the
    store's revision confirmed apart when due); None when it must be quoted (``shipping_quoter``)."""
    return quoting.kept_checkout_options(
        runtime.quoting,
        runtime.live_quotes,
        saleor_api_url,
        cart,
        now,
        partial(_confirm_shipping_revision, runtime, saleor_api_url),
    )


async def _confirm_shipping_revision(runtime: Runtime, saleor_api_url: SaleorApiUrl) -> None:
    """The store's revision confirmed for checkouts on a session of its own: it runs apart from the
    checkout that found it due, which answers (and closes its session) meanwhile."""
    async with runtime.sessions() as session:
        quoter = ShippingQuoter(
            SqlSettingsStore(session),
            SqlRateTableStore(session),
            revisions=SqlShippingRevisions(session),
            quoting_cache=runtime.quoting,
        )
        await quoter.confirm_store(saleor_api_url)


async def get_shipping_quoter(session: SessionDep, runtime: RuntimeDep) -> ShippingQuoter:
    return shipping_quoter(runtime, session)


ShippingQuoterDep = Annotated[ShippingQuoter, Depends(get_shipping_quoter)]


class _RevisionReadOnce:
    """``ShippingRevisions`` asked once per store: a replay of many orders quotes them all with the
    settings and tables as they were when it began, without a query per quote."""

    def __init__(self, revisions: ShippingRevisions) -> None:
        self._revisions = revisions
        self._read: dict[SaleorApiUrl, Hashable] = {}

    async def revision(self, saleor_api_url: SaleorApiUrl) -> Hashable:
        if saleor_api_url not in self._read:
            self._read[saleor_api_url] = await self._revisions.revision(saleor_api_url)
        return self._read[saleor_api_url]


async def get_simulation_quotes(session: SessionDep, runtime: RuntimeDep) -> OriginQuotes:
    """Origin quotes for the routing simulator: rate tables and the carriers' answers this process
    already has, as the order pipeline quotes; no carrier is asked."""
    quoter = ShippingQuoter(
        SqlSettingsStore(session),
        SqlRateTableStore(session),
        None,
        cache=runtime.live_quotes,
        revisions=_RevisionReadOnce(SqlShippingRevisions(session)),
        quoting_cache=runtime.quoting,
    )
    return ShippingOriginQuotes(quoter)


SimulationQuotesDep = Annotated[OriginQuotes, Depends(get_simulation_quotes)]


def order_lookup(runtime: Runtime, installation: Installation) -> OrderLookup:
    """The store's orders as customer requests check them, read live with the app's token."""
    return runtime.saleor.gateway(installation.saleor_api_url, installation.token)


async def get_routing_plans(session: SessionDep) -> SqlRoutingPlans:
    return SqlRoutingPlans(session)


RoutingPlansDep = Annotated[SqlRoutingPlans, Depends(get_routing_plans)]


async def get_routing_origin_quotes(session: SessionDep, runtime: RuntimeDep) -> ShippingOriginQuotes:
    """Shipments priced from each origin as the pipeline's planner prices them: the rate tables and the
    live answers checkout already fetched, no carrier asked (``app.pipeline.routing``)."""
    quoter = ShippingQuoter(SqlSettingsStore(session), SqlRateTableStore(session), None, cache=runtime.live_quotes)
    return ShippingOriginQuotes(quoter)


RoutingOriginQuotesDep = Annotated[ShippingOriginQuotes, Depends(get_routing_origin_quotes)]
