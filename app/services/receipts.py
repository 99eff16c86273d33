"""Goods received into the cost ledger: a CSV file checked whole, then booked in batches; items from
a purchasing system; one receipt typed in the dashboard; the opening balance from Saleor's stock.

Everything is booked in the caller's transaction. Nothing is booked unless every row is valid: a
file is read twice, once to check every row (against the store's warehouses and the ledger's
pools) and once to book it, so it is never held in memory. A failure while booking raises
``NothingBooked`` so that the caller's transaction rolls back whatever was booked before it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from app.domain.ids import SaleorApiUrl
from app.domain.inventory import CostingPolicy, InvalidMove, Move, MoveKind
from app.errors import AppError
from app.services.input_problems import InputProblem
from app.services.inventory import book
from app.services.order_costing import recost_orders
from app.services.ports import (
    InventoryLedger,
    LedgerEntry,
    PoolKey,
    SaleorGateway,
    SaleorName,
    SaleorNames,
    SettingsStore,
    StockLevel,
)
from app.services.receipt_import import (
    BatchChecks,
    FileProblem,
    ReceiptChecker,
    ReceiptLine,
    json_fields,
    read_receipt_csv,
)
from app.services.settings import costing_policy, store_timezone

BATCH_SIZE = 5_000  # entries per ``book`` call
MAX_API_RECEIPTS = 10_000  # per request: larger deliveries are split by the sender
KEPT_ERRORS = 500  # listed in a result; every error still goes to ``on_error``
KEPT_SKIPPED = 500
OPENING_REFERENCE = "opening balance"
_CHANGED = InputProblem(None, None, "", "changed while it was imported")

# Progress of a long import: the stage ("checked" or "booked"), rows so far, and the total once known.
Progress = Callable[[str, int, int | None], None]
# Opens the file's text lines (with their line endings, as ``open(..., newline="")`` gives them).
LineSource = Callable[[], AbstractContextManager[Iterable[str]]]


class NothingBooked(AppError):
    """Booking failed after every row was checked (the ledger changed, or the file did): raised so
    that the caller's transaction rolls back what this import had booked."""

    def __init__(self, errors: Sequence[InputProblem]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = tuple(errors)


@dataclass(frozen=True, slots=True)
class ReceiptsBooked:
    rows: int
    booked: int
    already_imported: int  # receipts already in the ledger, skipped
    value: dict[str, Decimal]  # of the receipts booked now, by currency
    # Per item of a request (none for a file, which may have a million rows).
    move_ids: tuple[str, ...] = ()
    duplicate_ids: frozenset[str] = frozenset()
    # Orders whose ``ops.cogs`` was written again: these receipts covered units sold beyond stock.
    recosted_orders: int = 0


@dataclass(frozen=True, slots=True)
class ReceiptsRejected:
    """Nothing was booked: every error found (the first ``KEPT_ERRORS`` of them kept here)."""

    rows: int
    error_count: int
    errors: tuple[InputProblem, ...]


@dataclass(frozen=True, slots=True)
class RecordedReceipt:
    move_id: str
    sku: str
    warehouse: str
    quantity: int
    unit_cost: Decimal
    currency: str
    received_at: datetime
    reference: str
    source: str
    recorded_by: str
    recorded_at: datetime


class ReceiptLog(Protocol):
    async def recent(self, url: SaleorApiUrl, limit: int) -> list[RecordedReceipt]:
        """The latest receipts recorded, newest first."""


class _Errors:
    """Counts every error, keeps the first few, and passes each on as soon as it is found."""

    def __init__(self, on_error: Callable[[InputProblem], None] | None, keep: int | None = KEPT_ERRORS) -> None:
        self.count = 0
        self.kept: list[InputProblem] = []
        self._on_error = on_error
        self._keep = keep

    def add(self, errors: Iterable[InputProblem]) -> None:
        for error in errors:
            self.count += 1
            if self._keep is None or len(self.kept) < self._keep:
                self.kept.append(error)
            if self._on_error is not None:
                self._on_error(error)


class _LedgerCurrencies:
    """The currency each pool is already valued in: a receipt in another one could not be booked."""

    def __init__(self, url: SaleorApiUrl, ledger: InventoryLedger) -> None:
        self._url, self._ledger = url, ledger
        # By the pool's hash: a file may name as many pools as it has rows.
        self._known: dict[int, str | None] = {}

    async def conflicts(self, wanted: Sequence[tuple[PoolKey, str]]) -> list[str | None]:
        """For each (pool, currency), the ledger's currency for that pool when it is another one."""
        unseen = {key for key, _ in wanted if hash(key) not in self._known}
        if unseen:
            stored = await self._ledger.pools(self._url, unseen)
            for key in unseen:
                self._known[hash(key)] = stored[key].pool.currency if key in stored else None
        found = [self._known[hash(key)] for key, _ in wanted]
        return [
            None if known in (None, currency) else known for known, (_, currency) in zip(found, wanted, strict=True)
        ]

    async def check(self, rows: Sequence[tuple[int, ReceiptLine]]) -> list[InputProblem]:
        conflicts = await self.conflicts([(line.pool, line.currency) for _, line in rows])
        return [
            InputProblem(
                row,
                "currency",
                line.currency,
                f"differs from {known}, the currency the ledger values SKU {line.sku} in this warehouse in",
            )
            for (row, line), known in zip(rows, conflicts, strict=True)
            if known is not None
        ]


class _Booker:
    """Books checked receipts batch by batch and tallies what was new and what was already there."""

    def __init__(
        self,
        url: SaleorApiUrl,
        *,
        source: str,
        recorded_by: str,
        ledger: InventoryLedger,
        policy: CostingPolicy,
        now: datetime,
    ) -> None:
        self._url, self._source, self._recorded_by = url, source, recorded_by
        self._ledger, self._policy, self._now = ledger, policy, now
        self.booked = 0
        self.already = 0
        self.value: dict[str, Decimal] = defaultdict(Decimal)
        self.duplicate_ids: set[str] | None = None  # collected only when asked, for a bounded request
        self.recosted_issues: set[str] = set()

    async def book(self, rows: Sequence[tuple[int, ReceiptLine]]) -> None:
        entries = [LedgerEntry(line.move(), self._source, self._recorded_by) for _, line in rows]
        try:
            booking = await book(self._url, entries, ledger=self._ledger, policy=self._policy, now=self._now)
        except InvalidMove as exc:
            row = next((row for row, line in rows if line.move_id in str(exc)), None)
            raise NothingBooked([InputProblem(row, None, "", f"could not be booked: {exc}")]) from exc
        self.recosted_issues |= booking.recosted_issues
        duplicates = set(booking.duplicates)
        for _, line in rows:
            if line.move_id in duplicates:
                self.already += 1
                if self.duplicate_ids is not None:
                    self.duplicate_ids.add(line.move_id)
            else:
                self.booked += 1
                self.value[line.currency] += line.value

    async def result(self, rows: int, saleor: SaleorGateway, move_ids: tuple[str, ...] = ()) -> ReceiptsBooked:
        """The tally, once the orders whose costs these receipts changed show their new COGS in Saleor."""
        recosted = await recost_orders(self._url, self.recosted_issues, ledger=self._ledger, saleor=saleor)
        duplicates = frozenset(self.duplicate_ids or ())
        return ReceiptsBooked(rows, self.booked, self.already, dict(self.value), move_ids, duplicates, recosted)


async def import_receipt_csv(
    url: SaleorApiUrl,
    open_lines: LineSource,
    *,
    saleor: SaleorGateway,
    ledger: InventoryLedger,
    settings: SettingsStore,
    now: datetime,
    recorded_by: str,
    source: str = "csv",
    progress: Progress | None = None,
    on_error: Callable[[InputProblem], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ReceiptsBooked | ReceiptsRejected:
    """Check every row of the file, then, only if all are valid, book them ``batch_size`` at a time.

    Rows already in the ledger (the same receipt imported before) are counted, not booked again.
    """
    checker = ReceiptChecker(await saleor.warehouses(), await store_timezone(settings, url), now)
    errors = _Errors(on_error)
    currencies = _LedgerCurrencies(url, ledger)
    rows = 0
    with open_lines() as lines:
        checked_text = _Digested(lines)
        pending: list[tuple[int, ReceiptLine]] = []
        for item in read_receipt_csv(checked_text, checker):
            if isinstance(item, FileProblem):
                errors.add(item.errors)
                continue
            rows += 1
            if item.line is None:
                errors.add(item.errors)
            else:
                pending.append((item.row, item.line))
            if rows % batch_size == 0:
                errors.add(await currencies.check(pending))
                pending.clear()
                _report(progress, "checked", rows, None)
                await asyncio.sleep(0)  # a long check must not starve the other requests
        errors.add(await currencies.check(pending))
    _report(progress, "checked", rows, rows)
    if not rows and not errors.count:
        errors.add([InputProblem(None, None, "", "has a header but no receipts")])
    if errors.count:
        return ReceiptsRejected(rows, errors.count, tuple(errors.kept))

    booker = _Booker(
        url,
        source=source,
        recorded_by=recorded_by,
        ledger=ledger,
        policy=await costing_policy(settings, url),
        now=now,
    )
    seen = 0
    with open_lines() as lines:
        booked_text = _Digested(lines)
        batch: list[tuple[int, ReceiptLine]] = []
        # Checked whole already: the checks across rows are not repeated (they would hold memory
        # again); the digests below prove this pass read the same text.
        for item in read_receipt_csv(booked_text, checker, whole_file=False):
            seen += 1
            if isinstance(item, FileProblem) or item.line is None or seen > rows:
                raise NothingBooked([*item.errors, _CHANGED])
            batch.append((item.row, item.line))
            if len(batch) == batch_size:
                await booker.book(batch)
                batch.clear()
                _report(progress, "booked", seen, rows)
        if batch:
            await booker.book(batch)
            _report(progress, "booked", seen, rows)
    if seen != rows or booked_text.digest() != checked_text.digest():
        raise NothingBooked([_CHANGED])
    return await booker.result(rows, saleor)


class _Digested:
    """The lines, passed on as they are read and hashed on the way."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._hash = hashlib.blake2b(digest_size=16)

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self._hash.update(line.encode("utf-8", "surrogatepass"))
            yield line

    def digest(self) -> bytes:
        return self._hash.digest()


def _report(progress: Progress | None, stage: str, done: int, total: int | None) -> None:
    if progress is not None:
        progress(stage, done, total)


async def book_receipts(
    url: SaleorApiUrl,
    items: Sequence[object],
    *,
    saleor: SaleorGateway,
    ledger: InventoryLedger,
    settings: SettingsStore,
    now: datetime,
    recorded_by: str,
    source: str = "api",
) -> ReceiptsBooked | ReceiptsRejected:
    """Receipts sent as items (a purchasing system's JSON, the dashboard's form): all booked, or
    none with every item's errors (``InputProblem.row`` is the item's index)."""
    if len(items) > MAX_API_RECEIPTS:
        message = f"has {len(items):,} receipts; send at most {MAX_API_RECEIPTS:,} per request"
        return ReceiptsRejected(len(items), 1, (InputProblem(None, "receipts", "", message),))
    if not items:
        return ReceiptsRejected(0, 1, (InputProblem(None, "receipts", "", "is empty: send at least one receipt"),))
    checker = ReceiptChecker(await saleor.warehouses(), await store_timezone(settings, url), now)
    batch = BatchChecks("item")
    errors = _Errors(None, keep=None)  # a request is bounded, and its sender needs every problem
    checked: list[tuple[int, ReceiptLine]] = []
    for index, item in enumerate(items):
        fields = json_fields(item)
        result = checker.check(fields) if isinstance(fields, dict) else fields
        if isinstance(result, list):
            errors.add(InputProblem(index, e.column or None, e.value, e.message) for e in result)
            continue
        problem = batch.admit(result, index)
        if problem is not None:
            errors.add([problem])
        else:
            checked.append((index, result))
    errors.add(await _LedgerCurrencies(url, ledger).check(checked))
    if errors.count:
        return ReceiptsRejected(len(items), errors.count, tuple(errors.kept))
    booker = _Booker(
        url,
        source=source,
        recorded_by=recorded_by,
        ledger=ledger,
        policy=await costing_policy(settings, url),
        now=now,
    )
    booker.duplicate_ids = set()
    for start in range(0, len(checked), BATCH_SIZE):
        await booker.book(checked[start : start + BATCH_SIZE])
    return await booker.result(len(items), saleor, tuple(line.move_id for _, line in checked))


@dataclass(frozen=True, slots=True)
class SkippedStock:
    variant_id: str
    sku: str | None
    warehouse_id: str
    quantity: int
    reason: str
    item: str  # the SKU, or "Product / Variant" for a variant without one
    warehouse: str  # the warehouse's name


@dataclass(frozen=True, slots=True)
class OpeningBalance:
    channel: str | None  # None when no stock had a cost price in any channel
    currency: str | None
    at: datetime
    stocks: int  # stock records with units on hand
    booked: int
    already_booked: int  # taken before: the same warehouse and variant are never booked twice
    value: Decimal  # of the lines booked now, in ``currency``
    skipped_count: int
    skipped: tuple[SkippedStock, ...]  # the first ``KEPT_SKIPPED``
    channels: tuple[str, ...]  # every channel a cost price was found in


def opening_move_id(warehouse_id: str, variant_id: str) -> str:
    return f"opening:{warehouse_id}:{variant_id}"


async def take_opening_balance(
    url: SaleorApiUrl,
    *,
    saleor: SaleorGateway,
    ledger: InventoryLedger,
    settings: SettingsStore,
    names: SaleorNames,
    channel: str | None,
    at: datetime,
    now: datetime,
    recorded_by: str,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> OpeningBalance:
    """A receipt for every stock Saleor counts, at the variant's cost price in ``channel`` (by
    default the first channel a cost price is found in), dated ``at``.

    A stock without a cost price in that channel (or in another currency than the channel's, or
    than its pool in the ledger) is skipped with the reason, never booked at a made-up cost.
    """
    currencies = _LedgerCurrencies(url, ledger)
    policy = await costing_policy(settings, url)
    skipped: list[SkippedStock] = []
    skipped_count = stocks = booked = already = 0
    value = Decimal(0)
    currency: str | None = None
    channels: dict[str, None] = {}  # in the order first seen
    pending: list[tuple[StockLevel, Move]] = []
    recosted: set[str] = set()
    # The reports show warehouses and SKU-less variants (keyed by variant id) by these names.
    learned: dict[str, SaleorName] = {}

    def skip(level: StockLevel, reason: str) -> None:
        nonlocal skipped_count
        skipped_count += 1
        if len(skipped) < KEPT_SKIPPED:
            item = level.sku or (level.variant.name if level.variant else level.variant_id)
            warehouse = level.warehouse.name if level.warehouse else level.warehouse_id
            skipped.append(
                SkippedStock(level.variant_id, level.sku, level.warehouse_id, level.quantity, reason, item, warehouse)
            )

    async def flush() -> None:
        nonlocal booked, already, value
        conflicts = await currencies.conflicts([((m.sku, m.warehouse), m.currency) for _, m in pending])
        entries = []
        for (level, move), known in zip(pending, conflicts, strict=True):
            if known is None:
                entries.append(LedgerEntry(move, "opening", recorded_by, product_type=level.product_type))
            else:
                skip(level, f"the ledger values this SKU in this warehouse in {known}, not {move.currency}")
        pending.clear()
        try:
            booking = await book(url, entries, ledger=ledger, policy=policy, now=now)
        except InvalidMove as exc:
            raise NothingBooked([InputProblem(None, None, "", f"could not be booked: {exc}")]) from exc
        recosted.update(booking.recosted_issues)
        duplicates = set(booking.duplicates)
        for entry in entries:
            if entry.move.id in duplicates:
                already += 1
            else:
                booked += 1
                value += entry.move.quantity * (entry.move.unit_cost or 0)
        _report(progress, "booked", stocks, None)

    async for level in _on_hand(saleor.stock_levels()):
        stocks += 1
        if level.warehouse is not None:
            learned[level.warehouse.saleor_id] = level.warehouse
        if level.sku is None and level.variant is not None:
            learned[level.variant.saleor_id] = level.variant
        channels.update(dict.fromkeys(level.cost_prices))
        if channel is None and level.cost_prices:
            channel = next(iter(level.cost_prices))
        price = level.cost_prices.get(channel) if channel is not None else None
        if price is None:
            skip(level, f"no cost price in channel {channel}" if channel else "no cost price in any channel")
            continue
        currency = currency or price.currency
        if price.currency != currency:
            skip(level, f"its cost price in {channel} is in {price.currency}, not {currency}")
            continue
        move = Move(
            id=opening_move_id(level.warehouse_id, level.variant_id),
            kind=MoveKind.RECEIPT,
            sku=level.sku or level.variant_id,  # the ledger's key for a variant without a SKU
            warehouse=level.warehouse_id,
            at=at,
            quantity=level.quantity,
            currency=price.currency,
            unit_cost=price.amount,
            reference=OPENING_REFERENCE,
        )
        pending.append((level, move))
        if len(pending) == batch_size:
            await flush()
    if pending:
        await flush()
    await names.remember(url, learned.values(), now)
    # An opening balance dated before sales already costed gives those sales their real cost.
    await recost_orders(url, recosted, ledger=ledger, saleor=saleor)
    return OpeningBalance(
        channel, currency, at, stocks, booked, already, value, skipped_count, tuple(skipped), tuple(channels)
    )


async def _on_hand(levels: AsyncIterator[StockLevel]) -> AsyncIterator[StockLevel]:
    async for level in levels:
        if level.quantity > 0:
            yield level
