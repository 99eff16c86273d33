"""The gateway's calls for inventory costing, against Saleor's GraphQL API faked by operation name."""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.domain.ids import SaleorId
from app.domain.money import Money
from app.errors import SaleorMutationError
from app.graphql.client import GqlSaleorGateway, SaleorClientFactory
from app.services.ports import SaleorName, StockLevel, WarehouseRef
from tests.builders import SHOP_API_URL
from tests.fakes.fake_saleor import FakeSaleor

ORDER = SaleorId("T3JkZXI6MQ==")
LINES = [SaleorId("T3JkZXJMaW5lOjE="), SaleorId("T3JkZXJMaW5lOjI="), SaleorId("T3JkZXJMaW5lOjM=")]
MAIN, TPL = "V2FyZWhvdXNlOjE=", "V2FyZWhvdXNlOjI="
OK: dict[str, Any] = {"errors": []}


@pytest.fixture
async def gateway() -> AsyncIterator[GqlSaleorGateway]:
    async with httpx.AsyncClient() as http:
        factory = SaleorClientFactory(http, timeout_seconds=1, max_attempts=1, backoff_seconds=0)
        yield factory.gateway(SHOP_API_URL, "app-token-1")


def recorded(lines: int) -> dict[str, Any]:
    """RecordCogs answered: the order's metadata, each line's, the note; no errors."""
    return {"data": {"updatePrivateMetadata": OK, **{f"line{i}": OK for i in range(lines)}, "orderNoteAdd": OK}}


def page(nodes: list[dict[str, Any]], *, next_cursor: str | None = None) -> dict[str, Any]:
    return {
        "pageInfo": {"hasNextPage": next_cursor is not None, "endCursor": next_cursor or "end"},
        "edges": [{"node": node} for node in nodes],
    }


def warehouses(*refs: tuple[str, str], next_cursor: str | None = None) -> dict[str, Any]:
    nodes = [{"id": id_, "slug": slug, "name": slug.title()} for id_, slug in refs]
    return {"data": {"warehouses": page(nodes, next_cursor=next_cursor)}}


def stock(variant: str, sku: str | None, quantity: int, *costs: tuple[str, float | None, str]) -> dict[str, Any]:
    """A stock node; ``costs`` are (channel slug, cost price or None, currency)."""
    listings = [
        {"channel": {"slug": slug}, "costPrice": None if amount is None else {"amount": amount, "currency": currency}}
        for slug, amount, currency in costs
    ]
    return {
        "quantity": quantity,
        "productVariant": {
            "id": variant,
            "sku": sku,
            "name": "340 g" if sku else "",
            "product": {"name": "Ethiopia", "productType": {"name": "Coffee"}},
            "channelListings": listings,
        },
    }


