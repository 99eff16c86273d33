from typing import Any

import httpx
import pytest

from app.api.support import store_ref
from app.domain.ids import SaleorApiUrl
from app.domain.installation import Installation
from app.domain.support.model import Channel
from app.domain.support.ticket import Requester
from tests.conftest import FakeMonotonic
from tests.fakes.fake_saleor import FakeSaleor
from tests.fakes.support import InMemoryTicketStore

URL = SaleorApiUrl("https://shop.test/graphql/")
PATH = f"/api/stores/{store_ref(URL)}/support/requests"
FORM = f"/support/{store_ref(URL)}"
ORDER_ID = "T3JkZXI6MQ=="


def order_answer(email: str | None = "ada@example.com", user: str | None = "VXNlcjo3") -> dict[str, Any]:
    node = {"id": ORDER_ID, "number": "1042", "userEmail": email, "user": {"id": user} if user else None}
    return {"data": {"orders": {"edges": [{"node": node}]}}}


NO_ORDER: dict[str, Any] = {"data": {"orders": {"edges": []}}}


def request(**changes: object) -> dict[str, object]:
    return {"order_number": "1042", "email": "ada@example.com", "message": "Where is my parcel?", **changes}


@pytest.fixture
def saleor(fake_saleor: FakeSaleor, installation: Installation) -> FakeSaleor:
    fake_saleor.on("OrderByNumber", order_answer())
    return fake_saleor


