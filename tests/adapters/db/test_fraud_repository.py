import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.db.models import FraudVelocityRow
from app.db.repositories.fraud import SqlFraudRepository
from app.domain.fraud import (
    Decision,
    FraudPolicy,
    History,
    Stage,
    VelocityDimension,
    VelocityProbe,
    assess_order_risk,
)
from app.domain.installation import Installation
from app.runtime import Runtime
from app.services.ports import StoreHistory
from tests.builders import NOW, SHOP_API_URL, make_order_facts

COUNT_TO = 1000  # more than any test stores

EMAIL_1H = VelocityProbe(VelocityDimension.EMAIL, "ada@example.com", 1)
EMAIL_24H = VelocityProbe(VelocityDimension.EMAIL, "ada@example.com", 24)
IP_24H = VelocityProbe(VelocityDimension.IP, "198.51.100.7", 24)
CARD_24H = VelocityProbe(VelocityDimension.CARD, "424242:4242", 24)


@pytest.fixture
async def repository(runtime: Runtime, installation: Installation) -> AsyncIterator[SqlFraudRepository]:
    async with runtime.sessions() as session:
        yield SqlFraudRepository(session)
        await session.commit()


class TestVelocity:
    async def test_counts_other_orders_within_each_probes_window(self, repository: SqlFraudRepository) -> None:
        for order, hours_ago in (("a", 30), ("b", 5), ("c", 0.5)):
            await repository.record_velocity(
                SHOP_API_URL, [EMAIL_1H, IP_24H], order_id=order, at=NOW - timedelta(hours=hours_ago)
            )
        counts = await repository.record_velocity(SHOP_API_URL, [EMAIL_1H, EMAIL_24H, IP_24H], order_id="d", at=NOW)
        assert counts == {EMAIL_1H: 1, EMAIL_24H: 2, IP_24H: 2}

    async def test_recording_the_same_order_twice_counts_it_once(self, repository: SqlFraudRepository) -> None:
        for _ in range(2):
            assert await repository.record_velocity(SHOP_API_URL, [EMAIL_24H], order_id="a", at=NOW) == {EMAIL_24H: 0}
        assert await repository.record_velocity(SHOP_API_URL, [EMAIL_24H], order_id="z", at=NOW) == {EMAIL_24H: 1}

    async def test_an_order_counted_again_counts_the_orders_that_used_the_value_before_it_not_since(
        self, repository: SqlFraudRepository
    ) -> None:
        """A retry, or the order's scoring once paid, counts what its first counting did."""
        assert await repository.record_velocity(SHOP_API_URL, [EMAIL_24H], order_id="a", at=NOW) == {EMAIL_24H: 0}
        assert await repository.record_velocity(SHOP_API_URL, [EMAIL_24H], order_id="b", at=NOW) == {EMAIL_24H: 1}
        later = NOW + timedelta(minutes=5)
        counted_again = await repository.record_velocity(SHOP_API_URL, [EMAIL_24H, IP_24H], order_id="a", at=later)
        assert counted_again == {EMAIL_24H: 0, IP_24H: 0}
        assert await repository.record_velocity(SHOP_API_URL, [IP_24H], order_id="b", at=later) == {IP_24H: 1}

    async def test_no_probes_is_no_query(self, repository: SqlFraudRepository) -> None:
        assert await repository.record_velocity(SHOP_API_URL, [], order_id="z", at=NOW) == {}

    async def test_identifiers_name_what_an_order_used(self, repository: SqlFraudRepository) -> None:
        await repository.record_velocity(SHOP_API_URL, [EMAIL_24H, IP_24H], order_id="a", at=NOW)
        assert await repository.identifiers(SHOP_API_URL, "a") == {"email": "ada@example.com", "ip": "198.51.100.7"}


