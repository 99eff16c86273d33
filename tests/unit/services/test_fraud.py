import json

import pytest

from app.domain.fraud import Decision, ListEntry, ListKind, OrderFacts, PaymentInput, Stage, parse_list_entry
from app.services.fraud import (
    AlreadyAssessed,
    Assessed,
    NotAssessed,
    OrderSnapshot,
    ReviewClosed,
    ReviewNotOpen,
    ReviewOutcome,
    ScoredOn,
    assess_order,
    decide_review,
)
from app.services.settings import SECTIONS, change_settings
from tests.builders import NOW, SHOP_API_URL, make_order_facts
from tests.fakes.in_memory import FakeSaleorGateway, InMemoryFraudRepository, InMemorySettingsStore

HELD = OrderSnapshot(number="1001", status="UNCONFIRMED")
CARD_OK = PaymentInput(metadata={"avs_result": "Y", "cvv_result": "M", "card_bin": "424242", "card_last4": "4242"})


@pytest.fixture
def fraud() -> InMemoryFraudRepository:
    return InMemoryFraudRepository()


@pytest.fixture
def settings() -> InMemorySettingsStore:
    return InMemorySettingsStore()


@pytest.fixture
def saleor() -> FakeSaleorGateway:
    return FakeSaleorGateway()


async def _assess(
    fraud: InMemoryFraudRepository,
    settings: InMemorySettingsStore,
    saleor: FakeSaleorGateway,
    facts: OrderFacts | None = None,
    *,
    scored_on: ScoredOn = ScoredOn.CREATION,
    order: OrderSnapshot = HELD,
) -> Assessed | AlreadyAssessed | NotAssessed:
    return await assess_order(
        SHOP_API_URL,
        facts or make_order_facts(),
        order,
        scored_on=scored_on,
        fraud=fraud,
        settings=settings,
        saleor=saleor,
        now=NOW,
    )


async def _block_email(fraud: InMemoryFraudRepository, email: str = "ada@example.com") -> None:
    await fraud.add_list_entry(SHOP_API_URL, parse_list_entry("email", email, allow=False), by="t", at=NOW)


class TestAssessOrder:
    async def test_an_ordinary_unpaid_order_is_approved_written_back_and_held_for_its_payment(
        self, fraud, settings, saleor
    ) -> None:
        outcome = await _assess(fraud, settings, saleor)
        assert isinstance(outcome, Assessed)
        assert outcome.assessment.decision is Decision.APPROVE
        assert saleor.kinds() == ["metadata", "note"]
        _, _, items = saleor.calls[0]
        written = json.loads(items["ops.fraud"])
        assert (written["v"], written["stage"], written["decision"]) == (1, "created", "approve")
        assert fraud.reviews["T3JkZXI6MQ=="].status == "awaiting_payment"
        assert "held for payment" in outcome.actions

    async def test_the_approval_that_saw_the_payment_releases_the_order(self, fraud, settings, saleor) -> None:
        await _assess(fraud, settings, saleor)
        outcome = await _assess(
            fraud, settings, saleor, make_order_facts(payments=(CARD_OK,)), scored_on=ScoredOn.PAYMENT
        )
        assert isinstance(outcome, Assessed)
        assert saleor.kinds() == ["metadata", "note", "metadata", "note", "confirm"]
        assert fraud.reviews == {}

    async def test_an_order_that_arrives_paid_is_released_at_creation(self, fraud, settings, saleor) -> None:
        outcome = await _assess(fraud, settings, saleor, make_order_facts(payments=(CARD_OK,)))
        assert isinstance(outcome, Assessed)
        assert outcome.assessment.stage is Stage.PAID
        assert saleor.kinds() == ["metadata", "note", "confirm"]

    async def test_an_order_the_channel_already_confirmed_is_not_confirmed_again(self, fraud, settings, saleor) -> None:
        await _assess(fraud, settings, saleor, order=OrderSnapshot("1001", "UNFULFILLED"))
        assert saleor.kinds() == ["metadata", "note"]

    async def test_a_blocked_email_is_rejected_and_held_for_review(self, fraud, settings, saleor) -> None:
        await _block_email(fraud)
        outcome = await _assess(fraud, settings, saleor)
        assert isinstance(outcome, Assessed)
        assert outcome.assessment.decision is Decision.REJECT
        assert outcome.assessment.deciding_rule.startswith("list:block")
        assert saleor.kinds() == ["metadata", "note"]
        assert fraud.reviews["T3JkZXI6MQ=="].status == "open"
        assert "reject" in str(saleor.calls[1][2])

    async def test_a_rejected_order_is_cancelled_when_the_merchant_asked(self, fraud, settings, saleor) -> None:
        await change_settings(
            settings, SHOP_API_URL, SECTIONS["fraud"], {"cancel_rejected": "true"}, changed_by="a", now=NOW
        )
        await _block_email(fraud)
        outcome = await _assess(fraud, settings, saleor)
        assert isinstance(outcome, Assessed)
        assert "cancelled" in outcome.actions
        assert saleor.kinds()[-1] == "cancel"

    async def test_a_retry_writes_nothing_twice(self, fraud, settings, saleor) -> None:
        await _assess(fraud, settings, saleor)
        again = await _assess(fraud, settings, saleor)
        assert isinstance(again, AlreadyAssessed)
        assert saleor.kinds().count("note") == 1

    async def test_a_payment_event_without_a_payment_scores_nothing(self, fraud, settings, saleor) -> None:
        outcome = await _assess(fraud, settings, saleor, scored_on=ScoredOn.PAYMENT)
        assert isinstance(outcome, NotAssessed)
        assert saleor.calls == []

    async def test_the_paid_stage_is_scored_once_with_the_card_checks(self, fraud, settings, saleor) -> None:
        facts = make_order_facts(payments=(CARD_OK,))
        first = await _assess(fraud, settings, saleor, facts, scored_on=ScoredOn.PAYMENT)
        second = await _assess(fraud, settings, saleor, facts, scored_on=ScoredOn.PAYMENT)
        assert isinstance(first, Assessed)
        assert isinstance(second, AlreadyAssessed)
        assert first.assessment.stage is Stage.PAID

    async def test_an_approval_at_payment_does_not_overrule_a_person_holding_the_order(
        self, fraud, settings, saleor
    ) -> None:
        await _block_email(fraud)
        await _assess(fraud, settings, saleor)
        await fraud.remove_list_entry(SHOP_API_URL, ListKind.EMAIL, "ada@example.com")
        outcome = await _assess(
            fraud, settings, saleor, make_order_facts(payments=(CARD_OK,)), scored_on=ScoredOn.PAYMENT
        )
        assert isinstance(outcome, Assessed)
        assert outcome.assessment.decision is Decision.APPROVE
        assert "confirm" not in saleor.kinds()

    async def test_orders_are_remembered_for_velocity(self, fraud, settings, saleor) -> None:
        for number in range(4):
            facts = make_order_facts(order_id=f"order-{number}", email="burst@example.com")
            last = await _assess(fraud, settings, saleor, facts)
        assert isinstance(last, Assessed)
        assert any(r.code.startswith("velocity") for r in last.assessment.reasons)


