"""The booking service over the SQL ledger: hot path, idempotency, backdating, method changes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest

from app.db.repositories.inventory import SqlInventoryLedger
from app.domain.installation import Installation
from app.domain.inventory import CostingPolicy, Method, Move, MoveKind, post_ledger
from app.runtime import Runtime
from app.services import inventory
from app.services.inventory import book, change_methods
from app.services.ports import LedgerEntry
from tests.builders import NOW, SHOP_API_URL

FIFO = CostingPolicy()
AVCO = CostingPolicy(Method.AVCO)


@pytest.fixture
async def ledger(runtime: Runtime, installation: Installation) -> AsyncIterator[SqlInventoryLedger]:
    async with runtime.sessions() as session:
        yield SqlInventoryLedger(session)
        await session.commit()


def receipt(move_id: str, quantity: int, cost: str, hours: float, sku: str = "SKU-1") -> LedgerEntry:
    move = Move(
        id=move_id,
        kind=MoveKind.RECEIPT,
        sku=sku,
        warehouse="W1",
        at=NOW + timedelta(hours=hours),
        quantity=quantity,
        currency="USD",
        unit_cost=Decimal(cost),
        reference=f"PO-{move_id}",
    )
    return LedgerEntry(move, source="csv", recorded_by="test")


def issue(move_id: str, quantity: int, hours: float, sku: str = "SKU-1") -> LedgerEntry:
    move = Move(
        id=move_id,
        kind=MoveKind.ISSUE,
        sku=sku,
        warehouse="W1",
        at=NOW + timedelta(hours=hours),
        quantity=quantity,
        currency="USD",
        reference=f"line-{move_id}",
    )
    return LedgerEntry(move, source="saleor", recorded_by="saleor", order_id="order-1")


ODOO = [receipt("R1", 8, "10", 0), receipt("R2", 4, "16", 1), issue("I1", 10, 2), receipt("R3", 2, "6", 3)]


async def stored_postings(ledger: SqlInventoryLedger, ids: list[str]) -> dict[str, tuple[Decimal, Decimal, int]]:
    postings = await ledger.postings_of(SHOP_API_URL, ids)
    return {move_id: (p.cogs, p.balance_value, p.balance_quantity) for move_id, p in postings.items()}


@pytest.mark.parametrize(("policy", "cogs", "value"), [(FIFO, "112", "44"), (AVCO, "120", "36")])
async def test_odoos_example_books_what_odoo_books(
    ledger: SqlInventoryLedger, policy: CostingPolicy, cogs: str, value: str
) -> None:
    for entry in ODOO:  # one delivery at a time, as webhooks and imports arrive
        await book(SHOP_API_URL, [entry], ledger=ledger, policy=policy, now=NOW)
    stored = await stored_postings(ledger, ["I1", "R3"])
    assert stored["I1"][0] == Decimal(cogs)
    assert stored["R3"][1:] == (Decimal(value), 4)
    (pool,) = (await ledger.pools(SHOP_API_URL, [("SKU-1", "W1")])).values()
    assert (pool.pool.quantity, pool.pool.value, pool.pool.method) == (4, Decimal(value), policy.default)


async def test_booking_the_same_moves_again_books_nothing(ledger: SqlInventoryLedger) -> None:
    first = await book(SHOP_API_URL, ODOO, ledger=ledger, policy=FIFO, now=NOW)
    again = await book(SHOP_API_URL, ODOO, ledger=ledger, policy=FIFO, now=NOW)
    assert [p.move.id for p in first.postings] == ["R1", "R2", "I1", "R3"]
    assert all(p.move.seq for p in first.postings)
    assert again.postings == ()
    assert again.duplicates == ("R1", "R2", "I1", "R3")


async def test_a_move_twice_in_one_batch_is_refused(ledger: SqlInventoryLedger) -> None:
    from app.domain.inventory import InvalidMove

    with pytest.raises(InvalidMove, match="appears twice"):
        await book(SHOP_API_URL, [ODOO[0], ODOO[0]], ledger=ledger, policy=FIFO, now=NOW)


async def test_a_backdated_receipt_re_posts_only_the_later_moves_of_its_pool(ledger: SqlInventoryLedger) -> None:
    # Sold 10 with only 8 in stock: 2 provisionally at the last known cost (10).
    await book(
        SHOP_API_URL, [ODOO[0], ODOO[2], receipt("OTHER", 5, "3", 0, sku="SKU-2")], ledger=ledger, policy=FIFO, now=NOW
    )
    assert (await stored_postings(ledger, ["I1"]))["I1"][0] == Decimal("100")
    # The purchase of 4 @ 16 arrives, dated before the sale.
    late = await book(SHOP_API_URL, [ODOO[1]], ledger=ledger, policy=FIFO, now=NOW)
    assert late.reposted == 1
    stored = await stored_postings(ledger, ["I1", "R2"])
    assert stored["I1"] == (Decimal("112"), Decimal("32"), 2)
    assert stored["R2"] == (Decimal("0"), Decimal("144"), 12)


async def test_any_arrival_order_gives_the_postings_of_the_whole_history(
    ledger: SqlInventoryLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inventory, "SNAPSHOT_EVERY", 5)  # replays start from snapshots, not from the origin
    rng = random.Random(7)
    entries = []
    for number in range(80):
        hours = rng.uniform(0, 100)
        if rng.random() < 0.35:
            entries.append(receipt(f"R{number}", rng.randint(1, 9), str(rng.randint(1, 30)), hours))
        else:
            entries.append(issue(f"I{number}", rng.randint(1, 6), hours))
    for start in range(0, len(entries), 4):  # deliveries of up to four moves, in no particular order
        await book(SHOP_API_URL, entries[start : start + 4], ledger=ledger, policy=FIFO, now=NOW)
    stored = await ledger.postings_of(SHOP_API_URL, [entry.move.id for entry in entries])
    expected = {
        posting.move.id: posting for _, posting in post_ledger([stored[e.move.id].move for e in entries], Method.FIFO)
    }
    for move_id, posting in stored.items():
        want = expected[move_id]
        assert (posting.cogs, posting.value, posting.layers, posting.balance_value, posting.balance_quantity) == (
            want.cogs,
            want.value,
            want.layers,
            want.balance_value,
            want.balance_quantity,
        ), move_id


async def test_a_method_change_is_a_revaluation_move_on_the_pools_it_concerns(ledger: SqlInventoryLedger) -> None:
    await book(SHOP_API_URL, ODOO, ledger=ledger, policy=FIFO, now=NOW)
    food = LedgerEntry(receipt("F1", 3, "2", 0, sku="FOOD").move, source="csv", recorded_by="t", product_type="Food")
    await book(SHOP_API_URL, [food], ledger=ledger, policy=FIFO, now=NOW)
    later = NOW + timedelta(days=1)
    booking = await change_methods(
        SHOP_API_URL, CostingPolicy(Method.FIFO, {"Food": Method.AVCO}), ledger=ledger, by="ada@example.com", now=later
    )
    (revaluation,) = booking.postings
    assert (revaluation.move.kind, revaluation.move.sku, revaluation.method) == (
        MoveKind.REVALUATION,
        "FOOD",
        Method.AVCO,
    )
    pools = await ledger.pools(SHOP_API_URL, [("FOOD", "W1"), ("SKU-1", "W1")])
    assert pools["FOOD", "W1"].pool.method is Method.AVCO
    assert pools["SKU-1", "W1"].pool.method is Method.FIFO


async def test_a_sale_naming_a_product_type_costed_otherwise_revalues_its_pool_first(
    ledger: SqlInventoryLedger,
) -> None:
    policy = CostingPolicy(Method.FIFO, {"Shoes": Method.AVCO})
    await book(SHOP_API_URL, ODOO[:2], ledger=ledger, policy=policy, now=NOW)  # imported: type unknown, FIFO
    sale = LedgerEntry(ODOO[2].move, source="saleor", recorded_by="saleor", product_type="Shoes")
    booking = await book(SHOP_API_URL, [sale], ledger=ledger, policy=policy, now=NOW)
    revaluation, issued = booking.postings
    assert (revaluation.move.kind, revaluation.method, revaluation.move.at) == (
        MoveKind.REVALUATION,
        Method.AVCO,
        issued.move.at,
    )
    assert (issued.method, issued.cogs) == (Method.AVCO, Decimal("120"))
    # Told once: the next sale books no second revaluation.
    again = LedgerEntry(issue("I2", 1, 3).move, source="saleor", recorded_by="saleor", product_type="Shoes")
    assert [
        p.move.kind for p in (await book(SHOP_API_URL, [again], ledger=ledger, policy=policy, now=NOW)).postings
    ] == [MoveKind.ISSUE]


async def test_two_deliveries_opening_one_pool_at_once_both_count(runtime: Runtime, installation: Installation) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: the second delivery waits, or fails and is redelivered")

    async def deliver(entry: LedgerEntry) -> None:
        async with runtime.sessions.begin() as session:
            await book(SHOP_API_URL, [entry], ledger=SqlInventoryLedger(session), policy=FIFO, now=NOW)

    await asyncio.gather(deliver(issue("A", 1, 1)), deliver(issue("B", 2, 2)))
    async with runtime.sessions() as session:
        ledger = SqlInventoryLedger(session)
        (pool,) = (await ledger.pools(SHOP_API_URL, [("SKU-1", "W1")])).values()
        assert pool.pool.quantity == -3
        assert set(await ledger.known_move_ids(SHOP_API_URL, ["A", "B"])) == {"A", "B"}
