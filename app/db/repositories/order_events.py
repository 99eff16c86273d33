from __future__ import annotations

import json
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import FailedDeliveryRow, OrderEventRow
from app.db.upsert import insert_if_absent
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.order_event import FailedDelivery, ReceivedOrderEvent, SaleorError
from app.domain.pipeline import Status

_TABLE = cast(Table, OrderEventRow.__table__)
_FAILED = cast(Table, FailedDeliveryRow.__table__)


class SqlOrderEventLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, event: ReceivedOrderEvent) -> bool:
        """Store the event once; False when this occurrence was already recorded."""
        return await insert_if_absent(
            self._session,
            _TABLE,
            {
                "saleor_api_url": event.saleor_api_url,
                "event": event.event,
                "order_id": event.order_id,
                "order_number": event.order_number,
                "issued_at": event.issued_at,
                "saleor_version": event.saleor_version,
                "payload": event.payload,
                "received_at": event.received_at,
                "status": Status.PENDING,
                "attempts": 0,
                "next_attempt_at": event.received_at,
                "retry_window_start": event.received_at,
            },
        )

    async def record_failed(self, delivery: FailedDelivery) -> bool:
        """Keep a delivery Saleor could not render, once; False when this body was already kept."""
        return await insert_if_absent(
            self._session,
            _FAILED,
            {
                "saleor_api_url": delivery.saleor_api_url,
                "event": delivery.event,
                "issued_at": delivery.issued_at,
                "body_sha256": delivery.fingerprint,
                "errors": json.dumps([{"message": e.message, "path": list(e.path)} for e in delivery.errors]),
                "payload": delivery.payload,
                "received_at": delivery.received_at,
            },
        )

    async def recent_failed(self, saleor_api_url: SaleorApiUrl, limit: int) -> list[FailedDelivery]:
        rows = await self._session.scalars(
            select(FailedDeliveryRow)
            .where(FailedDeliveryRow.saleor_api_url == saleor_api_url)
            .order_by(FailedDeliveryRow.received_at.desc(), FailedDeliveryRow.id.desc())
            .limit(limit)
        )
        return [
            FailedDelivery(
                saleor_api_url=SaleorApiUrl(row.saleor_api_url),
                event=row.event,
                issued_at=row.issued_at,
                errors=tuple(SaleorError(e["message"], tuple(e["path"])) for e in json.loads(row.errors)),
                received_at=row.received_at,
                payload=row.payload,
            )
            for row in rows
        ]

    async def for_order(self, saleor_api_url: SaleorApiUrl, order_id: SaleorId) -> list[ReceivedOrderEvent]:
        rows = await self._session.scalars(
            select(OrderEventRow)
            .where(OrderEventRow.saleor_api_url == saleor_api_url, OrderEventRow.order_id == order_id)
            .order_by(OrderEventRow.issued_at, OrderEventRow.id)
        )
        return [_to_domain(row) for row in rows]

    async def recent(self, saleor_api_url: SaleorApiUrl, limit: int) -> list[ReceivedOrderEvent]:
        rows = await self._session.scalars(
            select(OrderEventRow)
            .where(OrderEventRow.saleor_api_url == saleor_api_url)
            .order_by(OrderEventRow.issued_at.desc(), OrderEventRow.id.desc())
            .limit(limit)
        )
        return [_to_domain(row) for row in rows]

    async def counts_since(self, saleor_api_url: SaleorApiUrl, since: datetime) -> dict[str, int]:
        rows = await self._session.execute(
            select(OrderEventRow.event, func.count())
            .where(OrderEventRow.saleor_api_url == saleor_api_url, OrderEventRow.issued_at >= since)
            .group_by(OrderEventRow.event)
        )
        return {event: int(count) for event, count in rows}

    async def count(self, saleor_api_url: SaleorApiUrl) -> int:
        total = await self._session.scalar(
            select(func.count()).select_from(OrderEventRow).where(OrderEventRow.saleor_api_url == saleor_api_url)
        )
        return int(total or 0)


def _to_domain(row: OrderEventRow) -> ReceivedOrderEvent:
    return ReceivedOrderEvent(
        saleor_api_url=SaleorApiUrl(row.saleor_api_url),
        event=row.event,
        order_id=SaleorId(row.order_id),
        order_number=row.order_number,
        issued_at=row.issued_at,
        saleor_version=row.saleor_version,
        received_at=row.received_at,
        payload=row.payload,
    )