class TestVelocityUnderConcurrency:
    async def test_concurrent_orders_with_one_card_each_see_the_ones_before_them(
        self, runtime: Runtime, installation: Installation
    ) -> None:
        """Card testing: orders arrive together, and each must count the others that got there first."""

        async def deliver(order_id: str) -> int:
            async with runtime.sessions() as session:
                counts = await SqlFraudRepository(session).record_velocity(
                    SHOP_API_URL, [CARD_24H, EMAIL_24H], order_id=order_id, at=NOW
                )
                await asyncio.sleep(0.05)  # the rest of the assessment and the write-back to Saleor
                await session.commit()
                return counts[CARD_24H]

        seen = await asyncio.gather(*(deliver(f"card-test-{n}") for n in range(3)))
        assert sorted(seen) == [0, 1, 2]

    async def test_keys_recorded_ahead_are_committed_at_once_then_counted_in_their_order_without_a_lock(
        self, runtime: Runtime, installation: Installation
    ) -> None:
        """A batch's keys: committed before the batch's transaction, which then counts them in the batch's
        order and holds no lock that another batch sharing them would wait for."""
        if runtime.engine.dialect.name != "postgresql":
            pytest.skip("SQLite keeps nothing ahead: the batch's transaction holds its one write lock throughout")
        async with runtime.sessions() as batch, runtime.sessions() as other:
            repository = SqlFraudRepository(batch)
            used = [(SHOP_API_URL, f"o{n}", [CARD_24H, EMAIL_24H]) for n in range(3)]
            await repository.record_velocity_ahead(runtime.engine, used, at=NOW)
            assert await other.scalar(select(func.count()).select_from(FraudVelocityRow)) == 6
            counts = [
                await repository.record_velocity(SHOP_API_URL, [CARD_24H, EMAIL_24H], order_id=f"o{n}", at=NOW)
                for n in (2, 0, 1)
            ]
            assert [c[CARD_24H] for c in counts] == [c[EMAIL_24H] for c in counts] == [2, 0, 1]
            held = await batch.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            )
            assert held == 0
            await batch.commit()


class TestVelocityLocks:
    async def test_each_transaction_of_a_session_takes_its_keys_locks_again(
        self, runtime: Runtime, installation: Installation
    ) -> None:
        """What a transaction locked is not taken for held by the session's next one."""
        if runtime.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's writer lock is the database's: there are no locks per key")

        async def held_elsewhere() -> int:
            async with runtime.sessions() as other:
                found = await other.execute(
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()")
                )
                return int(found.scalar_one())

        async with runtime.sessions() as session:
            repository = SqlFraudRepository(session)
            for _ in range(2):  # each begun by its first statement, the lock
                await repository.lock_velocity({SHOP_API_URL: [CARD_24H, EMAIL_24H]})
                assert await held_elsewhere() == 2
                await session.commit()
                assert await held_elsewhere() == 0


async def _assessed(
    repository: SqlFraudRepository,
    order_id: str,
    *,
    email: str = "ada@example.com",
    total: str = "20",
    stage: Stage = Stage.PAID,
    decision: Decision = Decision.APPROVE,
) -> None:
    facts = make_order_facts(order_id=order_id, email=email, customer_id=None, total=Decimal(total))
    assessment = assess_order_risk(facts, History(0, None, 0, None), [], (), FraudPolicy(), stage=stage, now=NOW)
    assessment = dataclasses.replace(assessment, decision=decision)
    assert await repository.save_assessment(SHOP_API_URL, assessment, facts, order_id)


class TestAssessmentHeldForPayment:
    """Saved and held in one statement on PostgreSQL, two elsewhere: the same answers either way."""

    @staticmethod
    async def _save(repository: SqlFraudRepository, order_id: str) -> tuple[bool, bool]:
        facts = make_order_facts(order_id=order_id, customer_id=None)
        assessment = assess_order_risk(
            facts, History(0, None, 0, None), [], (), FraudPolicy(), stage=Stage.CREATED, now=NOW
        )
        return await repository.save_assessment_and_hold(SHOP_API_URL, assessment, facts, order_id, at=NOW)

    async def test_a_new_assessment_holds_its_order(self, repository: SqlFraudRepository) -> None:
        assert await self._save(repository, "o1") == (True, True)
        review = await repository.review(SHOP_API_URL, "o1")
        assert review is not None
        assert (review.status, review.opened_by, review.opened_at) == ("awaiting_payment", "payment:awaiting", NOW)
        assert [stored.stage for stored in await repository.assessments(SHOP_API_URL, "o1")] == [Stage.CREATED]

    async def test_a_retry_stops_before_the_hold(self, repository: SqlFraudRepository) -> None:
        assert await self._save(repository, "o1") == (True, True)
        await repository.release_hold(SHOP_API_URL, "o1")
        assert await self._save(repository, "o1") == (False, False)
        assert await repository.review(SHOP_API_URL, "o1") is None

    async def test_an_order_someone_holds_already_is_saved_and_not_held_again(
        self, repository: SqlFraudRepository
    ) -> None:
        assert await repository.open_review(SHOP_API_URL, "o1", "o1", by="person", at=NOW)
        assert await self._save(repository, "o1") == (True, False)
        review = await repository.review(SHOP_API_URL, "o1")
        assert review is not None
        assert review.status == "open"


