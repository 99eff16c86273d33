"""Claims on the effects outbox: a lease that ran out passes the effect to another dispatcher for good."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.db.repositories.pipeline import SqlEffectOutbox
from app.domain.ids import SaleorId
from app.domain.installation import Installation
from app.runtime import Runtime
from app.services.pipeline import Effect, EffectKind, NewEffect
from tests.builders import NOW, SHOP_API_URL

LEASE = timedelta(seconds=60)


async def _claim(runtime: Runtime, at_seconds: float) -> list[Effect]:
    async with runtime.sessions.begin() as session:
        return await SqlEffectOutbox(session).claim(NOW + timedelta(seconds=at_seconds), lease=LEASE, limit=10)


class TestALeaseThatRanOut:
    @pytest.fixture(autouse=True)
    async def _one_effect(self, runtime: Runtime, installation: Installation) -> None:
        async with runtime.sessions.begin() as session:
            note = NewEffect(SaleorId("T3JkZXI6MQ=="), EffectKind.NOTE, {"message": "checked"})
            await SqlEffectOutbox(session).add(SHOP_API_URL, "delivery:1#1", note, NOW)

    async def test_passes_the_effect_to_the_next_dispatcher(self, runtime: Runtime) -> None:
        (first,) = await _claim(runtime, 0)
        assert await _claim(runtime, 59) == []
        (second,) = await _claim(runtime, 61)
        assert (second.id, first.attempts, second.attempts) == (first.id, 1, 2)

    async def test_a_late_failure_of_the_first_dispatcher_leaves_the_effect_with_the_second(
        self, runtime: Runtime
    ) -> None:
        (first,) = await _claim(runtime, 0)
        (second,) = await _claim(runtime, 61)
        # The first dispatcher's call timed out at last; the second one is still sending.
        async with runtime.sessions.begin() as session:
            retry_at = NOW + timedelta(seconds=62)
            await SqlEffectOutbox(session).failed_attempt(first, "ReadTimeout", retry_at=retry_at)
        assert await _claim(runtime, 63) == []  # no third dispatcher sends it beside the second
        async with runtime.sessions.begin() as session:
            await SqlEffectOutbox(session).delivered([second], NOW + timedelta(seconds=64))
        assert await _claim(runtime, 200) == []

    async def test_a_late_success_of_the_first_dispatcher_counts_saleor_has_the_effect(self, runtime: Runtime) -> None:
        (first,) = await _claim(runtime, 0)
        (second,) = await _claim(runtime, 61)
        async with runtime.sessions.begin() as session:
            await SqlEffectOutbox(session).delivered([first], NOW + timedelta(seconds=62))
            # The second one's failure, later, does not put a delivered effect back.
            await SqlEffectOutbox(session).failed_attempt(second, "503", retry_at=NOW + timedelta(seconds=70))
        assert await _claim(runtime, 200) == []
