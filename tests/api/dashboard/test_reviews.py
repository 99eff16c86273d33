"""The review queue: held orders with their facts, decided by a person; and the allow/block lists."""

import httpx
import pytest
from sqlalchemy import select

from app.dashboard.fraud.reviews import REJECTION_REASONS
from app.db.models import FraudListEntryRow, FraudReviewRow
from app.domain.installation import Installation
from app.pipeline.worker import Worker
from app.runtime import Runtime
from app.services.fraud import ReviewOutcome
from tests.api.conftest import Send
from tests.fakes.fake_saleor import FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")
ORDER = "T3JkZXI6MQ=="


@pytest.fixture
async def held(installation: Installation, send: Send, client: httpx.AsyncClient, staff_headers) -> None:
    """buyer@example.com is on the block list, so the order is held."""
    await client.post(
        "/api/dashboard/lists",
        data={"kind": "email", "value": "Buyer@Example.com", "list": "block"},
        headers=staff_headers(),
    )
    assert (await send()).status_code == 200


async def _review(runtime: Runtime) -> FraudReviewRow:
    async with runtime.sessions() as session:
        return (await session.scalars(select(FraudReviewRow))).one()


@pytest.mark.usefixtures("held")
class TestReviewQueue:
    async def test_lists_the_held_order_with_its_score_facts_and_deciding_rule(
        self, client: httpx.AsyncClient, staff_headers
    ) -> None:
        page = await client.get("/api/dashboard/fragments/reviews", headers=staff_headers())
        assert page.status_code == 200
        assert f'data-review="{ORDER}"' in page.text
        assert "list:block:email" in page.text
        assert "fact-negative" in page.text
        assert "Block email" in page.text

    async def test_approving_confirms_the_order_in_saleor_and_closes_the_review(
        self, client: httpx.AsyncClient, staff_headers, fake_saleor: FakeSaleor, runtime: Runtime, worker: Worker
    ) -> None:
        response = await client.post(
            f"/api/dashboard/reviews/{ORDER}",
            data={"decision": "approve", "reason": "approved"},
            headers=staff_headers(),
        )
        assert response.status_code == 200
        assert response.headers["x-ops-order-changed"] == ORDER
        assert fake_saleor.calls("OrderConfirm") == []  # kept with the decision, sent by the dispatcher
        await worker.drain()
        assert len(fake_saleor.calls("OrderConfirm")) == 1
        review = await _review(runtime)
        assert (review.status, review.closed_reason, review.closed_by) == ("closed", "approved", "staff@shop.test")
        assert "Nothing is waiting" in response.text

    async def test_rejecting_can_cancel_and_block_the_card(
        self, client: httpx.AsyncClient, staff_headers, fake_saleor: FakeSaleor, runtime: Runtime, worker: Worker
    ) -> None:
        response = await client.post(
            f"/api/dashboard/reviews/{ORDER}",
            data={"decision": "reject", "reason": "refunded_as_fraud", "cancel": "1", "block_email": "1"},
            headers=staff_headers(),
        )
        assert response.status_code == 200
        await worker.drain()
        assert len(fake_saleor.calls("OrderCancel")) == 1
        assert (await _review(runtime)).closed_reason == "refunded_as_fraud"

    async def test_a_decision_needs_a_known_reason(self, client: httpx.AsyncClient, staff_headers, runtime) -> None:
        response = await client.post(
            f"/api/dashboard/reviews/{ORDER}", data={"decision": "reject", "reason": "because"}, headers=staff_headers()
        )
        assert response.status_code == 422
        assert (await _review(runtime)).status == "open"

    async def test_a_rejection_cannot_be_closed_as_approved(
        self, client: httpx.AsyncClient, staff_headers, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        response = await client.post(
            f"/api/dashboard/reviews/{ORDER}",
            data={"decision": "reject", "reason": "approved"},
            headers=staff_headers(),
        )
        assert response.status_code == 422
        assert "why it is rejected" in response.text
        assert (await _review(runtime)).status == "open"
        assert fake_saleor.calls("OrderCancel") == []

    async def test_an_approval_is_closed_as_approved_whatever_rejection_reason_the_form_shows(
        self, client: httpx.AsyncClient, staff_headers, runtime: Runtime
    ) -> None:
        response = await client.post(
            f"/api/dashboard/reviews/{ORDER}",
            data={"decision": "approve", "reason": "refunded_as_fraud"},
            headers=staff_headers(),
        )
        assert response.status_code == 200
        assert (await _review(runtime)).closed_reason == "approved"

    async def test_the_reason_offered_is_only_why_an_order_is_rejected(
        self, client: httpx.AsyncClient, staff_headers
    ) -> None:
        page = await client.get("/api/dashboard/fragments/reviews", headers=staff_headers())
        assert '<option value="refunded_as_fraud">' in page.text
        assert '<option value="approved">' not in page.text

    async def test_a_review_cannot_be_closed_twice(self, client: httpx.AsyncClient, staff_headers) -> None:
        data = {"decision": "approve", "reason": "approved"}
        await client.post(f"/api/dashboard/reviews/{ORDER}", data=data, headers=staff_headers())
        again = await client.post(f"/api/dashboard/reviews/{ORDER}", data=data, headers=staff_headers())
        assert again.status_code == 422
        assert "already closed" in again.text

    async def test_a_user_without_manage_orders_cannot_decide(
        self, client: httpx.AsyncClient, staff_headers, runtime: Runtime
    ) -> None:
        response = await client.post(
            f"/api/dashboard/reviews/{ORDER}",
            data={"decision": "approve", "reason": "approved"},
            headers=staff_headers("MANAGE_PRODUCTS"),
        )
        assert response.status_code == 403
        assert (await _review(runtime)).status == "open"

    async def test_the_order_card_shows_the_score_decision_and_facts(
        self, client: httpx.AsyncClient, staff_headers
    ) -> None:
        card = await client.get("/api/dashboard/fragments/order", params={"orderId": ORDER}, headers=staff_headers())
        assert 'data-testid="fraud-decision"' in card.text
        assert "reject" in card.text
        assert "Held for review since" in card.text


class TestLists:
    @pytest.mark.parametrize(
        ("kind", "value", "stored"),
        [
            pytest.param("email", "Mallory@Example.com", "mallory@example.com", id="email"),
            pytest.param("ip", "203.0.113.0/24", "203.0.113.0/24", id="cidr"),
            pytest.param("country", "ng", "NG", id="country"),
        ],
    )
    async def test_entries_are_normalised_when_added(
        self, client: httpx.AsyncClient, staff_headers, runtime: Runtime, kind: str, value: str, stored: str
    ) -> None:
        response = await client.post(
            "/api/dashboard/lists", data={"kind": kind, "value": value, "list": "block"}, headers=staff_headers()
        )
        assert response.status_code == 200
        async with runtime.sessions() as session:
            assert (await session.scalars(select(FraudListEntryRow.value))).all() == [stored]

    @pytest.mark.parametrize(
        ("kind", "value"),
        [
            pytest.param("email", "not-an-email", id="email"),
            pytest.param("ip", "300.1.1.1", id="ip"),
            pytest.param("card", "4242", id="card"),
            pytest.param("planet", "mars", id="kind"),
        ],
    )
    async def test_an_invalid_entry_is_refused_with_the_reason_and_nothing_is_added(
        self, client: httpx.AsyncClient, staff_headers, runtime: Runtime, kind: str, value: str
    ) -> None:
        response = await client.post(
            "/api/dashboard/lists", data={"kind": kind, "value": value, "list": "block"}, headers=staff_headers()
        )
        assert response.status_code == 422
        assert "data-list-error" in response.text
        async with runtime.sessions() as session:
            assert (await session.scalars(select(FraudListEntryRow))).all() == []

    async def test_an_entry_can_be_removed(self, client: httpx.AsyncClient, staff_headers, runtime: Runtime) -> None:
        await client.post(
            "/api/dashboard/lists", data={"kind": "country", "value": "NG", "list": "block"}, headers=staff_headers()
        )
        response = await client.post(
            "/api/dashboard/lists/remove", data={"kind": "country", "value": "NG"}, headers=staff_headers()
        )
        assert "NG removed." in response.text
        async with runtime.sessions() as session:
            assert (await session.scalars(select(FraudListEntryRow))).all() == []


def test_every_outcome_but_approved_is_a_reason_to_reject() -> None:
    assert set(REJECTION_REASONS) == set(ReviewOutcome) - {ReviewOutcome.APPROVED}


class TestWhyAnOrderIsHeld:
    async def test_an_approved_order_without_payment_shows_as_waiting_for_payment(
        self, send: Send, client: httpx.AsyncClient, staff_headers
    ) -> None:
        assert (await send()).status_code == 200
        queue = await client.get("/api/dashboard/fragments/reviews", headers=staff_headers())
        assert f'data-review="{ORDER}"' in queue.text
        assert 'data-held="awaiting_payment"' in queue.text
        assert "Waiting for payment" in queue.text
        card = await client.get("/api/dashboard/fragments/order", params={"orderId": ORDER}, headers=staff_headers())
        assert "Held until its payment is assessed" in card.text
        home = await client.get("/api/dashboard/fragments/home", headers=staff_headers())
        assert "1 order waiting for payment" in home.text
        assert "Nothing waiting for review" in home.text

    @pytest.mark.usefixtures("held")
    async def test_a_risky_order_shows_as_in_review(self, client: httpx.AsyncClient, staff_headers) -> None:
        queue = await client.get("/api/dashboard/fragments/reviews", headers=staff_headers())
        assert 'data-held="open"' in queue.text
        assert "In review" in queue.text
        home = await client.get("/api/dashboard/fragments/home", headers=staff_headers())
        assert "1 order waiting for review" in home.text
        assert "waiting for payment" not in home.text
