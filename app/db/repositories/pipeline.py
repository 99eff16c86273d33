"""The pipeline's two queues in the database: stored deliveries waiting for a worker, and effects
waiting for the dispatcher. Both are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
workers beside each other share the work; on SQLite one process runs the only worker.

Order is kept per order: a delivery is taken only when no delivery of its order issued before it is
still waiting, and an effect only when no earlier effect of its order is waiting or on its way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ARRAY, ColumnElement, Integer, Select, Table, and_, any_, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.models import EffectRow, OrderEventRow
from app.db.upsert import insert_all_if_absent, insert_if_absent
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.pipeline import Status
from app.services.pipeline import Effect, NewEffect, encode

_EFFECTS = cast(Table, EffectRow.__table__)
# How many waiting deliveries a worker looks at to find one whose order no other worker holds.
_CANDIDATES = 16


@dataclass(frozen=True, slots=True)
class Delivery:
    """A stored order webhook as a worker takes it; ``attempts`` counts the failed ones before."""

    id: int
    saleor_api_url: SaleorApiUrl
    event: str
    order_id: SaleorId
    issued_at: datetime
    received_at: datetime
    retry_window_start: datetime  # attempts stop a day after it
    attempts: int
    payload: str


def _delivery(row: OrderEventRow) -> Delivery:
    return Delivery(
        id=row.id,
        saleor_api_url=SaleorApiUrl(row.saleor_api_url),
        event=row.event,
        order_id=SaleorId(row.order_id),
        issued_at=row.issued_at,
        received_at=row.received_at,
        retry_window_start=row.retry_window_start,
        attempts=row.attempts,
        payload=row.payload,
    )


def _is_head() -> ColumnElement[bool]:
    """No delivery of the same order issued before this one is still waiting.

    The order's deliveries are read through its index, fenced off (``OFFSET 0``) from the condition on
    their status. Unfenced, PostgreSQL checked each candidate against every waiting delivery, read
    through the status index, whenever its statistics saw none waiting, as they do after a quiet
    spell: in a burst, each claim grew with the backlog (57 ms with 40,000 waiting, against 0.3).
    """
    D, row = OrderEventRow, aliased(OrderEventRow)
    of_order = (
        select(row.status, row.issued_at, row.id)
        .where(row.saleor_api_url == D.saleor_api_url, row.order_id == D.order_id)
        .correlate(D)
        .offset(0)
        .subquery("of_order")
    )
    return ~exists().where(
        of_order.c.status == Status.PENDING,
        or_(of_order.c.issued_at < D.issued_at, and_(of_order.c.issued_at == D.issued_at, of_order.c.id < D.id)),
    )


def _waiting(now: datetime) -> Select[int, str, str]:
    """Due deliveries that head their orders, the longest due first."""
    D = OrderEventRow
    return (
        select(D.id, D.saleor_api_url, D.order_id)
        .where(D.status == Status.PENDING, D.next_attempt_at <= now, _is_head())
        .order_by(D.next_attempt_at, D.id)
    )


# The first heads (``_is_head``, fenced alike) in due order are locked as the scan reaches them, past
# rows other claimers hold (SKIP LOCKED) and rows a commit marked processed since the statement began
# (each locked row is re-read as it now stands and checked again), until ``limit`` are held; then each
# one's order is locked too (advisory), and a row whose order another transaction holds is left out.
# Trying the order's lock first, on candidates as the statement's snapshot saw them, let the rows of a
# batch committed meanwhile win the LIMIT and be dropped after it: claims came back empty with plenty due.
_ORDER_EVENTS = cast(Table, OrderEventRow.__table__)
_CLAIM_BATCH = text(
    f"""
    WITH locked AS MATERIALIZED (
        SELECT d.id, d.saleor_api_url, d.order_id
        FROM order_events d
        WHERE d.status = 'pending' AND d.next_attempt_at <= :now AND NOT EXISTS (
            SELECT 1 FROM (
                SELECT e.status, e.issued_at, e.id FROM order_events e
                WHERE e.saleor_api_url = d.saleor_api_url AND e.order_id = d.order_id
                OFFSET 0
            ) e
            WHERE e.status = 'pending' AND (e.issued_at < d.issued_at OR (e.issued_at = d.issued_at AND e.id < d.id))
        )
        ORDER BY d.next_attempt_at, d.id
        LIMIT :limit
        FOR UPDATE OF d SKIP LOCKED
    ), chosen AS MATERIALIZED (
        SELECT l.id FROM locked l
        WHERE pg_try_advisory_xact_lock(hashtextextended(l.saleor_api_url || '|' || l.order_id, 0))
    )
    SELECT {", ".join(f"order_events.{column.name}" for column in _ORDER_EVENTS.c)}
    FROM order_events JOIN chosen ON chosen.id = order_events.id
    ORDER BY order_events.next_attempt_at, order_events.id
    """
).columns(*_ORDER_EVENTS.c)


def _is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class SqlDeliveryQueue:
    """Stored order webhooks on their way through the workers (rows of ``order_events``)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, now: datetime, *, lane: int = 0) -> Delivery | None:
        """The next delivery to process, held by this transaction until it ends; None when none is due.

        On PostgreSQL an advisory lock per order (held to the end of the transaction) keeps two
        workers off one order, even when a delivery issued earlier arrives while a later one is
        being processed; the row lock keeps them off one delivery. Claimers on different ``lane``s
        start from different candidates (each the head of its own order, so any of them may go
        first), rather than all trying the ones the others already hold.
        """
        D = OrderEventRow
        first = _waiting(now)
        if not _is_postgresql(self._session):
            # One statement that writes, so the transaction holds SQLite's write lock from its start:
            # a read first would fail to write if another connection committed in between.
            row = await self._session.scalar(
                update(D)
                .where(D.id == first.with_only_columns(D.id).limit(1).scalar_subquery())
                .values(attempts=D.attempts)
                .returning(D)
                .execution_options(synchronize_session=False)
            )
            return None if row is None else _delivery(row)
        candidates = list(await self._session.execute(first.limit(_CANDIDATES)))
        start = lane % len(candidates) if candidates else 0
        for delivery_id, url, order_id in candidates[start:] + candidates[:start]:
            if not await self._session.scalar(
                text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"{url}|{order_id}"}
            ):
                continue  # another worker holds this order
            query = select(D).where(D.id == delivery_id, D.status == Status.PENDING, _is_head())
            row = await self._session.scalar(query.with_for_update(skip_locked=True, of=D))
            if row is not None:
                return _delivery(row)
        return None

    async def claim_batch(self, now: datetime, *, limit: int) -> list[Delivery]:
        """Up to ``limit`` due deliveries, each the head of a different order, held by this transaction
        until it ends, in one statement (``claim`` takes one, in several): processed in one
        transaction, they share its statements and its commit.

        On PostgreSQL the rows are locked first, in due order, passing over those other workers hold
        (not waiting for them) and those processed since the statement began; then the order's
        advisory lock is tried on each, in the same statement (``_CLAIM_BATCH``).
        """
        D = OrderEventRow
        if not _is_postgresql(self._session):
            # SQLite: one claimer at a time, and a writing statement takes the write lock at once.
            heads = _waiting(now).with_only_columns(D.id).limit(limit).scalar_subquery()
            rows = await self._session.scalars(
                update(D)
                .where(D.id.in_(heads))
                .values(attempts=D.attempts)
                .returning(D)
                .execution_options(synchronize_session=False)
            )
            return sorted(map(_delivery, rows), key=lambda delivery: delivery.id)
        rows = await self._session.scalars(select(D).from_statement(_CLAIM_BATCH), {"now": now, "limit": limit})
        return [_delivery(row) for row in rows]

    async def processed(self, delivery_id: int, now: datetime) -> None:
        await self.all_processed([delivery_id], now)

    async def all_processed(self, delivery_ids: Sequence[int], now: datetime) -> None:
        await self._session.execute(
            update(OrderEventRow)
            .where(OrderEventRow.id.in_(delivery_ids))
            .values(status=Status.DONE, processed_at=now, last_error=None)
            .execution_options(synchronize_session=False)
        )

    async def failed_attempt(self, delivery_id: int, error: str, *, retry_at: datetime | None) -> None:
        """Count a failed attempt: due again at ``retry_at``, or failed for good when None."""
        await self._session.execute(
            update(OrderEventRow)
            .where(OrderEventRow.id == delivery_id, OrderEventRow.status == Status.PENDING)
            .values(
                attempts=OrderEventRow.attempts + 1,
                last_error=error[:2000],
                status=Status.PENDING if retry_at is not None else Status.FAILED,
                next_attempt_at=retry_at if retry_at is not None else OrderEventRow.next_attempt_at,
            )
        )

    async def retry(self, url: SaleorApiUrl, delivery_ids: Sequence[int] | None, now: datetime) -> int:
        """Due now again: the given waiting or failed deliveries of the store, or all of them."""
        return await _make_due(self._session, OrderEventRow, url, delivery_ids, now)


