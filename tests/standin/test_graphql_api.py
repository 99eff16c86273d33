"""The stand-in's GraphQL API behaves as Saleor does for the operations the app uses."""

from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from app.graphql.documents import load
from app.standin import actions
from app.standin.facade import StandIn
from app.standin.state import (
    App,
    FulfillmentStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentChargeStatus,
    TransactionItem,
    to_global_id,
)
from tests.conftest import FixedClock
from tests.standin.conftest import Catalogue, run

FULFILL = """
mutation Fulfill($order: ID!, $input: OrderFulfillInput!) {
  orderFulfill(order: $order, input: $input) {
    fulfillments { id status fulfillmentOrder trackingNumber warehouse { slug } lines { quantity orderLine { id } } }
    order { id status lines { quantityFulfilled quantityToFulfill allocations { quantity } } }
    errors { field message code warehouse orderLines }
  }
}
"""
CONFIRM = "mutation($id: ID!) { orderConfirm(id: $id) { order { status } errors { field message code } } }"
CANCEL = "mutation($id: ID!) { orderCancel(id: $id) { order { status } errors { field message code } } }"
TRACKING = """
mutation($id: ID!, $tracking: String!) {
  orderFulfillmentUpdateTracking(id: $id, input: { trackingNumber: $tracking }) {
    fulfillment { trackingNumber } order { id } errors { field message code }
  }
}
"""


def gid(type_name: str, pk: Any) -> str:
    return to_global_id(type_name, pk)


def ids_naming_no(expected: str) -> list[Any]:
    """An unreadable ID and another type's, each with what Saleor 3.20.119 answers when it expects
    ``expected`` (``from_global_id_or_error``)."""
    other = gid("Warehouse", UUID(int=2))
    return [
        pytest.param("garbage", f"Invalid ID: garbage. Expected: {expected}.", id="malformed"),
        pytest.param(other, f"Invalid ID: {other}. Expected: {expected}, received: Warehouse.", id="another-type"),
    ]


def place(standin: StandIn, catalogue: Catalogue, clock: FixedClock, *lines: tuple[Any, int], **options: Any) -> Order:
    order = actions.place_order(
        standin.store, catalogue.channel, list(lines), at=clock.now(), customer=catalogue.customer, **options
    )
    standin.store.outbox.clear()
    return order


def fulfill_input(order: Order, *stocks_per_line: list[tuple[Any, int]], **extra: Any) -> dict[str, Any]:
    lines = [
        {
            "orderLineId": gid("OrderLine", line.pk),
            "stocks": [{"warehouse": gid("Warehouse", w.pk), "quantity": q} for w, q in stocks],
        }
        for line, stocks in zip(order.lines, stocks_per_line, strict=True)
    ]
    return {"order": gid("Order", order.pk), "input": {"lines": lines, **extra}}


def stock_levels(standin: StandIn) -> list[tuple[int, int]]:
    return [(s.quantity, s.quantity_allocated) for s in standin.store.stocks.values()]


def events(standin: StandIn) -> list[str]:
    return [pending.event for pending in standin.store.outbox]


