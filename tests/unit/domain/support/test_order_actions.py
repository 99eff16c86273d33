"""Which Saleor actions a ticket offers on its order: the token's permissions first, then the order's state."""

import pytest

from app.domain.support.order_actions import OrderAction, action_refusal

MAY = frozenset({"MANAGE_ORDERS"})


def refusal(
    action: OrderAction,
    *,
    status: str = "UNFULFILLED",
    goods_out: bool = False,
    charged: bool = True,
    permissions: frozenset[str] = MAY,
) -> str | None:
    return action_refusal(action, status=status, goods_out=goods_out, charged=charged, permissions=permissions)


@pytest.mark.parametrize("action", list(OrderAction))
def test_every_action_needs_manage_orders_in_the_token(action: OrderAction) -> None:
    assert refusal(action) is None
    assert refusal(action, permissions=frozenset({"MANAGE_PRODUCTS"})) == (
        "Your Saleor account (as this app may act for it) lacks MANAGE_ORDERS."
    )


@pytest.mark.parametrize(
    ("status", "goods_out", "reason"),
    [
        ("CANCELED", False, "it is cancelled already"),
        ("DRAFT", False, "it is a draft"),
        ("EXPIRED", False, "it has expired"),
        ("PARTIALLY_FULFILLED", True, "goods were fulfilled"),
    ],
)
def test_an_order_saleor_would_not_cancel_is_not_offered_for_cancelling(
    status: str, goods_out: bool, reason: str
) -> None:
    said = refusal(OrderAction.CANCEL, status=status, goods_out=goods_out)
    assert said is not None
    assert reason in said
    assert refusal(OrderAction.NOTE, status=status, goods_out=goods_out) is None


def test_unconfirmed_and_unfulfilled_orders_without_goods_out_can_be_cancelled() -> None:
    assert refusal(OrderAction.CANCEL, status="UNCONFIRMED") is None
    assert refusal(OrderAction.CANCEL, status="UNFULFILLED") is None


def test_a_refund_needs_a_transaction_that_charged() -> None:
    said = refusal(OrderAction.REFUND, charged=False)
    assert said is not None
    assert "No payment transaction of this order charged anything" in said
