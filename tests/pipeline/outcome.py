"""What the pipeline made of a set of orders, counted in the database and at Saleor: lost and doubled.

Every order of ``tests.pipeline.orders`` must end with one assessment per stage, one ledger issue
and its three notes in Saleor, each exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EffectRow, FraudAssessmentRow, InventoryMoveRow, OrderEventRow
from tests.pipeline.orders import NOTES_PER_ORDER, STAGES


@dataclass(frozen=True, slots=True)
class Miscount:
    lost: int = 0
    doubled: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    deliveries: Mapping[str, int]  # by status
    effects: Mapping[str, int]  # by status
    assessments: Mapping[tuple[str, str], int]  # per order and stage
    issues: Mapping[str, int]  # ledger issues per order

    @property
    def settled(self) -> bool:
        """Nothing is waiting or on its way: every delivery processed, every effect delivered (or failed)."""
        return not (set(self.deliveries) | set(self.effects)) & {"pending", "sending"}

    def miscounts(self, orders: Iterable[str], notes: Mapping[str, Sequence[str]]) -> dict[str, Miscount]:
        """Per kind of outcome, how many are missing and how many are there more than once."""
        orders = list(orders)
        assessments = [self.assessments.get((order, stage), 0) for order in orders for stage in STAGES]
        issues = [self.issues.get(order, 0) for order in orders]
        kept = [notes.get(order, ()) for order in orders]
        return {
            "assessments": _miscount(assessments),
            "ledger issues": _miscount(issues),
            "notes in Saleor": Miscount(
                lost=sum(max(0, NOTES_PER_ORDER - len(set(n))) for n in kept),
                doubled=sum(len(n) - len(set(n)) for n in kept),
            ),
        }


def _miscount(counts: Sequence[int]) -> Miscount:
    return Miscount(lost=counts.count(0), doubled=sum(max(0, c - 1) for c in counts))


async def outcome(session: AsyncSession) -> Outcome:
    deliveries = select(OrderEventRow.status, func.count()).group_by(OrderEventRow.status)
    effects = select(EffectRow.status, func.count()).group_by(EffectRow.status)
    assessed = FraudAssessmentRow.order_id, FraudAssessmentRow.stage
    assessments = select(*assessed, func.count()).group_by(*assessed)
    issues = (
        select(InventoryMoveRow.order_id, func.count())
        .where(InventoryMoveRow.kind == "issue")
        .group_by(InventoryMoveRow.order_id)
    )
    return Outcome(
        deliveries=dict((await session.execute(deliveries)).all()),
        effects=dict((await session.execute(effects)).all()),
        assessments={(order, stage): n for order, stage, n in (await session.execute(assessments))},
        issues={order: n for order, n in (await session.execute(issues)) if order is not None},
    )
