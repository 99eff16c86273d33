"""Orders' routing plans and their hand-offs to partners (``app.services.routing``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    EffectRow,
    OrderEventRow,
    RoutingCallbackRow,
    RoutingHandOffRow,
    RoutingPlanRow,
    RoutingShipmentRow,
)
from app.db.upsert import insert_if_absent
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.pipeline import Status
from app.domain.routing.model import SourceKind
from app.services.pipeline import EffectKind, partner_lane
from app.services.routing.plans import (
    HandOff,
    HandOffStatus,
    OpenHandOff,
    OrderRouting,
    PartnerShipment,
    RoutedShipment,
    RoutedUnits,
)
from app.services.routing.signing import FRESH_FOR


def _units_json(units: tuple[RoutedUnits, ...]) -> list[dict[str, Any]]:
    return [{"lineId": u.line_id, "sku": u.sku, "quantity": u.quantity} for u in units]


def _units(raw: list[dict[str, Any]]) -> tuple[RoutedUnits, ...]:
    return tuple(RoutedUnits(u["lineId"], u["sku"], int(u["quantity"])) for u in raw)


def _shipments_json(routing: OrderRouting) -> str:
    return json.dumps(
        [
            {
                "warehouseId": s.warehouse_id,
                "kind": s.kind.value,
                "partnerId": s.partner_id,
                "units": _units_json(s.units),
                "leavesAt": s.leaves_at.isoformat() if s.leaves_at is not None else None,
            }
            for s in routing.shipments
        ]
    )


def _routing(row: RoutingPlanRow) -> OrderRouting:
    return OrderRouting(
        order_id=row.order_id,
        revision=row.revision,
        routed=row.routed,
        shipments=tuple(
            RoutedShipment(
                SaleorId(s["warehouseId"]),
                SourceKind(s["kind"]),
                s["partnerId"],
                _units(s["units"]),
                datetime.fromisoformat(s["leavesAt"]) if s.get("leavesAt") else None,
            )
            for s in json.loads(row.shipments)
        ),
        metadata=json.loads(row.metadata_),
        decided_at=row.decided_at,
        updated_at=row.updated_at,
        excluded=json.loads(row.excluded),
    )


def _hand_off(row: RoutingHandOffRow) -> HandOff:
    return HandOff(
        id=row.id,
        order_id=row.order_id,
        revision=row.revision,
        partner_id=row.partner_id,
        warehouse_id=SaleorId(row.warehouse_id),
        units=_units(json.loads(row.units)),
        status=HandOffStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        shipped=json.loads(row.shipped),
        reason=row.reason,
    )


class SqlRoutingPlans:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, saleor_api_url: SaleorApiUrl, order_id: str) -> OrderRouting | None:
        row = await self._session.scalar(
            select(RoutingPlanRow).where(
                RoutingPlanRow.saleor_api_url == saleor_api_url, RoutingPlanRow.order_id == order_id
            )
        )
        return None if row is None else _routing(row)

    async def add(self, saleor_api_url: SaleorApiUrl, routing: OrderRouting) -> bool:
        return await insert_if_absent(
            self._session,
            cast(Table, RoutingPlanRow.__table__),
            {
                "saleor_api_url": saleor_api_url,
                "order_id": routing.order_id,
                "revision": routing.revision,
                "routed": routing.routed,
                "shipments": _shipments_json(routing),
                "metadata": json.dumps(routing.metadata),
                "excluded": json.dumps(dict(routing.excluded)),
                "decided_at": routing.decided_at,
                "updated_at": routing.updated_at,
            },
        )

    async def revise(self, saleor_api_url: SaleorApiUrl, routing: OrderRouting) -> bool:
        result = await self._session.execute(
            update(RoutingPlanRow)
            .where(
                RoutingPlanRow.saleor_api_url == saleor_api_url,
                RoutingPlanRow.order_id == routing.order_id,
                RoutingPlanRow.revision == routing.revision - 1,
            )
            .values(
                revision=routing.revision,
                routed=routing.routed,
                shipments=_shipments_json(routing),
                metadata_=json.dumps(routing.metadata),
                excluded=json.dumps(dict(routing.excluded)),
                updated_at=routing.updated_at,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def add_hand_off(self, saleor_api_url: SaleorApiUrl, hand_off: HandOff) -> None:
        self._session.add(
            RoutingHandOffRow(
                id=hand_off.id,
                saleor_api_url=saleor_api_url,
                order_id=hand_off.order_id,
                revision=hand_off.revision,
                partner_id=hand_off.partner_id,
                warehouse_id=hand_off.warehouse_id,
                units=json.dumps(_units_json(hand_off.units)),
                status=hand_off.status.value,
                shipped=json.dumps(dict(hand_off.shipped)),
                reason=hand_off.reason,
                created_at=hand_off.created_at,
                updated_at=hand_off.updated_at,
            )
        )
        await self._session.flush()

    async def hand_offs(self, saleor_api_url: SaleorApiUrl, order_id: str) -> list[HandOff]:
        rows = await self._session.scalars(
            select(RoutingHandOffRow)
            .where(RoutingHandOffRow.saleor_api_url == saleor_api_url, RoutingHandOffRow.order_id == order_id)
            .order_by(RoutingHandOffRow.created_at, RoutingHandOffRow.id)
        )
        return [_hand_off(row) for row in rows]

    async def open_hand_offs(self, saleor_api_url: SaleorApiUrl, partner_id: str) -> list[OpenHandOff]:
        H, E = RoutingHandOffRow, OrderEventRow  # noqa: N806 - table aliases
        number = (
            select(func.max(E.order_number))
            .where(E.saleor_api_url == H.saleor_api_url, E.order_id == H.order_id)
            .scalar_subquery()
        )
        rows = await self._session.execute(
            select(H, number)
            .where(
                H.saleor_api_url == saleor_api_url,
                H.partner_id == partner_id,
                H.status.in_([HandOffStatus.SENT.value, HandOffStatus.ACCEPTED.value]),
            )
            .order_by(H.created_at, H.id)
        )
        return [OpenHandOff(hand_off, number) for row, number in rows if (hand_off := _hand_off(row)).is_open]

    async def hand_off(self, hand_off_id: str) -> tuple[SaleorApiUrl, HandOff] | None:
        row = await self._session.scalar(
            select(RoutingHandOffRow).where(RoutingHandOffRow.id == hand_off_id).with_for_update()
        )
        return None if row is None else (SaleorApiUrl(row.saleor_api_url), _hand_off(row))

    async def save_hand_off(self, saleor_api_url: SaleorApiUrl, hand_off: HandOff) -> None:
        await self._session.execute(
            update(RoutingHandOffRow)
            .where(RoutingHandOffRow.saleor_api_url == saleor_api_url, RoutingHandOffRow.id == hand_off.id)
            .values(
                status=hand_off.status.value,
                shipped=json.dumps(dict(hand_off.shipped)),
                reason=hand_off.reason,
                updated_at=hand_off.updated_at,
            )
        )

    async def end_hand_off(self, saleor_api_url: SaleorApiUrl, ended: HandOff, was: HandOffStatus) -> bool:
        # Conditional: of two workers (or a worker and a partner's callback) ending it, one does.
        result = await self._session.execute(
            update(RoutingHandOffRow)
            .where(
                RoutingHandOffRow.saleor_api_url == saleor_api_url,
                RoutingHandOffRow.id == ended.id,
                RoutingHandOffRow.status == was.value,
            )
            .values(status=ended.status.value, reason=ended.reason, updated_at=ended.updated_at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def unanswered(
        self, saleor_api_url: SaleorApiUrl, partner_id: str, sent_before: datetime, limit: int
    ) -> list[HandOff]:
        H, E = RoutingHandOffRow, EffectRow  # noqa: N806 - table aliases
        # The window runs from when the partner got it: a hand-off still being posted to a partner that
        # is down, or e-mailed while the store's SMTP server is not set (or sent after ``sent_before``),
        # is not late. Its order's effects in the partner's lane stand for its own (a later revision's
        # hand-off to the same partner delays it at most).
        posting = exists().where(
            E.saleor_api_url == H.saleor_api_url,
            E.order_id == H.order_id,
            E.lane == partner_lane(partner_id),
            E.kind.in_((EffectKind.HAND_OFF, EffectKind.PURCHASE_ORDER)),
            or_(E.status.in_((Status.PENDING, Status.SENDING)), E.done_at >= sent_before),
        )
        rows = await self._session.scalars(
            select(H)
            .where(
                H.saleor_api_url == saleor_api_url,
                H.partner_id == partner_id,
                H.status == HandOffStatus.SENT.value,
                H.created_at < sent_before,
                ~posting,
            )
            .order_by(H.created_at, H.id)
            .limit(limit)
        )
        return [_hand_off(row) for row in rows]

    async def shipment(self, hand_off_id: str, shipment_id: str) -> PartnerShipment | None:
        row = await self._session.get(RoutingShipmentRow, (hand_off_id, shipment_id))
        if row is None:
            return None
        return PartnerShipment(
            row.hand_off_id, row.shipment_id, row.carrier, row.tracking_number, json.loads(row.lines), row.confirmed_at
        )

    async def add_shipment(self, saleor_api_url: SaleorApiUrl, shipment: PartnerShipment) -> None:
        self._session.add(
            RoutingShipmentRow(
                saleor_api_url=saleor_api_url,
                hand_off_id=shipment.hand_off_id,
                shipment_id=shipment.shipment_id,
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                lines=json.dumps(dict(shipment.lines)),
                confirmed_at=shipment.confirmed_at,
            )
        )
        await self._session.flush()

    async def first_sight(self, saleor_api_url: SaleorApiUrl, signature: str, now: datetime) -> bool:
        # A timestamp is taken up to FRESH_FOR either side of now: older signatures can never come back.
        await self._session.execute(
            delete(RoutingCallbackRow).where(
                RoutingCallbackRow.received_at < now - 2 * FRESH_FOR - timedelta(minutes=1)
            )
        )
        return await insert_if_absent(
            self._session,
            cast(Table, RoutingCallbackRow.__table__),
            {"saleor_api_url": saleor_api_url, "signature": signature, "received_at": now},
        )
