"""Count gains and write-offs, transfers, returns to the supplier and landed costs from a store's
other systems, booked into the cost ledger all or nothing.

Every item is checked first, against the store and then against the ledger (``move_import``);
nothing is booked unless all are valid. Everything is booked in the caller's transaction: a failure
while booking raises ``NothingBooked`` so that it rolls back what was booked before it.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.domain.ids import SaleorApiUrl
from app.domain.inventory import CostingPolicy, InvalidMove, Move, Posting, transfer_in_move
from app.services.input_problems import InputProblem
from app.services.inventory import Booking, book
from app.services.move_import import LedgerFacts, MoveChecker, MoveRequest, PlannedItem, plan_moves, wanted
from app.services.order_costing import recost_orders
from app.services.ports import InventoryLedger, LedgerEntry, SaleorGateway, SettingsStore
from app.services.receipts import BATCH_SIZE, NothingBooked
from app.services.settings import costing_policy, store_timezone

MAX_API_MOVES = 10_000  # items per request


@dataclass(frozen=True, slots=True)
class BookedItem:
    index: int
    ids: tuple[str, ...]  # of the item's moves: a transfer's out-leg and in-leg, a landed cost's shares
    duplicate: bool  # every one of them was already in the ledger


@dataclass(frozen=True, slots=True)
class MovesBooked:
    items: tuple[BookedItem, ...]
    # Orders whose ``ops.cogs`` was written again: these moves covered units sold beyond stock.
    recosted_orders: int

    @property
    def booked(self) -> int:
        return sum(not item.duplicate for item in self.items)

    @property
    def duplicates(self) -> int:
        return sum(item.duplicate for item in self.items)


@dataclass(frozen=True, slots=True)
class MovesRejected:
    """Nothing was booked: every problem of every item."""

    errors: tuple[InputProblem, ...]


async def book_moves(
    url: SaleorApiUrl,
    items: Sequence[object],
    *,
    saleor: SaleorGateway,
    ledger: InventoryLedger,
    settings: SettingsStore,
    now: datetime,
    recorded_by: str,
    source: str = "api",
) -> MovesBooked | MovesRejected:
    """Moves sent as items (``move_import.FIELDS`` lists each kind's fields): all booked, or none
    with every item's errors (``InputProblem.row`` is the item's index)."""
    if len(items) > MAX_API_MOVES:
        message = f"has {len(items):,} moves; send at most {MAX_API_MOVES:,} per request"
        return MovesRejected((InputProblem(None, "moves", "", message),))
    if not items:
        return MovesRejected((InputProblem(None, "moves", "", "is empty: send at least one move"),))
    checker = MoveChecker(await saleor.warehouses(), await store_timezone(settings, url), now)
    errors: list[InputProblem] = []
    requests: list[tuple[int, MoveRequest]] = []
    for index, item in enumerate(items):
        result = checker.check(item)
        if isinstance(result, list):
            errors.extend(InputProblem(index, e.column or None, e.value, e.message) for e in result)
        else:
            requests.append((index, result))
    pools, receipts = wanted(request for _, request in requests)
    stored = await ledger.pools(url, pools) if pools else {}
    facts = LedgerFacts(
        {key: pool.pool.currency for key, pool in stored.items()},
        await ledger.receipts_named(url, receipts) if receipts else [],
    )
    planned, refused = plan_moves(requests, facts)
    if errors or refused:
        # By item, each item's field errors before what the ledger says (the sort is stable).
        return MovesRejected(tuple(sorted([*errors, *refused], key=lambda error: error.row or 0)))
    booker = _Booker(url, planned, source=source, recorded_by=recorded_by, ledger=ledger, now=now)
    return await booker.book(await costing_policy(settings, url), saleor)


class _Booker:
    def __init__(
        self,
        url: SaleorApiUrl,
        planned: Sequence[PlannedItem],
        *,
        source: str,
        recorded_by: str,
        ledger: InventoryLedger,
        now: datetime,
    ) -> None:
        self._url, self._planned, self._source, self._recorded_by = url, planned, source, recorded_by
        self._ledger, self._now = ledger, now

    async def book(self, policy: CostingPolicy, saleor: SaleorGateway) -> MovesBooked:
        """Every move but the transfers' in-legs, then the in-legs, which carry the layers their
        out-legs took (out-legs that wait for an earlier transfer's goods, in later rounds); then
        the orders whose costs these moves changed show their new COGS."""
        rounds = _transfer_rounds(self._planned)
        first = [move for item in self._planned if item.in_leg_id is None for move in item.moves]
        first += [out_leg for out_leg, _ in rounds[0]] if rounds else []
        bookings = [
            await self._book(first[start : start + BATCH_SIZE], policy) for start in range(0, len(first), BATCH_SIZE)
        ]
        for number, transfers in enumerate(rounds):
            if number:
                bookings.append(await self._book([out_leg for out_leg, _ in transfers], policy))
            # The out-legs as stored: a retried request finds them booked already, and a later
            # batch or round may have re-posted one.
            out_legs = await self._ledger.postings_of(self._url, [out_leg.id for out_leg, _ in transfers])
            in_legs = [_in_leg(out_legs[out_leg.id], in_leg_id) for out_leg, in_leg_id in transfers]
            bookings.append(await self._book(in_legs, policy))
        duplicates = {move_id for booking in bookings for move_id in booking.duplicates}
        recosted = frozenset[str]().union(*(booking.recosted_issues for booking in bookings))
        rewritten = await recost_orders(self._url, recosted, ledger=self._ledger, saleor=saleor)
        items = tuple(BookedItem(item.index, item.ids, duplicates.issuperset(item.ids)) for item in self._planned)
        return MovesBooked(items, rewritten)

    async def _book(self, moves: Sequence[Move], policy: CostingPolicy) -> Booking:
        entries = [LedgerEntry(move, self._source, self._recorded_by) for move in moves]
        try:
            return await book(self._url, entries, ledger=self._ledger, policy=policy, now=self._now)
        except InvalidMove as exc:  # the ledger changed since the items were checked
            index = next((item.index for item in self._planned if any(i in str(exc) for i in item.ids)), None)
            raise NothingBooked([InputProblem(index, None, "", f"could not be booked: {exc}")]) from exc


def _transfer_rounds(planned: Sequence[PlannedItem]) -> list[list[tuple[Move, str]]]:
    """The transfers' (out-leg, in-leg id) in rounds. A transfer out of a warehouse that an earlier
    transfer of the request brings the SKU into goes in a later round than that one, so that the
    goods leave with the cost they arrived with (replays never cross pools)."""
    transfers = sorted(
        ((item.moves[0], item.in_leg_id) for item in planned if item.in_leg_id is not None),
        key=lambda transfer: transfer[0].at,
    )
    # Into each pool so far: the instants, and the latest round that had arrived by each.
    arrivals: dict[tuple[str, str | None], tuple[list[datetime], list[int]]] = {}
    rounds: list[list[tuple[Move, str]]] = []
    for out_leg, in_leg_id in transfers:
        instants, latest = arrivals.get((out_leg.sku, out_leg.warehouse), ([], []))
        # Only earlier arrivals: at the same instant an out-leg goes before any in-leg (PHASE).
        earlier = bisect_left(instants, out_leg.at)
        number = latest[earlier - 1] + 1 if earlier else 0
        if number == len(rounds):
            rounds.append([])
        rounds[number].append((out_leg, in_leg_id))
        instants, latest = arrivals.setdefault((out_leg.sku, out_leg.counterpart_warehouse), ([], []))
        instants.append(out_leg.at)
        latest.append(max([number, *latest[-1:]]))
    return rounds


def _in_leg(out_leg: Posting, move_id: str) -> Move:
    """The transfer's in-leg: the layers its out-leg took, at their cost, into the other warehouse."""
    # A move not yet booked has no ledger sequence number: ``book`` tells new moves by it.
    return dataclasses.replace(transfer_in_move(out_leg.move, out_leg, move_id=move_id), seq=0)