class SqlEffectOutbox:
    """Effects stored with the decisions that caused them, and claimed by dispatchers."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, url: SaleorApiUrl, key: str, effect: NewEffect, at: datetime) -> bool:
        return await insert_if_absent(self._session, _EFFECTS, _effect_row(url, key, effect, at))

    async def claim(self, now: datetime, *, lease: timedelta, limit: int) -> list[Effect]:
        """Effects due now, the first waiting one of each order, marked as being sent until the lease
        ends (past it, an effect whose dispatcher died is claimed again)."""
        E = EffectRow
        waiting = aliased(EffectRow)
        # Each order's first waiting effect, found once for the statement. Asked per effect instead ("no
        # earlier one waits"), or joined to them, PostgreSQL compared every waiting effect with every other
        # whenever its statistics saw none waiting, as they do after a quiet spell: a burst of orders then
        # made every claim quadratic in the backlog (70-170 ms a claim with 500-800 waiting). Given as an
        # array, made once, the heads are looked up whatever the statistics say.
        heads = (
            select(func.min(waiting.id).label("id"))
            .where(waiting.status.in_((Status.PENDING, Status.SENDING)))
            .group_by(waiting.saleor_api_url, waiting.order_id, waiting.lane)
        )
        if _is_postgresql(self._session):
            is_head = E.id == any_(func.array(heads.scalar_subquery(), type_=ARRAY(Integer)))
        else:
            is_head = E.id.in_(heads)
        due = or_(
            and_(E.status == Status.PENDING, E.next_attempt_at <= now),
            and_(E.status == Status.SENDING, E.claimed_until < now),
        )
        chosen = select(E.id).where(due, is_head).order_by(E.next_attempt_at, E.id).limit(limit)
        if _is_postgresql(self._session):
            chosen = chosen.with_for_update(skip_locked=True, of=E)
        # One statement: it takes SQLite's write lock at once, and on PostgreSQL the rows it locks.
        rows = (
            await self._session.scalars(
                update(E)
                .where(E.id.in_(chosen.scalar_subquery()))
                .values(status=Status.SENDING, attempts=E.attempts + 1, claimed_until=now + lease)
                .returning(E)
                .execution_options(synchronize_session=False)
            )
        ).all()
        return [
            Effect(
                id=row.id,
                saleor_api_url=SaleorApiUrl(row.saleor_api_url),
                order_id=SaleorId(row.order_id),
                kind=row.kind,
                payload=json.loads(row.payload),
                attempts=row.attempts,
                retry_window_start=row.retry_window_start,
            )
            for row in sorted(rows, key=lambda row: row.id)
        ]

    async def delivered(self, effects: Sequence[Effect], now: datetime) -> None:
        """Saleor has them: done, even those whose lease ran out and another dispatcher took."""
        if effects:
            await self._session.execute(
                update(EffectRow)
                .where(EffectRow.id.in_([effect.id for effect in effects]), EffectRow.status == Status.SENDING)
                .values(status=Status.DONE, done_at=now, claimed_until=None, last_error=None)
                .execution_options(synchronize_session=False)
            )

    async def failed_attempt(self, effect: Effect, error: str, *, retry_at: datetime | None) -> None:
        """Back to waiting until ``retry_at``, or failed for good when None.

        Only while the claim is still this one: once its lease ran out and another dispatcher
        claimed the effect (its attempts moved on), a late failure must not hand the effect to a
        third dispatcher while the second is still sending it.
        """
        await self._session.execute(
            update(EffectRow)
            .where(EffectRow.id == effect.id, EffectRow.status == Status.SENDING, EffectRow.attempts == effect.attempts)
            .values(
                status=Status.PENDING if retry_at is not None else Status.FAILED,
                next_attempt_at=retry_at if retry_at is not None else EffectRow.next_attempt_at,
                claimed_until=None,
                last_error=error[:2000],
            )
        )

    async def retry(self, url: SaleorApiUrl, effect_ids: Sequence[int] | None, now: datetime) -> int:
        """Due now again: the given waiting or failed effects of the store, or all of them."""
        return await _make_due(self._session, EffectRow, url, effect_ids, now)


class EffectsOfBatch:
    """The effects a batch of deliveries decides, kept until its end and then stored in one statement
    (``store``), in the batch's transaction and in the order they were added: one write per batch
    instead of one per effect. Whatever the batch rolls back, it never stored."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows: dict[tuple[SaleorApiUrl, str], dict[str, object]] = {}

    async def add(self, url: SaleorApiUrl, key: str, effect: NewEffect, at: datetime) -> bool:
        """False for a key this batch added already; one stored by an earlier transaction is left as it
        is when the batch stores its effects."""
        if (url, key) in self._rows:
            return False
        self._rows[url, key] = _effect_row(url, key, effect, at)
        return True

    async def store(self) -> None:
        await insert_all_if_absent(self._session, _EFFECTS, list(self._rows.values()))
        self._rows.clear()


def _effect_row(url: SaleorApiUrl, key: str, effect: NewEffect, at: datetime) -> dict[str, object]:
    return {
        "saleor_api_url": url,
        "order_id": effect.order_id,
        "key": key,
        "kind": effect.kind,
        "lane": effect.lane,
        "payload": encode(effect.payload),
        "status": Status.PENDING,
        "attempts": 0,
        "created_at": at,
        "next_attempt_at": at,
        "retry_window_start": at,
    }


async def _make_due(
    session: AsyncSession,
    model: type[OrderEventRow] | type[EffectRow],
    url: SaleorApiUrl,
    ids: Sequence[int] | None,
    now: datetime,
) -> int:
    query = update(model).where(model.saleor_api_url == url, model.status.in_((Status.PENDING, Status.FAILED)))
    if ids is not None:
        query = query.where(model.id.in_(ids))
    # A new day of attempts: one a person asked for is not cut short by the first day's window.
    result = await session.execute(query.values(status=Status.PENDING, next_attempt_at=now, retry_window_start=now))
    return int(result.rowcount)  # type: ignore[attr-defined]
