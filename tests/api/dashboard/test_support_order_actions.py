"""A ticket's order acted on in Saleor from the ticket, as the staff user: Saleor is called with their own
dashboard token, what they may not do is refused beforehand with the reason, and each action is noted."""

import httpx
import pytest

from app.runtime import Runtime
from tests.api.dashboard.support_tickets import ORDER_ID, kept_ticket, open_order_ticket, support_order
from tests.fakes.fake_saleor import FakeSaleor
from tests.fakes.saleor_signer import SaleorSigner

pytestmark = pytest.mark.usefixtures("installation")
TICKET = "/api/dashboard/fragments/support/ticket"


async def test_the_ticket_shows_the_orders_card_beside_its_thread(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime
) -> None:
    ticket = await open_order_ticket(runtime)
    page = await client.get(TICKET, params={"id": ticket.id}, headers=staff_headers())
    assert 'data-include="/api/dashboard/fragments/order?orderId=T3JkZXI6MQ%3D%3D"' in page.text
    card = await client.get("/api/dashboard/fragments/order", params={"orderId": ORDER_ID}, headers=staff_headers())
    assert card.status_code == 200
    for section in ("<h3>Fraud</h3>", "<h3>Cost of goods</h3>", "<h3>Shipping</h3>"):
        assert section in card.text


async def test_the_user_may_cancel_an_unfulfilled_order_and_add_a_note_with_their_own_token(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, fake_saleor: FakeSaleor
) -> None:
    ticket = await open_order_ticket(runtime)
    fake_saleor.on("SupportOrder", support_order())
    headers = staff_headers()
    page = await client.get(TICKET, params={"id": ticket.id}, headers=headers)
    assert 'data-order-action="cancel"' in page.text
    assert 'data-order-action="note"' in page.text

    noted = await client.post(
        f"/api/dashboard/support/tickets/{ticket.id}/order/note",
        data={"order": ORDER_ID, "note": "Customer called: leave at the door."},
        headers=headers,
    )
    assert noted.status_code == 200
    assert noted.headers["x-ops-notice"] == "Add a note to the order: done."
    (note_call,) = fake_saleor.calls("OrderNoteAdd")
    assert note_call["variables"] == {"order": ORDER_ID, "message": "Customer called: leave at the door."}
    assert note_call["authorization"] == f"Bearer {headers['authorization-bearer']}"

    cancelled = await client.post(
        f"/api/dashboard/support/tickets/{ticket.id}/order/cancel", data={"order": ORDER_ID}, headers=headers
    )
    assert cancelled.status_code == 200
    assert cancelled.headers["x-ops-order-changed"] == "1"
    (cancel_call,) = fake_saleor.calls("OrderCancel")
    assert cancel_call["variables"] == {"id": ORDER_ID}
    assert cancel_call["authorization"] == f"Bearer {headers['authorization-bearer']}"

    notes = [(m.author_name, m.body, m.public) for m in (await kept_ticket(runtime, ticket.id)).thread]
    assert notes == [
        (
            "staff@shop.test",
            "staff@shop.test added a note to order #1001 in Saleor: Customer called: leave at the door.",
            False,
        ),
        ("staff@shop.test", "staff@shop.test cancelled order #1001 in Saleor", False),
    ]


async def test_an_order_with_goods_out_cannot_be_cancelled_and_the_page_says_why(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, fake_saleor: FakeSaleor
) -> None:
    ticket = await open_order_ticket(runtime)
    fake_saleor.on(
        "SupportOrder",
        support_order(
            status="FULFILLED",
            fulfillments=[{"status": "FULFILLED", "trackingNumber": "1Z", "created": "2026-12-01T10:00:00+00:00"}],
        ),
    )
    page = await client.get(TICKET, params={"id": ticket.id}, headers=staff_headers())
    assert 'data-order-action="cancel"' not in page.text
    assert 'data-refused="cancel"' in page.text
    assert "goods were fulfilled" in page.text

    forced = await client.post(
        f"/api/dashboard/support/tickets/{ticket.id}/order/cancel", data={"order": ORDER_ID}, headers=staff_headers()
    )
    assert forced.status_code == 422
    assert "Nothing changed: Saleor cannot cancel this order: goods were fulfilled." in forced.text
    assert fake_saleor.calls("OrderCancel") == []
    assert (await kept_ticket(runtime, ticket.id)).thread == ()


async def test_without_the_permission_in_the_token_no_action_is_offered_or_taken(
    client: httpx.AsyncClient, runtime: Runtime, fake_saleor: FakeSaleor, signer: SaleorSigner
) -> None:
    """The token's ``permissions`` (the user's that the app holds too) are what Saleor grants the call."""
    ticket = await open_order_ticket(runtime)
    fake_saleor.on("SupportOrder", support_order())
    token = signer.dashboard_token(
        issued_at=runtime.clock.now().timestamp(), user_permissions=["MANAGE_ORDERS"], permissions=[]
    )
    headers = {"authorization-bearer": token, "saleor-api-url": "https://shop.test/graphql/"}
    page = await client.get(TICKET, params={"id": ticket.id}, headers=headers)
    assert page.text.count("as this app may act for it) lacks MANAGE_ORDERS.") == 3  # cancel, note, refund
    refused = await client.post(
        f"/api/dashboard/support/tickets/{ticket.id}/order/note", data={"order": ORDER_ID, "note": "x"}, headers=headers
    )
    assert refused.status_code == 422
    assert fake_saleor.calls("OrderNoteAdd") == []


