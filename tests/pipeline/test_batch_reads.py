"""A batch's reads: one query for all of its orders of a store, each order's share handed out once."""

from __future__ import annotations

from datetime import UTC, datetime

from app.db.repositories.pipeline import Delivery
from app.domain.ids import SaleorApiUrl, SaleorId
from app.pipeline.processing import BatchReads
from app.webhooks.payloads import OrderEventPayload
from tests.builders import order_line_payload, order_payload

SHOP = SaleorApiUrl("https://shop.example.com/graphql/")
OTHER = SaleorApiUrl("https://other.example.com/graphql/")
AT = datetime(2026, 12, 1, tzinfo=UTC)


def _delivery(url: SaleorApiUrl, order_id: str, *skus: str) -> tuple[Delivery, OrderEventPayload]:
    lines = [order_line_payload(line_id=f"line-{sku}", sku=sku) for sku in skus]
    payload = OrderEventPayload.model_validate(order_payload(order_id=order_id, lines=lines))
    return Delivery(
        id=0,
        saleor_api_url=url,
        event="order_created",
        order_id=SaleorId(order_id),
        issued_at=AT,
        received_at=AT,
        retry_window_start=AT,
        attempts=0,
        payload="{}",
    ), payload


async def test_the_batch_orders_of_the_store_are_read_in_one_query_and_each_share_once() -> None:
    stored = {"a": 1, "b": 2, "c": 3}
    queries: list[list[str]] = []

    async def read(order_ids: list[str]) -> dict[str, int]:
        queries.append(order_ids)
        return {order_id: stored[order_id] for order_id in order_ids if order_id in stored}

    reads = BatchReads([_delivery(SHOP, "a"), _delivery(SHOP, "b"), _delivery(OTHER, "c")])
    assert await reads.per_order("x", SHOP, "a", read) == 1
    assert await reads.per_order("x", SHOP, "b", read) == 2
    assert queries == [["a", "b"]]  # the other store's order is not read with them

    stored["a"] = 10  # written by order a's own processing: asked again, it is read anew
    assert await reads.per_order("x", SHOP, "a", read) == 10
    assert queries == [["a", "b"], ["a"]]


async def test_an_order_outside_the_batch_is_read_with_it_and_an_order_without_rows_gets_none() -> None:
    async def read(order_ids: list[str]) -> dict[str, int]:
        return {}

    reads = BatchReads()
    assert await reads.per_order("x", SHOP, "z", read) is None


async def test_the_skus_are_those_of_the_store_orders_and_a_forgotten_read_is_read_again() -> None:
    reads = BatchReads(
        [_delivery(SHOP, "a", "S-1", "S-2"), _delivery(SHOP, "b", "S-2", "S-3"), _delivery(OTHER, "c", "S-9")]
    )
    assert reads.skus(SHOP) == {"S-1", "S-2", "S-3"}
    values = iter([1, 2])

    async def read() -> int:
        return next(values)

    assert await reads.once("pools", read) == 1
    assert await reads.once("pools", read) == 1
    reads.forget("pools")
    assert await reads.once("pools", read) == 2
