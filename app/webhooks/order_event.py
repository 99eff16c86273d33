"""The route every order webhook shares: verify, parse, store the delivery once, acknowledge.

Nothing else happens on the request path: the workers (``app.pipeline``) hand the stored delivery
to the capabilities subscribed to its event.
"""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from app.dependencies import ClockDep, OrderEventLogDep, RuntimeDep, SessionDep, verified_webhook
from app.domain.ids import SaleorId
from app.domain.order_event import FailedDelivery, ReceivedOrderEvent, SaleorError
from app.saleor.webhook_auth import VerifiedWebhook
from app.services.order_events import record_failed_delivery, record_order_event
from app.webhooks.definition import WebhookDefinition
from app.webhooks.parsing import parse_payload, saleor_errors
from app.webhooks.payloads import OrderEventPayload


class WebhookAck(BaseModel):
    status: str


def order_event_router(definition: WebhookDefinition) -> APIRouter:
    """Store every delivery once, for the workers; a redelivery is answered after one lookup."""
    router = APIRouter()

    @router.post(definition.path, name=definition.header_value)
    async def receive(
        webhook: Annotated[VerifiedWebhook, Depends(verified_webhook(definition.header_value))],
        events: OrderEventLogDep,
        session: SessionDep,
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
        if recorded:
            await session.commit()  # before the worker looks, so that it finds the delivery
            runtime.wake_workers()
        return WebhookAck(status="recorded" if recorded else "duplicate")

    return router
