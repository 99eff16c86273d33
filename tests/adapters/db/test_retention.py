"""SqlRetentionStore on SQLite and PostgreSQL: what is pruned, what stays, and for which store."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EffectRow, FailedDeliveryRow, FraudVelocityRow, InstallationRow, OrderEventRow
from app.db.repositories.fraud import SqlFraudRepository
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.order_events import SqlOrderEventLog
from app.db.repositories.pipeline import SqlDeliveryQueue, SqlEffectOutbox
from app.db.repositories.retention import SqlRetentionStore
from app.domain.fraud import VelocityDimension, VelocityProbe
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.installation import Installation
from app.domain.order_event import FailedDelivery, ReceivedOrderEvent, SaleorError
from app.domain.pipeline import Status
from app.runtime import Runtime
from app.services.pipeline import Effect, NewEffect
from app.services.ports import KeptStore
from tests.builders import NOW, SHOP_API_URL, make_installation

OTHER = SaleorApiUrl("https://other.test/graphql/")
CUTOFF = NOW - timedelta(days=30)
BODY = '{"order": {"userEmail": "ada@example.com", "customerIpAddress": "198.51.100.7"}}'


@pytest.fixture
async def session(runtime: Runtime, installation: Installation) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as s:
        await SqlInstallationStore(s, runtime.cipher).save(make_installation(saleor_api_url=OTHER, jwks="{}"))
        yield s
        await s.commit()


@pytest.fixture
def retention(session: AsyncSession) -> SqlRetentionStore:
    return SqlRetentionStore(session)


async def _delivery(
    session: AsyncSession,
    order: str,
    *,
    processed_at: datetime | None,
    url: SaleorApiUrl = SHOP_API_URL,
    failed: bool = False,
) -> int:
    """A stored delivery: processed at ``processed_at``, failed for good, or still waiting."""
    received_at = (processed_at or NOW) - timedelta(minutes=1)
    await SqlOrderEventLog(session).record(
        ReceivedOrderEvent(
            saleor_api_url=url,
            event="order_created",
            order_id=SaleorId(order),
            order_number=f"#{order}",
            issued_at=received_at,
            saleor_version="3.24.0",
            received_at=received_at,
            payload=BODY,
        )
    )
    delivery_id = await session.scalar(
        select(OrderEventRow.id).where(OrderEventRow.saleor_api_url == url, OrderEventRow.order_id == order)
    )
    assert delivery_id is not None
    queue = SqlDeliveryQueue(session)
    if failed:
        await queue.failed_attempt(delivery_id, "ValueError: broken", retry_at=None)
    elif processed_at is not None:
        await queue.processed(delivery_id, processed_at)
    return delivery_id


async def _payloads(session: AsyncSession, model: type[OrderEventRow] | type[FailedDeliveryRow]) -> dict[int, str]:
    return dict((await session.execute(select(model.id, model.payload).order_by(model.id))).all())


class TestDeliveryPayloads:
    async def test_erases_only_bodies_of_deliveries_processed_before_the_cutoff(
        self, session: AsyncSession, retention: SqlRetentionStore
    ) -> None:
        old = await _delivery(session, "old", processed_at=CUTOFF - timedelta(seconds=1))
        recent = await _delivery(session, "recent", processed_at=CUTOFF + timedelta(seconds=1))
        waiting = await _delivery(session, "waiting", processed_at=None)
        await session.execute(update(OrderEventRow).values(received_at=CUTOFF - timedelta(days=9)))
        failed = await _delivery(session, "failed", processed_at=None, failed=True)
        elsewhere = await _delivery(session, "old", processed_at=CUTOFF - timedelta(days=1), url=OTHER)

        assert await retention.prune_delivery_payloads(SHOP_API_URL, processed_before=CUTOFF, limit=1000) == 1

        payloads = await _payloads(session, OrderEventRow)
        assert payloads[old] == "{}"
        assert {payloads[i] for i in (recent, waiting, failed, elsewhere)} == {BODY}

    async def test_keeps_the_row_and_all_the_pages_show_of_it(
        self, session: AsyncSession, retention: SqlRetentionStore
    ) -> None:
        await _delivery(session, "1", processed_at=CUTOFF - timedelta(days=1))
        await retention.prune_delivery_payloads(SHOP_API_URL, processed_before=CUTOFF, limit=1000)
        (event,) = await SqlOrderEventLog(session).for_order(SHOP_API_URL, SaleorId("1"))
        assert (event.event, event.order_id, event.order_number, event.payload) == ("order_created", "1", "#1", "{}")
        assert event.issued_at == CUTOFF - timedelta(days=1, minutes=1)
        row = (await session.scalars(select(OrderEventRow))).one()
        assert (row.status, row.processed_at) == (Status.DONE, CUTOFF - timedelta(days=1))

    async def test_prunes_a_bounded_batch_per_call(self, session: AsyncSession, retention: SqlRetentionStore) -> None:
        for order in "abcde":
            await _delivery(session, order, processed_at=CUTOFF - timedelta(days=1))
        batches = [
            await retention.prune_delivery_payloads(SHOP_API_URL, processed_before=CUTOFF, limit=2) for _ in range(4)
        ]
        assert batches == [2, 2, 1, 0]
        assert set((await _payloads(session, OrderEventRow)).values()) == {"{}"}


class TestQueryPlans:
    @pytest.mark.parametrize(
        ("prune", "before", "index"),
        [
            pytest.param(
                "prune_delivery_payloads", "processed_before", "ix_order_events_tenant_prunable", id="deliveries"
            ),
            pytest.param("prune_effect_payloads", "done_before", "ix_effects_tenant_prunable", id="effects"),
            pytest.param(
                "prune_failed_delivery_payloads", "received_before", "ix_failed_deliveries_tenant_prunable", id="failed"
            ),
            pytest.param("forget_velocity_keys", "seen_before", "ix_fraud_velocity_tenant_seen", id="velocity"),
        ],
    )
    async def test_a_batch_is_found_through_the_index_of_rows_to_prune_and_changed_by_id(
        self, session: AsyncSession, retention: SqlRetentionStore, runtime: Runtime, prune: str, before: str, index: str
    ) -> None:
        """Any other plan reads rows that are not due: a round would grow with the store's history."""
        if runtime.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL's plan depends on its statistics; bench.housekeeping measures it")
        statements: list[tuple[str, Any]] = []

        def capture(*args: Any) -> None:
            statements.append((args[2], args[3]))  # the statement and its parameters

        event.listen(runtime.engine.sync_engine, "before_cursor_execute", capture)
        try:
            await getattr(retention, prune)(SHOP_API_URL, **{before: CUTOFF}, limit=10)
        finally:
            event.remove(runtime.engine.sync_engine, "before_cursor_execute", capture)
        (statement, parameters) = statements[-1]
        connection = await session.connection()
        plan = " | ".join(
            row[-1] for row in await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        )
        assert f"USING INDEX {index} " in plan
        assert "USING INTEGER PRIMARY KEY" in plan
        assert "status_due" not in plan


