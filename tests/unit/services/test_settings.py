import json
from zoneinfo import ZoneInfo

import pytest

from app.services.settings import (
    SECTIONS,
    GeneralSettings,
    SettingsRejected,
    SettingsSaved,
    change_settings,
    payload_retention_days,
    read_settings,
    readable_sections,
    store_timezone,
)
from tests.builders import NOW, SHOP_API_URL
from tests.fakes.in_memory import InMemorySettingsStore

GENERAL = SECTIONS["general"]


@pytest.fixture
def store() -> InMemorySettingsStore:
    return InMemorySettingsStore()


class TestChangeSettings:
    async def test_a_store_that_never_saved_reads_the_defaults(self, store: InMemorySettingsStore) -> None:
        assert await read_settings(store, SHOP_API_URL, GENERAL) == GeneralSettings()
        assert await store_timezone(store, SHOP_API_URL) == ZoneInfo("UTC")

    async def test_saves_a_valid_section_and_records_who_and_when(self, store: InMemorySettingsStore) -> None:
        outcome = await change_settings(
            store, SHOP_API_URL, GENERAL, {"timezone": "Europe/Warsaw"}, changed_by="ann@shop.test", now=NOW
        )
        assert isinstance(outcome, SettingsSaved)
        assert outcome.changed
        assert await store_timezone(store, SHOP_API_URL) == ZoneInfo("Europe/Warsaw")
        (change,) = store.changes
        assert (change.changed_by, change.changed_at, change.section) == ("ann@shop.test", NOW, "general")
        assert json.loads(change.before) == {"timezone": "UTC", "payload_retention_days": 30}
        assert json.loads(change.after) == {"timezone": "Europe/Warsaw", "payload_retention_days": 30}

    async def test_an_invalid_value_is_refused_with_the_reason_and_nothing_is_saved(
        self, store: InMemorySettingsStore
    ) -> None:
        outcome = await change_settings(
            store, SHOP_API_URL, GENERAL, {"timezone": "Mars/Olympus"}, changed_by="ann@shop.test", now=NOW
        )
        assert isinstance(outcome, SettingsRejected)
        assert "Mars/Olympus" in outcome.errors["timezone"]
        assert outcome.submitted == {"timezone": "Mars/Olympus"}
        assert store.values == {}
        assert store.changes == []

    async def test_an_unknown_field_is_refused(self, store: InMemorySettingsStore) -> None:
        outcome = await change_settings(
            store, SHOP_API_URL, GENERAL, {"timezone": "UTC", "colour": "red"}, changed_by="a", now=NOW
        )
        assert isinstance(outcome, SettingsRejected)
        assert set(outcome.errors) == {"colour"}
        assert store.changes == []

    async def test_the_payload_retention_is_thirty_days_until_the_merchant_sets_it(
        self, store: InMemorySettingsStore
    ) -> None:
        assert await payload_retention_days(store, SHOP_API_URL) == 30
        submitted = {"timezone": "UTC", "payload_retention_days": "365"}
        assert isinstance(
            await change_settings(store, SHOP_API_URL, GENERAL, submitted, changed_by="a", now=NOW), SettingsSaved
        )
        assert await payload_retention_days(store, SHOP_API_URL) == 365

    @pytest.mark.parametrize(
        ("days", "reason"),
        [
            pytest.param("0", "greater than or equal to 1", id="zero"),
            pytest.param("3651", "less than or equal to 3650", id="over-ten-years"),
            pytest.param("a month", "valid integer", id="words"),
            pytest.param("7.5", "valid integer", id="fraction"),
        ],
    )
    async def test_a_retention_out_of_range_says_why_and_changes_nothing(
        self, store: InMemorySettingsStore, days: str, reason: str
    ) -> None:
        submitted = {"timezone": "Europe/Warsaw", "payload_retention_days": days}
        outcome = await change_settings(store, SHOP_API_URL, GENERAL, submitted, changed_by="a", now=NOW)
        assert isinstance(outcome, SettingsRejected)
        assert reason in outcome.errors["payload_retention_days"]
        assert (store.values, store.changes) == ({}, [])

    async def test_saving_the_same_values_records_no_change(self, store: InMemorySettingsStore) -> None:
        outcome = await change_settings(store, SHOP_API_URL, GENERAL, {"timezone": "UTC"}, changed_by="a", now=NOW)
        assert isinstance(outcome, SettingsSaved)
        assert not outcome.changed
        assert store.changes == []


@pytest.mark.parametrize(
    ("permissions", "sections"),
    [
        pytest.param(
            {"MANAGE_ORDERS"}, ["general", "fraud", "costing", "shipping", "support"], id="order-manager-reads-all"
        ),
        pytest.param({"MANAGE_SHIPPING"}, ["shipping"], id="shipping-manager-reads-shipping"),
        pytest.param({"MANAGE_APPS", "MANAGE_SHIPPING"}, ["general", "shipping"], id="what-they-may-change"),
        pytest.param({"MANAGE_PRODUCTS"}, [], id="nothing"),
    ],
)
def test_a_section_is_read_by_order_managers_and_by_whoever_may_change_it(
    permissions: set[str], sections: list[str]
) -> None:
    assert [section.key for section in readable_sections(permissions)] == sections