class TestCustomerHistory:
    async def test_knows_the_store_usual_value_and_the_customers_earlier_paid_orders(
        self, repository: SqlFraudRepository
    ) -> None:
        for order_id, email, total in (("o0", "ada@example.com", "20"), ("o1", "ada@example.com", "40")):
            await _assessed(repository, order_id, email=email, total=total)
        await _assessed(repository, "o2", email="bob@example.com", total="90", stage=Stage.CREATED)
        history = await repository.customer_history(
            SHOP_API_URL, make_order_facts(order_id="new", email="Ada@Example.com", customer_id=None), count_to=COUNT_TO
        )
        assert (history.store_order_count, history.store_median_total) == (3, Decimal("40"))
        assert (history.customer_order_count, history.customer_average_total) == (2, Decimal("30"))

    @pytest.mark.parametrize(
        ("totals", "median"),
        [
            pytest.param((), None, id="no-orders"),
            pytest.param(("30",), Decimal("30"), id="one"),
            pytest.param(("40", "10", "25.5", "30"), Decimal("27.75"), id="even-the-mean-of-the-middle-two"),
            pytest.param(("7", "90", "12", "12", "3"), Decimal("12"), id="odd-with-ties"),
        ],
    )
    async def test_the_store_median_is_of_its_other_orders_in_the_order_s_currency(
        self, repository: SqlFraudRepository, totals: tuple[str, ...], median: Decimal | None
    ) -> None:
        for n, total in enumerate(totals):
            await _assessed(repository, f"o{n}", total=total)
        in_euros = make_order_facts(order_id="eur", customer_id=None, total=Decimal("1000"), currency="EUR")
        assessment = assess_order_risk(
            in_euros, History(0, None, 0, None), [], (), FraudPolicy(), stage=Stage.PAID, now=NOW
        )
        assert await repository.save_assessment(SHOP_API_URL, assessment, in_euros, "eur")
        await _assessed(repository, "new", total="5000")  # the order itself is not its own history
        history = await repository.customer_history(
            SHOP_API_URL, make_order_facts(order_id="new", customer_id=None), count_to=COUNT_TO
        )
        assert (history.store_order_count, history.store_median_total) == (len(totals) + 1, median)

    async def test_the_store_s_orders_are_counted_only_up_to_what_was_asked(
        self, repository: SqlFraudRepository
    ) -> None:
        for n in range(4):
            await _assessed(repository, f"o{n}", total="10")
        facts = make_order_facts(order_id="new", customer_id=None)
        assert (await repository.customer_history(SHOP_API_URL, facts, count_to=3)).store_order_count == 3
        assert (await repository.customer_history(SHOP_API_URL, facts, count_to=5)).store_order_count == 4

    async def test_an_order_assessed_at_both_stages_counts_once_for_the_store(
        self, repository: SqlFraudRepository
    ) -> None:
        await _assessed(repository, "o0", stage=Stage.CREATED)
        await _assessed(repository, "o0", stage=Stage.PAID)
        history = await repository.customer_history(
            SHOP_API_URL, make_order_facts(order_id="new", customer_id=None), count_to=COUNT_TO
        )
        assert history.store_order_count == 1

    async def test_only_paid_orders_nobody_flagged_build_trust_and_rejections_add_risk(
        self, repository: SqlFraudRepository
    ) -> None:
        # A repeat fraudster: two rejected orders (one cancelled as fraud), one held, one never paid.
        await _assessed(repository, "rejected", decision=Decision.REJECT)
        await _assessed(repository, "refunded-as-fraud", decision=Decision.REJECT)
        await _assessed(repository, "held", decision=Decision.REVIEW)
        await _assessed(repository, "unpaid", stage=Stage.CREATED)
        await _assessed(repository, "disputed", total="500")
        for order_id in ("rejected", "refunded-as-fraud", "held", "disputed"):
            assert await repository.open_review(SHOP_API_URL, order_id, order_id, by="test", at=NOW)
        for order_id, reason in (("refunded-as-fraud", "refunded_as_fraud"), ("disputed", "disputed")):
            assert await repository.close_review(SHOP_API_URL, order_id, reason=reason, by="x", at=NOW, note="")
        # One genuine order, paid, and one a person approved after a review.
        await _assessed(repository, "good", total="30")
        await _assessed(repository, "approved-after-review", decision=Decision.REVIEW, total="50")
        assert await repository.open_review(SHOP_API_URL, "approved-after-review", "7", by="test", at=NOW)
        assert await repository.close_review(
            SHOP_API_URL, "approved-after-review", reason="approved", by="x", at=NOW, note=""
        )

        history = await repository.customer_history(
            SHOP_API_URL, make_order_facts(order_id="new", customer_id=None), count_to=COUNT_TO
        )
        assert (history.customer_order_count, history.customer_average_total) == (2, Decimal("40"))
        assert history.customer_fraud_count == 3


