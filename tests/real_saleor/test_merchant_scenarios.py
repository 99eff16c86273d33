"""A merchant's day against a real Saleor, asserting on what Saleor shows once the app had its say:
``ops.fraud`` and ``ops.cogs`` in private metadata, the app's notes among the order's events, the order's
status. Each test places fresh orders (a fresh guest each) in the suite's own channel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from app.webhooks.order_routing import may_ship_from
from app.webhooks.payloads import OrderEventPayload
from tests.real_saleor.app_process import InstalledOps
from tests.real_saleor.conftest import RECEIPT_UNIT_COST
from tests.real_saleor.merchant import Merchant
from tests.real_saleor.saleor_api import StaffSaleor
from tests.real_saleor.store import (
    ABROAD_COUNTRY,
    ADDRESS,
    CURRENCY,
    MarkAsPaidStrategy,
    OrderView,
    Store,
    cancel_fulfillment,
    cancel_order,
    fulfil,
    mark_as_paid,
    place_checkout_order,
    place_draft_order,
    refund_products,
    return_products,
)

pytestmark = pytest.mark.real_saleor

GOOD_CARD = {"avs_result": "Y", "cvv_result": "M"}  # what a payment app leaves when the checks pass
STOLEN_CARD = {"avs_result": "N", "cvv_result": "N"}  # both checks failed: the default rules hold it for review


@pytest.fixture
def merchant(saleor: StaffSaleor, store: Store, ops: InstalledOps) -> Merchant:
    return Merchant(saleor, store, ops)


def fraud(view: OrderView) -> dict[str, Any]:
    document = view.document("ops.fraud")
    assert document is not None, view.summary()
    return document


def has_fraud(view: OrderView) -> bool:
    return view.document("ops.fraud") is not None


def reason_codes(view: OrderView) -> set[str]:
    return {reason["code"] for reason in fraud(view)["reasons"]}


def saw_the_card_checks(view: OrderView) -> bool:
    return has_fraud(view) and "cvv_match" in reason_codes(view)


def cogs(view: OrderView) -> Decimal | None:
    document = view.document("ops.cogs")
    return None if document is None else Decimal(document["cogs"])


def line_cogs(view: OrderView, line_id: str) -> tuple[int, Decimal] | None:
    """The order line's own ``ops.cogs``: units sold net of returns, and their cost."""
    document = view.line_document(line_id, "ops.cogs")
    return None if document is None else (document["quantity"], Decimal(document["cogs"]))


def units_cost(quantity: int) -> Decimal:
    return (RECEIPT_UNIT_COST * quantity).quantize(Decimal("0.01"))


def costed(line_id: str, quantity: int) -> Callable[[OrderView], bool]:
    """The order's and its line's ``ops.cogs`` both say ``quantity`` units sold. The app writes them in one
    request, but Saleor commits each mutation of it on its own: the order's can show before its line's."""
    cost = units_cost(quantity)
    return lambda view: cogs(view) == cost and line_cogs(view, line_id) == (quantity, cost)


def now() -> datetime:
    return datetime.now(UTC)


class TestCheckoutPaidOrders:
    def test_an_order_paid_by_a_transaction_is_scored_with_its_card_checks_and_approved(
        self, merchant: Merchant
    ) -> None:
        merchant.configure(confirm_automatically=True, mark_as_paid="TRANSACTION_FLOW")
        order_id = place_checkout_order(
            merchant.saleor, merchant.store, quantity=1, pay_by="transaction", card_checks=GOOD_CARD
        )

        # The app writes ops.fraud, then its note, in one request: wait for both.
        view = merchant.wait_until(
            order_id,
            "ops.fraud from an assessment with the card checks, and its note",
            lambda v: saw_the_card_checks(v) and any(note.startswith("Saleor Ops fraud check") for note in v.notes()),
        )

        assessment = fraud(view)
        assert assessment["v"] == 1
        assert assessment["decision"] == "approve", view.summary()

    def test_an_order_paid_through_a_payment_gateway_reaches_the_app_with_every_event(self, merchant: Merchant) -> None:
        # A legacy Payment (Saleor's dummy gateway, as populatedb's store has) on the order.
        merchant.configure(confirm_automatically=True, mark_as_paid="TRANSACTION_FLOW")
        placed = now()
        order_id = place_checkout_order(
            merchant.saleor, merchant.store, quantity=1, pay_by="dummy_gateway", card_checks=GOOD_CARD
        )

        merchant.wait_handled(order_id, "ORDER_CREATED", placed)
        merchant.wait_handled(order_id, "ORDER_FULLY_PAID", placed)
        # A Payment's metadata (where this gateway's card checks sit) needs HANDLE_PAYMENTS, which the app
        # does not ask for: the order is assessed at the paid stage from what MANAGE_ORDERS reads.
        view = merchant.wait_until(
            order_id, "ops.fraud at the paid stage", lambda v: has_fraud(v) and fraud(v)["stage"] == "paid"
        )
        assert fraud(view)["decision"] == "approve", view.summary()
        assert "cvv_match" not in reason_codes(view), view.summary()


