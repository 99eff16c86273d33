"""The cost ledger as a service: new moves booked on their pools, backdated ones replayed.

The hot path (a fulfilment, a day's receipts) applies each new move to its pool's stored
state: no history is read. A move dated before its pool's latest move re-posts that pool
from the latest snapshot before it (docs/valuation.md, *Backdating*).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from app.domain.ids import SaleorApiUrl
from app.domain.inventory import (
    PHASE,
    CostingPolicy,
    CostPool,
    InvalidMove,
    Method,
    Move,
    MoveKind,
    Posting,
    empty_pool,
    next_unit_cost,
    post_linked,
)
from app.services.ports import InventoryLedger, LedgerEntry, PoolKey, Position, StoredPool

__all__ = ["ORIGIN", "SNAPSHOT_EVERY", "Booking", "LedgerEntry", "book", "change_methods", "next_unit_costs"]

# Where every pool's history starts; its empty pool is snapshotted there.
ORIGIN: Position = (datetime(1970, 1, 1, tzinfo=UTC), -1, 0)
# A pool is snapshotted after this many moves, so a backdated move replays at most this many
# moves plus those after it.
SNAPSHOT_EVERY = 256


@dataclass(frozen=True, slots=True)
class Booking:
    postings: tuple[Posting, ...]  # of the new moves, in ledger order
    duplicates: tuple[str, ...]  # ids of moves that were already in the ledger
    reposted: int  # later moves re-posted because a new move was backdated before them
    # Issues booked earlier whose cost this booking changed: re-posted differently after a
    # backdated move, or their units beyond stock covered by a new receipt.
    recosted_issues: frozenset[str] = frozenset()


async def book(
    url: SaleorApiUrl,
    entries: Sequence[LedgerEntry],
    *,
    ledger: InventoryLedger,
    policy: CostingPolicy,
    now: datetime,
) -> Booking:
    """Book ``entries`` on their pools; ids already in the ledger are skipped and reported.

    A new pool takes the method ``policy`` gives its product type. Raises ``InvalidMove`` (and
    books nothing, as the caller's transaction rolls back) for a move its pool cannot take.
    """
    seen: set[str] = set()
    for entry in entries:
        if entry.move.id in seen:
            raise InvalidMove(f"move {entry.move.id} appears twice")
        seen.add(entry.move.id)
    known = await ledger.known_move_ids(url, seen) if seen else set()
    # In ledger order: by instant, then phase, then as given (the order they will be numbered in).
    fresh = sorted((entry for entry in entries if entry.move.id not in known), key=_ledger_order)
    by_pool: dict[PoolKey, list[LedgerEntry]] = defaultdict(list)
    for entry in fresh:
        by_pool[entry.move.sku, entry.move.warehouse].append(entry)
    stored = await ledger.pools(url, by_pool.keys(), for_update=True)
    missing = [key for key in by_pool if key not in stored]
    if missing:
        # Opened empty, then locked: two deliveries opening one pool queue as for any other
        # (a row that does not exist yet cannot be locked).
        opened = [_new_pool(by_pool[key][0], policy) for key in missing]
        await ledger.open_pools(url, opened, now)
        await ledger.save_snapshots(url, [(ORIGIN, new_pool.pool) for new_pool in opened])
        stored |= await ledger.pools(url, missing, for_update=True)
    for key, pool_entries in by_pool.items():
        if (change := _learned_method(stored[key], pool_entries, policy)) is not None:
            pool_entries.append(change)
            pool_entries.sort(key=_ledger_order)
            fresh.append(change)
    fresh.sort(key=_ledger_order)

    postings: dict[str, Posting] = {}
    reposted: list[Posting] = []
    recosted: set[str] = set()
    pools: dict[PoolKey, StoredPool] = {}
    for key, pool_entries in by_pool.items():
        current = stored[key]
        first = pool_entries[0].move
        if current.last is None or (first.at, PHASE[first.kind]) >= current.last[:2]:
            pool = _seeded(current.pool, pool_entries)
            work = {key: pool}
            for _, posting in post_linked([entry.move for entry in pool_entries], work, _unreachable):
                postings[posting.move.id] = posting
            pools[key] = dataclasses.replace(current, pool=work[key], product_type=_product_type(current, pool_entries))
        else:
            pools[key], replayed, changed = await _replay(url, key, current, pool_entries, ledger)
            recosted |= changed
            # Moves before the first new one were replayed only to rebuild the pool: they stand.
            first_new = next(index for index, posting in enumerate(replayed) if not posting.move.seq)
            for posting in replayed[first_new:]:
                if posting.move.seq:
                    reposted.append(posting)
                else:
                    postings[posting.move.id] = posting

    booked = [(entry, postings[entry.move.id]) for entry in fresh]
    sequence = await ledger.append(url, booked, now)
    numbered = tuple(
        posting._replace(move=dataclasses.replace(posting.move, seq=seq))
        for (_, posting), seq in zip(booked, sequence, strict=True)
    )
    await ledger.repost(url, reposted)
    advanced, snapshots = _advanced(pools, numbered, reposted)
    await ledger.save_snapshots(url, snapshots)
    await ledger.save_pools(url, advanced, now)
    new_ids = {posting.move.id for posting in numbered}
    recosted |= {
        correction.move_id
        for posting in (*numbered, *reposted)
        for correction in posting.corrections
        if correction.kind is MoveKind.ISSUE and correction.move_id not in new_ids
    }
    return Booking(
        numbered,
        tuple(entry.move.id for entry in entries if entry.move.id in known),
        len(reposted),
        frozenset(recosted),
    )


async def change_methods(
    url: SaleorApiUrl, policy: CostingPolicy, *, ledger: InventoryLedger, by: str, now: datetime
) -> Booking:
    """A revaluation move, now, on every pool whose method ``policy`` changes: never silent."""
    entries = [
        _revaluation(stored, method, now, reference=f"method change to {method.value} by {by}", by=by)
        for stored in await ledger.all_pools(url)
        if (method := policy.method_for(stored.product_type)) is not stored.pool.method
    ]
    return await book(url, entries, ledger=ledger, policy=policy, now=now)


async def next_unit_costs(
    url: SaleorApiUrl, skus: Collection[str], currency: str, *, ledger: InventoryLedger
) -> dict[str, Decimal]:
    """What the next unit of each SKU will cost by the ledger, for a sale not yet shipped.

    The warehouse is not known before the goods leave, so the dearest warehouse counts: the
    fraud check's expected loss should not be understated. SKUs with no pool in ``currency``
    are left out (the caller keeps Saleor's cost price for them).
    """
    costs: dict[str, Decimal] = {}
    for stored in await ledger.pools_of_skus(url, skus):
        if stored.pool.currency == currency:
            cost = next_unit_cost(stored.pool)
            costs[stored.pool.sku] = max(cost, costs.get(stored.pool.sku, cost))
    return costs


def _ledger_order(entry: LedgerEntry) -> tuple[datetime, int]:
    return (entry.move.at, PHASE[entry.move.kind])


def _learned_method(current: StoredPool, entries: Sequence[LedgerEntry], policy: CostingPolicy) -> LedgerEntry | None:
    """A revaluation when a move names a product type whose method differs from its pool's.

    A pool opened by a receipt import does not know its product type; the first sale from
    Saleor tells it. If that type is costed under another method, the change is a visible move
    at that instant, as a settings change would make it.
    """
    product_type = _product_type(current, entries)
    method = policy.method_for(product_type)
    if product_type == current.product_type or method is current.pool.method:
        return None
    first = entries[0].move
    at = max(first.at, current.last[0]) if current.last else first.at
    reference = f"product type {product_type} is costed under {method.value}"
    return _revaluation(
        dataclasses.replace(current, product_type=product_type), method, at, reference=reference, by="costing settings"
    )


def _revaluation(stored: StoredPool, method: Method, at: datetime, *, reference: str, by: str) -> LedgerEntry:
    """A method change of one pool at ``at``: one per pool and instant, whoever asks twice."""
    pool = stored.pool
    digest = hashlib.sha256(f"{pool.sku}\x00{pool.warehouse}".encode()).hexdigest()[:16]
    move = Move(
        id=f"method:{digest}:{at.isoformat()}",
        kind=MoveKind.REVALUATION,
        sku=pool.sku,
        warehouse=pool.warehouse,
        at=at,
        quantity=0,
        currency=pool.currency,
        method=method,
        reference=reference,
    )
    return LedgerEntry(move, source="settings", recorded_by=by, product_type=stored.product_type)


def _unreachable(move: Move) -> CostPool:
    raise AssertionError(f"move {move.id} has no pool")  # every pool is loaded before posting


def _new_pool(entry: LedgerEntry, policy: CostingPolicy) -> StoredPool:
    move = entry.move
    method = policy.method_for(entry.product_type)
    return StoredPool(empty_pool(move.sku, move.warehouse, move.currency, method), entry.product_type, None, 0)


def _product_type(current: StoredPool, entries: Sequence[LedgerEntry]) -> str | None:
    """What the newest entry says the variant's product type is (moves from Saleor know it)."""
    for entry in reversed(entries):
        if entry.product_type is not None:
            return entry.product_type
    return current.product_type


def _seeded(pool: CostPool, entries: Sequence[LedgerEntry]) -> CostPool:
    """A pool that has never valued a unit takes Saleor's cost price as its last known cost."""
    if pool.unit_cost or pool.quantity > 0:
        return pool
    seed = next((entry.seed_unit_cost for entry in entries if entry.seed_unit_cost is not None), None)
    return pool if seed is None else pool._replace(unit_cost=seed)


async def _replay(
    url: SaleorApiUrl,
    key: PoolKey,
    current: StoredPool,
    entries: Sequence[LedgerEntry],
    ledger: InventoryLedger,
) -> tuple[StoredPool, list[Posting], set[str]]:
    """Re-post the pool from the latest snapshot before the earliest new move; also the issues
    whose cost or layers came out differently."""
    first = entries[0].move
    snapshot = await ledger.snapshot_before(url, key, first.at, PHASE[first.kind])
    if snapshot is None:
        raise AssertionError(f"pool {key} has no snapshot at its origin")
    position, start = snapshot
    later = {posting.move.id: posting for posting in await ledger.postings_after(url, key, position)}
    # New moves go after existing ones at the same instant and phase: they are numbered later.
    ordered = sorted(
        [*(posting.move for posting in later.values()), *(entry.move for entry in entries)],
        key=lambda move: (move.at, PHASE[move.kind], move.seq or float("inf")),
    )
    work = {key: _seeded(start, entries)}
    replayed = [posting for _, posting in post_linked(ordered, work, _unreachable)]
    await ledger.drop_snapshots_after(url, key, position)
    # Everything after the snapshot is counted again: the next snapshot comes SNAPSHOT_EVERY moves on.
    changed = {
        posting.move.id
        for posting in replayed
        if posting.move.kind is MoveKind.ISSUE
        and (old := later.get(posting.move.id)) is not None
        and (old.cogs, old.layers) != (posting.cogs, posting.layers)
    }
    stored = StoredPool(work[key], _product_type(current, entries), current.last, len(ordered))
    return stored, replayed, changed


def _advanced(
    pools: dict[PoolKey, StoredPool], numbered: Sequence[Posting], reposted: Sequence[Posting]
) -> tuple[list[StoredPool], list[tuple[Position, CostPool]]]:
    """The pools with their latest position moved on, and a snapshot of those that reached
    ``SNAPSHOT_EVERY`` moves since their last one."""
    latest: dict[PoolKey, Position] = {}
    counts: dict[PoolKey, int] = defaultdict(int)
    for posting in numbered:
        key = (posting.move.sku, posting.move.warehouse)
        position = (posting.move.at, PHASE[posting.move.kind], posting.move.seq)
        counts[key] += 1
        if key not in latest or position > latest[key]:
            latest[key] = position
    for posting in reposted:
        key = (posting.move.sku, posting.move.warehouse)
        position = (posting.move.at, PHASE[posting.move.kind], posting.move.seq)
        if position > latest[key]:
            latest[key] = position
    replayed = {(posting.move.sku, posting.move.warehouse) for posting in reposted}
    advanced: list[StoredPool] = []
    snapshots: list[tuple[Position, CostPool]] = []
    for key, stored in pools.items():
        last = max(latest[key], stored.last) if stored.last else latest[key]
        # A replayed pool counted its moves since the snapshot it started from.
        since = stored.moves_since_snapshot + (0 if key in replayed else counts[key])
        if since >= SNAPSHOT_EVERY:
            snapshots.append((last, stored.pool))
            since = 0
        advanced.append(dataclasses.replace(stored, last=last, moves_since_snapshot=since))
    return advanced, snapshots
