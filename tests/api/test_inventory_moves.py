"""``POST /api/inventory/moves``: count gains and write-offs, transfers, returns to the supplier and
landed costs from a store's other systems, over the real database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import InventoryMoveRow
from app.db.repositories.api_keys import SqlApiKeyStore
from app.db.repositories.inventory import SqlInventoryLedger, posting_of
from app.db.repositories.settings import SqlSettingsStore
from app.domain.ids import SaleorApiUrl
from app.domain.inventory import (
    CostingPolicy,
    CostPool,
    InvalidMove,
    Layer,
    Method,
    Move,
    MoveKind,
    Posting,
    post_ledger,
)
from app.pipeline.worker import Worker
from app.runtime import Runtime
from app.services.api_keys import ApiKeyCreated, create_api_key
from app.services.inventory import Booking, book
from app.services.ports import LedgerEntry, PoolKey
from app.services.settings import SECTIONS, SettingsSaved, change_settings
from tests.api.receipt_answers import EAST_ID
from tests.builders import NOW, SHOP_API_URL
from tests.fakes.fake_saleor import FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")
PATH = "/api/inventory/moves"
D = Decimal
WEST_ID = "V2FyZWhvdXNlOjI="
WAREHOUSES = {
    "data": {
        "warehouses": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "edges": [
                {"node": {"id": EAST_ID, "slug": "east", "name": "East"}},
                {"node": {"id": WEST_ID, "slug": "west", "name": "West"}},
            ],
        }
    }
}


@pytest.fixture
async def key(runtime: Runtime, fake_saleor: FakeSaleor) -> str:
    fake_saleor.on("Warehouses", WAREHOUSES)
    async with runtime.sessions.begin() as session:
        created = await create_api_key(SqlApiKeyStore(session), SHOP_API_URL, "ERP", by="ann@shop.test", now=NOW)
    assert isinstance(created, ApiKeyCreated)
    return created.secret


async def _post(client: httpx.AsyncClient, key: str, body: object, path: str = PATH) -> httpx.Response:
    return await client.post(path, content=json.dumps(body), headers={"authorization": f"Bearer {key}"})


async def _receive(client: httpx.AsyncClient, key: str, *receipts: tuple[str, int, str, str, str]) -> list[str]:
    """Receipts ``(sku, quantity, unit_cost, received_at, reference)`` into east, in USD; their ids."""
    items = [
        {
            "sku": sku,
            "warehouse": "east",
            "quantity": quantity,
            "unit_cost": cost,
            "currency": "USD",
            "received_at": at,
            "reference": reference,
        }
        for sku, quantity, cost, at, reference in receipts
    ]
    response = await _post(client, key, {"receipts": items}, "/api/inventory/receipts")
    assert response.status_code == 200, response.text
    return [receipt["id"] for receipt in response.json()["receipts"]]


async def _sell(runtime: Runtime, sku: str, quantity: int, at: str, *, method: Method = Method.FIFO) -> None:
    """Units of ``sku`` shipped from east for order-1, as a fulfilment webhook books them."""
    move = Move(
        id=f"issue:{sku}:{at}",
        kind=MoveKind.ISSUE,
        sku=sku,
        warehouse=EAST_ID,
        at=datetime.fromisoformat(at),
        quantity=quantity,
        currency="USD",
        reference=f"line-{sku}",
    )
    entry = LedgerEntry(move, "saleor", "Saleor", order_id="order-1", unit_price=D("20.00"))
    async with runtime.sessions.begin() as session:
        await book(SHOP_API_URL, [entry], ledger=SqlInventoryLedger(session), policy=CostingPolicy(method), now=NOW)


async def _postings(runtime: Runtime) -> list[Posting]:
    async with runtime.sessions() as session:
        rows = await session.scalars(select(InventoryMoveRow).order_by(InventoryMoveRow.seq))
        return [posting_of(row) for row in rows]


async def _pools(runtime: Runtime) -> dict[PoolKey, CostPool]:
    async with runtime.sessions() as session:
        stored = await SqlInventoryLedger(session).all_pools(SHOP_API_URL)
    return {(pool.pool.sku, pool.pool.warehouse): pool.pool for pool in stored}


def _posted(postings: Sequence[Posting], kind: MoveKind) -> list[Posting]:
    return [posting for posting in postings if posting.move.kind is kind]


class TestPostMoves:
    async def test_a_transfer_moves_value_at_fifo_cost_and_both_pools_agree_with_the_domain(
        self, client: httpx.AsyncClient, key: str, runtime: Runtime
    ) -> None:
        first, second = await _receive(
            client, key, ("MUG-1", 8, "10", "2026-11-10", "PO-1"), ("MUG-1", 4, "16", "2026-11-12", "PO-2")
        )
        transfer = {
            "kind": "transfer",
            "sku": "MUG-1",
            "from_warehouse": "east",
            "to_warehouse": WEST_ID,
            "quantity": 10,
            "at": "2026-11-20T09:00:00Z",
            "reference": "TR-1",
        }
        response = await _post(client, key, {"moves": [transfer]})
        assert response.status_code == 200, response.text
        (item,) = response.json()["moves"]
        out_id = item["ids"][0]
        assert (item["index"], item["ids"], item["status"]) == (0, [out_id, f"{out_id}:in"], "booked")

        postings = await _postings(runtime)
        (out_leg,) = _posted(postings, MoveKind.TRANSFER_OUT)
        (in_leg,) = _posted(postings, MoveKind.TRANSFER_IN)
        # The oldest layers leave first, and arrive with their receipts and costs.
        assert [tuple(take) for take in in_leg.layers] == [(first, 8, D(10)), (second, 2, D(16))]
        assert (out_leg.value, in_leg.value, out_leg.counterpart + in_leg.counterpart) == (D(-112), D(112), D(0))
        assert in_leg.move.related_move_id == out_id

        pools = await _pools(runtime)
        assert (pools["MUG-1", EAST_ID].quantity, pools["MUG-1", EAST_ID].value) == (2, D(32))
        assert pools["MUG-1", WEST_ID].layers == (
            Layer(first, 8, D(10), NOW.replace(day=20, hour=9)),
            Layer(second, 2, D(16), NOW.replace(day=20, hour=9)),
        )
        domain = list(post_ledger([posting.move for posting in postings], Method.FIFO))
        assert [posting for _, posting in domain] == postings
        assert {(pool.sku, pool.warehouse): pool for pool, _ in domain} == pools

    async def test_goods_a_transfer_of_the_request_brought_leave_again_at_their_cost(
        self, client: httpx.AsyncClient, key: str, runtime: Runtime
    ) -> None:
        await _receive(client, key, ("MUG-1", 8, "10", "2026-11-10", "PO-1"), ("MUG-1", 4, "16", "2026-11-12", "PO-2"))
        transfer = {"kind": "transfer", "sku": "MUG-1", "reference": "TR-1"}
        back = {**transfer, "from_warehouse": "west", "to_warehouse": "east", "quantity": 3, "at": "2026-11-20T10:00Z"}
        there = {
            **transfer,
            "from_warehouse": "east",
            "to_warehouse": "west",
            "quantity": 10,
            "at": "2026-11-20T09:00Z",
        }
        assert (await _post(client, key, {"moves": [back, there]})).status_code == 200

        pools = await _pools(runtime)
        # 10 went west (8 at 10, 2 at 16) and the 3 coming back are the oldest of them, at 10.
        assert (pools["MUG-1", WEST_ID].quantity, pools["MUG-1", WEST_ID].value) == (7, D(82))
        assert (pools["MUG-1", EAST_ID].quantity, pools["MUG-1", EAST_ID].value) == (5, D(62))
        postings = await _postings(runtime)
        domain = list(post_ledger([posting.move for posting in postings], Method.FIFO))
        assert {(pool.sku, pool.warehouse): pool for pool, _ in domain} == pools

    async def test_a_write_off_beyond_stock_posts_variance_not_cogs(
        self, client: httpx.AsyncClient, key: str, runtime: Runtime
    ) -> None:
        await _receive(client, key, ("MUG-1", 5, "4", "2026-11-10", "PO-1"))
        write_off = {
            "kind": "adjustment",
            "sku": "MUG-1",
            "warehouse": "east",
            "quantity": -7,
            "at": "2026-11-20",
            "reason": "water damage",
        }
        assert (await _post(client, key, {"moves": [write_off]})).status_code == 200
        (posting,) = _posted(await _postings(runtime), MoveKind.ADJUSTMENT_OUT)
        # Two units more than the stock go at the last known cost until a later move corrects them.
        assert (posting.value, posting.cogs, posting.variance, posting.balance_quantity) == (D(-28), D(0), D(28), -2)
        assert posting.move.reference == "water damage"

    async def test_a_return_to_the_supplier_under_avco_leaves_at_the_average(
        self, client: httpx.AsyncClient, key: str, runtime: Runtime
    ) -> None:
        async with runtime.sessions.begin() as session:
            saved = await change_settings(
                SqlSettingsStore(session),
                SHOP_API_URL,
                SECTIONS["costing"],
                {"method": "avco"},
                changed_by="ann",
                now=NOW,
            )
        assert isinstance(saved, SettingsSaved)
        # Odoo's example: tables bought at 10 and 14 (average 12), one sold, the one at 10 returned.
        await _receive(
            client, key, ("TABLE", 1, "10", "2026-11-10", "PO-10"), ("TABLE", 1, "14", "2026-11-11", "PO-14")
        )
        await _sell(runtime, "TABLE", 1, "2026-11-12T10:00:00+00:00", method=Method.AVCO)
        returned = {
            "kind": "return_to_supplier",
            "receipt": "PO-10",
            "sku": "TABLE",
            "warehouse": "east",
            "quantity": 1,
            "unit_credit": 10,
            "at": "2026-11-13",
        }
        assert (await _post(client, key, {"moves": [returned]})).status_code == 200
        (posting,) = _posted(await _postings(runtime), MoveKind.RETURN_TO_SUPPLIER)
        assert (posting.method, posting.value, posting.variance, posting.counterpart) == (
            Method.AVCO,
            D(-12),
            D(2),  # the credit is 10, the books held it at 12
            D(-10),
        )
        assert (posting.balance_quantity, posting.balance_value) == (0, D(0))

    async def test_a_landed_cost_by_quantity_raises_the_open_layers_and_the_sold_share_is_cogs(
        self, client: httpx.AsyncClient, key: str, runtime: Runtime
    ) -> None:
        mugs, plates = await _receive(
            client, key, ("MUG-1", 10, "4", "2026-11-10", "PO-1"), ("PLATE-1", 30, "2", "2026-11-10", "PO-2")
        )
        await _sell(runtime, "MUG-1", 4, "2026-11-12T10:00:00+00:00")
        freight = {
            "kind": "landed_cost",
            "amount": "40.00",
            "currency": "USD",
            "basis": "quantity",
            "receipts": [{"receipt": "PO-1"}, {"receipt": plates}],
            "at": "2026-11-14",
            "reference": "FREIGHT-9",
        }
        response = await _post(client, key, {"moves": [freight]})
        assert response.status_code == 200, response.text
        voucher = response.json()["moves"][0]["ids"][0].removesuffix(":1")
        assert response.json()["moves"][0]["ids"] == [f"{voucher}:1", f"{voucher}:2"]

        by_receipt = {
            posting.move.receipt_id: posting for posting in _posted(await _postings(runtime), MoveKind.LANDED_COST)
        }
        # 40 over 40 units: 10 to the mugs (1 a unit: 6 still here, 4 sold), 30 to the plates.
        assert (by_receipt[mugs].value, by_receipt[mugs].cogs) == (D(6), D(4))
        assert (by_receipt[plates].value, by_receipt[plates].cogs) == (D(30), D(0))
        pools = await _pools(runtime)
        assert [(layer.quantity, layer.unit_cost) for layer in pools["MUG-1", EAST_ID].layers] == [(6, D(5))]
        assert [(layer.quantity, layer.unit_cost) for layer in pools["PLATE-1", EAST_ID].layers] == [(30, D(3))]

    async def test_a_count_gain_covering_units_sold_beyond_stock_rewrites_the_order_s_cogs(
        self, client: httpx.AsyncClient, key: str, runtime: Runtime, fake_saleor: FakeSaleor, worker: Worker
    ) -> None:
        await _receive(client, key, ("MUG-1", 2, "4", "2026-11-10", "PO-1"))
        await _sell(runtime, "MUG-1", 5, "2026-11-12T10:00:00+00:00")  # 3 beyond stock, at 4 for now
        found = {
            "kind": "adjustment",
            "sku": "MUG-1",
            "warehouse": "east",
            "quantity": 3,
            "unit_cost": "5",
            "at": "2026-11-13",
            "reason": "count",
        }
        response = await _post(client, key, {"moves": [found]})
        assert response.json()["recostedOrders"] == 1
        await worker.drain()
        (written,) = fake_saleor.calls("RecordCogs")
        (cogs,) = [json.loads(item["value"]) for item in written["variables"]["metadata"] if item["key"] == "ops.cogs"]
        assert cogs["cogs"] == "23.00"  # 5 sold: 2 at 4, and the 3 found at 5 instead of the provisional 4

    async def test_a_retried_request_books_nothing_twice(
        self, client: httpx.AsyncClient, key: str, runtime: Runtime
    ) -> None:
        await _receive(client, key, ("MUG-1", 10, "4", "2026-11-10", "PO-1"))
        moves = [
            {"kind": "adjustment", "sku": "MUG-1", "warehouse": "east", "quantity": -1, "at": "2026-11-20",
             "reason": "x"},
            {"kind": "transfer", "sku": "MUG-1", "from_warehouse": "east", "to_warehouse": "west", "quantity": 2,
             "at": "2026-11-20"},
            {"kind": "landed_cost", "amount": 5, "currency": "USD", "basis": "value", "receipts": [{"receipt": "PO-1"}],
             "at": "2026-11-20"},
        ]  # fmt: skip
        first = await _post(client, key, {"moves": moves})
        booked = await _postings(runtime)
        again = await _post(client, key, {"moves": [*moves, {**moves[0], "reason": "y"}]})
        assert again.status_code == 200
        assert (first.json()["booked"], first.json()["duplicates"]) == (3, 0)
        assert (again.json()["booked"], again.json()["duplicates"]) == (1, 3)
        assert [item["status"] for item in again.json()["moves"]] == ["duplicate"] * 3 + ["booked"]
        assert [item["ids"] for item in again.json()["moves"][:3]] == [item["ids"] for item in first.json()["moves"]]
        assert (await _postings(runtime))[: len(booked)] == booked
        assert len(await _postings(runtime)) == len(booked) + 1

    async def test_one_bad_item_books_nothing_and_every_problem_is_listed(
        self, client: httpx.AsyncClient, key: str, runtime: Runtime
    ) -> None:
        await _receive(client, key, ("MUG-1", 10, "4", "2026-11-10", "PO-1"))
        before = await _postings(runtime)
        good = {
            "kind": "adjustment",
            "sku": "MUG-1",
            "warehouse": "east",
            "quantity": 1,
            "at": "2026-11-20",
            "reason": "x",
        }
        moves = [
            good,
            {**good, "quantity": 0, "unit_cost": "4,50"},
            {"kind": "return_to_supplier", "receipt": "PO-9", "sku": "MUG-1", "warehouse": "east", "quantity": 1,
             "at": "2026-11-20"},
            {"kind": "landed_cost", "amount": 5, "currency": "EUR", "basis": "quantity",
             "receipts": [{"receipt": "PO-1"}], "at": "2026-11-20"},
        ]  # fmt: skip
        response = await _post(client, key, {"moves": moves})
        assert response.status_code == 422
        body = response.json()
        assert body["error"]["type"] == "MOVES_REJECTED"
        assert [(e["index"], e["field"]) for e in body["errors"]] == [
            (1, "quantity"),
            (1, "unit_cost"),
            (2, "receipt"),
            (3, "currency"),
        ]
        assert body["errors"][1] == {
            "index": 1,
            "field": "unit_cost",
            "value": "4,50",
            "message": "must use a dot as the decimal separator (12.50, not 12,50)",
        }
        assert await _postings(runtime) == before

    async def test_a_failure_booking_the_in_legs_rolls_back_the_out_legs(
        self, client: httpx.AsyncClient, key: str, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await _receive(client, key, ("MUG-1", 10, "4", "2026-11-10", "PO-1"))
        before = await _postings(runtime)

        async def book_out_legs_only(url: SaleorApiUrl, entries: Sequence[LedgerEntry], **kwargs: Any) -> Booking:
            if entries[0].move.kind is MoveKind.TRANSFER_IN:
                raise InvalidMove(f"move {entries[0].move.id}: the pool went away")
            return await book(url, entries, **kwargs)

        monkeypatch.setattr("app.services.stock_moves.book", book_out_legs_only)
        transfer = {"kind": "transfer", "sku": "MUG-1", "from_warehouse": "east", "to_warehouse": "west", "quantity": 2}
        response = await _post(client, key, {"moves": [{**transfer, "at": "2026-11-20"}]})
        assert response.status_code == 422
        assert response.json()["errors"][0]["index"] == 0
        assert await _postings(runtime) == before

    @pytest.mark.parametrize(
        ("body", "status"),
        [
            pytest.param(b"{moves", 400, id="not-json"),
            pytest.param(b'{"receipts": []}', 422, id="no-moves"),
            pytest.param(b'{"moves": []}', 422, id="empty"),
        ],
    )
    async def test_a_body_of_the_wrong_shape_is_refused(
        self, client: httpx.AsyncClient, key: str, body: bytes, status: int
    ) -> None:
        response = await client.post(PATH, content=body, headers={"authorization": f"Bearer {key}"})
        assert response.status_code == status

    async def test_refuses_a_call_without_a_key(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        response = await client.post(PATH, json={"moves": []})
        assert (response.status_code, response.json()["error"]["type"]) == (401, "INVALID_TOKEN")