class TestMarkAsPaid:
    @pytest.mark.parametrize("strategy", [pytest.param("PAYMENT_FLOW"), pytest.param("TRANSACTION_FLOW")])
    def test_a_staff_order_marked_as_paid_is_assessed_at_the_paid_stage(
        self, merchant: Merchant, strategy: MarkAsPaidStrategy
    ) -> None:
        merchant.configure(confirm_automatically=True, mark_as_paid=strategy)
        order_id = place_draft_order(merchant.saleor, merchant.store, quantity=1)
        merchant.wait_until(order_id, "ops.fraud of the new order", has_fraud)

        paid = now()
        mark_as_paid(merchant.saleor, order_id)

        # orderMarkAsPaid sends ORDER_FULLY_PAID (and ORDER_UPDATED), never ORDER_PAID.
        merchant.wait_handled(order_id, "ORDER_FULLY_PAID", paid)
        view = merchant.wait_until(order_id, "ops.fraud at the paid stage", lambda v: fraud(v)["stage"] == "paid")
        assert fraud(view)["decision"] == "approve", view.summary()


class TestHoldAndRelease:
    def test_an_unpaid_order_stays_held_until_the_assessment_that_sees_its_payment(self, merchant: Merchant) -> None:
        merchant.configure(confirm_automatically=False, mark_as_paid="TRANSACTION_FLOW")
        order_id = place_draft_order(merchant.saleor, merchant.store, quantity=1)

        merchant.wait_until(order_id, "the new order assessed", has_fraud)
        merchant.keeps(order_id, "UNCONFIRMED while no payment is known", lambda v: v.status == "UNCONFIRMED")

        mark_as_paid(merchant.saleor, order_id)

        view = merchant.wait_until(order_id, "released (UNFULFILLED) once paid", lambda v: v.status == "UNFULFILLED")
        assert fraud(view)["stage"] == "paid", view.summary()
        assert fraud(view)["decision"] == "approve", view.summary()

    # An authorized card is a payment too: Saleor sends no ORDER_PAID for it until it is captured.
    @pytest.mark.parametrize("charged", [pytest.param(True, id="charged"), pytest.param(False, id="authorized")])
    def test_an_order_paid_at_checkout_is_released_by_the_assessment_of_its_card_checks(
        self, merchant: Merchant, charged: bool
    ) -> None:
        merchant.configure(confirm_automatically=False, mark_as_paid="TRANSACTION_FLOW")
        order_id = place_checkout_order(
            merchant.saleor, merchant.store, quantity=1, pay_by="transaction", card_checks=GOOD_CARD, charged=charged
        )

        view = merchant.wait_until(order_id, "released (UNFULFILLED)", lambda v: v.status == "UNFULFILLED")
        assert saw_the_card_checks(view), view.summary()
        assert fraud(view)["decision"] == "approve", view.summary()

    def test_an_order_whose_card_checks_failed_stays_held_for_review(self, merchant: Merchant) -> None:
        merchant.configure(confirm_automatically=False, mark_as_paid="TRANSACTION_FLOW")
        order_id = place_checkout_order(
            merchant.saleor, merchant.store, quantity=1, pay_by="transaction", card_checks=STOLEN_CARD
        )

        merchant.wait_until(
            order_id,
            "ops.fraud holding the order (review or reject) with the failed CVV",
            lambda v: has_fraud(v) and "cvv_mismatch" in reason_codes(v) and fraud(v)["decision"] != "approve",
        )
        view = merchant.keeps(order_id, "UNCONFIRMED while in review", lambda v: v.status == "UNCONFIRMED")
        assert "CONFIRMED" not in {kind for kind, _ in view.events}, view.summary()