class TestRecordCogs:
    @pytest.mark.parametrize("lines", [0, 1, 2])
    async def test_writes_the_order_every_line_and_the_note_in_one_request(
        self, gateway: GqlSaleorGateway, fake_saleor: FakeSaleor, lines: int
    ) -> None:
        fake_saleor.on("RecordCogs", recorded(lines))
        traces = {line: {"ops.cogs": f'{{"line":{i}}}'} for i, line in enumerate(LINES[:lines])}

        await gateway.record_cogs(ORDER, {"ops.cogs": '{"v":1}'}, traces, "COGS $12.40, margin $17.60")

        (call,) = fake_saleor.calls("RecordCogs")
        assert call["authorization"] == "Bearer app-token-1"
        expected: dict[str, Any] = {
            "order": ORDER,
            "metadata": [{"key": "ops.cogs", "value": '{"v":1}'}],
            "note": "COGS $12.40, margin $17.60",
        }
        for i, line in enumerate(LINES[:lines]):
            expected[f"line{i}"] = line
            expected[f"lineMetadata{i}"] = [{"key": "ops.cogs", "value": f'{{"line":{i}}}'}]
        assert call["variables"] == expected
        assert call["query"].count("updatePrivateMetadata(") == 1 + lines

    @pytest.mark.parametrize(
        ("lines", "documents"), [(3, ["LineMetadata", "RecordCogs"]), (7, ["LineMetadata"] * 2 + ["RecordCogs"])]
    )
    async def test_lines_beyond_what_fits_beside_the_note_go_first_four_to_a_document(
        self, gateway: GqlSaleorGateway, fake_saleor: FakeSaleor, lines: int, documents: list[str]
    ) -> None:
        """Saleor (3.20.118 on) refuses a document of more than 4 mutations; the note, last, means all arrived."""
        line_ids = [SaleorId(f"T3JkZXJMaW5lOn{n}") for n in range(lines)]
        fake_saleor.on("LineMetadata", {"data": {f"line{i}": OK for i in range(4)}})
        fake_saleor.on("RecordCogs", recorded(2))
        traces = {line: {"ops.cogs": f'{{"line":{i}}}'} for i, line in enumerate(line_ids)}

        await gateway.record_cogs(ORDER, {"ops.cogs": '{"v":1}'}, traces, "COGS")

        calls = [call for call in fake_saleor.requests if call["operationName"] in ("LineMetadata", "RecordCogs")]
        assert [call["operationName"] for call in calls] == documents
        assert all(
            call["query"].count("updatePrivateMetadata(") + call["query"].count("orderNoteAdd(") <= 4 for call in calls
        )
        written = [
            (call["variables"][f"line{i}"], call["variables"][f"lineMetadata{i}"][0]["value"])
            for call in calls
            for i in range(4)
            if f"line{i}" in call["variables"]
        ]
        assert written == [(line, f'{{"line":{i}}}') for i, line in enumerate(line_ids)]
        assert calls[-1]["variables"]["note"] == "COGS"

    async def test_a_refused_line_is_saleors_mutation_error(
        self, gateway: GqlSaleorGateway, fake_saleor: FakeSaleor
    ) -> None:
        refused = recorded(2)
        refused["data"]["line1"] = {"errors": [{"field": "id", "message": "Couldn't resolve", "code": "NOT_FOUND"}]}
        fake_saleor.on("RecordCogs", refused)
        traces = {line: {"ops.cogs": "{}"} for line in LINES[:2]}
        with pytest.raises(SaleorMutationError) as caught:
            await gateway.record_cogs(ORDER, {"ops.cogs": "{}"}, traces, "note")
        assert [(e.field, e.code) for e in caught.value.errors] == [("id", "NOT_FOUND")]
        assert caught.value.operation == "RecordCogs"

    async def test_shipping_is_the_order_s_metadata_and_note_in_one_request(
        self, gateway: GqlSaleorGateway, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.on("RecordCogs", recorded(0))
        await gateway.record_shipping(ORDER, {"ops.shipping": '{"v":1}'}, "Saleor Ops shipping (standard): …")
        (call,) = fake_saleor.calls("RecordCogs")
        assert call["variables"] == {
            "order": ORDER,
            "metadata": [{"key": "ops.shipping", "value": '{"v":1}'}],
            "note": "Saleor Ops shipping (standard): …",
        }


class TestWarehouses:
    async def test_pages_through_every_warehouse(self, gateway: GqlSaleorGateway, fake_saleor: FakeSaleor) -> None:
        fake_saleor.on("Warehouses", warehouses((MAIN, "main"), next_cursor="c1"), warehouses((TPL, "shiphero")))
        assert await gateway.warehouses() == [
            WarehouseRef(id=MAIN, slug="main", name="Main"),
            WarehouseRef(id=TPL, slug="shiphero", name="Shiphero"),
        ]
        assert [call["variables"] for call in fake_saleor.calls("Warehouses")] == [{"after": None}, {"after": "c1"}]


class TestStockLevels:
    async def test_every_stock_of_every_warehouse_with_the_variants_cost_prices(
        self, gateway: GqlSaleorGateway, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.on("Warehouses", warehouses((MAIN, "main"), (TPL, "shiphero")))
        coffee = stock(
            "UHJvZHVjdFZhcmlhbnQ6MQ==", "COF-ETH-340", 58, ("default-channel", 7.2, "USD"), ("eu", None, "EUR")
        )
        no_sku = stock("UHJvZHVjdFZhcmlhbnQ6Mg==", None, -2, ("eu", 6, "EUR"))

        def stocks(body: dict[str, Any]) -> dict[str, Any]:
            variables = body["variables"]
            if variables["id"] == TPL:
                return {"data": {"warehouse": None}}  # deleted since the warehouses were listed
            if variables["after"] is None:
                return {"data": {"warehouse": {"stocks": page([coffee], next_cursor="s1")}}}
            return {"data": {"warehouse": {"stocks": page([no_sku])}}}

        fake_saleor.on("WarehouseStocks", stocks)

        levels = [level async for level in gateway.stock_levels()]

        assert levels == [
            StockLevel(
                variant_id="UHJvZHVjdFZhcmlhbnQ6MQ==",
                sku="COF-ETH-340",
                product_type="Coffee",
                warehouse_id=MAIN,
                quantity=58,
                cost_prices={"default-channel": Money(Decimal("7.2"), "USD")},
                warehouse=SaleorName(MAIN, "Main", "main"),
                variant=SaleorName("UHJvZHVjdFZhcmlhbnQ6MQ==", "Ethiopia / 340 g"),
            ),
            StockLevel(
                variant_id="UHJvZHVjdFZhcmlhbnQ6Mg==",
                sku=None,
                product_type="Coffee",
                warehouse_id=MAIN,
                quantity=-2,
                cost_prices={"eu": Money(Decimal(6), "EUR")},
                warehouse=SaleorName(MAIN, "Main", "main"),
                variant=SaleorName("UHJvZHVjdFZhcmlhbnQ6Mg==", "Ethiopia"),
            ),
        ]
        assert [call["variables"] for call in fake_saleor.calls("WarehouseStocks")] == [
            {"id": MAIN, "after": None},
            {"id": MAIN, "after": "s1"},
            {"id": TPL, "after": None},
        ]

    async def test_cost_prices_arrive_as_decimal(self, gateway: GqlSaleorGateway, fake_saleor: FakeSaleor) -> None:
        fake_saleor.on("Warehouses", warehouses((MAIN, "main")))
        body = (
            b'{"data":{"warehouse":{"stocks":{"pageInfo":{"hasNextPage":false,"endCursor":null},"edges":[{"node":'
            b'{"quantity":1,"productVariant":{"id":"v","sku":"S","product":{"productType":{"name":"T"}},'
            b'"channelListings":[{"channel":{"slug":"c"},"costPrice":{"amount":0.1,"currency":"USD"}}]}}}]}}}}'
        )
        fake_saleor.on("WarehouseStocks", httpx.Response(200, content=body))
        (level,) = [level async for level in gateway.stock_levels()]
        assert level.cost_prices["c"].amount == Decimal("0.1")
