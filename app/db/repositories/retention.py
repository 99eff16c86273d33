"""Pruning what ``app.services.retention`` says is due, a bounded batch per statement.

Each prune picks at most ``limit`` row ids through an index that holds only rows still to prune
(see the partial indexes in ``app.db.models``), and changes those rows. Already pruned rows are
never read again, so a round of pruning costs what it prunes, not the size of the store's history.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, TextClause, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    PAYLOAD_KEPT,
    PROCESSED_PAYLOAD_KEPT,
    PRUNED_PAYLOAD,
    EffectRow,
    FailedDeliveryRow,
    FraudReviewRow,
    FraudVelocityRow,
    InstallationRow,
    OrderEventRow,
)
from app.db.repositories.fraud import HELD_STATUSES
from app.domain.ids import SaleorApiUrl
from app.services.ports import KeptStore

_ORDER_EVENTS = cast(Table, OrderEventRow.__table__)
_FAILED = cast(Table, FailedDeliveryRow.__table__)
_EFFECTS = cast(Table, EffectRow.__table__)


class SqlRetentionStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def stores(self) -> list[KeptStore]:
        rows = await self._session.execute(
            select(InstallationRow.saleor_api_url, InstallationRow.uninstalled_at).order_by(
                InstallationRow.saleor_api_url
            )
        )
        return [KeptStore(SaleorApiUrl(url), uninstalled_at) for url, uninstalled_at in rows]

    async def delete_uninstalled(self, url: SaleorApiUrl, *, uninstalled_before: datetime) -> bool:
        """Delete the store (every table cascades from it), unless a reinstall got there first."""
        result = await self._session.execute(
            delete(InstallationRow).where(
                InstallationRow.saleor_api_url == url,
                InstallationRow.uninstalled_at.is_not(None),
                InstallationRow.uninstalled_at <= uninstalled_before,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def prune_delivery_payloads(self, url: SaleorApiUrl, *, processed_before: datetime, limit: int) -> int:
        return await self._erase_payloads(
            _ORDER_EVENTS, PROCESSED_PAYLOAD_KEPT, _ORDER_EVENTS.c.processed_at < processed_before, url, limit
        )

    async def prune_failed_delivery_payloads(self, url: SaleorApiUrl, *, received_before: datetime, limit: int) -> int:
        return await self._erase_payloads(_FAILED, PAYLOAD_KEPT, _FAILED.c.received_at < received_before, url, limit)

    async def prune_effect_payloads(self, url: SaleorApiUrl, *, done_before: datetime, limit: int) -> int:
        return await self._erase_payloads(
            _EFFECTS, PROCESSED_PAYLOAD_KEPT, _EFFECTS.c.done_at < done_before, url, limit
        )

    async def forget_velocity_keys(self, url: SaleorApiUrl, *, seen_before: datetime, limit: int) -> int:
        V = FraudVelocityRow
        held = select(FraudReviewRow.order_id).where(
            FraudReviewRow.saleor_api_url == url, FraudReviewRow.status.in_(HELD_STATUSES)
        )
        due = select(V.id).where(V.saleor_api_url == url, V.seen_at < seen_before, V.order_id.not_in(held))
        result = await self._session.execute(delete(V).where(V.id.in_(due.limit(limit))))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def _erase_payloads(
        self, table: Table, kept: TextClause, due: ColumnElement[bool], url: SaleorApiUrl, limit: int
    ) -> int:
        # The body's condition again on the update itself: a concurrent round that erased a row
        # first makes this one skip it (PostgreSQL re-checks it on the row it waited for). Only the
        # body's: with ``status = 'done'`` there, SQLite would look the ids up by status.
        batch = select(table.c.id).where(table.c.saleor_api_url == url, due, kept).limit(limit)
        result = await self._session.execute(
            update(table).where(table.c.id.in_(batch), PAYLOAD_KEPT).values(payload=PRUNED_PAYLOAD)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
