"""The dashboard's JWT as a bearer token, as Saleor's ``load_user_from_request`` takes it: the call runs as the
staff user with the permissions the token carries (theirs that the app holds too); a bad token fails where a
permission is checked, as a GraphQL error named after PyJWT's exception."""

from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest

from app.graphql.documents import load
from app.standin import actions
from app.standin.facade import StandIn
from app.standin.signing import SigningKey
from app.standin.state import App, Order, OrderStatus, to_global_id
from tests.conftest import FixedClock
from tests.standin.conftest import Catalogue

API = "http://shop.standin/graphql/"


@pytest.fixture
def order(standin: StandIn, catalogue: Catalogue, clock: FixedClock) -> Order:
    return actions.place_order(standin.store, catalogue.channel, [(catalogue.mug, 1)], at=clock.now())


async def _run(standin: StandIn, token: str, kind: str, name: str, **variables: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=standin.asgi)) as http:
        return await http.post(
            API,
            json={"query": load(kind, name).source, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )


async def test_a_staff_users_dashboard_token_acts_as_them_with_the_apps_share_of_their_permissions(
    standin: StandIn, caller: App, order: Order
) -> None:
    token = standin.dashboard_token(caller, user_permissions=["MANAGE_ORDERS", "MANAGE_USERS"], email="sam@shop.test")
    order_id = to_global_id("Order", order.pk)
    seen = await _run(standin, token, "queries", "support_order", id=order_id)
    assert seen.status_code == 200
    assert seen.json()["data"]["order"]["number"] == str(order.number)

    noted = await _run(standin, token, "mutations", "order_note_add", order=order_id, message="Called the customer.")
    assert noted.json()["data"]["orderNoteAdd"]["errors"] == []
    cancelled = await _run(standin, token, "mutations", "order_cancel", id=order_id)
    assert cancelled.json()["data"]["orderCancel"]["errors"] == []
    assert order.status is OrderStatus.CANCELED
    sam = standin.store.active_user("sam@shop.test")
    assert sam is not None
    # Saleor records the user, not the app, as who did it.
    assert [(e.type, e.user_pk, e.app_pk) for e in order.events[-2:]] == [
        ("NOTE_ADDED", sam.pk, None),
        ("CANCELED", sam.pk, None),
    ]


async def test_a_user_without_the_permission_is_refused_whatever_the_app_may(
    standin: StandIn, caller: App, order: Order
) -> None:
    token = standin.dashboard_token(caller, user_permissions=["MANAGE_PRODUCTS"], email="viewer@shop.test")
    refused = await _run(standin, token, "mutations", "order_cancel", id=to_global_id("Order", order.pk))
    body = refused.json()
    assert refused.status_code == 200
    assert body["data"]["orderCancel"] is None
    assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    assert order.status is not OrderStatus.CANCELED


@pytest.mark.parametrize(
    ("spoil", "code", "message"),
    [
        ("expired", "ExpiredSignatureError", "Signature has expired"),
        ("foreign", "InvalidSignatureError", "Signature verification failed"),
        ("logged_out", "InvalidTokenError", "Invalid token. Create new one by using tokenCreate mutation."),
        ("inactive", "InvalidTokenError", "Invalid token. User does not exist or is inactive."),
        ("refresh", "InvalidTokenError", "Invalid token. Create new one by using tokenCreate mutation."),
    ],
)
async def test_a_token_saleor_would_not_take_fails_where_the_user_is_needed(
    standin: StandIn, caller: App, order: Order, clock: FixedClock, spoil: str, code: str, message: str
) -> None:
    token = standin.dashboard_token(caller, user_permissions=["MANAGE_ORDERS"], email="sam@shop.test")
    sam = standin.store.active_user("sam@shop.test")
    assert sam is not None
    if spoil == "expired":
        clock.advance(minutes=6)
    elif spoil == "foreign":
        token = SigningKey().dashboard_token(
            app_id=to_global_id("App", caller.pk),
            iss=API,
            user_permissions=["MANAGE_ORDERS"],
            permissions=["MANAGE_ORDERS"],
            email="sam@shop.test",
            issued_at=clock.now().timestamp(),
            token=sam.jwt_token_key,
        )
    elif spoil == "logged_out":
        sam.jwt_token_key = "rotated"  # Saleor's "log out everywhere" (tokenDeactivateAll)
    elif spoil == "inactive":
        sam.is_active = False
    else:
        token = standin.dashboard_token(
            caller, user_permissions=["MANAGE_ORDERS"], email="sam@shop.test", type="refresh"
        )
    refused = await _run(standin, token, "mutations", "order_cancel", id=to_global_id("Order", order.pk))
    body = refused.json()
    assert refused.status_code == 200
    assert body["data"]["orderCancel"] is None
    assert body["errors"][0]["message"] == message
    assert body["errors"][0]["extensions"]["exception"]["code"] == code
    assert order.status is not OrderStatus.CANCELED


async def test_an_unknown_opaque_token_is_still_refused_with_401(standin: StandIn, order: Order) -> None:
    refused = await _run(standin, "not-a-token", "mutations", "order_cancel", id=to_global_id("Order", order.pk))
    assert refused.status_code == 401


async def test_a_refund_is_granted_as_the_user_within_what_the_transaction_charged(
    standin: StandIn, caller: App, order: Order, clock: FixedClock
) -> None:
    transaction = actions.record_charge(standin.store, order, Decimal("10.00"), at=clock.now())
    token = standin.dashboard_token(caller, user_permissions=["MANAGE_ORDERS"], email="sam@shop.test")
    grant = {
        "order": to_global_id("Order", order.pk),
        "transaction": to_global_id("TransactionItem", transaction.token),
        "reason": "Parcel lost",
    }
    too_much = await _run(standin, token, "mutations", "order_grant_refund", amount="10.01", **grant)
    (error,) = too_much.json()["data"]["orderGrantRefundCreate"]["errors"]
    assert (error["field"], error["code"]) == ("amount", "AMOUNT_GREATER_THAN_AVAILABLE")
    foreign = await _run(
        standin,
        token,
        "mutations",
        "order_grant_refund",
        amount="1",
        **{**grant, "transaction": to_global_id("TransactionItem", uuid4())},
    )
    assert foreign.json()["data"]["orderGrantRefundCreate"]["errors"][0]["code"] == "NOT_FOUND"
    assert order.granted_refunds == []

    granted = await _run(standin, token, "mutations", "order_grant_refund", amount="4.50", **grant)
    assert granted.json()["data"]["orderGrantRefundCreate"]["errors"] == []
    (kept,) = order.granted_refunds
    sam = standin.store.active_user("sam@shop.test")
    assert sam is not None
    assert (kept.amount, kept.reason, kept.transaction, kept.user_pk, kept.app_pk) == (
        Decimal("4.50"),
        "Parcel lost",
        transaction,
        sam.pk,
        None,
    )
    assert transaction.refunded_amount == 0  # granted, not sent: no money moved