class TestFailedDeliveryPayloads:
    async def test_erases_bodies_received_before_the_cutoff_and_keeps_saleors_errors(
        self, session: AsyncSession, retention: SqlRetentionStore
    ) -> None:
        log = SqlOrderEventLog(session)
        for url, body, received_at in (
            (SHOP_API_URL, '{"errors": [1]}', CUTOFF - timedelta(hours=1)),
            (SHOP_API_URL, '{"errors": [2]}', CUTOFF + timedelta(hours=1)),
            (OTHER, '{"errors": [3]}', CUTOFF - timedelta(hours=1)),
        ):
            await log.record_failed(
                FailedDelivery(
                    saleor_api_url=url,
                    event="order_fully_paid",
                    issued_at=None,
                    errors=(SaleorError("To access this path, you need HANDLE_PAYMENTS", ("event", "order")),),
                    received_at=received_at,
                    payload=body,
                )
            )
        assert await retention.prune_failed_delivery_payloads(SHOP_API_URL, received_before=CUTOFF, limit=10) == 1
        assert sorted((await _payloads(session, FailedDeliveryRow)).values()) == [
            '{"errors": [2]}',
            '{"errors": [3]}',
            "{}",
        ]
        shown = await log.recent_failed(SHOP_API_URL, 10)
        assert [f.errors[0].where for f in shown] == ["event.order", "event.order"]


