"""``POST /api/inventory/receipts``: receipts from a purchasing system, authenticated by an API key."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import ApiKeyRow, InventoryMoveRow
from app.domain.inventory import InvalidMove
from app.runtime import Runtime
from app.services import receipts
from app.services.inventory import book
from tests.api.receipt_answers import EAST_ID, WAREHOUSES
from tests.fakes.fake_saleor import FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")
PATH = "/api/inventory/receipts"


def _item(**changes: object) -> dict[str, object]:
    item: dict[str, object] = {
        "sku": "MUG-1",
        "warehouse": "east",
        "quantity": 10,
        "unit_cost": "4.25",
        "currency": "USD",
        "received_at": "2026-11-20T08:00:00Z",
        "reference": "PO-1",
    }
    return {**item, **changes}


@pytest.fixture
async def key(client: httpx.AsyncClient, staff_headers: Any, fake_saleor: FakeSaleor) -> str:
    fake_saleor.on("Warehouses", WAREHOUSES)
    page = await client.post(
        "/api/dashboard/api-keys", data={"name": "Odoo"}, headers=staff_headers("MANAGE_PRODUCTS", "MANAGE_APPS")
    )
    found = re.search(r"<code data-secret>(sops_[\w-]+)</code>", page.text)
    assert found is not None
    return found.group(1)


async def _post(client: httpx.AsyncClient, key: str, body: object) -> httpx.Response:
    return await client.post(PATH, content=json.dumps(body), headers={"authorization": f"Bearer {key}"})


async def _moves(runtime: Runtime) -> list[InventoryMoveRow]:
    async with runtime.sessions() as session:
        return list((await session.scalars(select(InventoryMoveRow).order_by(InventoryMoveRow.seq))).all())


class TestAuthentication:
    @pytest.mark.parametrize(
        "authorization",
        [
            pytest.param(None, id="missing"),
            pytest.param("Basic c29wczp4", id="not-bearer"),
            pytest.param("Bearer sops_not-a-key", id="unknown"),
        ],
    )
    async def test_refuses_a_call_without_a_live_key(
        self, client: httpx.AsyncClient, authorization: str | None, runtime: Runtime
    ) -> None:
        headers = {"authorization": authorization} if authorization else {}
        response = await client.post(PATH, json={"receipts": [_item()]}, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "INVALID_TOKEN"
        assert await _moves(runtime) == []

    async def test_a_revoked_key_is_refused(
        self, client: httpx.AsyncClient, key: str, staff_headers: Any, runtime: Runtime
    ) -> None:
        async with runtime.sessions() as session:
            key_id = (await session.scalars(select(ApiKeyRow.id))).one()
        await client.post(
            f"/api/dashboard/api-keys/{key_id}/revoke", headers=staff_headers("MANAGE_PRODUCTS", "MANAGE_APPS")
        )
        assert (await _post(client, key, {"receipts": [_item()]})).status_code == 401


class TestPostReceipts:
    async def test_books_the_receipts_into_the_keys_store(
        self, client: httpx.AsyncClient, key: str, runtime: Runtime
    ) -> None:
        response = await _post(client, key, {"receipts": [_item(), _item(reference="PO-2", unit_cost=0.1)]})
        assert response.status_code == 200
        body = response.json()
        assert (body["booked"], body["duplicates"], body["value"]) == (2, 0, {"USD": "43.50"})
        moves = await _moves(runtime)
        assert [r["id"] for r in body["receipts"]] == [m.move_id for m in moves]
        assert {(m.saleor_api_url, m.warehouse, m.source, m.recorded_by) for m in moves} == {
            ("https://shop.test/graphql/", EAST_ID, "api", "API key Odoo")
        }
        assert moves[1].unit_cost == Decimal("0.1")  # 0.1 on the wire, never a float on the way

    async def test_a_retried_request_books_nothing_twice(self, client: httpx.AsyncClient, key: str) -> None:
        await _post(client, key, {"receipts": [_item()]})
        again = await _post(client, key, {"receipts": [_item(), _item(reference="PO-2")]})
        assert again.status_code == 200
        assert (again.json()["booked"], again.json()["duplicates"]) == (1, 1)
        assert [r["status"] for r in again.json()["receipts"]] == ["duplicate", "booked"]

    async def test_any_bad_item_books_nothing_and_every_problem_is_listed(
        self, client: httpx.AsyncClient, key: str, runtime: Runtime
    ) -> None:
        items = [_item(), _item(quantity=0, unit_cost="12,50"), _item(warehouse="north", colour="red")]
        response = await _post(client, key, {"receipts": items})
        assert response.status_code == 422
        errors = response.json()["errors"]
        assert [(e["index"], e["field"]) for e in errors] == [
            (1, "quantity"),
            (1, "unit_cost"),
            (2, "colour"),
        ]
        assert errors[1]["message"] == "must use a dot as the decimal separator (12.50, not 12,50)"
        assert await _moves(runtime) == []

    @pytest.mark.parametrize(
        ("body", "status"),
        [
            pytest.param(b"{receipts", 400, id="not-json"),
            pytest.param(b'[{"sku": "MUG-1"}]', 422, id="not-an-object"),
            pytest.param(b'{"receipts": {}}', 422, id="not-a-list"),
        ],
    )
    async def test_a_body_of_the_wrong_shape_is_refused(
        self, client: httpx.AsyncClient, key: str, body: bytes, status: int
    ) -> None:
        response = await client.post(PATH, content=body, headers={"authorization": f"Bearer {key}"})
        assert response.status_code == status

    async def test_a_failure_while_booking_rolls_back_the_batches_booked_before_it(
        self, client: httpx.AsyncClient, key: str, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls = 0

        async def book_then_fail(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise InvalidMove(f"move {args[1][0].move.id}: the pool went away")
            return await book(*args, **kwargs)

        monkeypatch.setattr(receipts, "BATCH_SIZE", 1)
        monkeypatch.setattr("app.services.receipts.book", book_then_fail)
        response = await _post(client, key, {"receipts": [_item(), _item(reference="PO-2")]})
        assert response.status_code == 422
        assert response.json()["error"]["type"] == "NOT_BOOKED"
        assert response.json()["errors"][0]["index"] == 1
        assert calls == 2
        assert await _moves(runtime) == []
