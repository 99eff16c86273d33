"""The pipeline's queues on a real database (SQLite, and PostgreSQL in CI): what is claimed, and when."""

from datetime import timedelta

from sqlalchemy import func, select

from app.db.models import EffectRow
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.order_events import SqlOrderEventLog
from app.db.repositories.pipeline import EffectsOfBatch, SqlDeliveryQueue, SqlEffectOutbox
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.installation import Installation
from app.domain.order_event import ReceivedOrderEvent
from app.runtime import Runtime
from app.services.pipeline import Effect, EffectKind, NewEffect
from tests.builders import NOW, SHOP_API_URL, make_installation
from tests.fakes.saleor_signer import SaleorSigner

FIRST, SECOND = SaleorId("T3JkZXI6MQ=="), SaleorId("T3JkZXI6Mg==")
LEASE = timedelta(seconds=60)


async def _store(runtime: Runtime, order_id: SaleorId, event: str, minute: int) -> None:
    async with runtime.sessions.begin() as session:
        await SqlOrderEventLog(session).record(
            ReceivedOrderEvent(
                saleor_api_url=SHOP_API_URL,
                event=event,
                order_id=order_id,
                order_number=None,
                issued_at=NOW + timedelta(minutes=minute),
                saleor_version=None,
                received_at=NOW + timedelta(minutes=10),
                payload="{}",
            )
        )


async def _take(
    runtime: Runtime, *, done: bool = True, at: timedelta = timedelta(minutes=10)
) -> tuple[str, str] | None:
    """Claim the next delivery, mark it processed (or not), and say which it was."""
    async with runtime.sessions.begin() as session:
        queue = SqlDeliveryQueue(session)
        delivery = await queue.claim(NOW + at)
        if delivery is None:
            return None
        if done:
            await queue.processed(delivery.id, NOW + at)
        return delivery.order_id, delivery.event


class TestDeliveryQueue:
    async def test_an_order_s_deliveries_come_in_issued_order_whatever_order_they_arrived_in(
        self, runtime: Runtime, installation: Installation
    ) -> None:
        await _store(runtime, FIRST, "order_paid", minute=2)
        await _store(runtime, FIRST, "order_created", minute=1)
        await _store(runtime, FIRST, "order_fulfilled", minute=3)
        taken = [await _take(runtime) for _ in range(4)]
        assert taken == [(FIRST, "order_created"), (FIRST, "order_paid"), (FIRST, "order_fulfilled"), None]

    async def test_a_delivery_waiting_to_be_retried_holds_back_the_later_ones_of_its_order_only(
        self, runtime: Runtime, installation: Installation
    ) -> None:
        await _store(runtime, FIRST, "order_created", minute=1)
        await _store(runtime, FIRST, "order_paid", minute=2)
        await _store(runtime, SECOND, "order_created", minute=1)
        async with runtime.sessions.begin() as session:
            queue = SqlDeliveryQueue(session)
            first = await queue.claim(NOW + timedelta(minutes=10))
            assert first is not None
            assert first.order_id == FIRST
            await queue.failed_attempt(first.id, "boom", retry_at=NOW + timedelta(hours=1))
        assert await _take(runtime) == (SECOND, "order_created")
        assert await _take(runtime) is None
        assert await _take(runtime, at=timedelta(hours=2)) == (FIRST, "order_created")

    async def test_a_delivery_failed_for_good_no_longer_holds_its_order_and_can_be_retried(
        self, runtime: Runtime, installation: Installation
    ) -> None:
        await _store(runtime, FIRST, "order_created", minute=1)
        await _store(runtime, FIRST, "order_paid", minute=2)
        async with runtime.sessions.begin() as session:
            queue = SqlDeliveryQueue(session)
            first = await queue.claim(NOW + timedelta(minutes=10))
            assert first is not None
            await queue.failed_attempt(first.id, "boom", retry_at=None)
        assert await _take(runtime) == (FIRST, "order_paid")
        async with runtime.sessions.begin() as session:
            assert await SqlDeliveryQueue(session).retry(SHOP_API_URL, None, NOW) == 1
        assert await _take(runtime) == (FIRST, "order_created")

    async def test_a_claim_that_rolls_back_leaves_the_delivery_waiting(
        self, runtime: Runtime, installation: Installation
    ) -> None:
        await _store(runtime, FIRST, "order_created", minute=1)
        assert await _take(runtime, done=False) == (FIRST, "order_created")
        async with runtime.sessions() as session:
            await SqlDeliveryQueue(session).claim(NOW + timedelta(minutes=10))
            await session.rollback()
        assert await _take(runtime) == (FIRST, "order_created")


async def _add(runtime: Runtime, key: str, order_id: SaleorId, url: SaleorApiUrl = SHOP_API_URL) -> None:
    async with runtime.sessions.begin() as session:
        await SqlEffectOutbox(session).add(url, key, NewEffect(order_id, EffectKind.NOTE, {"message": key}), NOW)


async def _claimed(runtime: Runtime, at: timedelta = timedelta(0)) -> list[Effect]:
    async with runtime.sessions.begin() as session:
        return await SqlEffectOutbox(session).claim(NOW + at, lease=LEASE, limit=10)


