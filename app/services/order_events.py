from __future__ import annotations

import logging

from app.domain.order_event import FailedDelivery, ReceivedOrderEvent
from app.services.ports import DeliveryLog, OrderEventLog

log = logging.getLogger(__name__)


async def record_order_event(event: ReceivedOrderEvent, *, events: DeliveryLog) -> bool:
    """Keep the delivery once; a retry of the same occurrence is a no-op. True when new."""
    recorded = await events.record(event)
    log.info(
        "order event recorded" if recorded else "order event already recorded",
        extra={"saleor_api_url": event.saleor_api_url, "event": event.event, "order_id": event.order_id},
    )
    return recorded


async def record_failed_delivery(delivery: FailedDelivery, *, events: OrderEventLog) -> bool:
    """Keep a delivery Saleor could not render, once, and say why in the log. True when new."""
    recorded = await events.record_failed(delivery)
    log.warning(
        "webhook payload carries Saleor's errors",
        extra={
            "saleor_api_url": delivery.saleor_api_url,
            "event": delivery.event,
            "issued_at": delivery.issued_at.isoformat() if delivery.issued_at else None,
            "errors": [{"message": e.message, "path": e.where} for e in delivery.errors],
            "duplicate": not recorded,
        },
    )
    return recorded