async def test_what_saleor_refuses_is_said_and_nothing_is_noted(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, fake_saleor: FakeSaleor
) -> None:
    ticket = await open_order_ticket(runtime)
    fake_saleor.on("SupportOrder", support_order())
    fake_saleor.on(
        "OrderCancel",
        {
            "data": {
                "orderCancel": {
                    "order": None,
                    "errors": [
                        {"field": "order", "message": "This order can't be canceled.", "code": "CANNOT_CANCEL_ORDER"}
                    ],
                }
            }
        },
    )
    refused = await client.post(
        f"/api/dashboard/support/tickets/{ticket.id}/order/cancel", data={"order": ORDER_ID}, headers=staff_headers()
    )
    assert refused.status_code == 422
    assert "Nothing changed: Saleor refused: This order can&#39;t be canceled.</p>" in refused.text
    assert (await kept_ticket(runtime, ticket.id)).thread == ()


async def test_an_order_the_ticket_is_not_about_is_refused(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, fake_saleor: FakeSaleor
) -> None:
    ticket = await open_order_ticket(runtime)
    refused = await client.post(
        f"/api/dashboard/support/tickets/{ticket.id}/order/cancel",
        data={"order": "T3JkZXI6OTk="},
        headers=staff_headers(),
    )
    assert refused.status_code == 422
    assert "This ticket is not about that order." in refused.text
    assert fake_saleor.calls("OrderCancel") == []
    unknown = await client.post(
        f"/api/dashboard/support/tickets/{ticket.id}/order/refund-all",
        data={"order": ORDER_ID},
        headers=staff_headers(),
    )
    assert unknown.status_code == 404


async def test_a_ticket_about_two_orders_acts_on_the_one_the_person_chose(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, fake_saleor: FakeSaleor
) -> None:
    second = "T3JkZXI6Mg=="
    ticket = await open_order_ticket(runtime, "Both parcels", ORDER_ID, second)
    fake_saleor.on(
        "SupportOrder",
        lambda body: support_order(
            order_id=body["variables"]["id"], number="1001" if body["variables"]["id"] == ORDER_ID else "1002"
        ),
    )
    headers = staff_headers()
    first_shown = await client.get(TICKET, params={"id": ticket.id}, headers=headers)
    assert "Order <strong>#1001</strong>" in first_shown.text
    assert f'<option value="{second}">' in first_shown.text  # offered, not chosen yet

    chosen = await client.get(TICKET, params={"id": ticket.id, "order": second}, headers=headers)
    assert "Order <strong>#1002</strong>" in chosen.text
    assert f'<option value="{second}" selected>' in chosen.text
    assert f'<input type="hidden" name="order" value="{second}">' in chosen.text  # the macro form's, too

    noted = await client.post(
        f"/api/dashboard/support/tickets/{ticket.id}/order/note",
        data={"order": second, "note": "Split parcel"},
        headers=headers,
    )
    assert noted.status_code == 200
    assert "Order <strong>#1002</strong>" in noted.text  # still the order acted on
    assert fake_saleor.calls("OrderNoteAdd")[0]["variables"]["order"] == second

    elsewhere = await client.get(TICKET, params={"id": ticket.id, "order": "T3JkZXI6OTk="}, headers=headers)
    assert "Order <strong>#1001</strong>" in elsewhere.text  # not the ticket's: its first order instead


CHARGED = [{"id": "VHJhbnNhY3Rpb25JdGVtOjE=", "chargedAmount": {"amount": 40.5, "currency": "USD"}}]


async def test_a_refund_is_granted_against_the_charged_transaction_within_what_it_charged(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, fake_saleor: FakeSaleor
) -> None:
    ticket = await open_order_ticket(runtime)
    answer = support_order()
    answer["data"]["order"]["transactions"] = CHARGED
    fake_saleor.on("SupportOrder", answer)
    fake_saleor.on(
        "OrderGrantRefund", {"data": {"orderGrantRefundCreate": {"grantedRefund": {"id": "T0dSOjE="}, "errors": []}}}
    )
    headers = staff_headers()
    page = await client.get(TICKET, params={"id": ticket.id}, headers=headers)
    assert 'data-order-action="refund"' in page.text
    assert "(USD, at most 40.5 charged)" in page.text

    async def refund(amount: str) -> httpx.Response:
        return await client.post(
            f"/api/dashboard/support/tickets/{ticket.id}/order/refund",
            data={"order": ORDER_ID, "amount": amount, "note": "Parcel lost"},
            headers=headers,
        )

    for typed, reason in (
        ("41", "At most 40.5 USD was charged to refund, not 41."),
        ("-1", "A refund is more than nothing."),
        ("lots", "Type the amount to refund"),
    ):
        refused = await refund(typed)
        assert refused.status_code == 422
        assert reason in refused.text
    assert fake_saleor.calls("OrderGrantRefund") == []

    granted = await refund("12,50")
    assert granted.status_code == 200
    (call,) = fake_saleor.calls("OrderGrantRefund")
    assert call["variables"] == {
        "order": ORDER_ID,
        "transaction": "VHJhbnNhY3Rpb25JdGVtOjE=",
        "amount": "12.50",
        "reason": "Parcel lost",
    }
    assert call["authorization"] == f"Bearer {headers['authorization-bearer']}"
    (note,) = (await kept_ticket(runtime, ticket.id)).thread
    assert note.body.startswith("staff@shop.test granted a refund of 12.50 USD on order #1001 in Saleor: Parcel lost")


async def test_an_order_without_a_charged_transaction_offers_no_refund(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, fake_saleor: FakeSaleor
) -> None:
    ticket = await open_order_ticket(runtime)
    fake_saleor.on("SupportOrder", support_order())
    page = await client.get(TICKET, params={"id": ticket.id}, headers=staff_headers())
    assert 'data-refused="refund"' in page.text
    assert "No payment transaction of this order charged anything" in page.text
