"""The route every order webhook shares: verify, parse, record once, acknowledge."""

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from app.dependencies import (
    ClockDep,
    FraudRepositoryDep,
    InventoryLedgerDep,
    OrderEventLogDep,
    RuntimeDep,
    SaleorNamesDep,
    SettingsStoreDep,
    verified_webhook,
)
from app.domain.fraud import OrderFacts
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.order_event import FailedDelivery, ReceivedOrderEvent, SaleorError
from app.saleor.webhook_auth import VerifiedWebhook
from app.services.fraud import OrderSnapshot, ScoredOn, assess_order
from app.services.inventory import next_unit_costs
from app.services.order_costing import cost_order
from app.services.order_events import record_failed_delivery, record_order_event
from app.services.ports import InventoryLedger
from app.services.settings import costing_policy
from app.webhooks.definition import WebhookDefinition
from app.webhooks.order_facts import order_facts
from app.webhooks.order_fulfillments import order_fulfillments, order_names
from app.webhooks.parsing import parse_payload, saleor_errors
from app.webhooks.payloads import OrderEventPayload


async def with_ledger_costs(url: SaleorApiUrl, facts: OrderFacts, ledger: InventoryLedger) -> OrderFacts:
    """The order's lines at what the cost ledger says their next units cost, where it knows."""
    costs = await next_unit_costs(url, {line.sku for line in facts.lines if line.sku}, facts.currency, ledger=ledger)
    lines = tuple(
        dataclasses.replace(line, unit_cost=costs[line.sku]) if line.sku in costs else line for line in facts.lines
    )
    return dataclasses.replace(facts, lines=lines)


class WebhookAck(BaseModel):
    status: str


def order_event_router(
    definition: WebhookDefinition, *, fraud: ScoredOn | None = None, costing: bool = False
) -> APIRouter:
    """Record every delivery once; with ``fraud``, also score the order (see ``assess_order``); with
    ``costing``, book what the order's fulfilments moved and write its COGS back."""
    router = APIRouter()

    @router.post(definition.path, name=definition.header_value)
    async def receive(
        webhook: Annotated[VerifiedWebhook, Depends(verified_webhook(definition.header_value))],
        events: OrderEventLogDep,
        fraud_records: FraudRepositoryDep,
        ledger: InventoryLedgerDep,
        names: SaleorNamesDep,
        settings: SettingsStoreDep,
        runtime: RuntimeDep,
        clock: ClockDep,
    ) -> WebhookAck:
        failed = saleor_errors(webhook, definition)
        if failed is not None:
            kept = await record_failed_delivery(
                FailedDelivery(
                    saleor_api_url=webhook.installation.saleor_api_url,
                    event=definition.header_value,
                    issued_at=failed.issued_at,
                    errors=tuple(SaleorError(e.message, tuple(e.path)) for e in failed.errors),
                    received_at=clock.now(),
                    payload=webhook.body.decode(),
                ),
                events=events,
            )
            # 200, not 4xx: Saleor does not retry a 4xx, and a retry would carry the same errors; the
            # body is kept and shown on the home page, where someone can see what to fix.
            return WebhookAck(status="failed" if kept else "duplicate")
        payload = parse_payload(OrderEventPayload, webhook, definition)
        installation = webhook.installation
        recorded = await record_order_event(
            ReceivedOrderEvent(
                saleor_api_url=webhook.installation.saleor_api_url,
                event=definition.header_value,
                order_id=SaleorId(payload.order.id),
                order_number=payload.order.number,
                issued_at=payload.issued_at,
                saleor_version=payload.version,
                received_at=clock.now(),
                payload=webhook.body.decode(),
            ),
            events=events,
        )
        if fraud is not None:
            facts = order_facts(payload.order)
            await assess_order(
                installation.saleor_api_url,
                await with_ledger_costs(installation.saleor_api_url, facts, ledger),
                OrderSnapshot(number=payload.order.number, status=payload.order.status),
                scored_on=fraud,
                fraud=fraud_records,
                settings=settings,
                saleor=runtime.saleor.gateway(installation.saleor_api_url, installation.token),
                now=clock.now(),
            )
        if recorded:  # a redelivery carries the names its first delivery already gave
            await names.remember(installation.saleor_api_url, order_names(payload.order), clock.now())
        # Our own writes (the COGS note makes Saleor send ORDER_UPDATED) move no goods.
        by_us = payload.issuing_principal is not None and payload.issuing_principal.id == installation.app_id
        if costing and not by_us:
            await cost_order(
                installation.saleor_api_url,
                order_fulfillments(payload.order, payload.fulfillment),
                seen_at=payload.issued_at,
                ledger=ledger,
                policy=await costing_policy(settings, installation.saleor_api_url),
                saleor=runtime.saleor.gateway(installation.saleor_api_url, installation.token),
                now=clock.now(),
            )
        return WebhookAck(status="recorded" if recorded else "duplicate")

    return router
