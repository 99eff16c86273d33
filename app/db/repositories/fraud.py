"""Fraud assessments, the review queue, velocity counts and the merchant's lists, per store."""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import statistics
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    literal,
    null,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased

from app.db.driver import DriverStatement
from app.db.models import FraudAssessmentRow, FraudListEntryRow, FraudReviewRow, FraudVelocityRow
from app.db.upsert import insert_all_if_absent, insert_if_absent
from app.domain.fraud import (
    ListEntry,
    ListKind,
    OrderFacts,
    Reason,
    RiskAssessment,
    Sentiment,
    Stage,
    VelocityProbe,
)
from app.domain.ids import SaleorApiUrl
from app.services.ports import CANCELLED_IN_SALEOR, CustomerHistory, FraudReview, StoredAssessment, StoreHistory

# Why the app holds an order: approved before its payment was seen, or waiting for a person.
AWAITING_PAYMENT = "awaiting_payment"
HELD_STATUSES = (AWAITING_PAYMENT, "open")
# The store's "usual order value" is the median of its most recent orders.
TYPICAL_VALUE_SAMPLE = 500
_VELOCITY = cast(Table, FraudVelocityRow.__table__)
# The keys one by one in the array's order (``unnest`` keeps it), in one statement.
_LOCK_IN_ORDER = text("SELECT pg_advisory_xact_lock(key) FROM unnest(CAST(:keys AS bigint[])) AS key")
_REVIEWS = cast(Table, FraudReviewRow.__table__)
# Under this key a session keeps the velocity locks its transaction holds (and which transaction).
_VELOCITY_LOCKS_HELD = "fraud velocity locks held"
# Under this key a session keeps the keys committed for it before its transaction's orders were scored
# (``record_velocity_ahead``): each row's id by (store, dimension, value, order), and which transaction.
_VELOCITY_RECORDED_AHEAD = "fraud velocity recorded ahead"
# More than any row's id: an order's count bound while it has no row of a value yet. Every row it can see
# of that value is then before it: committed, as the value's lock was taken after them (SQLite: one writer).
_AFTER_EVERY_ROW = 2**63 - 1