class TestCustomerRequestApi:
    async def test_a_matching_request_opens_a_ticket_checked_with_the_apps_token(
        self, client: httpx.AsyncClient, saleor: FakeSaleor, tickets: InMemoryTicketStore
    ) -> None:
        response = await client.post(PATH, json=request(order_number="#1042", subject="Late"))
        assert response.status_code == 201, response.text
        (ticket,) = tickets.all(URL)
        assert response.json() == {"ticket": ticket.id, "status": "new"}
        assert (ticket.channel, ticket.subject, ticket.order_ids) == (Channel.WEB_FORM, "Late", (ORDER_ID,))
        assert ticket.requester.customer_id == "VXNlcjo3"
        (call,) = saleor.calls("OrderByNumber")
        assert call["variables"] == {"number": "1042"}
        assert call["authorization"] == "Bearer app-token-1"

    async def test_a_guests_order_opens_a_ticket_with_no_customer(
        self, client: httpx.AsyncClient, saleor: FakeSaleor, tickets: InMemoryTicketStore
    ) -> None:
        saleor.on("OrderByNumber", order_answer(user=None))
        assert (await client.post(PATH, json=request())).status_code == 201
        (ticket,) = tickets.all(URL)
        assert ticket.requester == Requester("ada@example.com")

    @pytest.mark.parametrize(
        "answer",
        [
            pytest.param(order_answer(email="eve@example.com"), id="another-email"),
            pytest.param(NO_ORDER, id="unknown-order"),
        ],
    )
    async def test_a_mismatch_answers_as_an_unknown_order_does(
        self, client: httpx.AsyncClient, saleor: FakeSaleor, tickets: InMemoryTicketStore, answer: dict[str, Any]
    ) -> None:
        saleor.on("OrderByNumber", answer)
        response = await client.post(PATH, json=request())
        assert response.status_code == 404
        assert response.json() == {
            "error": {
                "type": "ORDER_NOT_FOUND",
                "message": "No order with this number was placed with this e-mail address.",
            }
        }
        assert tickets.all(URL) == []

    async def test_bad_fields_are_refused_with_each_reason_before_saleor_is_asked(
        self, client: httpx.AsyncClient, saleor: FakeSaleor, tickets: InMemoryTicketStore
    ) -> None:
        response = await client.post(PATH, json=request(order_number="abc", email="nobody", message=""))
        assert response.status_code == 422
        assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [
            ("order_number", "an order number is digits, as in the order confirmation"),
            ("email", "this is not an e-mail address"),
            ("message", "write what the request is about"),
        ]
        assert saleor.calls("OrderByNumber") == []
        assert tickets.all(URL) == []

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            pytest.param(b"{not json", 400, "INVALID_JSON", id="not-json"),
            pytest.param(b"[1, 2]", 400, "INVALID_JSON", id="not-an-object"),
            pytest.param(b'{"message": "' + b"x" * 40_000 + b'"}', 413, "TOO_LARGE", id="oversized"),
        ],
    )
    async def test_a_malformed_or_oversized_body_is_refused(
        self,
        client: httpx.AsyncClient,
        saleor: FakeSaleor,
        tickets: InMemoryTicketStore,
        body: bytes,
        status: int,
        code: str,
    ) -> None:
        response = await client.post(PATH, content=body, headers={"content-type": "application/json"})
        assert response.status_code == status
        assert response.json()["error"]["type"] == code
        assert tickets.all(URL) == []

    @pytest.mark.parametrize(
        "store",
        [
            pytest.param(store_ref(SaleorApiUrl("https://other.test/graphql/")), id="not-installed"),
            pytest.param("%%%", id="not-base64"),
            pytest.param("bm90IGEgdXJs", id="not-a-saleor-url"),
        ],
    )
    async def test_an_unknown_store_is_not_found(
        self, client: httpx.AsyncClient, saleor: FakeSaleor, tickets: InMemoryTicketStore, store: str
    ) -> None:
        response = await client.post(f"/api/stores/{store}/support/requests", json=request())
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "STORE_NOT_FOUND"

    async def test_an_email_is_limited_whatever_address_it_comes_from(
        self, client: httpx.AsyncClient, saleor: FakeSaleor, tickets: InMemoryTicketStore, monotonic: FakeMonotonic
    ) -> None:
        for _ in range(5):
            assert (await client.post(PATH, json=request())).status_code == 201
        refused = await client.post(PATH, json=request())
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "300"
        assert len(tickets.all(URL)) == 5
        assert len(saleor.calls("OrderByNumber")) == 5
        monotonic.value += 300
        assert (await client.post(PATH, json=request())).status_code == 201

    async def test_an_address_is_limited_whatever_email_it_sends(
        self, client: httpx.AsyncClient, saleor: FakeSaleor, tickets: InMemoryTicketStore
    ) -> None:
        saleor.on("OrderByNumber", NO_ORDER)  # guessing: counted even when nothing matches
        answers = [
            (await client.post(PATH, json=request(email=f"guess{n}@example.com"))).status_code for n in range(11)
        ]
        assert answers == [404] * 10 + [429]

    async def test_saleor_down_is_a_503_that_stores_nothing(
        self, client: httpx.AsyncClient, saleor: FakeSaleor, tickets: InMemoryTicketStore
    ) -> None:
        saleor.on("OrderByNumber", httpx.Response(503))
        response = await client.post(PATH, json=request())
        assert response.status_code == 503
        assert response.json()["error"]["type"] == "SALEOR_UNAVAILABLE"
        assert tickets.all(URL) == []

    async def test_is_described_in_the_apis_openapi_document(self, client: httpx.AsyncClient) -> None:
        document = (await client.get("/api/openapi.json")).json()
        assert set(document["paths"]) == {
            "/api/inventory/receipts",
            "/api/inventory/moves",
            "/api/routing/suppliers/{supplier_id}/offers",
            "/api/routing/hand-offs/{hand_off_id}/accept",
            "/api/routing/hand-offs/{hand_off_id}/reject",
            "/api/routing/hand-offs/{hand_off_id}/shipments",
            "/api/stores/{store}/support/requests",
            "/api/stores/{store}/support/inbound-mail/mailgun",
        }
        operation = document["paths"]["/api/stores/{store}/support/requests"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert set(body["required"]) == {"order_number", "email", "message"}
        assert {"201", "404", "413", "422", "429"} <= set(operation["responses"])


class TestCustomerRequestForm:
    async def test_the_form_is_served_embeddable_and_needs_no_script(
        self, client: httpx.AsyncClient, installation: Installation
    ) -> None:
        response = await client.get(FORM)
        assert response.status_code == 200
        assert f'<form method="post" action="{FORM}">' in response.text
        assert "<script" not in response.text
        assert "frame-ancestors *" in response.headers["content-security-policy"]

    async def test_a_posted_form_opens_a_ticket_and_says_its_number(
        self, client: httpx.AsyncClient, saleor: FakeSaleor, tickets: InMemoryTicketStore
    ) -> None:
        response = await client.post(FORM, data={**request(), "subject": ""})
        assert response.status_code == 201
        (ticket,) = tickets.all(URL)
        assert f"ticket <strong>#{ticket.id}</strong>" in response.text

    async def test_a_form_with_problems_comes_back_filled_in_with_the_reasons(
        self, client: httpx.AsyncClient, saleor: FakeSaleor, tickets: InMemoryTicketStore
    ) -> None:
        response = await client.post(FORM, data=request(email="<b>nobody</b>"))
        assert response.status_code == 422
        assert '<span class="problem" id="problem-email">this is not an e-mail address</span>' in response.text
        assert 'value="&lt;b&gt;nobody&lt;/b&gt;"' in response.text
        assert tickets.all(URL) == []

    async def test_a_mismatch_says_what_an_unknown_order_says(
        self, client: httpx.AsyncClient, saleor: FakeSaleor, tickets: InMemoryTicketStore
    ) -> None:
        saleor.on("OrderByNumber", order_answer(email="eve@example.com"))
        response = await client.post(FORM, data=request())
        assert response.status_code == 404
        assert "No order with this number was placed with this e-mail address." in response.text
        assert tickets.all(URL) == []

    async def test_an_unknown_store_has_no_form(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/support/" + store_ref(SaleorApiUrl("https://other.test/graphql/")))
        assert response.status_code == 404
        assert 'id="unknown-store"' in response.text
