from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import InventoryMoveRow
from app.domain.ids import SaleorApiUrl
from app.domain.inventory import MoveKind
from app.services.receipts import RecordedReceipt


class SqlReceiptLog:
    """Receipts as the ledger recorded them (a read of the ledger's moves)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def recent(self, url: SaleorApiUrl, limit: int) -> list[RecordedReceipt]:
        rows = await self._session.scalars(
            select(InventoryMoveRow)
            .where(InventoryMoveRow.saleor_api_url == url, InventoryMoveRow.kind == MoveKind.RECEIPT.value)
            .order_by(InventoryMoveRow.seq.desc())
            .limit(limit)
        )
        return [
            RecordedReceipt(
                move_id=row.move_id,
                sku=row.sku,
                warehouse=row.warehouse,
                quantity=row.quantity,
                unit_cost=row.unit_cost if row.unit_cost is not None else Decimal(0),
                currency=row.currency,
                received_at=row.at,
                reference=row.reference,
                source=row.source,
                recorded_by=row.recorded_by,
                recorded_at=row.recorded_at,
            )
            for row in rows
        ]