async def _decide(
    fraud: InMemoryFraudRepository,
    saleor: FakeSaleorGateway,
    *,
    approve: bool = True,
    reason: ReviewOutcome = ReviewOutcome.APPROVED,
    cancel: bool = False,
    block: tuple[ListEntry, ...] = (),
) -> ReviewClosed | ReviewNotOpen:
    return await decide_review(
        SHOP_API_URL,
        "T3JkZXI6MQ==",
        approve=approve,
        reason=reason,
        cancel=cancel,
        note="called the customer",
        by="ann@shop.test",
        fraud=fraud,
        saleor=saleor,
        now=NOW,
        block=block,
    )


class TestDecideReview:
    async def _held(self, fraud, settings, saleor) -> None:
        await _block_email(fraud, "mallory@example.com")
        await _assess(fraud, settings, saleor, make_order_facts(email="mallory@example.com", payments=(CARD_OK,)))
        saleor.calls.clear()

    async def test_approving_confirms_the_order_in_saleor(self, fraud, settings, saleor) -> None:
        await self._held(fraud, settings, saleor)
        result = await _decide(fraud, saleor)
        assert isinstance(result, ReviewClosed)
        assert saleor.kinds() == ["confirm", "note"]
        assert fraud.reviews["T3JkZXI6MQ=="].closed_reason == "approved"

    async def test_rejecting_can_cancel_and_block_the_orders_details(self, fraud, settings, saleor) -> None:
        await self._held(fraud, settings, saleor)
        card = parse_list_entry("card", "424242:4242", allow=False)
        result = await _decide(
            fraud, saleor, approve=False, reason=ReviewOutcome.REFUNDED_AS_FRAUD, cancel=True, block=(card,)
        )
        assert isinstance(result, ReviewClosed)
        assert result.actions == ("cancelled", "blocked card")
        assert (ListKind.CARD, card.value) in fraud.entries

    async def test_a_review_is_closed_once(self, fraud, settings, saleor) -> None:
        await self._held(fraud, settings, saleor)
        await _decide(fraud, saleor)
        assert isinstance(await _decide(fraud, saleor), ReviewNotOpen)
