"""The route every order webhook shares: verify, parse, record once, acknowledge."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from app.dependencies import (
    ClockDep,
    FraudRepositoryDep,
    OrderEventLogDep,
    RuntimeDep,
    SettingsStoreDep,
    verified_webhook,
)
from app.domain.fraud import Stage
from app.domain.ids import SaleorId
from app.domain.order_event import ReceivedOrderEvent
from app.saleor.webhook_auth import VerifiedWebhook
from app.services.fraud import OrderSnapshot, assess_order
from app.services.order_events import record_order_event
from app.webhooks.definition import WebhookDefinition
from app.webhooks.order_facts import order_facts
from app.webhooks.parsing import parse_payload
from app.webhooks.payloads import OrderEventPayload


class WebhookAck(BaseModel):
    status: str


def order_event_router(definition: WebhookDefinition, *, fraud_stage: Stage | None = None) -> APIRouter:
    """Record every delivery once; with ``fraud_stage``, also score the order at that stage."""
    router = APIRouter()

    @router.post(definition.path, name=definition.header_value)
    async def receive(
        webhook: Annotated[VerifiedWebhook, Depends(verified_webhook(definition.header_value))],
        events: OrderEventLogDep,
        fraud: FraudRepositoryDep,
        settings: SettingsStoreDep,
        runtime: RuntimeDep,
        clock: ClockDep,
    ) -> WebhookAck:
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
        if fraud_stage is not None:
            await assess_order(
                installation.saleor_api_url,
                order_facts(payload.order),
                OrderSnapshot(number=payload.order.number, status=payload.order.status),
                stage=fraud_stage,
                fraud=fraud,
                settings=settings,
                saleor=runtime.saleor.gateway(installation.saleor_api_url, installation.token),
                now=clock.now(),
            )
        return WebhookAck(status="recorded" if recorded else "duplicate")

    return router