class TestEffectPayloads:
    async def test_erases_what_delivered_effects_wrote_before_the_cutoff_only(
        self, session: AsyncSession, retention: SqlRetentionStore
    ) -> None:
        outbox = SqlEffectOutbox(session)
        for key, url in (
            ("delivered", SHOP_API_URL),
            ("failed", SHOP_API_URL),
            ("waiting", SHOP_API_URL),
            ("other", OTHER),
        ):
            await outbox.add(url, key, NewEffect(SaleorId(key), "order_note", {"message": "IP 198.51.100.7"}), CUTOFF)
        effects = await outbox.claim(NOW, lease=timedelta(minutes=1), limit=10)
        claimed: dict[str, Effect] = {effect.order_id: effect for effect in effects}
        await outbox.delivered([claimed["delivered"]], CUTOFF - timedelta(days=1))
        await outbox.delivered([claimed["other"]], CUTOFF - timedelta(days=1))
        await outbox.failed_attempt(claimed["failed"], "SaleorMutationError", retry_at=None)
        await outbox.failed_attempt(claimed["waiting"], "timeout", retry_at=NOW)

        assert await retention.prune_effect_payloads(SHOP_API_URL, done_before=CUTOFF, limit=10) == 1

        rows = dict((await session.execute(select(EffectRow.key, EffectRow.payload))).all())
        assert rows["delivered"] == "{}"
        assert {rows[key] for key in ("failed", "waiting", "other")} == {'{"message":"IP 198.51.100.7"}'}


class TestVelocityKeys:
    async def test_forgets_keys_seen_before_the_cutoff_except_those_of_held_orders(
        self, session: AsyncSession, retention: SqlRetentionStore
    ) -> None:
        fraud = SqlFraudRepository(session)
        probe = [VelocityProbe(VelocityDimension.EMAIL, "ada@example.com", 24)]
        for url, order, at in (
            (SHOP_API_URL, "old", CUTOFF - timedelta(days=1)),
            (SHOP_API_URL, "held", CUTOFF - timedelta(days=1)),
            (SHOP_API_URL, "recent", CUTOFF + timedelta(days=1)),
            (OTHER, "old", CUTOFF - timedelta(days=1)),
        ):
            await fraud.record_velocity(url, probe, order_id=order, at=at)
        await fraud.open_review(SHOP_API_URL, "held", "#held", by="rule", at=CUTOFF)

        assert await retention.forget_velocity_keys(SHOP_API_URL, seen_before=CUTOFF, limit=10) == 1

        assert await fraud.identifiers_of(SHOP_API_URL, ["old", "held", "recent"]) == {
            "held": {"email": "ada@example.com"},
            "recent": {"email": "ada@example.com"},
        }
        assert await fraud.identifiers(OTHER, "old") == {"email": "ada@example.com"}

    async def test_a_held_order_closed_later_has_its_keys_forgotten_then(
        self, session: AsyncSession, retention: SqlRetentionStore
    ) -> None:
        fraud = SqlFraudRepository(session)
        await fraud.record_velocity(
            SHOP_API_URL,
            [VelocityProbe(VelocityDimension.IP, "198.51.100.7", 1)],
            order_id="o",
            at=CUTOFF - timedelta(days=1),
        )
        await fraud.open_review(SHOP_API_URL, "o", "#o", by="rule", at=CUTOFF)
        assert await retention.forget_velocity_keys(SHOP_API_URL, seen_before=CUTOFF, limit=10) == 0
        await fraud.close_review(SHOP_API_URL, "o", reason="legitimate", by="staff@shop.test", at=NOW, note="")
        assert await retention.forget_velocity_keys(SHOP_API_URL, seen_before=CUTOFF, limit=10) == 1
        assert await session.scalar(select(func.count()).select_from(FraudVelocityRow)) == 0


class TestUninstalledStores:
    async def test_lists_every_store_with_when_it_was_uninstalled(
        self, session: AsyncSession, retention: SqlRetentionStore, runtime: Runtime
    ) -> None:
        await SqlInstallationStore(session, runtime.cipher).uninstall(OTHER, NOW)
        assert await retention.stores() == [KeptStore(OTHER, NOW), KeptStore(SHOP_API_URL, None)]

    async def test_deletes_a_store_only_once_uninstalled_before_the_cutoff_with_all_it_owns(
        self, session: AsyncSession, retention: SqlRetentionStore, runtime: Runtime
    ) -> None:
        installations = SqlInstallationStore(session, runtime.cipher)
        await _delivery(session, "1", processed_at=NOW)
        await _delivery(session, "1", processed_at=NOW, url=OTHER)
        assert not await retention.delete_uninstalled(SHOP_API_URL, uninstalled_before=NOW), "still installed"
        await installations.uninstall(SHOP_API_URL, NOW)
        assert not await retention.delete_uninstalled(SHOP_API_URL, uninstalled_before=NOW - timedelta(seconds=1))
        assert await retention.delete_uninstalled(SHOP_API_URL, uninstalled_before=NOW)
        assert await installations.get(SHOP_API_URL) is None
        kept = await session.execute(select(OrderEventRow.saleor_api_url))
        assert [url for (url,) in kept] == [OTHER]
        assert (await session.scalars(select(InstallationRow.saleor_api_url))).all() == [OTHER]