class TestVelocityAndHistoryInOneStep:
    """One statement on PostgreSQL, two elsewhere: the same answers as ``record_velocity`` then
    ``customer_history``, earlier orders of the transaction counted, the order's own rows not."""

    @pytest.mark.parametrize(
        "customer",
        [
            pytest.param({}, id="by-account"),
            pytest.param({"customer_id": None}, id="by-email"),
            pytest.param({"customer_id": None, "email": None}, id="nobody"),
        ],
    )
    async def test_answers_as_the_two_steps_would(
        self, repository: SqlFraudRepository, customer: dict[str, None]
    ) -> None:
        for n, (total, decision) in enumerate(
            (("20", Decision.APPROVE), ("40", Decision.REJECT), ("90", Decision.APPROVE))
        ):
            facts = make_order_facts(order_id=f"o{n}", total=Decimal(total))
            assessment = assess_order_risk(
                facts, History(0, None, 0, None), [], (), FraudPolicy(), stage=Stage.PAID, now=NOW
            )
            assert await repository.save_assessment(
                SHOP_API_URL, dataclasses.replace(assessment, decision=decision), facts, f"o{n}"
            )
            await repository.record_velocity(SHOP_API_URL, [EMAIL_24H, CARD_24H], order_id=f"o{n}", at=NOW)
        facts = make_order_facts(order_id="new", **customer)
        await _assessed(repository, "new", total="5000")  # the order itself is not its own history

        counts, history = await repository.record_velocity_and_history(
            SHOP_API_URL, [EMAIL_24H, IP_24H, CARD_24H], facts, at=NOW, count_to=COUNT_TO
        )

        assert counts == {EMAIL_24H: 3, IP_24H: 0, CARD_24H: 3}
        assert counts == await repository.record_velocity(
            SHOP_API_URL, [EMAIL_24H, IP_24H, CARD_24H], order_id="new", at=NOW
        )
        assert history == await repository.customer_history(SHOP_API_URL, facts, count_to=COUNT_TO)
        assert (history.store_order_count, history.store_median_total) == (3, Decimal("40"))
        if customer.get("email", "") is not None:
            assert (history.customer_order_count, history.customer_average_total) == (2, Decimal("55"))
            assert history.customer_fraud_count == 1

    @pytest.mark.parametrize(
        ("customer", "customer_orders"),
        [
            pytest.param({}, 0, id="by-account"),
            pytest.param({"customer_id": None}, 3, id="by-email"),
            pytest.param({"customer_id": None, "email": "new@example.com"}, 0, id="no-history"),
            pytest.param({"customer_id": None, "email": None}, 0, id="nobody"),
        ],
    )
    async def test_with_the_store_s_part_given_it_reads_the_customer_s_orders_and_counts_only(
        self, repository: SqlFraudRepository, customer: dict[str, str | None], customer_orders: int
    ) -> None:
        """A batch reads the store's part once for its orders; each order still gets its own counts, also
        when the customer has no earlier order (the counts come on a row of their own)."""
        for n, total in enumerate(("20", "40", "90")):
            await _assessed(repository, f"o{n}", total=total)
            await repository.record_velocity(SHOP_API_URL, [EMAIL_24H, CARD_24H], order_id=f"o{n}", at=NOW)
        facts = make_order_facts(order_id="new", **customer)
        given = StoreHistory(order_count=7, median_total=Decimal("33"))

        counts, history = await repository.record_velocity_and_history(
            SHOP_API_URL, [EMAIL_24H, IP_24H, CARD_24H], facts, at=NOW, count_to=COUNT_TO, store=given
        )

        assert counts == {EMAIL_24H: 3, IP_24H: 0, CARD_24H: 3}
        assert (history.store_order_count, history.store_median_total) == (7, Decimal("33"))
        assert history.customer_order_count == customer_orders
        assert history == await repository.customer_history(SHOP_API_URL, facts, count_to=COUNT_TO, store=given)


class TestStoreHistory:
    async def test_counts_and_takes_the_median_of_the_store_s_orders_but_the_excluded(
        self, repository: SqlFraudRepository
    ) -> None:
        for n, total in enumerate(("20", "40", "90", "5000")):
            await _assessed(repository, f"o{n}", total=total)

        history = await repository.store_history(SHOP_API_URL, "USD", count_to=COUNT_TO, excluded={"o3", "absent"})

        assert history == StoreHistory(order_count=3, median_total=Decimal("40"))
        assert await repository.store_history(SHOP_API_URL, "USD", count_to=2, excluded={"o3"}) == StoreHistory(
            2, Decimal("40")
        )
        assert await repository.store_history(SHOP_API_URL, "EUR", count_to=COUNT_TO, excluded={"o3"}) == (
            StoreHistory(3, None)
        )
