"""The shipping settings section: edited as JSON and names in the dashboard, refused field by field."""

from __future__ import annotations

import json
from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest

from app.domain.shipping.model import Level
from app.domain.shipping.selection import Strategy
from app.services.settings import SECTIONS, SettingsRejected, SettingsSaved, change_settings, read_settings
from app.services.shipping.settings import EXAMPLE_CHANNELS, EXAMPLE_WAREHOUSES, ShippingSettings
from tests.builders import NOW, SHOP_API_URL
from tests.fakes.in_memory import InMemorySettingsStore

SHIPPING = SECTIONS["shipping"]
BOXES = '[{"name": "M", "length_cm": 40, "width_cm": 30, "height_cm": 20, "max_weight_kg": 20, "tare_kg": "0.4"}]'
PRODUCT_TYPES = '[{"product_type": "Shoes", "length_cm": 33, "width_cm": 22, "height_cm": 12, "weight_kg": "1.1"}]'
RULES = '[{"name": "Glass never by USPS", "product_types": ["Glassware"], "excluded_carriers": ["USPS"]}]'


def form(**overrides: str) -> dict[str, str]:
    """The section as the dashboard form submits it: every field as text."""
    return {
        "locale": "en_GB",
        "warehouses": EXAMPLE_WAREHOUSES,
        "channels": EXAMPLE_CHANNELS,
        "boxes": BOXES,
        "product_types": PRODUCT_TYPES,
        "dimension_attributes": "",
        "carrier_preference": "UPS, FedEx",
        "rules": RULES,
        **overrides,
    }


async def submit(store: InMemorySettingsStore, values: dict[str, str]) -> SettingsSaved | SettingsRejected:
    return await change_settings(store, SHOP_API_URL, SHIPPING, values, changed_by="ann@shop.test", now=NOW)


class TestSection:
    def test_it_is_changed_by_who_manages_shipping(self) -> None:
        assert SHIPPING.permission == "MANAGE_SHIPPING"
        assert SHIPPING.model is ShippingSettings

    async def test_a_store_that_never_saved_has_nothing_configured(self) -> None:
        settings = await read_settings(InMemorySettingsStore(), SHOP_API_URL, SHIPPING)
        assert isinstance(settings, ShippingSettings)
        configuration = settings.configuration()
        assert (configuration.locale, configuration.warehouses, configuration.channels) == ("en", {}, {})

    async def test_the_form_s_text_is_saved_as_structure_and_builds_the_domain_objects(self) -> None:
        store = InMemorySettingsStore()
        outcome = await submit(store, form())
        assert isinstance(outcome, SettingsSaved)
        assert outcome.changed
        saved = json.loads(store.changes[0].after)
        assert saved["carrier_preference"] == ["UPS", "FedEx"]
        assert saved["warehouses"][0]["cutoffs"] == {"mon": "15:00:00", "fri": "12:00:00"}
        settings = await read_settings(store, SHOP_API_URL, SHIPPING)
        assert isinstance(settings, ShippingSettings)
        configuration = settings.configuration()
        (warehouse,) = configuration.warehouses.values()
        assert (warehouse.name, warehouse.origin.postal_code) == ("Brooklyn", "11201")
        assert warehouse.warehouse.cutoffs == {0: time(15), 4: time(12)}
        assert warehouse.warehouse.calendar.subdivision == "NY"
        assert warehouse.warehouse.calendar.closures == frozenset({date(2026, 12, 24)})
        channel = configuration.channels["default-channel"]
        assert channel.promise.business_days == {Level.STANDARD: 5, Level.EXPEDITED: 3}
        assert channel.pricing[Level.STANDARD].markup_pct == Decimal(10)
        assert channel.pricing[Level.EXPEDITED].flat_price == Decimal("14.90")
        assert [box.name for box in configuration.boxes] == ["M"]
        assert configuration.default_weights_kg == {"Shoes": Decimal("1.1")}
        assert configuration.rules[0].actions.excluded_carriers == frozenset({"USPS"})
        assert configuration.rules[0].actions.strategy is Strategy.CHEAPEST
        assert (
            configuration.preference("UPS"),
            configuration.preference("FedEx"),
            configuration.preference("DHL"),
        ) == (
            0,
            1,
            2,
        )

    async def test_saving_what_is_stored_again_changes_nothing(self) -> None:
        store = InMemorySettingsStore()
        await submit(store, form())
        stored = store.values[(SHOP_API_URL, "shipping")]
        # As the dashboard shows the stored values in the form: names comma-separated, the rest as JSON.
        again = {name: value if isinstance(value, str) else json.dumps(value) for name, value in stored.items()}
        again["carrier_preference"] = "UPS, FedEx"
        again["dimension_attributes"] = ""
        outcome = await submit(store, again)
        assert isinstance(outcome, SettingsSaved)
        assert not outcome.changed


