"""Support › Macros: saved replies checked when saved, and applied in a ticket's reply box filled in with its
order as the staff user's own Saleor session sees it."""

import httpx
import pytest

from app.runtime import Runtime
from tests.api.dashboard.support_tickets import open_order_ticket, support_order
from tests.fakes.fake_saleor import FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")
MACROS = "/api/dashboard/fragments/support/macros"
SAVE = "/api/dashboard/support/macros"
SHIPPED = (
    "Hi {{ customer.name }}, order #{{ order.number }} left us: {{ order.tracking_url }}"
    " (ticket {{ ticket.number }}, {{ agent.name }})"
)


async def _save(client: httpx.AsyncClient, headers: dict[str, str], **form: str) -> httpx.Response:
    return await client.post(SAVE, data=form, headers=headers)


async def test_a_macro_is_saved_listed_changed_and_deleted(client: httpx.AsyncClient, staff_headers) -> None:
    empty = await client.get(MACROS, headers=staff_headers())
    assert empty.status_code == 200
    assert "No macros yet" in empty.text
    assert "<code>{{ order.tracking_url }}</code>" in empty.text  # the variables are listed

    saved = await _save(client, staff_headers(), name="Shipped", body=SHIPPED)
    assert saved.status_code == 200
    assert saved.headers["x-ops-notice"] == "Macro 'Shipped' saved."
    macro_id = saved.text.split('data-macro="')[1].split('"')[0]

    editing = await client.get(MACROS, params={"edit": macro_id}, headers=staff_headers())
    assert "Change Shipped" in editing.text
    changed = await _save(client, staff_headers(), id=macro_id, name="Shipped today", body="Order {{ order.number }}")
    assert changed.status_code == 200
    assert changed.text.count("data-macro=") == 1
    assert "Shipped today" in changed.text

    deleted = await client.post(f"{SAVE}/{macro_id}/delete", headers=staff_headers())
    assert deleted.status_code == 200
    assert "No macros yet" in deleted.text
    assert (await client.post(f"{SAVE}/{macro_id}/delete", headers=staff_headers())).status_code == 404


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"name": "Typo", "body": "Order {{ order.numbr }}"}, "{{ order.numbr }} is not a macro variable"),
        ({"name": "Shop", "body": "{{ shop.name }}"}, "{{ shop }} is not a macro variable"),
        ({"name": "Broken", "body": "{% if order.number %}"}, "The macro cannot be read at line 1"),
        ({"name": "", "body": "Hello"}, "A macro needs a name."),
        ({"name": "Empty", "body": "  "}, "A macro needs a body"),
        ({"id": "0" * 32, "name": "Gone", "body": "Hello"}, "No such macro"),
    ],
)
async def test_a_macro_that_cannot_be_filled_in_is_not_saved_and_says_why(
    client: httpx.AsyncClient, staff_headers, form: dict[str, str], reason: str
) -> None:
    refused = await _save(client, staff_headers(), **form)
    assert refused.status_code == 422
    assert reason in refused.text.replace("&#39;", "'")
    assert "data-macro=" not in refused.text
    assert form["body"] in refused.text or not form["body"].strip()  # the text comes back to correct


async def test_two_macros_cannot_share_a_name(client: httpx.AsyncClient, staff_headers) -> None:
    assert (await _save(client, staff_headers(), name="Thanks", body="Thanks!")).status_code == 200
    twin = await _save(client, staff_headers(), name="Thanks", body="Thank you!")
    assert twin.status_code == 422
    assert "A macro is already named" in twin.text


async def test_macros_need_the_permission_to_manage_orders(client: httpx.AsyncClient, staff_headers) -> None:
    assert (await client.get(MACROS, headers=staff_headers("MANAGE_PRODUCTS"))).status_code == 403
    assert (await _save(client, staff_headers("MANAGE_PRODUCTS"), name="x", body="y")).status_code == 403


async def test_a_macro_fills_the_reply_box_with_the_tickets_order_asked_as_the_staff_user(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, fake_saleor: FakeSaleor
) -> None:
    ticket = await open_order_ticket(runtime)
    saved = await _save(client, staff_headers(), name="Shipped", body=SHIPPED)
    macro_id = saved.text.split('data-macro="')[1].split('"')[0]
    fake_saleor.on(
        "SupportOrder",
        support_order(
            fulfillments=[
                {
                    "status": "FULFILLED",
                    "trackingNumber": "https://track.example/1Z",
                    "created": "2026-12-01T10:00:00+00:00",
                }
            ]
        ),
    )
    headers = staff_headers()
    page = await client.get(
        "/api/dashboard/fragments/support/ticket", params={"id": ticket.id, "macro": macro_id}, headers=headers
    )
    assert page.status_code == 200
    filled = "Hi Ada Lovelace, order #1001 left us: https://track.example/1Z (ticket 1, staff@shop.test)"
    assert f"data-draft>{filled}</textarea>" in page.text
    (asked,) = fake_saleor.calls("SupportOrder")
    assert asked["authorization"] == f"Bearer {headers['authorization-bearer']}"  # the user's token, not the app's


async def test_a_macro_needing_what_the_order_lacks_is_not_applied(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, fake_saleor: FakeSaleor
) -> None:
    ticket = await open_order_ticket(runtime)
    saved = await _save(client, staff_headers(), name="Shipped", body=SHIPPED)
    macro_id = saved.text.split('data-macro="')[1].split('"')[0]
    fake_saleor.on("SupportOrder", support_order())  # nothing shipped: no tracking link
    page = await client.get(
        "/api/dashboard/fragments/support/ticket", params={"id": ticket.id, "macro": macro_id}, headers=staff_headers()
    )
    assert page.status_code == 422
    assert "Macro not applied: {{ order.tracking_url }} has no value for this ticket" in page.text
    assert "data-draft" not in page.text