class TestReviewQueue:
    def test_a_held_order_the_merchant_cancels_in_saleor_leaves_the_review_queue(self, merchant: Merchant) -> None:
        merchant.configure(confirm_automatically=False, mark_as_paid="TRANSACTION_FLOW")
        order_id = place_checkout_order(
            merchant.saleor, merchant.store, quantity=1, pay_by="transaction", card_checks=STOLEN_CARD
        )
        merchant.wait_until(order_id, "held for review", lambda v: has_fraud(v) and fraud(v)["decision"] != "approve")
        assert f'data-review="{order_id}"' in merchant.review_queue()

        cancelled = now()
        cancel_order(merchant.saleor, order_id)

        merchant.wait_handled(order_id, "ORDER_UPDATED", cancelled)
        assert f'data-review="{order_id}"' not in merchant.review_queue(), merchant.order(order_id).summary()


class TestCostOfGoods:
    """The ledger holds the receipt the session booked (store.SKU at RECEIPT_UNIT_COST), so every unit
    shipped costs that, whatever Saleor's cost price says."""

    def paid_checkout_order(self, merchant: Merchant, quantity: int) -> tuple[str, str]:
        merchant.configure(confirm_automatically=True, mark_as_paid="TRANSACTION_FLOW")
        order_id = place_checkout_order(
            merchant.saleor, merchant.store, quantity=quantity, pay_by="transaction", card_checks=GOOD_CARD
        )
        (line_id,) = merchant.order(order_id).line_ids
        return order_id, line_id

    def shipped(self, merchant: Merchant, order_id: str, line_id: str, quantity: int) -> str:
        """Fulfil ``quantity`` units and wait for their COGS; the fulfilment line's id."""
        fulfillment = fulfil(merchant.saleor, merchant.store, order_id, {line_id: quantity})
        merchant.wait_until(
            order_id, f"ops.cogs {units_cost(quantity)} for {quantity} shipped", costed(line_id, quantity)
        )
        (fulfillment_line_id,) = fulfillment.lines
        return fulfillment_line_id

    def test_a_fulfilment_books_its_cost_of_goods_on_the_order_and_its_line(self, merchant: Merchant) -> None:
        order_id, line_id = self.paid_checkout_order(merchant, quantity=3)

        self.shipped(merchant, order_id, line_id, 3)

        # The note is the last write of the request that wrote ops.cogs.
        view = merchant.wait_until(
            order_id,
            "the cost-of-goods note",
            lambda v: any(f"cost of goods {units_cost(3)} {CURRENCY}" in note for note in v.notes()),
        )
        document = view.document("ops.cogs")
        assert document is not None
        assert (document["v"], document["currency"]) == (1, CURRENCY)
        assert line_cogs(view, line_id) == (3, units_cost(3)), view.summary()

    def test_an_order_of_more_lines_than_one_document_may_write_is_costed_on_every_line(
        self, merchant: Merchant
    ) -> None:
        # Saleor (3.20.118 on) runs at most 4 mutations a document: the order's metadata, 7 lines' and the
        # note (9 writes) go in three documents, the lines first, so the note, written last, finds them all.
        merchant.configure(confirm_automatically=True, mark_as_paid="TRANSACTION_FLOW")
        order_id = place_checkout_order(
            merchant.saleor, merchant.store, quantity=1, lines=7, pay_by="transaction", card_checks=GOOD_CARD
        )
        line_ids = merchant.order(order_id).line_ids
        assert len(line_ids) == 7, merchant.order(order_id).summary()

        fulfil(merchant.saleor, merchant.store, order_id, dict.fromkeys(line_ids, 1))

        view = merchant.wait_until(
            order_id,
            f"the cost-of-goods note for 7 lines shipped ({units_cost(7)})",
            lambda v: any(f"cost of goods {units_cost(7)} {CURRENCY}" in note for note in v.notes()),
        )
        assert cogs(view) == units_cost(7), view.summary()
        lines = {line_id: line_cogs(view, line_id) for line_id in line_ids}
        assert lines == dict.fromkeys(line_ids, (1, units_cost(1))), f"{lines}\n{view.summary()}"

    def test_a_cancelled_fulfilment_comes_back_at_its_cost(self, merchant: Merchant) -> None:
        order_id, line_id = self.paid_checkout_order(merchant, quantity=3)
        self.shipped(merchant, order_id, line_id, 3)
        fulfillment_id = merchant.order(order_id).fulfillments[0].id

        cancel_fulfillment(merchant.saleor, merchant.store, fulfillment_id)

        merchant.wait_until(order_id, "ops.cogs back to 0.00 on the order and its line", costed(line_id, 0))

    def test_a_refund_without_a_return_moves_no_goods(self, merchant: Merchant) -> None:
        # Refunding products needs a Payment: the dashboard's "Mark as paid" under PAYMENT_FLOW makes one.
        merchant.configure(confirm_automatically=True, mark_as_paid="PAYMENT_FLOW")
        order_id = place_draft_order(merchant.saleor, merchant.store, quantity=2)
        mark_as_paid(merchant.saleor, order_id)
        (line_id,) = merchant.order(order_id).line_ids
        fulfillment_line_id = self.shipped(merchant, order_id, line_id, 2)

        refunded = now()
        refund_products(merchant.saleor, order_id, fulfillment_line_id, 1)

        merchant.wait_handled(order_id, "ORDER_UPDATED", refunded)
        view = merchant.order(order_id)
        assert "REFUNDED" in {f.status for f in view.fulfillments}, view.summary()
        assert cogs(view) == units_cost(2), view.summary()
        assert line_cogs(view, line_id) == (2, units_cost(2)), view.summary()

    def test_a_return_brings_the_goods_back_and_reduces_the_cost_of_goods(self, merchant: Merchant) -> None:
        order_id, line_id = self.paid_checkout_order(merchant, quantity=4)
        fulfillment_line_id = self.shipped(merchant, order_id, line_id, 4)

        return_products(merchant.saleor, order_id, fulfillment_line_id, 2)

        view = merchant.wait_until(order_id, f"ops.cogs {units_cost(2)} after 2 of 4 returned", costed(line_id, 2))
        assert "RETURNED" in {f.status for f in view.fulfillments}, view.summary()


