"""Settings → Cost valuation: the method per store and product type; a change revalues, visibly."""

from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from app.db.models import InventoryMoveRow, InventoryPoolRow
from app.db.repositories.inventory import SqlInventoryLedger
from app.domain.inventory import CostingPolicy, Move, MoveKind
from app.runtime import Runtime
from app.services.inventory import book
from app.services.ports import LedgerEntry
from tests.builders import NOW, SHOP_API_URL

pytestmark = pytest.mark.usefixtures("installation")


async def _receive(runtime: Runtime, sku: str, product_type: str | None) -> None:
    move = Move(
        id=f"R-{sku}",
        kind=MoveKind.RECEIPT,
        sku=sku,
        warehouse="W1",
        at=NOW,
        quantity=3,
        currency="USD",
        unit_cost=Decimal("10"),
    )
    async with runtime.sessions.begin() as session:
        entry = LedgerEntry(move, "csv", "test", product_type=product_type)
        await book(SHOP_API_URL, [entry], ledger=SqlInventoryLedger(session), policy=CostingPolicy(), now=NOW)


async def _methods(runtime: Runtime) -> dict[str, str]:
    async with runtime.sessions() as session:
        return dict((await session.execute(select(InventoryPoolRow.sku, InventoryPoolRow.method))).all())


async def _save(client: httpx.AsyncClient, staff_headers, **form: str) -> httpx.Response:
    return await client.post("/api/dashboard/settings/costing", data=form, headers=staff_headers())


async def test_choosing_lifo_revalues_the_pools_and_says_ifrs_does_not_allow_it(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime
) -> None:
    await _receive(runtime, "MUG", None)
    await _receive(runtime, "BEANS", "Coffee")
    response = await _save(client, staff_headers, method="lifo", product_type_methods="Coffee: avco")
    assert response.status_code == 200
    notice = response.headers["x-ops-notice"]
    assert "Stock pools revalued under the new method: 2." in notice
    assert "LIFO is not allowed by IFRS" in notice
    assert "LIFO is not allowed by IFRS" in response.text  # shown beside the section too
    assert await _methods(runtime) == {"MUG": "lifo", "BEANS": "avco"}
    async with runtime.sessions() as session:
        kinds = (await session.scalars(select(InventoryMoveRow.kind).order_by(InventoryMoveRow.seq))).all()
    assert kinds == ["receipt", "receipt", "revaluation", "revaluation"]
    # Saving the same again changes nothing and books nothing.
    again = await _save(client, staff_headers, method="lifo", product_type_methods="Coffee: avco")
    assert again.headers["x-ops-notice"] == "Nothing changed."


@pytest.mark.parametrize(
    ("form", "field", "reason"),
    [
        pytest.param({"method": "hifo"}, "method", "not a cost method", id="method"),
        pytest.param(
            {"product_type_methods": "Coffee avco"}, "product_type_methods", "Product type: method", id="line"
        ),
        pytest.param({"product_type_methods": "Coffee: newest"}, "product_type_methods", "line 1", id="override"),
    ],
)
async def test_a_bad_choice_is_refused_beside_its_field_and_nothing_is_revalued(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, form: dict[str, str], field: str, reason: str
) -> None:
    await _receive(runtime, "MUG", None)
    response = await _save(client, staff_headers, **{"method": "fifo", "product_type_methods": "", **form})
    assert response.status_code == 422
    assert reason in response.text
    assert f'id="costing-{field}-error"' in response.text
    assert await _methods(runtime) == {"MUG": "fifo"}