async def _claim(runtime: Runtime, at: timedelta = timedelta(0)) -> list[str]:
    return [effect.payload["message"] for effect in await _claimed(runtime, at)]


class TestEffectOutbox:
    async def test_an_effect_is_stored_once_per_key(self, runtime: Runtime, installation: Installation) -> None:
        await _add(runtime, "delivery:1#1", FIRST)
        async with runtime.sessions.begin() as session:
            again = NewEffect(FIRST, EffectKind.NOTE, {"message": "other"})
            assert not await SqlEffectOutbox(session).add(SHOP_API_URL, "delivery:1#1", again, NOW)
        assert await _claim(runtime) == ["delivery:1#1"]

    async def test_a_batch_stores_its_effects_at_its_end_in_order_each_key_once(
        self, runtime: Runtime, installation: Installation
    ) -> None:
        await _add(runtime, "delivery:1#1", FIRST)  # stored by an earlier transaction
        async with runtime.sessions.begin() as session:
            batch = EffectsOfBatch(session)
            for key, message in (("delivery:2#1", "b"), ("delivery:1#1", "again"), ("delivery:2#2", "c")):
                assert await batch.add(SHOP_API_URL, key, NewEffect(SECOND, EffectKind.NOTE, {"message": message}), NOW)
            assert not await batch.add(SHOP_API_URL, "delivery:2#1", NewEffect(SECOND, EffectKind.NOTE, {}), NOW)
            stored = select(func.count()).select_from(EffectRow).where(EffectRow.order_id == SECOND)
            assert await session.scalar(stored) == 0  # not yet
            await batch.store()
        claimed = [(e.order_id, e.payload["message"]) for e in await _claimed(runtime)]
        assert claimed == [(FIRST, "delivery:1#1"), (SECOND, "b")]  # the stored one kept; SECOND's first
        async with runtime.sessions.begin() as session:
            await SqlEffectOutbox(session).delivered(await _claimed(runtime, LEASE * 2), NOW)
        assert await _claim(runtime, LEASE * 3) == ["c"]

    async def test_one_effect_per_order_is_on_its_way_at_a_time_in_the_order_they_were_decided(
        self, runtime: Runtime, installation: Installation
    ) -> None:
        for key, order in (("a", FIRST), ("b", FIRST), ("c", SECOND)):
            await _add(runtime, key, order)
        first, other = await _claimed(runtime)
        assert (first.payload["message"], other.payload["message"]) == ("a", "c")
        assert await _claim(runtime) == []  # "b" waits for "a"
        async with runtime.sessions.begin() as session:
            await SqlEffectOutbox(session).delivered([first], NOW)
        assert await _claim(runtime) == ["b"]

    async def test_an_effect_whose_dispatcher_died_is_claimed_again_once_its_lease_ends(
        self, runtime: Runtime, installation: Installation
    ) -> None:
        await _add(runtime, "a", FIRST)
        assert await _claim(runtime) == ["a"]
        assert await _claim(runtime, at=LEASE - timedelta(seconds=1)) == []
        (again,) = await _claimed(runtime, at=LEASE + timedelta(seconds=1))
        assert (again.payload["message"], again.attempts, again.may_have_arrived) == ("a", 2, True)

    async def test_a_failed_attempt_waits_until_its_retry_and_a_failed_effect_lets_the_next_go(
        self, runtime: Runtime, installation: Installation
    ) -> None:
        await _add(runtime, "a", FIRST)
        await _add(runtime, "b", FIRST)
        (first,) = await _claimed(runtime)
        async with runtime.sessions.begin() as session:
            await SqlEffectOutbox(session).failed_attempt(
                first, "Saleor answered 503", retry_at=NOW + timedelta(minutes=5)
            )
        assert await _claim(runtime, at=timedelta(minutes=4)) == []
        (again,) = await _claimed(runtime, at=timedelta(minutes=5))
        assert again.payload["message"] == "a"
        async with runtime.sessions.begin() as session:
            await SqlEffectOutbox(session).failed_attempt(again, "refused", retry_at=None)
        assert await _claim(runtime, at=timedelta(minutes=5)) == ["b"]

    async def test_retry_is_scoped_to_the_store(
        self, runtime: Runtime, installation: Installation, signer: SaleorSigner
    ) -> None:
        other = SaleorApiUrl("https://other.test/graphql/")
        async with runtime.sessions.begin() as session:
            await SqlInstallationStore(session, runtime.cipher).save(
                make_installation(saleor_api_url=other, jwks=signer.jwks_text())
            )
        await _add(runtime, "ours", FIRST)
        await _add(runtime, "theirs", FIRST, url=other)
        claimed = await _claimed(runtime)
        async with runtime.sessions.begin() as session:
            outbox = SqlEffectOutbox(session)
            for effect in claimed:
                await outbox.failed_attempt(effect, "refused", retry_at=None)
        later = timedelta(days=3)
        async with runtime.sessions.begin() as session:
            assert await SqlEffectOutbox(session).retry(SHOP_API_URL, None, NOW + later) == 1
        (ours,) = await _claimed(runtime, at=later)
        assert ours.payload["message"] == "ours"
        # A retry a person asks for starts a new day of attempts.
        assert ours.retry_window_start == NOW + later