class TestRefusals:
    @pytest.mark.parametrize(
        ("field", "value", "reason"),
        [
            pytest.param(
                "warehouses",
                EXAMPLE_WAREHOUSES.replace("America/New_York", "Mars/Olympus"),
                "item 1: warehouse V2FyZWhvdXNlOjE=: time_zone: 'Mars/Olympus' is not an IANA time zone",
                id="time-zone",
            ),
            pytest.param(
                "warehouses",
                EXAMPLE_WAREHOUSES.replace('"NY"', '"XY"'),
                "item 1: warehouse V2FyZWhvdXNlOjE=: subdivision: US has no subdivision 'XY'",
                id="subdivision",
            ),
            pytest.param(
                "warehouses",
                EXAMPLE_WAREHOUSES.replace('"mon": "15:00"', '"monday": "15:00"'),
                "item 1 › cutoffs › monday › [key]: Input should be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'",
                id="weekday",
            ),
            pytest.param(
                "warehouses",
                EXAMPLE_WAREHOUSES.replace('"handling_days_max": 1', '"handling_days_max": -1'),
                "item 1: warehouse V2FyZWhvdXNlOjE=: handling_days_max: days cannot be negative (-1)",
                id="handling-days",
            ),
            pytest.param("warehouses", '[{"id": "W"', "not valid JSON", id="json"),
            pytest.param(
                "warehouses",
                f"[{EXAMPLE_WAREHOUSES[1:-1]}, {EXAMPLE_WAREHOUSES[1:-1]}]",
                "warehouse listed more than once: V2FyZWhvdXNlOjE=",
                id="duplicate-warehouse",
            ),
            pytest.param(
                "channels",
                EXAMPLE_CHANNELS.replace('"warehouse": "V2FyZWhvdXNlOjE="', '"warehouse": "elsewhere"'),
                "channel default-channel: warehouse 'elsewhere' is not among the warehouses",
                id="unknown-warehouse",
            ),
            pytest.param(
                "channels",
                EXAMPLE_CHANNELS.replace('"expedited"', '"express"'),
                "item 1 › levels › express › [key]: Input should be 'standard', 'expedited' or 'overnight'",
                id="level",
            ),
            pytest.param(
                "channels",
                EXAMPLE_CHANNELS.replace('"flat_price": "14.90"', '"flat_price": "14.90", "markup_pct": 5'),
                "flat_price: a flat price replaces the carrier's cost, so it takes no markup",
                id="flat-and-markup",
            ),
            pytest.param(
                "channels",
                EXAMPLE_CHANNELS.replace('"promise_days": 5', '"promise_days": -5'),
                "promise_days: Input should be greater than or equal to 0",
                id="promise",
            ),
            pytest.param(
                "boxes",
                BOXES.replace('"tare_kg": "0.4"', '"tare_kg": "25"'),
                "item 1: box 'M': tare_kg: box M weighs 25 kg empty, its limit is 20 kg",
                id="box",
            ),
            pytest.param(
                "product_types",
                PRODUCT_TYPES.replace('"height_cm": 12', '"height_cm": 0'),
                "item 1: product type 'Shoes': height_cm: must be a positive number, got 0",
                id="product-type",
            ),
            pytest.param(
                "rules",
                RULES.replace('"excluded_carriers"', '"only_carriers": ["USPS"], "excluded_carriers"'),
                "item 1: rule 'Glass never by USPS': excluded_carriers: USPS both allowed only and excluded",
                id="rule",
            ),
            pytest.param("rules", '[{"name": "x", "strategy": "slowest"}]', "Input should be 'cheapest' or 'fastest'"),
            pytest.param("dimension_attributes", "length, width", "name three attributes", id="dimensions"),
            pytest.param(
                "dimension_attributes", "length, Length, height", "attribute listed more than once: length", id="twice"
            ),
            pytest.param("carrier_preference", "UPS, FedEx, UPS", "carrier listed more than once: UPS", id="carriers"),
            pytest.param("locale", "xx_QQ", "'xx_QQ' is not a locale", id="locale"),
        ],
    )
    async def test_a_bad_value_is_refused_with_its_field_and_nothing_is_saved(
        self, field: str, value: str, reason: str
    ) -> None:
        store = InMemorySettingsStore()
        outcome = await submit(store, form(**{field: value}))
        assert isinstance(outcome, SettingsRejected)
        assert list(outcome.errors) == [field]
        assert reason in outcome.errors[field]
        assert store.values == {}
        assert store.changes == []

    async def test_every_bad_field_is_named_at_once(self) -> None:
        outcome = await submit(InMemorySettingsStore(), form(boxes="[", locale="??", carrier_preference="A, A"))
        assert isinstance(outcome, SettingsRejected)
        assert sorted(outcome.errors) == ["boxes", "carrier_preference", "locale"]

    async def test_a_refused_change_leaves_the_saved_settings_as_they_were(self) -> None:
        store = InMemorySettingsStore()
        await submit(store, form())
        before = dict(store.values)
        outcome = await submit(
            store, form(channels=EXAMPLE_CHANNELS.replace('"promise_days": 3', '"promise_days": "x"'))
        )
        assert isinstance(outcome, SettingsRejected)
        assert store.values == before
        assert len(store.changes) == 1


def test_a_warehouse_s_holidays_default_to_its_origin_country() -> None:
    values: dict[str, Any] = json.loads(EXAMPLE_WAREHOUSES)[0]
    values.pop("holiday_subdivision")
    values["origin"]["country"] = "DE"
    values["time_zone"] = "Europe/Berlin"
    settings = ShippingSettings.model_validate({"warehouses": [values]})
    (warehouse,) = settings.configuration().warehouses.values()
    assert warehouse.warehouse.calendar.country == "DE"


@pytest.mark.parametrize(
    ("typed", "slugs"),
    [
        pytest.param("length, width, height", ("length", "width", "height"), id="three"),
        pytest.param(" package-size ", ("package-size",), id="one-holding-all-three"),
        pytest.param("", (), id="none"),
    ],
)
def test_dimension_attributes_are_three_slugs_or_one(typed: str, slugs: tuple[str, ...]) -> None:
    settings = ShippingSettings.model_validate({"dimension_attributes": typed})
    assert settings.configuration().dimension_attributes == slugs