class TestRoutingSources:
    def test_a_warehouse_of_the_channel_none_of_whose_zones_covers_the_shipping_country_is_no_source(
        self, merchant: Merchant
    ) -> None:
        # Routing's sources are the warehouses Saleor lists in the lines' variant stocks, less those whose
        # zones (Warehouse.shippingZones in the payload) do not cover the address. Saleor lists the suite's
        # German warehouse too, since it is in one of the channel's zones.
        merchant.configure(confirm_automatically=True, mark_as_paid="TRANSACTION_FLOW")
        placed = now()
        order_id = place_checkout_order(
            merchant.saleor, merchant.store, quantity=1, pay_by="transaction", card_checks=GOOD_CARD
        )
        merchant.wait_handled(order_id, "ORDER_CREATED", placed)

        (body,) = merchant.ops.process.recorded_bodies(order_id, "order_created")
        order = OrderEventPayload.model_validate_json(body).order
        assert order.shipping_address is not None
        assert order.shipping_address.country.code == ADDRESS["country"]
        (line,) = order.lines
        stocks = line.variant.stocks if line.variant is not None else None
        assert stocks is not None, body[:2000]
        listed = {stock.warehouse.id: stock.warehouse for stock in stocks}
        abroad = listed.get(merchant.store.abroad_warehouse_id)
        assert abroad is not None, f"Saleor listed only {sorted(listed)} in the variant's stocks"
        assert abroad.ships_to(order.channel.slug, ABROAD_COUNTRY), abroad.model_dump_json()

        sources = {warehouse_id for warehouse_id, warehouse in listed.items() if may_ship_from(warehouse, order)}
        assert sources == {merchant.store.warehouse_id}, {w: v.model_dump_json() for w, v in listed.items()}
