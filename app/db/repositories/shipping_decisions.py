"""The services chosen for orders' shipments, one row per order (``app.services.shipping.orders``)."""

from __future__ import annotations

import json
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ShippingDecisionRow
from app.db.upsert import insert_if_absent
from app.domain.ids import SaleorApiUrl
from app.domain.shipping.model import Level
from app.services.shipping.model import OrderShipping, ShipmentShipping


def _shipments(decision: OrderShipping) -> str:
    return json.dumps(
        [
            {"source": s.source, "entry": s.entry, "explanation": list(s.explanation), "units": dict(s.units)}
            for s in decision.shipments
        ]
    )


def _decision(row: ShippingDecisionRow) -> OrderShipping:
    return OrderShipping(
        order_id=row.order_id,
        level=Level(row.level),
        shipments=tuple(
            # Decisions kept before shipments carried their units have none.
            ShipmentShipping(s["source"], s["entry"], tuple(s["explanation"]), s.get("units", {}))
            for s in json.loads(row.shipments)
        ),
        checked_fulfillments=tuple(json.loads(row.checked_fulfillments)),
        decided_at=row.decided_at,
        updated_at=row.updated_at,
        plan_revision=row.plan_revision,
    )


class SqlShippingDecisions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, url: SaleorApiUrl, order_id: str) -> OrderShipping | None:
        row = await self._session.scalar(
            select(ShippingDecisionRow).where(
                ShippingDecisionRow.saleor_api_url == url, ShippingDecisionRow.order_id == order_id
            )
        )
        return None if row is None else _decision(row)

    async def add(self, url: SaleorApiUrl, decision: OrderShipping) -> bool:
        return await insert_if_absent(
            self._session,
            cast(Table, ShippingDecisionRow.__table__),
            {
                "saleor_api_url": url,
                "order_id": decision.order_id,
                "level": decision.level.value,
                "shipments": _shipments(decision),
                "checked_fulfillments": json.dumps(list(decision.checked_fulfillments)),
                "decided_at": decision.decided_at,
                "updated_at": decision.updated_at,
                "plan_revision": decision.plan_revision,
            },
        )

    async def replace(self, url: SaleorApiUrl, decision: OrderShipping) -> None:
        await self._session.execute(
            update(ShippingDecisionRow)
            .where(ShippingDecisionRow.saleor_api_url == url, ShippingDecisionRow.order_id == decision.order_id)
            .values(
                shipments=_shipments(decision),
                checked_fulfillments=json.dumps(list(decision.checked_fulfillments)),
                updated_at=decision.updated_at,
                plan_revision=decision.plan_revision,
            )
        )
