from __future__ import annotations

import logging

from app.domain.order_event import ReceivedOrderEvent
from app.services.ports import OrderEventLog

log = logging.getLogger(__name__)


async def record_order_event(event: ReceivedOrderEvent, *, events: OrderEventLog) -> bool:
    """Keep the delivery once; a retry of the same occurrence is a no-op. True when new."""
    recorded = await events.record(event)
    log.info(
        "order event recorded" if recorded else "order event already recorded",
        extra={"saleor_api_url": event.saleor_api_url, "event": event.event, "order_id": event.order_id},
    )
    return recorded