def _store_history() -> Select[Any]:
    """The store's orders but those ``excluded`` counted, and the middle one or two of the most recent
    totals in the order's currency (the median is then taken of those, exactly as of all of them). Each
    order counts once, by its first assessment (``created``, or ``paid`` when it came paid)."""
    A, earlier = FraudAssessmentRow, aliased(FraudAssessmentRow)
    first = or_(
        A.stage == Stage.CREATED.value,
        ~select(earlier.id)
        .where(
            earlier.saleor_api_url == bindparam("url"),
            earlier.order_id == A.order_id,
            earlier.stage == Stage.CREATED.value,
        )
        .exists(),
    )
    others = (A.saleor_api_url == bindparam("url"), A.order_id.not_in(bindparam("excluded", expanding=True)), first)
    recent = (
        select(A.total)
        .where(*others, A.currency == bindparam("currency"))
        .order_by(A.assessed_at.desc())
        .limit(TYPICAL_VALUE_SAMPLE)
        .subquery()
    )
    ranked = select(
        recent.c.total,
        func.row_number().over(order_by=recent.c.total).label("rank"),
        func.count().over().label("size"),
    ).subquery()
    # Counted up to ``count_to`` only: a count of every order would read all of a big store's rows.
    counted = select(literal(1)).where(*others).limit(bindparam("count_to")).subquery()
    orders = select(func.count()).select_from(counted).scalar_subquery()
    middle = or_(ranked.c.rank == (ranked.c.size + 1) // 2, ranked.c.rank == (ranked.c.size + 2) // 2)
    return (
        select(orders.label("orders"), ranked.c.total, ranked.c.rank)
        .select_from(select(literal(1)).subquery())
        .outerjoin(ranked, middle)
        .order_by(ranked.c.rank)
    )


def _customer_orders(same_customer: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """The customer's other orders' assessments with their reviews (``store`` false), in the columns of
    ``_with_customer_history``."""
    A, R = FraudAssessmentRow, FraudReviewRow
    return (
        select(
            literal(False).label("store"),
            A.order_id,
            A.stage,
            A.decision,
            A.total,
            R.status,
            R.closed_reason,
            null().label("orders"),
            null().label("rank"),
            A.assessed_at,
            A.id,
        )
        .outerjoin(R, and_(R.saleor_api_url == bindparam("url"), R.order_id == A.order_id))
        .where(A.saleor_api_url == bindparam("url"), A.order_id != bindparam("order_id"), same_customer)
    )


def _with_customer_history(same_customer: ColumnElement[bool]) -> CompoundSelect[Any]:
    """``_store_history`` and the customer's other orders' assessments, oldest first, with their reviews, in
    one statement: the customer's rows first (``store`` false), then the store's (``store`` true)."""
    store = _store_history().order_by(None).subquery()
    of_store = select(
        literal(True),
        *(null() for _ in range(3)),
        store.c.total,
        null(),
        null(),
        store.c.orders,
        store.c.rank,
        null(),
        null(),
    )
    combined: CompoundSelect[Any] = union_all(_customer_orders(same_customer), of_store)
    order = combined.selected_columns
    return combined.order_by(order.store, order.assessed_at, order.id, order.rank)


@functools.cache
def _velocity_counts(probes: int) -> Select[*tuple[int, ...]]:
    """The count for each of ``probes`` probes (their dimension, value and window start bound as
    ``dimension_n``, ``value_n``, ``since_n``), built once per number of probes: the rows kept before the
    order's own row of the value (``before_n``, its id; a locked value's rows take ids in commit order)."""
    V = _VELOCITY.c

    def matches(n: int) -> ColumnElement[bool]:
        return and_(V.dimension == bindparam(f"dimension_{n}"), V.value == bindparam(f"value_{n}"))

    def counted(n: int) -> ColumnElement[bool]:
        before = bindparam(f"before_{n}", type_=BigInteger)
        return and_(matches(n), V.seen_at >= bindparam(f"since_{n}"), V.id < before)

    columns = [func.count(func.distinct(case((counted(n), V.order_id)))) for n in range(probes)]
    return select(*columns).where(
        V.saleor_api_url == bindparam("url"),
        or_(*(matches(n) for n in range(probes))),
        V.order_id != bindparam("order_id"),
        V.seen_at >= bindparam("since"),
    )


# PostgreSQL: the order's velocity keys (``new_dimensions`` and ``new_values``, pairwise) kept unless kept
# already. Text, as a multi-row VALUES would make the statement uncacheable (compiled for every order).
_KEEP_VELOCITY = (
    text(
        "INSERT INTO fraud_velocity (saleor_api_url, dimension, value, order_id, seen_at) "
        "SELECT :url, key.dimension, key.value, :order_id, :now "
        "FROM unnest(CAST(:new_dimensions AS varchar[]), CAST(:new_values AS varchar[])) AS key(dimension, value) "
        "ON CONFLICT DO NOTHING"
    )
    .bindparams(bindparam("now", type_=_VELOCITY.c.seen_at.type))
    .columns()
    .cte("kept")
)


# PostgreSQL, as a transaction of its own (autocommit), in one round trip: the ``locks`` taken one by one in
# the array's order (the subquery runs once, before the first row is inserted), then several orders'
# velocity keys (``urls``, ``dimensions``, ``values``, ``order_ids``, element by element) kept, new ids taken
# in the arrays' order, and every one's id returned: a key kept already is found through the unique
# constraint's index and left as it was (its seen_at set to itself). The locks end with the statement. Its
# commit waits for no disk flush (``synchronous_commit`` off for it alone): whatever counts its rows commits
# after it, so flushing that later commit flushes this one too, and a crash before then loses both.
_LOCK_AND_KEEP_IN_ORDER = (
    text(
        "INSERT INTO fraud_velocity (saleor_api_url, dimension, value, order_id, seen_at) "
        "SELECT key.url, key.dimension, key.value, key.order_id, :now "
        "FROM unnest(CAST(:urls AS varchar[]), CAST(:dimensions AS varchar[]), CAST(:values AS varchar[]), "
        "CAST(:order_ids AS varchar[])) WITH ORDINALITY AS key(url, dimension, value, order_id, position) "
        "WHERE (SELECT count(*) FROM unnest(CAST(:locks AS bigint[])) AS lock(key), "
        "pg_advisory_xact_lock(lock.key), set_config('synchronous_commit', 'off', true)) >= 0 "
        "ORDER BY key.position "
        "ON CONFLICT (saleor_api_url, dimension, value, order_id) DO UPDATE SET seen_at = fraud_velocity.seen_at "
        "RETURNING id, saleor_api_url, dimension, value, order_id"
    )
    .bindparams(bindparam("now", type_=_VELOCITY.c.seen_at.type))
    .columns()
)
# The order's rows of some values (before counting them: their ids bound its counts).
_OWN_ROWS = select(_VELOCITY.c.dimension, _VELOCITY.c.value, _VELOCITY.c.id).where(
    _VELOCITY.c.saleor_api_url == bindparam("url"),
    _VELOCITY.c.order_id == bindparam("order_id"),
    _VELOCITY.c.dimension.in_(bindparam("dimensions", expanding=True)),
    _VELOCITY.c.value.in_(bindparam("values", expanding=True)),
)


@functools.cache
def _recorded_and_counted(probes: int) -> DriverStatement:
    """``_KEEP_VELOCITY`` and the ``_velocity_counts`` of the order's probes, in one statement."""
    return DriverStatement(_velocity_counts(probes).add_cte(_KEEP_VELOCITY))


# Core statements built once, for reads made for every order scored.
_ASSESSMENTS = cast(Table, FraudAssessmentRow.__table__)
_ASSESSMENTS_OF = (
    select(_ASSESSMENTS)
    .where(
        _ASSESSMENTS.c.saleor_api_url == bindparam("url"),
        _ASSESSMENTS.c.order_id.in_(bindparam("order_ids", expanding=True)),
    )
    .order_by(_ASSESSMENTS.c.assessed_at, _ASSESSMENTS.c.id)
)
_REVIEWS_OF = select(_REVIEWS).where(
    _REVIEWS.c.saleor_api_url == bindparam("url"), _REVIEWS.c.order_id.in_(bindparam("order_ids", expanding=True))
)


def _not_kept(probes: Sequence[VelocityProbe], own: Mapping[tuple[str, str], int]) -> list[tuple[str, str]]:
    """The (dimension, value) keys of ``probes`` the order has no row of yet, to be kept. Keys recorded ahead
    (every key of a batch's order) are all in ``own``: its statement then inserts nothing, probing no index."""
    return sorted({(p.dimension.value, p.value) for p in probes} - own.keys())


class _Customer(enum.Enum):
    """How an order's customer is known: the account they used, else their e-mail, else not at all."""

    BY_ACCOUNT = "account"
    BY_EMAIL = "email"
    NOBODY = "nobody"


_SAME_CUSTOMER: dict[_Customer, ColumnElement[bool]] = {
    _Customer.BY_ACCOUNT: FraudAssessmentRow.customer_id == bindparam("customer"),
    _Customer.BY_EMAIL: FraudAssessmentRow.email == bindparam("customer"),
    _Customer.NOBODY: false(),
}
# Built once: customer_history runs for every order scored, and building them was most of its cost.
_STORE_HISTORY = _store_history()
_WITH_CUSTOMER_HISTORY = {
    whom: _with_customer_history(_SAME_CUSTOMER[whom]) for whom in (_Customer.BY_ACCOUNT, _Customer.BY_EMAIL)
}
_CUSTOMER_ORDERS = {
    whom: _customer_orders(_SAME_CUSTOMER[whom]).order_by(FraudAssessmentRow.assessed_at, FraudAssessmentRow.id)
    for whom in (_Customer.BY_ACCOUNT, _Customer.BY_EMAIL)
}


@functools.cache
def _recorded_counted_and_history(probes: int, whom: _Customer, *, of_store: bool) -> Select[Any]:
    """PostgreSQL: ``_recorded_and_counted`` and ``_with_customer_history`` (``of_store``; else only the
    customer's orders), in one statement, in the history's order, the counts of the ``probes`` probes
    closing every row, and on a row of their own (the rest null) when the history has none."""
    same_customer = _SAME_CUSTOMER[whom]
    rows = _with_customer_history(same_customer) if of_store else _customer_orders(same_customer)
    history = rows.order_by(None).subquery("history")
    counts = _velocity_counts(probes).subquery("counts")
    order = (history.c.store, history.c.assessed_at, history.c.id, history.c.rank)
    both = counts.outerjoin(history, true())  # the counts are one row
    return select(history, counts).select_from(both).add_cte(_KEEP_VELOCITY).order_by(*order)


@functools.cache
def _recorded_counted_and_customers(probes: int, whom: _Customer) -> DriverStatement:
    """``_recorded_counted_and_history`` without the store's part (read once per batch): run for every
    order scored, on the driver's connection."""
    return DriverStatement(_recorded_counted_and_history(probes, whom, of_store=False))


def _history_parameters(url: SaleorApiUrl, facts: OrderFacts, *, count_to: int) -> tuple[_Customer, dict[str, object]]:
    params: dict[str, object] = {
        "url": url,
        "order_id": facts.order_id,
        "excluded": [facts.order_id],
        "currency": facts.currency,
        "count_to": count_to,
    }
    if facts.customer_id:
        return _Customer.BY_ACCOUNT, params | {"customer": facts.customer_id}
    if facts.email:
        return _Customer.BY_EMAIL, params | {"customer": facts.email.lower()}
    return _Customer.NOBODY, params


def _customer_history(rows: Sequence[Row[*tuple[Any, ...]]], store: StoreHistory | None = None) -> CustomerHistory:
    """From the rows of ``_with_customer_history``: the customer's orders, then the store's count and
    middle totals (or, given ``store``, the customer's orders only)."""
    if store is None:
        of_store = [row for row in rows if row.store]
        store = StoreHistory(int(of_store[0].orders), _median([r.total for r in of_store if r.total is not None]))
    orders: dict[str, _PastOrder] = {}
    for row in rows:
        if row.store or row.order_id is None:  # the store's rows, or the counts' row of their own
            continue
        order_id, stage, decision, total, review_status, closed_reason = row[1:7]
        past = orders.setdefault(order_id, _PastOrder(total, review_status, closed_reason))
        past.paid = past.paid or stage == Stage.PAID.value
        past.decision = decision  # the latest assessment's
    trusted = [past.total for past in orders.values() if past.trusted]
    return CustomerHistory(
        store.order_count,
        store.median_total,
        len(trusted),
        sum(trusted, Decimal(0)) / len(trusted) if trusted else None,
        sum(1 for past in orders.values() if past.fraudulent),
    )


class SqlFraudRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save_assessment(
        self, url: SaleorApiUrl, assessment: RiskAssessment, facts: OrderFacts, order_number: str
    ) -> bool:
        """Keep the assessment once per order and stage; False when a retry already kept it."""
        return await insert_if_absent(
            self._session, _ASSESSMENTS, _assessment_row(url, assessment, facts, order_number)
        )

    async def save_assessment_and_hold(
        self, url: SaleorApiUrl, assessment: RiskAssessment, facts: OrderFacts, order_number: str, *, at: datetime
    ) -> tuple[bool, bool]:
        """``save_assessment``, then ``hold_for_payment`` only if the assessment was new: (new, held).
        PostgreSQL: one statement (``_SAVED_AND_HELD``)."""
        if not self._on_postgresql():
            if not await self.save_assessment(url, assessment, facts, order_number):
                return False, False
            return True, await self.hold_for_payment(url, assessment.order_id, order_number, at=at)
        assessed = _assessment_row(url, assessment, facts, order_number)
        hold = _hold_row(url, assessment.order_id, order_number, at=at)
        (saved,) = await _SAVED_AND_HELD.fetch(
            self._session, assessed | {f"hold_{name}": value for name, value in hold.items()}
        )
        return bool(saved.kept), bool(saved.held)

    async def assessments(self, url: SaleorApiUrl, order_id: str) -> list[StoredAssessment]:
        return (await self.assessments_of(url, [order_id])).get(order_id, [])

    async def assessments_of(self, url: SaleorApiUrl, order_ids: Sequence[str]) -> dict[str, list[StoredAssessment]]:
        """Each order's assessments, oldest first, in one query (the review queue lists many orders)."""
        rows = await self._session.execute(_ASSESSMENTS_OF, {"url": url, "order_ids": list(order_ids)})
        found: dict[str, list[StoredAssessment]] = {}
        for row in rows:
            found.setdefault(row.order_id, []).append(_stored(row))
        return found

    async def customer_history(
        self, url: SaleorApiUrl, facts: OrderFacts, *, count_to: int, store: StoreHistory | None = None
    ) -> CustomerHistory:
        """The store's order count (up to ``count_to``) and usual value (``store`` when given), and this
        customer's earlier orders (by account, else email): those paid and approved build trust, those
        rejected or found fraudulent add risk."""
        whom, params = _history_parameters(url, facts, count_to=count_to)
        if whom is _Customer.NOBODY:
            if store is None:
                store = await self.store_history(url, facts.currency, count_to=count_to, excluded=[facts.order_id])
            return CustomerHistory(store.order_count, store.median_total, 0, None, 0)
        if store is not None:
            return _customer_history((await self._session.execute(_CUSTOMER_ORDERS[whom], params)).all(), store)
        # One statement for both: the customer's orders, then the store's count and middle totals.
        return _customer_history((await self._session.execute(_WITH_CUSTOMER_HISTORY[whom], params)).all())

    async def store_history(
        self, url: SaleorApiUrl, currency: str, *, count_to: int, excluded: Collection[str]
    ) -> StoreHistory:
        """The store's order count (up to ``count_to``) and usual value in ``currency``, of its orders but
        the ``excluded`` ones."""
        params = {"url": url, "currency": currency, "count_to": count_to, "excluded": sorted(excluded)}
        rows = (await self._session.execute(_STORE_HISTORY, params)).all()
        return StoreHistory(int(rows[0].orders), _median([row.total for row in rows if row.total is not None]))

    async def record_velocity_and_history(
        self,
        url: SaleorApiUrl,
        probes: Sequence[VelocityProbe],
        facts: OrderFacts,
        *,
        at: datetime,
        count_to: int,
        store: StoreHistory | None = None,
    ) -> tuple[dict[VelocityProbe, int], CustomerHistory]:
        """``record_velocity``, then ``customer_history`` (with ``store`` as the store's part when given,
        read once for several orders); on PostgreSQL in one statement, which sees the same rows as the two
        would: the history reads assessments (the velocity keys it keeps are not among them), every
        earlier order's of the transaction included, the order's own left out."""
        if not probes or not self._on_postgresql():
            counts = await self.record_velocity(url, probes, order_id=facts.order_id, at=at)
            return counts, await self.customer_history(url, facts, count_to=count_to, store=store)
        own = await self._own_rows(url, probes, facts.order_id)
        whom, params = _history_parameters(url, facts, count_to=count_to)
        if store is not None and whom is _Customer.NOBODY:
            counts = await self._record_velocity(url, probes, order_id=facts.order_id, at=at, own=own)
            return counts, CustomerHistory(store.order_count, store.median_total, 0, None, 0)
        params |= self._keep_and_count_parameters(url, probes, order_id=facts.order_id, now=at, own=own)
        if store is None:
            statement = _recorded_counted_and_history(len(probes), whom, of_store=True)
            rows = (await self._session.execute(statement, params)).all()
        else:
            rows = await _recorded_counted_and_customers(len(probes), whom).fetch(self._session, params)
        counted = rows[0][-len(probes) :]  # the counts close every row
        counts = {probe: int(count) for probe, count in zip(probes, counted, strict=True)}
        return counts, _customer_history(rows, store)

    async def record_velocity(
        self, url: SaleorApiUrl, probes: Sequence[VelocityProbe], *, order_id: str, at: datetime
    ) -> dict[VelocityProbe, int]:
        """Keep this order's email, card, IP and address, and count per probe the other orders that used the
        value before this one did, within the probe's window: of orders arriving together (card testing),
        each counts those before it, and an order counted again (a retry, its payment) counts the same ones.

        The keys are locked first (``lock_velocity``; SQLite: the insert takes the database's single write
        lock), so a concurrent order sharing a key waits until this transaction ends and then counts this
        one; keys recorded ahead for this transaction (``record_velocity_ahead``) are committed already.
        """
        if not probes:
            return {}
        own = await self._own_rows(url, probes, order_id)
        return await self._record_velocity(url, probes, order_id=order_id, at=at, own=own)

    async def _record_velocity(
        self,
        url: SaleorApiUrl,
        probes: Sequence[VelocityProbe],
        *,
        order_id: str,
        at: datetime,
        own: Mapping[tuple[str, str], int],
    ) -> dict[VelocityProbe, int]:
        """``record_velocity`` once the keys are locked and the order's ``own`` rows read."""
        if not self._on_postgresql():
            rows = [
                {"saleor_api_url": url, "dimension": dimension, "value": value, "order_id": order_id, "seen_at": at}
                for dimension, value in _not_kept(probes, own)
            ]
            await insert_all_if_absent(self._session, _VELOCITY, rows)
            params = self._velocity_parameters(url, probes, order_id=order_id, now=at, own=own)
            row = (await self._session.execute(_velocity_counts(len(probes)), params)).one()
            return {probe: int(count) for probe, count in zip(probes, row, strict=True)}
        # PostgreSQL: kept and counted in one statement. The count cannot see the rows its own statement
        # inserts, and needs not: they are this order's, which it does not count; later statements see them.
        params = self._keep_and_count_parameters(url, probes, order_id=order_id, now=at, own=own)
        (counted,) = await _recorded_and_counted(len(probes)).fetch(self._session, params)
        return {probe: int(count) for probe, count in zip(probes, counted, strict=True)}

    async def record_velocity_ahead(
        self,
        engine: AsyncEngine,
        used: Sequence[tuple[SaleorApiUrl, str, Sequence[VelocityProbe]]],
        *,
        at: datetime,
    ) -> None:
        """PostgreSQL: the keys each order of ``used`` (store, order, probes) uses, kept in ``used``'s order
        in a statement of their own, committed at once under the keys' locks. This session's transaction
        then scores those orders without locking anything: an order that used a key before is committed by
        then, and one that uses it later has a larger id, which the count leaves out. So a concurrent
        transaction sharing a key waits for that statement, not for this transaction.

        SQLite: nothing. Its transaction holds the database's one write lock throughout: nothing waits less.
        """
        keys = list(
            dict.fromkeys((url, p.dimension.value, p.value, order_id) for url, order_id, of in used for p in of)
        )
        if not keys or not self._on_postgresql():
            return
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            kept = await autocommit.execute(
                _LOCK_AND_KEEP_IN_ORDER,
                {
                    "locks": sorted({_lock_key(url, dimension, value) for url, dimension, value, _ in keys}),
                    "urls": [url for url, _, _, _ in keys],
                    "dimensions": [dimension for _, dimension, _, _ in keys],
                    "values": [value for _, _, value, _ in keys],
                    "order_ids": [order_id for _, _, _, order_id in keys],
                    "now": at,
                },
            )
            ids = {(row.saleor_api_url, row.dimension, row.value, row.order_id): row.id for row in kept}
        await self._session.connection()  # begins this session's transaction if none has begun
        self._session.info[_VELOCITY_RECORDED_AHEAD] = (self._session.get_transaction(), ids)

    async def _own_rows(
        self, url: SaleorApiUrl, probes: Sequence[VelocityProbe], order_id: str
    ) -> dict[tuple[str, str], int]:
        """The ids of the order's rows of the probed values, by (dimension, value): kept ahead for this
        transaction, or else read once the values are locked (a value it has no row of yet is absent)."""
        values = {(p.dimension.value, p.value) for p in probes}
        ahead = self._session.info.get(_VELOCITY_RECORDED_AHEAD)
        if ahead is not None and ahead[0] is self._session.get_transaction():
            ids: dict[tuple[str, str, str, str], int] = ahead[1]
            if all((url, dimension, value, order_id) in ids for dimension, value in values):
                return {(dimension, value): ids[url, dimension, value, order_id] for dimension, value in values}
        await self.lock_velocity({url: probes})
        rows = await self._session.execute(
            _OWN_ROWS,
            {
                "url": url,
                "order_id": order_id,
                "dimensions": sorted({dimension for dimension, _ in values}),
                "values": sorted({value for _, value in values}),
            },
        )
        return {(row.dimension, row.value): row.id for row in rows if (row.dimension, row.value) in values}

    async def lock_velocity(self, probes: Mapping[SaleorApiUrl, Iterable[VelocityProbe]]) -> None:
        """PostgreSQL: a transaction-level advisory lock on each store's probed values, every key in one
        order in one statement, so that transactions locking overlapping keys cannot deadlock. Taking a
        key this transaction holds again returns at once."""
        if not self._on_postgresql():
            return
        # Keys this transaction locked already (for an earlier order, or an earlier step of this one) are
        # not asked for again: one statement less.
        transaction = self._session.get_transaction()
        held_by = self._session.info.get(_VELOCITY_LOCKS_HELD)
        if held_by is None or held_by[0] is not transaction:
            await self._session.connection()  # begins the transaction if none has begun
            held_by = self._session.info[_VELOCITY_LOCKS_HELD] = (self._session.get_transaction(), set())
        held: set[int] = held_by[1]
        keys = {_lock_key(url, p.dimension.value, p.value) for url, of_store in probes.items() for p in of_store}
        if locks := sorted(keys - held):
            await (await self._session.connection()).execute(_LOCK_IN_ORDER, {"keys": locks})
            held.update(locks)

    def _on_postgresql(self) -> bool:
        """Told by the session's engine: asking its connection would begin a transaction (and take a turn
        of the event loop's greenlet), for every order scored."""
        return self._session.get_bind().dialect.name == "postgresql"

    @classmethod
    def _keep_and_count_parameters(
        cls,
        url: SaleorApiUrl,
        probes: Sequence[VelocityProbe],
        *,
        order_id: str,
        now: datetime,
        own: Mapping[tuple[str, str], int],
    ) -> dict[str, object]:
        """For ``_KEEP_VELOCITY`` and ``_velocity_counts`` together."""
        keys = _not_kept(probes, own)
        return cls._velocity_parameters(url, probes, order_id=order_id, now=now, own=own) | {
            "now": now,
            "new_dimensions": [dimension for dimension, _ in keys],
            "new_values": [value for _, value in keys],
        }

    @staticmethod
    def _velocity_parameters(
        url: SaleorApiUrl,
        probes: Sequence[VelocityProbe],
        *,
        order_id: str,
        now: datetime,
        own: Mapping[tuple[str, str], int],
    ) -> dict[str, object]:
        params: dict[str, object] = {
            "url": url,
            "order_id": order_id,
            "since": now - timedelta(hours=max(p.window_hours for p in probes)),
        }
        for n, probe in enumerate(probes):
            params |= {
                f"dimension_{n}": probe.dimension.value,
                f"value_{n}": probe.value,
                f"since_{n}": now - timedelta(hours=probe.window_hours),
                f"before_{n}": own.get((probe.dimension.value, probe.value), _AFTER_EVERY_ROW),
            }
        return params

    async def identifiers(self, url: SaleorApiUrl, order_id: str) -> dict[str, str]:
        return (await self.identifiers_of(url, [order_id])).get(order_id, {})

    async def identifiers_of(self, url: SaleorApiUrl, order_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """The email, card, IP and shipping address each order used, as velocity keeps them."""
        rows = await self._session.execute(
            select(_VELOCITY.c.order_id, _VELOCITY.c.dimension, _VELOCITY.c.value).where(
                _VELOCITY.c.saleor_api_url == url, _VELOCITY.c.order_id.in_(order_ids)
            )
        )
        found: dict[str, dict[str, str]] = {}
        for order_id, dimension, value in rows:
            found.setdefault(str(order_id), {})[str(dimension)] = str(value)
        return found

    async def list_entries(self, url: SaleorApiUrl) -> list[ListEntry]:
        rows = await self._session.scalars(
            select(FraudListEntryRow)
            .where(FraudListEntryRow.saleor_api_url == url)
            .order_by(FraudListEntryRow.kind, FraudListEntryRow.value)
        )
        return [ListEntry(ListKind(r.kind), r.value, r.allow, r.note) for r in rows]

    async def add_list_entry(self, url: SaleorApiUrl, entry: ListEntry, *, by: str, at: datetime) -> None:
        """Add, or move an existing value to the other list with the new note."""
        existing = await self._session.scalar(
            select(FraudListEntryRow).where(
                FraudListEntryRow.saleor_api_url == url,
                FraudListEntryRow.kind == entry.kind.value,
                FraudListEntryRow.value == entry.value,
            )
        )
        if existing is None:
            existing = FraudListEntryRow(saleor_api_url=url, kind=entry.kind.value, value=entry.value)
            self._session.add(existing)
        existing.allow, existing.note, existing.added_at, existing.added_by = entry.allow, entry.note, at, by
        await self._session.flush()

    async def remove_list_entry(self, url: SaleorApiUrl, kind: ListKind, value: str) -> bool:
        result = await self._session.execute(
            delete(FraudListEntryRow).where(
                FraudListEntryRow.saleor_api_url == url,
                FraudListEntryRow.kind == kind.value,
                FraudListEntryRow.value == value,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def open_review(self, url: SaleorApiUrl, order_id: str, order_number: str, *, by: str, at: datetime) -> bool:
        """Hold the order for a person; an order waiting for its payment now waits for a person instead."""
        if await insert_if_absent(
            self._session,
            _REVIEWS,
            {
                "saleor_api_url": url,
                "order_id": order_id,
                "order_number": order_number,
                "status": "open",
                "opened_at": at,
                "opened_by": by,
                "note": "",
            },
        ):
            return True
        result = await self._session.execute(
            update(FraudReviewRow)
            .where(*_held(url, order_id), FraudReviewRow.status == AWAITING_PAYMENT)
            .values(status="open", opened_at=at, opened_by=by)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def hold_for_payment(self, url: SaleorApiUrl, order_id: str, order_number: str, *, at: datetime) -> bool:
        return await insert_if_absent(self._session, _REVIEWS, _hold_row(url, order_id, order_number, at=at))

    async def release_hold(self, url: SaleorApiUrl, order_id: str) -> None:
        await self._session.execute(
            delete(FraudReviewRow).where(*_held(url, order_id), FraudReviewRow.status == AWAITING_PAYMENT)
        )

    async def close_as_cancelled(self, url: SaleorApiUrl, order_id: str, order_number: str, *, at: datetime) -> None:
        closed = {"status": "closed", "closed_reason": CANCELLED_IN_SALEOR, "closed_by": "Saleor", "closed_at": at}
        row = {"saleor_api_url": url, "order_id": order_id, "order_number": order_number, "note": ""}
        if not await insert_if_absent(
            self._session, _REVIEWS, {**row, "opened_at": at, "opened_by": "saleor:cancelled", **closed}
        ):
            # A review already closed by a person keeps its reason; only a hold is closed here.
            await self._session.execute(
                update(FraudReviewRow)
                .where(*_held(url, order_id), FraudReviewRow.status.in_(HELD_STATUSES))
                .values(**closed)
            )

    async def review(self, url: SaleorApiUrl, order_id: str) -> FraudReview | None:
        return (await self.reviews_of(url, [order_id])).get(order_id)

    async def reviews_of(self, url: SaleorApiUrl, order_ids: Sequence[str]) -> dict[str, FraudReview]:
        """The review of each order that has one, in one query (a batch of orders scored together)."""
        rows = await self._session.execute(_REVIEWS_OF, {"url": url, "order_ids": list(order_ids)})
        return {row.order_id: _review(row) for row in rows}

    async def close_review(
        self, url: SaleorApiUrl, order_id: str, *, reason: str, by: str, at: datetime, note: str
    ) -> bool:
        result = await self._session.execute(
            update(FraudReviewRow)
            .where(
                FraudReviewRow.saleor_api_url == url,
                FraudReviewRow.order_id == order_id,
                FraudReviewRow.status.in_(HELD_STATUSES),
            )
            .values(status="closed", closed_reason=reason, closed_by=by, closed_at=at, note=note)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def open_reviews(self, url: SaleorApiUrl, limit: int) -> list[FraudReview]:
        rows = await self._session.scalars(
            select(FraudReviewRow)
            .where(FraudReviewRow.saleor_api_url == url, FraudReviewRow.status.in_(HELD_STATUSES))
            .order_by(FraudReviewRow.opened_at)
            .limit(limit)
        )
        return [_review(row) for row in rows]

    async def count_held(self, url: SaleorApiUrl) -> dict[str, int]:
        """Orders the app holds, by why: ``open`` (in review) and ``awaiting_payment``."""
        rows = await self._session.execute(
            select(FraudReviewRow.status, func.count())
            .where(FraudReviewRow.saleor_api_url == url, FraudReviewRow.status.in_(HELD_STATUSES))
            .group_by(FraudReviewRow.status)
        )
        return {str(status): int(count) for status, count in rows}

    async def latest_decision_counts(self, url: SaleorApiUrl, since: datetime | None = None) -> dict[str, int]:
        """How many orders each decision holds now: an order's paid-stage decision replaces its first.

        With ``since``, only orders assessed since then count, each still once.
        """
        query = select(FraudAssessmentRow.order_id, FraudAssessmentRow.decision).where(
            FraudAssessmentRow.saleor_api_url == url
        )
        if since is not None:
            query = query.where(FraudAssessmentRow.assessed_at >= since)
        rows = await self._session.execute(query.order_by(FraudAssessmentRow.assessed_at, FraudAssessmentRow.id))
        latest = {str(order_id): str(decision) for order_id, decision in rows}
        return dict(Counter(latest.values()))


# How a person closed a review (services.fraud.ReviewOutcome) that marks the order as fraud.
_FRAUD_OUTCOMES = frozenset({"refunded_as_fraud", "disputed"})


class _PastOrder:
    """One earlier order of a customer, as the app's records tell it."""

    __slots__ = ("closed_reason", "decision", "paid", "review_status", "total")

    def __init__(self, total: Decimal, review_status: str | None, closed_reason: str | None) -> None:
        self.total = total
        self.review_status = review_status
        self.closed_reason = closed_reason
        self.paid = False
        self.decision = ""

    @property
    def approved_by_a_person(self) -> bool:
        return self.review_status == "closed" and self.closed_reason == "approved"

    @property
    def fraudulent(self) -> bool:
        if self.review_status == "closed" and self.closed_reason in _FRAUD_OUTCOMES:
            return True
        return self.decision == "reject" and not self.approved_by_a_person

    @property
    def trusted(self) -> bool:
        """Paid, and approved: by the score with no review, or by a person."""
        if not self.paid or self.fraudulent:
            return False
        return self.approved_by_a_person or (self.review_status is None and self.decision == "approve")


def _assessment_row(
    url: SaleorApiUrl, assessment: RiskAssessment, facts: OrderFacts, order_number: str
) -> dict[str, object]:
    return {
        "saleor_api_url": url,
        "order_id": assessment.order_id,
        "order_number": order_number,
        "stage": assessment.stage.value,
        "channel": facts.channel,
        "email": facts.email.lower() if facts.email else None,
        "customer_id": facts.customer_id,
        "total": facts.total,
        "currency": facts.currency,
        "score": assessment.score,
        "decision": assessment.decision.value,
        "deciding_rule": assessment.deciding_rule,
        "reasons": json.dumps(
            [
                {"code": r.code, "points": r.points, "detail": r.detail, "sentiment": r.sentiment.value}
                for r in assessment.reasons
            ]
        ),
        "probability": assessment.probability,
        "expected_loss": assessment.expected_loss,
        "margin": assessment.margin,
        "assessed_at": assessment.assessed_at,
    }


def _hold_row(url: SaleorApiUrl, order_id: str, order_number: str, *, at: datetime) -> dict[str, object]:
    """An approved order the app holds until its payment is assessed."""
    return {
        "saleor_api_url": url,
        "order_id": order_id,
        "order_number": order_number,
        "status": AWAITING_PAYMENT,
        "opened_at": at,
        "opened_by": "payment:awaiting",
        "note": "",
    }


def _saved_and_held() -> Select[tuple[int, int]]:
    """PostgreSQL: the assessment kept unless kept already and, only if it was new, the order held
    (``_hold_row``, bound as ``hold_<column>``), in one statement: how many of each were inserted."""
    kept = (
        postgresql.insert(_ASSESSMENTS)
        .values(
            {column.name: bindparam(column.name, type_=column.type) for column in _ASSESSMENTS.c if column.name != "id"}
        )
        .on_conflict_do_nothing()
        .returning(_ASSESSMENTS.c.id)
        .cte("kept")
    )
    hold = [column for column in _REVIEWS.c if not column.name.startswith("closed_")]  # a hold is not closed
    held = (
        postgresql.insert(_REVIEWS)
        .from_select(
            [column.name for column in hold],
            select(*(bindparam(f"hold_{column.name}", type_=column.type) for column in hold)).where(
                select(kept.c.id).exists()
            ),
        )
        .on_conflict_do_nothing()
        .returning(_REVIEWS.c.order_id)
        .cte("held")
    )
    inserted = [select(func.count()).select_from(cte).scalar_subquery() for cte in (kept, held)]
    return select(inserted[0].label("kept"), inserted[1].label("held"))


_SAVED_AND_HELD = DriverStatement(_saved_and_held())


def _held(url: SaleorApiUrl, order_id: str) -> tuple[ColumnElement[bool], ...]:
    return (FraudReviewRow.saleor_api_url == url, FraudReviewRow.order_id == order_id)


def _lock_key(url: str, dimension: str, value: str) -> int:
    """A stable signed 64-bit advisory-lock key for one velocity value of one store."""
    digest = hashlib.sha256(f"fraud-velocity\0{url}\0{dimension}\0{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _median(values: list[Decimal]) -> Decimal | None:
    return Decimal(statistics.median(values)) if values else None


def _stored(row: FraudAssessmentRow | Row[Any]) -> StoredAssessment:
    return StoredAssessment(
        order_id=row.order_id,
        order_number=row.order_number,
        stage=Stage(row.stage),
        score=row.score,
        decision=row.decision,
        deciding_rule=row.deciding_rule,
        reasons=tuple(
            Reason(r["code"], int(r["points"]), r["detail"], Sentiment(r["sentiment"])) for r in json.loads(row.reasons)
        ),
        total=row.total,
        currency=row.currency,
        email=row.email,
        expected_loss=row.expected_loss,
        margin=row.margin,
        assessed_at=row.assessed_at,
    )


def _review(row: FraudReviewRow | Row[Any]) -> FraudReview:
    return FraudReview(
        order_id=row.order_id,
        order_number=row.order_number,
        status=row.status,
        opened_at=row.opened_at,
        opened_by=row.opened_by,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        closed_reason=row.closed_reason,
        note=row.note,
    )
