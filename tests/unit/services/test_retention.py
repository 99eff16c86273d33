from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from app.domain.ids import SaleorApiUrl
from app.services.ports import KeptStore, RetentionWork
from app.services.retention import VELOCITY_KEPT, cutoffs, grace_over, keep_house
from app.services.settings import SECTIONS, SettingsSaved, change_settings
from tests.builders import NOW, SHOP_API_URL
from tests.fakes.in_memory import InMemoryRetentionStore, InMemorySettingsStore

OTHER = SaleorApiUrl("https://other.test/graphql/")
GRACE = timedelta(days=30)


@dataclass
class _Work:
    retention: InMemoryRetentionStore
    settings: InMemorySettingsStore


class _Transactions:
    """Every transaction sees the same in-memory stores; counts how many were opened."""

    def __init__(self) -> None:
        self.work = _Work(InMemoryRetentionStore(), InMemorySettingsStore())
        self.opened = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[RetentionWork]:
        self.opened += 1
        yield self.work


@pytest.fixture
def transactions() -> _Transactions:
    return _Transactions()


def days_ago(days: float) -> timedelta:
    return timedelta(days=days)


async def _set_retention(transactions: _Transactions, url: SaleorApiUrl, days: str) -> None:
    saved = await change_settings(
        transactions.work.settings,
        url,
        SECTIONS["general"],
        {"timezone": "UTC", "payload_retention_days": days},
        changed_by="staff@shop.test",
        now=NOW,
    )
    assert isinstance(saved, SettingsSaved)


class TestCutoffs:
    def test_payloads_are_due_after_the_retention_and_velocity_keys_after_the_longest_window(self) -> None:
        due = cutoffs(NOW, 30)
        assert due.payloads == NOW - timedelta(days=30)
        assert due.velocity == NOW - timedelta(days=366) == NOW - VELOCITY_KEPT


class TestGraceOver:
    @pytest.mark.parametrize(
        ("uninstalled", "over"),
        [
            pytest.param(None, False, id="installed"),
            pytest.param(NOW - timedelta(days=29, hours=23), False, id="within"),
            pytest.param(NOW - GRACE, True, id="exactly"),
            pytest.param(NOW - timedelta(days=400), True, id="long-ago"),
        ],
    )
    def test_only_an_uninstalled_store_past_its_grace(self, uninstalled: datetime | None, over: bool) -> None:
        assert grace_over(KeptStore(SHOP_API_URL, uninstalled), NOW, GRACE) is over


class TestKeepHouse:
    async def test_prunes_what_is_older_than_the_default_thirty_days_and_nothing_younger(
        self, transactions: _Transactions
    ) -> None:
        retention = transactions.work.retention
        retention.add(SHOP_API_URL, "delivery_payloads", NOW - days_ago(31), NOW - days_ago(29))
        retention.add(SHOP_API_URL, "failed_delivery_payloads", NOW - days_ago(30) - timedelta(seconds=1))
        retention.add(SHOP_API_URL, "effect_payloads", NOW - days_ago(1))
        report = await keep_house(NOW, grace=GRACE, transaction=transactions)
        assert (report.delivery_payloads, report.failed_delivery_payloads, report.effect_payloads) == (1, 1, 0)
        assert retention.due_at[(SHOP_API_URL, "delivery_payloads")] == [NOW - days_ago(29)]
        assert report.pruned == 2

    async def test_the_merchants_retention_is_used_per_store(self, transactions: _Transactions) -> None:
        retention = transactions.work.retention
        await _set_retention(transactions, SHOP_API_URL, "90")
        for url in (SHOP_API_URL, OTHER):
            retention.add(url, "delivery_payloads", NOW - days_ago(45))
        report = await keep_house(NOW, grace=GRACE, transaction=transactions)
        assert report.delivery_payloads == 1
        assert retention.due_at[(SHOP_API_URL, "delivery_payloads")] == [NOW - days_ago(45)]
        assert retention.due_at[(OTHER, "delivery_payloads")] == []
        cut = {(url, before) for prune, url, before, _ in retention.calls if prune == "delivery_payloads"}
        assert cut == {(SHOP_API_URL, NOW - days_ago(90)), (OTHER, NOW - days_ago(30))}

    async def test_velocity_keys_are_kept_for_the_longest_window_whatever_the_retention(
        self, transactions: _Transactions
    ) -> None:
        retention = transactions.work.retention
        await _set_retention(transactions, SHOP_API_URL, "1")
        retention.add(SHOP_API_URL, "velocity_keys", NOW - days_ago(365), NOW - days_ago(367))
        report = await keep_house(NOW, grace=GRACE, transaction=transactions)
        assert report.velocity_keys == 1
        assert retention.due_at[(SHOP_API_URL, "velocity_keys")] == [NOW - days_ago(365)]

    async def test_prunes_in_batches_each_in_its_own_transaction_until_one_comes_back_short(
        self, transactions: _Transactions
    ) -> None:
        retention = transactions.work.retention
        retention.add(SHOP_API_URL, "delivery_payloads", *(NOW - days_ago(40 + n) for n in range(5)))
        report = await keep_house(NOW, grace=GRACE, transaction=transactions, batch=2)
        assert report.delivery_payloads == 5
        batches = [limit for prune, _, _, limit in retention.calls if prune == "delivery_payloads"]
        assert batches == [2, 2, 2]  # 2 + 2 + 1: the short one ends it
        # the store list, the settings, 3 delivery batches, one batch for each of the 3 other prunes
        assert transactions.opened == 1 + 1 + 3 + 3

    async def test_deletes_a_store_whose_grace_is_over_and_keeps_pruning_one_within_it(
        self, transactions: _Transactions
    ) -> None:
        retention = transactions.work.retention
        retention.add(SHOP_API_URL, "delivery_payloads", NOW - days_ago(31))
        retention.add(OTHER, "delivery_payloads", NOW - days_ago(31))
        retention.kept[SHOP_API_URL] = NOW - GRACE
        retention.kept[OTHER] = NOW - GRACE + timedelta(minutes=1)
        report = await keep_house(NOW, grace=GRACE, transaction=transactions)
        assert report.deleted_stores == (SHOP_API_URL,)
        assert list(retention.kept) == [OTHER]
        assert report.delivery_payloads == 1  # the store in its grace period; the deleted one is gone whole
        assert retention.due_at[(OTHER, "delivery_payloads")] == []

    async def test_a_store_that_fails_is_reported_and_the_others_are_still_pruned(
        self, transactions: _Transactions
    ) -> None:
        retention = transactions.work.retention
        for url in (OTHER, SHOP_API_URL):  # other.test sorts first
            retention.add(url, "delivery_payloads", NOW - days_ago(31))
        retention.failing.add(OTHER)
        report = await keep_house(NOW, grace=GRACE, transaction=transactions)
        assert report.failed_stores == (OTHER,)
        assert report.delivery_payloads == 1
        assert report.did_anything

    async def test_nothing_due_is_a_report_of_nothing(self, transactions: _Transactions) -> None:
        transactions.work.retention.add(SHOP_API_URL, "delivery_payloads", NOW - days_ago(2))
        report = await keep_house(NOW, grace=GRACE, transaction=transactions)
        assert not report.did_anything
