from datetime import UTC, datetime

import pytest

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.support.model import Channel
from app.domain.support.ticket import Status
from app.services.ports import OrderContact
from app.services.support.customer_requests import (
    MAX_MESSAGE_CHARS,
    CustomerRequest,
    OrderNotMatched,
    RequestOpened,
    open_customer_request,
    read_customer_request,
)
from tests.conftest import FixedClock
from tests.fakes.in_memory import InMemorySettingsStore
from tests.fakes.support import FakeOrderLookup, InMemoryTicketStore

URL = SaleorApiUrl("https://shop.test/graphql/")
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
ORDER = OrderContact(SaleorId("T3JkZXI6MQ=="), "1042", "Ada@Example.com", SaleorId("VXNlcjo3"))


def fields(**changes: object) -> dict[str, object]:
    return {"order_number": "1042", "email": "ada@example.com", "subject": "", "message": "Where is it?", **changes}


class TestReadCustomerRequest:
    def test_reads_a_request_and_drops_the_hash_before_the_number(self) -> None:
        assert read_customer_request(fields(order_number=" #1042 ", subject=" Late ")) == CustomerRequest(
            "1042", "ada@example.com", "Late", "Where is it?"
        )

    def test_the_subject_may_be_left_out(self) -> None:
        request = read_customer_request({"order_number": "7", "email": "a@b.co", "message": "Hi"})
        assert isinstance(request, CustomerRequest)
        assert request.subject == ""

    @pytest.mark.parametrize(
        ("changes", "field", "reason"),
        [
            pytest.param({"order_number": ""}, "order_number", "required", id="no-number"),
            pytest.param({"order_number": "10a2"}, "order_number", "digits", id="letters"),
            pytest.param({"order_number": "١٢"}, "order_number", "digits", id="non-ascii-digits"),
            pytest.param({"order_number": "1" * 19}, "order_number", "at most 18", id="long-number"),
            pytest.param({"email": "ada"}, "email", "not an e-mail", id="bad-email"),
            pytest.param({"email": "a@" + "b" * 260 + ".co"}, "email", "at most 254", id="long-email"),
            pytest.param({"message": "  "}, "message", "write what", id="empty-message"),
            pytest.param({"message": "x" * (MAX_MESSAGE_CHARS + 1)}, "message", "at most 10000", id="long-message"),
            pytest.param({"subject": "s" * 201}, "subject", "at most 200", id="long-subject"),
            pytest.param({"message": 5}, "message", "must be text", id="not-text"),
            pytest.param({"order": "1"}, "order", "is not a field", id="unknown-field"),
        ],
    )
    def test_refuses_with_the_field_and_the_reason(self, changes: dict[str, object], field: str, reason: str) -> None:
        problems = read_customer_request(fields(**changes))
        assert isinstance(problems, tuple)
        (problem,) = problems
        assert problem.column == field
        assert reason in problem.message

    def test_lists_every_problem_at_once(self) -> None:
        problems = read_customer_request({"email": "x"})
        assert isinstance(problems, tuple)
        assert [p.column for p in problems] == ["order_number", "email", "message"]


class TestOpenCustomerRequest:
    async def open(self, request: CustomerRequest, tickets: InMemoryTicketStore) -> RequestOpened | OrderNotMatched:
        return await open_customer_request(
            URL,
            request,
            orders=FakeOrderLookup(ORDER),
            tickets=tickets,
            settings=InMemorySettingsStore(),
            clock=FixedClock(NOW),
        )

    async def test_a_matching_order_and_email_open_a_web_form_ticket_on_the_order(self) -> None:
        tickets = InMemoryTicketStore()
        outcome = await self.open(CustomerRequest("1042", " ADA@example.com", "", "Where is it?"), tickets)
        assert isinstance(outcome, RequestOpened)
        (kept,) = tickets.all(URL)
        assert kept == outcome.ticket
        due, _ = tickets.slas[(URL, kept.id)]
        assert due.policy == "Standard", "kept with its SLA, as the desk keeps every ticket"
        assert (kept.channel, kept.status, kept.created_at) == (Channel.WEB_FORM, Status.NEW, NOW)
        assert kept.requester.email == "Ada@Example.com"
        assert kept.requester.customer_id == "VXNlcjo3"
        assert kept.order_ids == ("T3JkZXI6MQ==",)
        assert (kept.subject, kept.description) == ("Order 1042", "Where is it?")

    async def test_a_second_request_about_the_same_order_is_a_ticket_of_its_own(self) -> None:
        tickets = InMemoryTicketStore()
        request = CustomerRequest("1042", "ada@example.com", "Late", "Where is it?")
        first, second = await self.open(request, tickets), await self.open(request, tickets)
        assert isinstance(first, RequestOpened)
        assert isinstance(second, RequestOpened)
        assert first.ticket.id != second.ticket.id
        assert first.ticket.subject == "Late"

    @pytest.mark.parametrize(
        "request_",
        [
            pytest.param(CustomerRequest("1042", "eve@example.com", "", "Hi"), id="another-email"),
            pytest.param(CustomerRequest("1043", "ada@example.com", "", "Hi"), id="unknown-order"),
        ],
    )
    async def test_a_mismatch_and_an_unknown_order_get_the_same_answer_and_store_nothing(
        self, request_: CustomerRequest
    ) -> None:
        tickets = InMemoryTicketStore()
        assert await self.open(request_, tickets) == OrderNotMatched()
        assert tickets.all(URL) == []

    async def test_an_order_placed_without_an_email_matches_nobody(self) -> None:
        tickets = InMemoryTicketStore()
        outcome = await open_customer_request(
            URL,
            CustomerRequest("1042", "ada@example.com", "", "Hi"),
            orders=FakeOrderLookup(OrderContact(ORDER.order_id, "1042", None, None)),
            tickets=tickets,
            settings=InMemorySettingsStore(),
            clock=FixedClock(NOW),
        )
        assert outcome == OrderNotMatched()
        assert tickets.all(URL) == []