class TestPlaceOrder:
    def test_allocates_from_the_first_warehouses_with_stock(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.mug, 7))
        (line,) = order.lines
        assert [(a.stock_pk, a.quantity_allocated) for a in line.allocations] == [(1, 5), (2, 2)]
        assert [s.quantity_allocated for s in standin.store.stocks_of_variant(catalogue.mug.pk)] == [5, 2]

    def test_refuses_more_than_the_warehouses_hold(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        with pytest.raises(actions.InsufficientStockError):
            place(standin, catalogue, clock, (catalogue.mug, 16))
        assert not standin.store.orders
        assert all(s.quantity_allocated == 0 for s in standin.store.stocks.values())

    def test_holds_the_order_unconfirmed_when_the_channel_does_not_confirm(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        catalogue.channel.automatically_confirm_all_new_orders = False
        order = actions.place_order(standin.store, catalogue.channel, [(catalogue.mug, 1)], at=clock.now())
        assert order.status is OrderStatus.UNCONFIRMED
        assert events(standin) == ["ORDER_CREATED"]

    def test_a_confirmed_order_announces_creation_then_confirmation(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        actions.place_order(standin.store, catalogue.channel, [(catalogue.mug, 1)], at=clock.now())
        assert events(standin) == ["ORDER_CREATED", "ORDER_CONFIRMED"]


class TestQueries:
    async def test_reads_an_order_with_its_money_lines_and_stock(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(
            standin, catalogue, clock, (catalogue.mug, 2), (catalogue.tee, 1), shipping=("UPS Ground", Decimal("5.00"))
        )
        caller.permissions = (*caller.permissions, "MANAGE_PRODUCTS")  # the listing's margin needs it
        data = await run(
            standin,
            caller,
            """query($id: ID!) { order(id: $id) {
                number status userEmail created channel { slug currencyCode }
                total { gross { amount currency } } subtotal { net { amount } } weight { unit value }
                deliveryMethod { __typename ... on ShippingMethod { name price { amount } } }
                shippingAddress { city country { code country } }
                user { email } isPaid chargeStatus
                lines { productSku productVariantId quantityToFulfill unitPrice { gross { amount } }
                  variant { channelListings { costPrice { amount } margin } } }
            } }""",
            id=gid("Order", order.pk),
        )
        got = data["order"]
        assert (got["number"], got["status"], got["userEmail"]) == ("1", "UNFULFILLED", "ada@example.com")
        assert got["created"] == clock.now().isoformat()
        assert got["total"]["gross"] == {"amount": 50.0, "currency": "USD"}
        assert got["subtotal"]["net"]["amount"] == 45.0
        assert got["weight"] == {"unit": "KG", "value": 0.8}
        assert got["deliveryMethod"] == {"__typename": "ShippingMethod", "name": "UPS Ground", "price": {"amount": 5.0}}
        assert got["shippingAddress"] == {
            "city": "Austin",
            "country": {"code": "US", "country": "United States of America"},
        }
        assert (got["isPaid"], got["chargeStatus"]) == (False, "NONE")
        assert got["lines"][0]["productVariantId"] == gid("ProductVariant", catalogue.mug.pk)
        assert got["lines"][0]["variant"]["channelListings"] == [{"costPrice": {"amount": 4.1}, "margin": 67}]

    async def test_an_id_of_another_type_finds_nothing_and_garbage_is_an_error(
        self, standin: StandIn, catalogue: Catalogue, caller: App
    ) -> None:
        data = await run(
            standin, caller, "query($id: ID!) { order(id: $id) { id } }", id=gid("Warehouse", catalogue.main.pk)
        )
        assert data == {"order": None}
        result = await standin.execute('{ order(id: "not-an-id") { id } }', app=caller)
        assert result.errors
        assert result.errors[0].message == "Invalid ID: not-an-id. Expected: Order."  # as Saleor 3.20.119 says

    async def test_pages_through_orders_newest_first(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        for _ in range(3):
            place(standin, catalogue, clock, (catalogue.tee, 1))
        query = """query($after: String) { orders(first: 2, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } edges { node { number } } } }"""
        first = (await run(standin, caller, query, after=None))["orders"]
        assert [e["node"]["number"] for e in first["edges"]] == ["3", "2"]
        assert (first["totalCount"], first["pageInfo"]["hasNextPage"]) == (3, True)
        second = (await run(standin, caller, query, after=first["pageInfo"]["endCursor"]))["orders"]
        assert [e["node"]["number"] for e in second["edges"]] == ["1"]
        assert second["pageInfo"]["hasNextPage"] is False

    async def test_finds_an_order_by_number_with_the_apps_own_document(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        placed = [place(standin, catalogue, clock, (catalogue.tee, 1)) for _ in range(3)]
        query = load("queries", "order_by_number").source
        data = await run(standin, caller, query, number="2")
        (edge,) = data["orders"]["edges"]
        assert edge["node"]["id"] == gid("Order", placed[1].pk)
        assert edge["node"]["number"] == "2"
        assert edge["node"]["userEmail"] == placed[1].user_email
        assert edge["node"]["user"] == {"id": gid("User", catalogue.customer.pk)}
        assert (await run(standin, caller, query, number="9"))["orders"]["edges"] == []

    async def test_an_order_number_that_is_not_a_number_is_an_error_as_djangos_cast_makes_it(
        self, standin: StandIn, caller: App
    ) -> None:
        result = await standin.execute(
            '{ orders(first: 1, filter: { numbers: ["12a"] }) { edges { node { id } } } }', app=caller
        )
        assert result.errors
        assert result.errors[0].message == "Field 'number' expected a number but got '12a'."

    async def test_refuses_pages_over_saleors_limit(self, standin: StandIn, caller: App) -> None:
        result = await standin.execute("{ warehouses(first: 101) { totalCount } }", app=caller)
        assert result.data == {"warehouses": None}
        assert result.errors
        assert "exceeds the `first` limit of 100" in result.errors[0].message

    async def test_lists_a_warehouses_stock_and_finds_a_variant_by_sku(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        place(standin, catalogue, clock, (catalogue.mug, 2))
        data = await run(
            standin,
            caller,
            """query($id: ID!) {
              warehouse(id: $id) {
                slug stocks(first: 10) { edges { node { quantity quantityAllocated productVariant { sku } } } }
              }
              productVariant(sku: "TEE-M") { id sku stocks { warehouse { slug } quantity } }
            }""",
            id=gid("Warehouse", catalogue.main.pk),
        )
        stocks = [e["node"] for e in data["warehouse"]["stocks"]["edges"]]
        assert stocks == [
            {"quantity": 5, "quantityAllocated": 2, "productVariant": {"sku": "MUG-BLUE"}},
            {"quantity": 3, "quantityAllocated": 0, "productVariant": {"sku": "TEE-M"}},
        ]
        assert data["productVariant"]["stocks"] == [{"warehouse": {"slug": "main"}, "quantity": 3}]

    async def test_a_variant_needs_an_id_or_a_sku(self, standin: StandIn, caller: App) -> None:
        result = await standin.execute("{ productVariant { id } }", app=caller)
        assert result.errors
        assert "At least one of arguments is required" in result.errors[0].message

    async def test_app_without_an_id_is_the_caller(self, standin: StandIn, caller: App) -> None:
        data = await run(
            standin, caller, "{ app { id identifier permissions { code } } shop { version schemaVersion } }"
        )
        assert data["app"] == {
            "id": "QXBwOjE=",
            "identifier": "test.caller",
            "permissions": [{"code": "MANAGE_ORDERS"}],
        }
        assert data["shop"] == {"version": "3.20.119", "schemaVersion": "3.20"}


class TestOrderConfirm:
    async def test_confirms_an_unconfirmed_order(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        catalogue.channel.automatically_confirm_all_new_orders = False
        order = place(standin, catalogue, clock, (catalogue.mug, 1))
        data = await run(standin, caller, CONFIRM, id=gid("Order", order.pk))
        assert data["orderConfirm"] == {"order": {"status": "UNFULFILLED"}, "errors": []}
        assert [e.type for e in order.events] == ["PLACED", "CONFIRMED"]
        assert order.events[-1].app_pk == caller.pk
        assert events(standin) == ["ORDER_CONFIRMED"]

    async def test_refuses_an_order_that_is_not_unconfirmed(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.mug, 1))
        data = await run(standin, caller, CONFIRM, id=gid("Order", order.pk))
        assert data["orderConfirm"] == {
            "order": None,
            "errors": [
                {
                    "field": "id",
                    "code": "INVALID",
                    "message": "Provided order id belongs to an order with status different than unconfirmed.",
                }
            ],
        }
        assert order.status is OrderStatus.UNFULFILLED
        assert events(standin) == []

    async def test_an_unknown_order_is_not_found(self, standin: StandIn, caller: App) -> None:
        missing = gid("Order", UUID(int=1))
        data = await run(standin, caller, CONFIRM, id=missing)
        assert data["orderConfirm"]["errors"] == [
            {"field": "id", "code": "NOT_FOUND", "message": f"Couldn't resolve to a node: {missing}"}
        ]


class TestOrderCancel:
    async def test_cancels_and_releases_the_allocations(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.mug, 7))
        data = await run(standin, caller, CANCEL, id=gid("Order", order.pk))
        assert data["orderCancel"] == {"order": {"status": "CANCELED"}, "errors": []}
        assert all(s.quantity_allocated == 0 for s in standin.store.stocks.values())
        # Saleor's deallocate_stock_for_orders sets the allocations to zero and keeps them.
        assert [a.quantity_allocated for a in order.lines[0].allocations] == [0, 0]
        assert events(standin) == ["ORDER_CANCELLED", "ORDER_UPDATED"]

    async def test_refuses_an_order_with_goods_out(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.mug, 1))
        await run(standin, caller, FULFILL, **fulfill_input(order, [(catalogue.main, 1)]))
        data = await run(standin, caller, CANCEL, id=gid("Order", order.pk))
        assert data["orderCancel"]["errors"] == [
            {"field": "order", "code": "CANNOT_CANCEL_ORDER", "message": "This order can't be canceled."}
        ]
        assert order.status is OrderStatus.FULFILLED

    # What Saleor 3.20.119 answered (get_node_or_error's from_global_id_or_error), orderNoteAdd alike.
    @pytest.mark.parametrize(("order_id", "message"), ids_naming_no("Order"))
    async def test_refuses_an_id_that_names_no_order(
        self, standin: StandIn, caller: App, order_id: str, message: str
    ) -> None:
        data = await run(standin, caller, CANCEL, id=order_id)
        assert data["orderCancel"]["errors"] == [{"field": "id", "code": "GRAPHQL_ERROR", "message": message}]


class TestGrantRefund:
    GRANT = """mutation($id: ID!, $transaction: ID!) {
      orderGrantRefundCreate(id: $id, input: {amount: 1, transactionId: $transaction}) {
        grantedRefund { id } errors { field code message } } }"""

    # Saleor 3.20.119 decodes transactionId outside the mutation's validation: the field fails as a whole.
    @pytest.mark.parametrize(("transaction_id", "message"), ids_naming_no("TransactionItem"))
    async def test_an_id_that_names_no_transaction_fails_the_field_with_a_graphql_error(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App, transaction_id: str, message: str
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.mug, 1))
        result = await standin.execute(
            self.GRANT, {"id": gid("Order", order.pk), "transaction": transaction_id}, app=caller
        )
        assert result.data == {"orderGrantRefundCreate": None}
        assert [(error.message, error.path) for error in result.errors or ()] == [(message, ["orderGrantRefundCreate"])]
        assert order.granted_refunds == []


class TestOrderFulfill:
    async def test_one_fulfillment_per_warehouse_decreasing_stock(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.mug, 7))
        data = await run(standin, caller, FULFILL, **fulfill_input(order, [(catalogue.main, 4), (catalogue.tpl, 2)]))
        result = data["orderFulfill"]
        assert result["errors"] == []
        assert [(f["warehouse"]["slug"], f["fulfillmentOrder"], f["status"]) for f in result["fulfillments"]] == [
            ("main", 1, "FULFILLED"),
            ("shipwell", 2, "FULFILLED"),
        ]
        assert result["order"]["status"] == "PARTIALLY_FULFILLED"
        assert result["order"]["lines"] == [
            # Released allocations stay, at zero (Saleor's deallocate_stock updates, never deletes).
            {"quantityFulfilled": 6, "quantityToFulfill": 1, "allocations": [{"quantity": 0}, {"quantity": 1}]}
        ]
        main, tpl = (standin.store.stock_for(w.pk, catalogue.mug.pk) for w in (catalogue.main, catalogue.tpl))
        assert main is not None
        assert tpl is not None
        # 5 allocated in main and 2 in the 3PL; fulfilling 6 releases them by stock first.
        assert (main.quantity, main.quantity_allocated, tpl.quantity, tpl.quantity_allocated) == (1, 0, 8, 1)
        assert events(standin) == ["ORDER_UPDATED", "FULFILLMENT_CREATED", "FULFILLMENT_CREATED"]
        assert order.events[-1].type == "FULFILLMENT_FULFILLED_ITEMS"

    async def test_the_last_units_fulfill_the_order(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 2))
        await run(standin, caller, FULFILL, **fulfill_input(order, [(catalogue.main, 1)]))
        standin.store.outbox.clear()
        data = await run(
            standin, caller, FULFILL, **fulfill_input(order, [(catalogue.main, 1)], trackingNumber="1Z999")
        )
        (fulfillment,) = data["orderFulfill"]["fulfillments"]
        assert (fulfillment["fulfillmentOrder"], fulfillment["trackingNumber"]) == (2, "1Z999")
        assert order.status is OrderStatus.FULFILLED
        # The fulfillment that completes the order is announced as approved as well.
        assert events(standin) == [
            "FULFILLMENT_TRACKING_NUMBER_UPDATED",
            "ORDER_UPDATED",
            "FULFILLMENT_CREATED",
            "ORDER_FULFILLED",
            "FULFILLMENT_APPROVED",
        ]

    async def test_a_short_warehouse_refuses_the_whole_request(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.mug, 2), (catalogue.tee, 1))
        before = stock_levels(standin)
        # Main can ship the mugs, but the 3PL holds no tees: nothing may happen at all.
        data = await run(standin, caller, FULFILL, **fulfill_input(order, [(catalogue.main, 2)], [(catalogue.tpl, 1)]))
        assert data["orderFulfill"]["errors"] == [
            {
                "field": "stocks",
                "code": "INSUFFICIENT_STOCK",
                "message": "Insufficient product stock.",
                "warehouse": gid("Warehouse", catalogue.tpl.pk),
                "orderLines": [gid("OrderLine", order.lines[1].pk)],
            }
        ]
        assert stock_levels(standin) == before
        assert [line.quantity_fulfilled for line in order.lines] == [0, 0]
        assert [[a.quantity_allocated for a in line.allocations] for line in order.lines] == [[2], [1]]
        assert not order.fulfillments
        assert events(standin) == []

    async def test_stock_held_for_other_orders_is_not_available(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        first = place(standin, catalogue, clock, (catalogue.tee, 2))
        place(standin, catalogue, clock, (catalogue.tee, 1))
        stock = standin.store.stock_for(catalogue.main.pk, catalogue.tee.pk)
        assert stock is not None
        stock.quantity = 2  # a stock count found one missing; 3 are still allocated
        data = await run(standin, caller, FULFILL, **fulfill_input(first, [(catalogue.main, 2)]))
        assert [e["code"] for e in data["orderFulfill"]["errors"]] == ["INSUFFICIENT_STOCK"]
        # The line's own allocation was released only on the side: all of it is still there.
        assert (stock.quantity, stock.quantity_allocated) == (2, 3)
        assert [a.quantity_allocated for a in first.lines[0].allocations] == [2]
        assert first.lines[0].quantity_fulfilled == 0

    async def test_allow_stock_to_be_exceeded_lets_stock_go_negative(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 3))
        stock = standin.store.stock_for(catalogue.main.pk, catalogue.tee.pk)
        assert stock is not None
        stock.quantity = 1
        data = await run(
            standin, caller, FULFILL, **fulfill_input(order, [(catalogue.main, 3)], allowStockToBeExceeded=True)
        )
        assert data["orderFulfill"]["errors"] == []
        assert (stock.quantity, stock.quantity_allocated) == (-2, 0)

    async def test_a_warehouse_without_the_variant_has_insufficient_stock(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        data = await run(standin, caller, FULFILL, **fulfill_input(order, [(catalogue.tpl, 1)]))
        assert [(e["code"], e["warehouse"]) for e in data["orderFulfill"]["errors"]] == [
            ("INSUFFICIENT_STOCK", gid("Warehouse", catalogue.tpl.pk))
        ]

    @pytest.mark.parametrize(
        ("stocks", "field", "code", "message"),
        [
            pytest.param(
                [("main", 2)], "orderLineId", "FULFILL_ORDER_LINE", "Only 1 item remaining to fulfill.", id="over"
            ),
            pytest.param([("main", 0)], "lines", "ZERO_QUANTITY", "Total quantity must be larger than 0.", id="zero"),
            pytest.param(
                [("main", 1), ("main", 1)], "warehouse", "DUPLICATED_INPUT_ITEM", "Duplicated warehouse ID.", id="dup"
            ),
        ],
    )
    async def test_refuses_bad_quantities_with_saleors_codes(
        self,
        standin: StandIn,
        catalogue: Catalogue,
        clock: FixedClock,
        caller: App,
        stocks: list[tuple[str, int]],
        field: str,
        code: str,
        message: str,
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        warehouses = {"main": catalogue.main}
        data = await run(standin, caller, FULFILL, **fulfill_input(order, [(warehouses[w], q) for w, q in stocks]))
        (error,) = data["orderFulfill"]["errors"]
        assert (error["field"], error["code"], error["message"]) == (field, code, message)
        assert not order.fulfillments
        assert events(standin) == []

    async def test_refuses_a_line_given_twice(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 2))
        line = {
            "orderLineId": gid("OrderLine", order.lines[0].pk),
            "stocks": [{"warehouse": gid("Warehouse", catalogue.main.pk), "quantity": 1}],
        }
        data = await run(standin, caller, FULFILL, order=gid("Order", order.pk), input={"lines": [line, line]})
        assert data["orderFulfill"]["errors"] == [
            {
                "field": "orderLineId",
                "code": "DUPLICATED_INPUT_ITEM",
                "message": "Duplicated order line ID.",
                "warehouse": None,
                "orderLines": [line["orderLineId"]],
            }
        ]

    async def test_refuses_an_unpaid_order_when_the_shop_says_so(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        standin.store.shop.fulfillment_allow_unpaid = False
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        data = await run(standin, caller, FULFILL, **fulfill_input(order, [(catalogue.main, 1)]))
        assert [e["code"] for e in data["orderFulfill"]["errors"]] == ["CANNOT_FULFILL_UNPAID_ORDER"]
        actions.record_charge(standin.store, order, Decimal("20.00"), at=clock.now())
        data = await run(standin, caller, FULFILL, **fulfill_input(order, [(catalogue.main, 1)]))
        assert data["orderFulfill"]["errors"] == []

    async def test_without_auto_approval_the_fulfillment_waits_and_stock_stays(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        standin.store.shop.fulfillment_auto_approve = False
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        data = await run(standin, caller, FULFILL, **fulfill_input(order, [(catalogue.main, 1)]))
        assert data["orderFulfill"]["fulfillments"][0]["status"] == "WAITING_FOR_APPROVAL"
        assert order.status is OrderStatus.UNFULFILLED
        stock = standin.store.stock_for(catalogue.main.pk, catalogue.tee.pk)
        assert stock is not None
        assert (stock.quantity, stock.quantity_allocated) == (3, 1)
        assert events(standin) == ["ORDER_UPDATED"]


class TestTrackingNotesAndMetadata:
    async def test_updates_a_fulfillments_tracking_number(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        await run(standin, caller, FULFILL, **fulfill_input(order, [(catalogue.main, 1)]))
        standin.store.outbox.clear()
        (fulfillment,) = order.fulfillments
        data = await run(standin, caller, TRACKING, id=gid("Fulfillment", fulfillment.pk), tracking="1Z42")
        assert data["orderFulfillmentUpdateTracking"] == {
            "fulfillment": {"trackingNumber": "1Z42"},
            "order": {"id": gid("Order", order.pk)},
            "errors": [],
        }
        assert fulfillment.status is FulfillmentStatus.FULFILLED
        assert events(standin) == ["FULFILLMENT_TRACKING_NUMBER_UPDATED", "ORDER_UPDATED"]
        assert order.events[-1].type == "TRACKING_UPDATED"

    async def test_adds_a_note_as_the_calling_app(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        data = await run(
            standin,
            caller,
            """mutation($order: ID!) { orderNoteAdd(order: $order, input: {message: "  Fraud score 12  "}) {
                event { type message app { id } } errors { code } } }""",
            order=gid("Order", order.pk),
        )
        assert data["orderNoteAdd"] == {
            "event": {"type": "NOTE_ADDED", "message": "Fraud score 12", "app": {"id": gid("App", caller.pk)}},
            "errors": [],
        }
        assert events(standin) == ["ORDER_UPDATED"]
        assert standin.store.outbox[0].issuing_principal is caller

    async def test_an_empty_note_is_required(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        data = await run(
            standin,
            caller,
            """mutation($order: ID!) {
              orderNoteAdd(order: $order, input: {message: " "}) { errors { field code message } }
            }""",
            order=gid("Order", order.pk),
        )
        assert data["orderNoteAdd"]["errors"] == [
            {"field": "message", "code": "REQUIRED", "message": "Message can't be empty."}
        ]
        assert [e.type for e in order.events] == ["PLACED"]

    async def test_writes_public_and_private_metadata(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        data = await run(
            standin,
            caller,
            """mutation($order: ID!, $variant: ID!) {
              private: updatePrivateMetadata(id: $order, input: [{key: "ops.fraud", value: "{\\"v\\":1}"}]) {
                item { privateMetadata { key value } ... on Order { number } } errors { code } }
              public: updateMetadata(id: $variant, input: [{key: "origin", value: "PT"}]) {
                item { metadata { key value } } errors { code } }
            }""",
            order=gid("Order", order.pk),
            variant=gid("ProductVariant", catalogue.tee.pk),
        )
        assert data["private"] == {
            "item": {"privateMetadata": [{"key": "ops.fraud", "value": '{"v":1}'}], "number": "1"},
            "errors": [],
        }
        assert catalogue.tee.metadata == {"origin": "PT"}
        # Order metadata writes emit only ORDER_METADATA_UPDATED (no ORDER_UPDATED).
        assert events(standin) == ["ORDER_METADATA_UPDATED"]

    # What Saleor 3.20.119 answered to each (updateMetadata and updatePrivateMetadata alike).
    @pytest.mark.parametrize(
        ("object_id", "key", "error"),
        [
            # No global ID: Saleor filters Order.id by it, and Django refuses what is no UUID (no field).
            pytest.param("garbage", "k", (None, "INVALID", "\u201cgarbage\u201d is not a valid UUID."), id="malformed"),
            pytest.param(
                str(UUID(int=5)), "k", ("id", "GRAPHQL_ERROR", "Couldn't resolve to a node."), id="unknown-uuid"
            ),
            pytest.param(
                to_global_id("Spaceship", 1), "k", ("id", "GRAPHQL_ERROR", "Invalid type: Spaceship"), id="no-type"
            ),
            pytest.param(
                to_global_id("OrderEvent", 1),
                "k",
                ("id", "NOT_FOUND", f"Couldn't resolve to a item with meta: {to_global_id('OrderEvent', 1)}"),
                id="no-metadata",
            ),
            # BaseMetadataMutation.get_instance: get_node_or_error's own message for a node that is not there.
            pytest.param(
                to_global_id("Order", UUID(int=0)),
                "k",
                ("id", "NOT_FOUND", f"Couldn't resolve to a node: {to_global_id('Order', UUID(int=0))}"),
                id="missing",
            ),
            pytest.param(
                to_global_id("ProductVariant", 1),
                " ",
                ("input", "REQUIRED", "Metadata key cannot be empty."),
                id="empty-key",
            ),
        ],
    )
    async def test_refuses_metadata_it_cannot_keep(
        self,
        standin: StandIn,
        catalogue: Catalogue,
        caller: App,
        object_id: str,
        key: str,
        error: tuple[str | None, str, str],
    ) -> None:
        data = await run(
            standin,
            caller,
            'mutation($id: ID!, $key: String!) { updateMetadata(id: $id, input: [{key: $key, value: "v"}]) '
            "{ item { metadata { key } } errors { field code message } } }",
            id=object_id,
            key=key,
        )
        assert data["updateMetadata"]["item"] is None
        assert [(e["field"], e["code"], e["message"]) for e in data["updateMetadata"]["errors"]] == [error]

    async def test_takes_an_orders_own_uuid_for_the_order(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        # As Saleor 3.20.119 does: an ID that is no global ID is looked up as Order.id.
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        data = await run(
            standin,
            caller,
            'mutation($id: ID!) { updatePrivateMetadata(id: $id, input: [{key: "k", value: "v"}]) '
            "{ item { ... on Order { number } } errors { field code message } } }",
            id=str(order.pk),
        )
        assert data["updatePrivateMetadata"] == {"item": {"number": "1"}, "errors": []}
        assert order.private_metadata == {"k": "v"}


class TestMutationCountLimit:
    """Saleor 3.20.118 on refuses a document of more mutations than GRAPHQL_MUTATION_COUNT_LIMIT (4)."""

    @staticmethod
    def notes(count: int) -> str:
        # The last one skipped: Saleor counts the fields as written, before ``@include`` is applied.
        fields = " ".join(
            f'n{index}: orderNoteAdd(order: $order, input: {{message: "n"}})'
            f" @include(if: {'true' if index < count - 1 else 'false'}) {{ errors {{ code }} }}"
            for index in range(count)
        )
        return f"mutation Notes($order: ID!) {{ {fields} }}"

    async def test_refuses_a_document_of_more_than_four_mutations_before_running_any(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        result = await standin.execute(self.notes(5), {"order": gid("Order", order.pk)}, app=caller)
        assert result.data is None
        assert [(error.message, error.extensions) for error in result.errors or ()] == [
            ("Number of mutations exceed the limit of 4", {"exception": {"code": "GraphQLError"}})
        ]
        assert [event.type for event in order.events if event.type == "NOTE_ADDED"] == []

    async def test_runs_a_document_of_four(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        await run(standin, caller, self.notes(4), order=gid("Order", order.pk))
        assert [event.type for event in order.events if event.type == "NOTE_ADDED"] == ["NOTE_ADDED"] * 3


class TestPayments:
    async def test_a_full_charge_pays_the_order(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 2))
        actions.record_charge(standin.store, order, Decimal("15.00"), at=clock.now(), psp_reference="pi_1")
        assert events(standin) == ["ORDER_PAID"]
        actions.record_charge(standin.store, order, Decimal("25.00"), at=clock.now(), psp_reference="pi_2")
        assert events(standin) == ["ORDER_PAID", "ORDER_PAID", "ORDER_FULLY_PAID", "ORDER_UPDATED"]
        order.payments.append(
            Payment(
                1,
                "mirumee.payments.dummy",
                "USD",
                Decimal(0),
                Decimal(0),
                PaymentChargeStatus.NOT_CHARGED,
                clock.now(),
                clock.now(),
            )
        )
        data = await run(
            standin,
            caller,
            """query($id: ID!) { order(id: $id) { isPaid chargeStatus authorizeStatus paymentStatus
                totalCharged { amount } transactions { pspReference chargedAmount { amount currency } } } }""",
            id=gid("Order", order.pk),
        )
        assert data["order"] == {
            "isPaid": True,
            "chargeStatus": "FULL",
            "authorizeStatus": "FULL",
            "paymentStatus": "NOT_CHARGED",
            "totalCharged": {"amount": 40.0},
            "transactions": [
                {"pspReference": "pi_1", "chargedAmount": {"amount": 15.0, "currency": "USD"}},
                {"pspReference": "pi_2", "chargedAmount": {"amount": 25.0, "currency": "USD"}},
            ],
        }

    async def test_a_charge_keeps_the_card_checks_its_psp_reported(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        signals = {"avs_result": "N", "cvv_result": "M", "card_bin": "424242", "card_last4": "0042"}
        actions.record_charge(standin.store, order, Decimal("20.00"), at=clock.now(), metadata=signals)
        data = await run(
            standin,
            caller,
            "query($id: ID!) { order(id: $id) { transactions { metadata { key value } } } }",
            id=gid("Order", order.pk),
        )
        (transaction,) = data["order"]["transactions"]
        assert {item["key"]: item["value"] for item in transaction["metadata"]} == signals
        assert events(standin) == ["ORDER_PAID", "ORDER_FULLY_PAID", "ORDER_UPDATED"]


class TestShippingMethods:
    async def test_orders_share_the_stores_method_with_its_delivery_days(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        store = standin.store
        express = store.add_shipping_method(
            name="Express", price=Decimal("14.95"), currency="USD", minimum_delivery_days=2, maximum_delivery_days=2
        )
        first = place(standin, catalogue, clock, (catalogue.tee, 1), shipping=express)
        second = place(standin, catalogue, clock, (catalogue.mug, 1), shipping=express)
        assert first.shipping_method is second.shipping_method is express
        assert first.total_gross == Decimal("34.95")
        query = """query($id: ID!) { order(id: $id) { shippingMethodName shippingPrice { gross { amount } }
            deliveryMethod { ... on ShippingMethod { id minimumDeliveryDays maximumDeliveryDays } } } }"""
        got = [(await run(standin, caller, query, id=gid("Order", o.pk)))["order"] for o in (first, second)]
        assert (
            got[0]
            == got[1]
            == {
                "shippingMethodName": "Express",
                "shippingPrice": {"gross": {"amount": 14.95}},
                "deliveryMethod": {
                    "id": gid("ShippingMethod", express.pk),
                    "minimumDeliveryDays": 2,
                    "maximumDeliveryDays": 2,
                },
            }
        )

    def test_a_method_priced_in_another_currency_is_refused(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        euro = standin.store.add_shipping_method(name="DHL", price=Decimal("9.00"), currency="EUR")
        with pytest.raises(ValueError, match="priced in EUR"):
            place(standin, catalogue, clock, (catalogue.tee, 1), shipping=euro)
        assert not standin.store.orders


class TestReturns:
    """``orderFulfillmentReturnProducts`` without refund: shipped goods come back, the stock stays as it is."""

    def shipped(self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, *lines: tuple[Any, int]) -> Order:
        order = place(standin, catalogue, clock, *lines)
        actions.fulfill_order(
            standin.store,
            order,
            [
                (gid("OrderLine", line.pk), [(gid("Warehouse", catalogue.main.pk), line.quantity)])
                for line in order.lines
            ],
            at=clock.now(),
            principal=None,
        )
        standin.store.outbox.clear()
        return order

    async def test_part_of_a_line_comes_back_in_a_returned_fulfillment(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = self.shipped(standin, catalogue, clock, (catalogue.mug, 2))
        (sent,) = order.fulfillments
        (sent_line,) = sent.lines
        stock_before = stock_levels(standin)
        clock.advance(hours=3)

        back = actions.return_lines(standin.store, order, [(sent_line, 1)], at=clock.now(), principal=caller)

        # Saleor names a fulfillment's warehouse after its first line's stock, which a returned line keeps.
        assert (back.status, back.fulfillment_order, back.warehouse_pk, back.created_at) == (
            FulfillmentStatus.RETURNED,
            2,
            catalogue.main.pk,
            clock.now(),
        )
        assert [(line.order_line_pk, line.quantity, line.stock_pk) for line in back.lines] == [
            (order.lines[0].pk, 1, sent_line.stock_pk)
        ]
        assert sent_line.quantity == 1
        assert order.lines[0].quantity_fulfilled == 2  # returned goods were still fulfilled
        assert order.status is OrderStatus.PARTIALLY_RETURNED
        assert stock_levels(standin) == stock_before
        assert (order.events[-1].type, order.events[-1].app_pk) == ("FULFILLMENT_RETURNED", caller.pk)
        assert events(standin) == ["ORDER_UPDATED"]
        data = await run(
            standin,
            caller,
            """query($id: ID!) { order(id: $id) {
                status fulfillments { status warehouse { slug } lines { quantity } } } }""",
            id=gid("Order", order.pk),
        )
        assert data["order"] == {
            "status": "PARTIALLY_RETURNED",
            "fulfillments": [
                {"status": "FULFILLED", "warehouse": {"slug": "main"}, "lines": [{"quantity": 1}]},
                {"status": "RETURNED", "warehouse": {"slug": "main"}, "lines": [{"quantity": 1}]},
            ],
        }

    def test_everything_back_empties_the_shipment_and_returns_the_order(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = self.shipped(standin, catalogue, clock, (catalogue.tee, 1))
        (sent_line,) = order.fulfillments[0].lines
        back = actions.return_lines(standin.store, order, [(sent_line, 1)], at=clock.now(), principal=None)
        # The emptied FULFILLED fulfillment is deleted, as Saleor deletes it.
        assert order.fulfillments == [back]
        assert order.status is OrderStatus.RETURNED

    def test_a_later_shipment_keeps_the_order_partially_returned(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1), (catalogue.mug, 1))
        tee, mug = order.lines
        main = gid("Warehouse", catalogue.main.pk)
        actions.fulfill_order(
            standin.store, order, [(gid("OrderLine", tee.pk), [(main, 1)])], at=clock.now(), principal=None
        )
        actions.return_lines(
            standin.store, order, [(order.fulfillments[0].lines[0], 1)], at=clock.now(), principal=None
        )
        # Saleor's rule counts against the whole order: 1 of 2 units back, though nothing else has shipped.
        assert order.status is OrderStatus.PARTIALLY_RETURNED
        actions.fulfill_order(
            standin.store, order, [(gid("OrderLine", mug.pk), [(main, 1)])], at=clock.now(), principal=None
        )
        assert order.status is OrderStatus.PARTIALLY_RETURNED  # not FULFILLED: the return still shows

    def test_more_than_was_shipped_is_an_invalid_quantity(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = self.shipped(standin, catalogue, clock, (catalogue.mug, 2))
        (sent_line,) = order.fulfillments[0].lines
        with pytest.raises(actions.ActionRefused) as refused:
            actions.return_lines(standin.store, order, [(sent_line, 2), (sent_line, 1)], at=clock.now(), principal=None)
        assert [(e.field, e.code, e.message) for e in refused.value.errors] == [
            ("fulfillmentLineId", "INVALID_QUANTITY", "Provided quantity is bigger than quantity from fulfillment line")
        ]
        assert (sent_line.quantity, len(order.fulfillments), order.status) == (2, 1, OrderStatus.FULFILLED)
        assert events(standin) == []

    def test_a_line_of_a_returned_fulfillment_cannot_come_back_again(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = self.shipped(standin, catalogue, clock, (catalogue.mug, 2))
        back = actions.return_lines(
            standin.store, order, [(order.fulfillments[0].lines[0], 1)], at=clock.now(), principal=None
        )
        with pytest.raises(actions.ActionRefused) as refused:
            actions.return_lines(standin.store, order, [(back.lines[0], 1)], at=clock.now(), principal=None)
        assert [(e.field, e.code, e.message) for e in refused.value.errors] == [
            (
                "fulfillmentLineId",
                "INVALID",
                "Unable to process action for fulfillmentLine with different status than "
                "fulfilled, refunded, waiting_for_approval.",
            )
        ]

    def test_refunded_lines_come_back_refunded_and_returned(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = self.shipped(standin, catalogue, clock, (catalogue.tee, 1), (catalogue.mug, 1))
        refunded, kept = order.fulfillments[0].lines
        order.fulfillments[0].status = FulfillmentStatus.REFUNDED
        back = actions.return_lines(standin.store, order, [(refunded, 1)], at=clock.now(), principal=None)
        assert back.status is FulfillmentStatus.REFUNDED_AND_RETURNED
        # A REFUNDED fulfillment left with lines stays; only an empty FULFILLED one goes.
        assert [f.status for f in order.fulfillments] == [FulfillmentStatus.REFUNDED, back.status]
        assert order.fulfillments[0].lines == [kept]
        assert order.status is OrderStatus.PARTIALLY_RETURNED

    def test_a_line_of_another_order_is_not_found(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        first = self.shipped(standin, catalogue, clock, (catalogue.mug, 1))
        second = self.shipped(standin, catalogue, clock, (catalogue.mug, 1))
        with pytest.raises(actions.ActionRefused) as refused:
            actions.return_lines(
                standin.store, second, [(first.fulfillments[0].lines[0], 1)], at=clock.now(), principal=None
            )
        assert [e.code for e in refused.value.errors] == ["NOT_FOUND"]


CANCEL_FULFILLMENT = """
mutation($id: ID!, $warehouse: ID) {
  orderFulfillmentCancel(id: $id, input: { warehouseId: $warehouse }) {
    fulfillment { status warehouse { slug } }
    order { status lines { quantityFulfilled quantityToFulfill allocations { quantity warehouse { slug } } } }
    errors { field message code }
  }
}
"""


class TestFulfillmentCancel:
    """``orderFulfillmentCancel``: shipped goods back on a warehouse's shelf, held for the order again."""

    def shipped(self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, quantity: int) -> Order:
        order = place(standin, catalogue, clock, (catalogue.mug, quantity))
        main = gid("Warehouse", catalogue.main.pk)
        actions.fulfill_order(
            standin.store,
            order,
            [(gid("OrderLine", order.lines[0].pk), [(main, quantity)])],
            at=clock.now(),
            principal=None,
        )
        standin.store.outbox.clear()
        return order

    async def test_restocks_the_warehouse_and_allocates_the_units_to_their_line_again(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = self.shipped(standin, catalogue, clock, 2)
        (fulfillment,) = order.fulfillments
        stock = standin.store.stock_for(catalogue.main.pk, catalogue.mug.pk)
        assert stock is not None
        assert (stock.quantity, stock.quantity_allocated) == (3, 0)

        data = await run(
            standin,
            caller,
            CANCEL_FULFILLMENT,
            id=gid("Fulfillment", fulfillment.pk),
            warehouse=gid("Warehouse", catalogue.main.pk),
        )

        assert data["orderFulfillmentCancel"] == {
            "fulfillment": {"status": "CANCELED", "warehouse": {"slug": "main"}},
            "order": {
                "status": "UNFULFILLED",
                "lines": [
                    {
                        "quantityFulfilled": 0,
                        "quantityToFulfill": 2,
                        "allocations": [{"quantity": 2, "warehouse": {"slug": "main"}}],
                    }
                ],
            },
            "errors": [],
        }
        assert (stock.quantity, stock.quantity_allocated) == (5, 2)
        assert [e.type for e in order.events[-2:]] == ["FULFILLMENT_CANCELED", "FULFILLMENT_RESTOCKED_ITEMS"]
        assert events(standin) == ["FULFILLMENT_CANCELED", "ORDER_UPDATED"]
        assert standin.store.outbox[0].subject is fulfillment

    async def test_the_goods_can_leave_again_from_the_shelf_they_went_back_to(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = self.shipped(standin, catalogue, clock, 2)
        actions.cancel_fulfillment(
            standin.store, order, order.fulfillments[0], warehouse=catalogue.main, at=clock.now(), principal=None
        )
        data = await run(standin, caller, FULFILL, **fulfill_input(order, [(catalogue.main, 2)]))
        assert data["orderFulfill"]["errors"] == []
        assert [f.status for f in order.fulfillments] == [FulfillmentStatus.CANCELED, FulfillmentStatus.FULFILLED]
        assert order.status is OrderStatus.FULFILLED
        assert stock_levels(standin)[0] == (3, 0)

    def test_a_warehouse_without_the_variant_gets_a_stock_row(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        actions.fulfill_order(
            standin.store,
            order,
            [(gid("OrderLine", order.lines[0].pk), [(gid("Warehouse", catalogue.main.pk), 1)])],
            at=clock.now(),
            principal=None,
        )
        assert standin.store.stock_for(catalogue.tpl.pk, catalogue.tee.pk) is None
        actions.cancel_fulfillment(
            standin.store, order, order.fulfillments[0], warehouse=catalogue.tpl, at=clock.now(), principal=None
        )
        stock = standin.store.stock_for(catalogue.tpl.pk, catalogue.tee.pk)
        assert stock is not None
        assert (stock.quantity, stock.quantity_allocated) == (1, 1)

    @pytest.mark.parametrize(
        ("cancel_first", "warehouse", "field", "code"),
        [
            pytest.param(False, False, "warehouseId", "REQUIRED", id="no-warehouse"),
            pytest.param(True, True, "fulfillment", "CANNOT_CANCEL_FULFILLMENT", id="already-cancelled"),
        ],
    )
    async def test_refusals_change_nothing(
        self,
        standin: StandIn,
        catalogue: Catalogue,
        clock: FixedClock,
        caller: App,
        cancel_first: bool,
        warehouse: bool,
        field: str,
        code: str,
    ) -> None:
        order = self.shipped(standin, catalogue, clock, 1)
        (fulfillment,) = order.fulfillments
        if cancel_first:
            actions.cancel_fulfillment(
                standin.store, order, fulfillment, warehouse=catalogue.main, at=clock.now(), principal=None
            )
            standin.store.outbox.clear()
        before = (stock_levels(standin), order.lines[0].quantity_fulfilled, order.status, len(order.events))

        data = await run(
            standin,
            caller,
            CANCEL_FULFILLMENT,
            id=gid("Fulfillment", fulfillment.pk),
            warehouse=gid("Warehouse", catalogue.main.pk) if warehouse else None,
        )

        (error,) = data["orderFulfillmentCancel"]["errors"]
        assert (error["field"], error["code"]) == (field, code)
        assert (stock_levels(standin), order.lines[0].quantity_fulfilled, order.status, len(order.events)) == before
        assert events(standin) == []

    async def test_a_fulfillment_awaiting_approval_is_deleted_without_a_warehouse(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        standin.store.shop.fulfillment_auto_approve = False
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        await run(standin, caller, FULFILL, **fulfill_input(order, [(catalogue.main, 1)]))
        (waiting,) = order.fulfillments
        standin.store.outbox.clear()
        before = stock_levels(standin)

        data = await run(standin, caller, CANCEL_FULFILLMENT, id=gid("Fulfillment", waiting.pk), warehouse=None)

        assert data["orderFulfillmentCancel"]["errors"] == []
        assert order.fulfillments == []
        assert (order.lines[0].quantity_fulfilled, order.status) == (0, OrderStatus.UNFULFILLED)
        assert stock_levels(standin) == before  # it never took stock
        assert events(standin) == ["FULFILLMENT_CANCELED", "ORDER_UPDATED"]


class TestProductTypes:
    async def test_a_variants_product_names_its_type(self, standin: StandIn, catalogue: Catalogue, caller: App) -> None:
        data = await run(
            standin,
            caller,
            """{ mug: productVariant(sku: "MUG-BLUE") { product { productType { id name slug } } }
                 tee: productVariant(sku: "TEE-M") { product { productType { name } } } }""",
        )
        product_type = data["mug"]["product"]["productType"]
        assert (product_type["name"], product_type["slug"]) == ("Drinkware", "drinkware")
        assert product_type["id"] == gid(
            "ProductType", standin.store.products[catalogue.mug.product_pk].product_type_pk
        )
        assert data["tee"]["product"]["productType"] == {"name": "Apparel"}


REFUND = """
mutation Refund($order: ID!, $input: OrderRefundProductsInput!) {
  orderFulfillmentRefundProducts(order: $order, input: $input) {
    fulfillment { status warehouse { slug } lines { quantity orderLine { id } } }
    order { lines { quantityFulfilled quantityToFulfill } fulfillments { status } }
    errors { field message code }
  }
}
"""


MARK_AS_PAID = """
mutation($id: ID!, $reference: String) {
  orderMarkAsPaid(id: $id, transactionReference: $reference) {
    order { status isPaid chargeStatus transactions { name pspReference chargedAmount { amount } }
            payments { gateway chargeStatus capturedAmount { amount } pspReference } }
    errors { field message code }
  }
}
"""


def captured_payment(order: Order, clock: FixedClock) -> Payment:
    """The legacy payment a payment plugin (or "Mark as paid") leaves, captured in full."""
    payment = Payment(
        1,
        "mirumee.payments.dummy",
        "USD",
        order.total_gross,
        order.total_gross,
        PaymentChargeStatus.FULLY_CHARGED,
        clock.now(),
        clock.now(),
    )
    order.payments.append(payment)
    return payment


class TestRefundProducts:
    async def test_refunding_unfulfilled_units_releases_them_without_taking_stock(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.mug, 7), (catalogue.tee, 1))
        payment = captured_payment(order, clock)
        mug = gid("OrderLine", order.lines[0].pk)

        data = await run(
            standin,
            caller,
            REFUND,
            order=gid("Order", order.pk),
            input={"orderLines": [{"orderLineId": mug, "quantity": 6}]},
        )

        result = data["orderFulfillmentRefundProducts"]
        assert result["errors"] == []
        assert result["fulfillment"] == {
            "status": "REFUNDED",
            "warehouse": None,  # its lines hold no stock
            "lines": [{"quantity": 6, "orderLine": {"id": mug}}],
        }
        assert result["order"]["lines"][0] == {"quantityFulfilled": 6, "quantityToFulfill": 1}
        # 5 of the mugs were allocated in Main, 2 in the 3PL: 6 released from Main first, none shipped.
        assert stock_levels(standin) == [(5, 0), (10, 1), (3, 1)]
        assert (payment.captured_amount, payment.charge_status) == (Decimal("32.50"), "PARTIALLY_REFUNDED")
        assert events(standin) == ["ORDER_REFUNDED", "ORDER_UPDATED"]
        assert [e.type for e in order.events[-2:]] == ["PAYMENT_REFUNDED", "FULFILLMENT_REFUNDED"]

    async def test_refunding_a_whole_fulfilment_deletes_it_and_refunds_the_order_fully(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 2))
        payment = captured_payment(order, clock)
        (shipped,) = actions.fulfill_order(
            standin.store,
            order,
            [(gid("OrderLine", order.lines[0].pk), [(gid("Warehouse", catalogue.main.pk), 2)])],
            at=clock.now(),
            principal=None,
        )
        standin.store.outbox.clear()

        data = await run(
            standin,
            caller,
            REFUND,
            order=gid("Order", order.pk),
            input={
                "fulfillmentLines": [{"fulfillmentLineId": gid("FulfillmentLine", shipped.lines[0].pk), "quantity": 2}]
            },
        )

        result = data["orderFulfillmentRefundProducts"]
        assert result["fulfillment"]["warehouse"] == {"slug": "main"}  # the refunded units keep their stock
        assert result["order"]["fulfillments"] == [{"status": "REFUNDED"}]
        assert (payment.captured_amount, payment.charge_status, payment.is_active) == (
            Decimal(0),
            "FULLY_REFUNDED",
            False,
        )
        assert events(standin) == ["ORDER_REFUNDED", "ORDER_FULLY_REFUNDED", "ORDER_UPDATED"]
        assert stock_levels(standin)[2] == (1, 0)  # the tees left Main and stay gone

    @pytest.mark.parametrize(
        "charge_status",
        [pytest.param(None, id="paid-by-transactions-only"), pytest.param("FULLY_REFUNDED", id="already-refunded")],
    )
    async def test_an_order_without_a_refundable_payment_cannot_be_refunded(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App, charge_status: str | None
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        actions.record_charge(standin.store, order, Decimal("20.00"), at=clock.now())
        if charge_status is not None:
            captured_payment(order, clock).charge_status = PaymentChargeStatus(charge_status)
        standin.store.outbox.clear()

        data = await run(
            standin,
            caller,
            REFUND,
            order=gid("Order", order.pk),
            input={"orderLines": [{"orderLineId": gid("OrderLine", order.lines[0].pk), "quantity": 1}]},
        )

        assert data["orderFulfillmentRefundProducts"]["errors"] == [
            {"field": "order", "message": "Order cannot be refunded.", "code": "CANNOT_REFUND"}
        ]
        assert (order.fulfillments, events(standin)) == ([], [])

    async def test_refused_for_more_than_a_line_left_unfulfilled(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.tee, 1))
        captured_payment(order, clock)
        data = await run(
            standin,
            caller,
            REFUND,
            order=gid("Order", order.pk),
            input={"orderLines": [{"orderLineId": gid("OrderLine", order.lines[0].pk), "quantity": 2}]},
        )
        assert data["orderFulfillmentRefundProducts"]["errors"] == [
            {
                "field": "orderLineId",
                "message": "Provided quantity is bigger than quantity from order line.",
                "code": "INVALID_QUANTITY",
            }
        ]


class TestOrderMarkAsPaid:
    async def test_the_payment_flow_creates_a_manual_payment_and_sends_fully_paid_and_updated_only(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        catalogue.channel.automatically_confirm_all_new_orders = False
        order = place(standin, catalogue, clock, (catalogue.mug, 2))
        data = await run(standin, caller, MARK_AS_PAID, id=gid("Order", order.pk), reference="bank-1")
        total = float(order.total_gross)
        assert data["orderMarkAsPaid"] == {
            "order": {
                "status": "UNCONFIRMED",
                "isPaid": True,
                "chargeStatus": "FULL",
                "transactions": [],
                "payments": [
                    {
                        "gateway": "manual",
                        "chargeStatus": "FULLY_CHARGED",
                        "capturedAmount": {"amount": total},
                        "pspReference": "bank-1",
                    }
                ],
            },
            "errors": [],
        }
        assert events(standin) == ["ORDER_FULLY_PAID", "ORDER_UPDATED"]
        assert order.events[-1].type == "ORDER_MARKED_AS_PAID"

    async def test_the_transaction_flow_creates_a_charged_transaction(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        catalogue.channel.order_mark_as_paid_strategy = "TRANSACTION_FLOW"
        order = place(standin, catalogue, clock, (catalogue.mug, 1))
        data = await run(standin, caller, MARK_AS_PAID, id=gid("Order", order.pk))
        paid = data["orderMarkAsPaid"]["order"]
        assert paid["payments"] == []
        assert paid["transactions"] == [
            {
                "name": "Mark-as-paid transaction",
                "pspReference": "",
                "chargedAmount": {"amount": float(order.total_gross)},
            }
        ]
        assert events(standin) == ["ORDER_FULLY_PAID", "ORDER_UPDATED"]

    @pytest.mark.parametrize(
        ("strategy", "field", "code"),
        [
            pytest.param("PAYMENT_FLOW", "payment", "PAYMENT_ERROR", id="payment flow"),
            pytest.param("TRANSACTION_FLOW", "transaction", "TRANSACTION_ERROR", id="transaction flow"),
        ],
    )
    async def test_an_order_with_a_transaction_cannot_be_marked_as_paid(
        self,
        standin: StandIn,
        catalogue: Catalogue,
        clock: FixedClock,
        caller: App,
        strategy: str,
        field: str,
        code: str,
    ) -> None:
        catalogue.channel.order_mark_as_paid_strategy = strategy  # type: ignore[assignment]
        order = place(standin, catalogue, clock, (catalogue.mug, 1))
        actions.record_charge(standin.store, order, Decimal(1), at=clock.now())
        standin.store.outbox.clear()
        data = await run(standin, caller, MARK_AS_PAID, id=gid("Order", order.pk))
        assert data["orderMarkAsPaid"] == {
            "order": None,
            "errors": [
                {
                    "field": field,
                    "code": code,
                    "message": "Orders with transactions can not be manually marked as paid.",
                }
            ],
        }
        assert events(standin) == []

    async def test_an_order_without_a_billing_address_cannot_be_marked_as_paid(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, caller: App
    ) -> None:
        order = place(standin, catalogue, clock, (catalogue.mug, 1))
        order.billing_address = None
        data = await run(standin, caller, MARK_AS_PAID, id=gid("Order", order.pk))
        assert data["orderMarkAsPaid"]["errors"] == [
            {
                "field": None,
                "code": "BILLING_ADDRESS_NOT_SET",
                "message": "Order billing address is required to mark order as paid.",
            }
        ]


class TestCheckoutPaidOrders:
    def _transaction(
        self, standin: StandIn, clock: FixedClock, *, authorized: Decimal = Decimal(0), charged: Decimal = Decimal(0)
    ) -> TransactionItem:
        at = clock.now()
        return TransactionItem(
            standin.store.new_uuid(),
            "USD",
            at,
            at,
            authorized_amount=authorized,
            charged_amount=charged,
            metadata={"avs_result": "Y"},
        )

    async def test_a_charged_checkout_shows_its_transaction_at_creation_and_is_paid_at_once(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        catalogue.channel.automatically_confirm_all_new_orders = False
        charged = self._transaction(standin, clock, charged=catalogue.mug.listings[0].price)
        order = actions.place_order(
            standin.store,
            catalogue.channel,
            [(catalogue.mug, 1)],
            at=clock.now(),
            customer=catalogue.customer,
            transactions=[charged],
        )
        assert [e.event for e in standin.store.outbox] == [
            "ORDER_CREATED",
            "ORDER_PAID",
            "ORDER_FULLY_PAID",
            "ORDER_UPDATED",
        ]
        assert order.transactions == [charged]

    async def test_an_authorized_checkout_sends_only_order_created(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        authorized = self._transaction(standin, clock, authorized=Decimal(100))
        actions.place_order(
            standin.store,
            catalogue.channel,
            [(catalogue.mug, 1)],
            at=clock.now(),
            customer=catalogue.customer,
            transactions=[authorized],
        )
        assert [e.event for e in standin.store.outbox] == ["ORDER_CREATED", "ORDER_CONFIRMED"]
