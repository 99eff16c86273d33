"""The shipping section of a store's settings: warehouses' calendars, each channel's promises and
pricing, the merchant's boxes, product types' default sizes, carrier preference and rules.

The structured fields are edited in the dashboard as JSON (a text field given a string is parsed
first), lists of names as comma-separated text. Each item is turned into its domain object while it
is validated, so a bad value is refused with the field (and the item) it is in, and a store's
saved settings always build.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Literal

from babel import Locale, UnknownLocaleError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.domain.shipping.calendar import BusinessCalendar
from app.domain.shipping.model import InvalidSetting, Level
from app.domain.shipping.parcels import Box, Dimensions
from app.domain.shipping.pricing import PricingPolicy
from app.domain.shipping.promise import ChannelPromise, Warehouse
from app.domain.shipping.selection import Actions, Conditions, Rule, Strategy
from app.services.shipping.model import Place

JSON_TEXT: dict[str, JsonValue] = {"widget": "json"}
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ITEM = ConfigDict(extra="forbid", frozen=True)


def _refused(exc: InvalidSetting, whose: str) -> ValueError:
    return ValueError(f"{whose}: {exc.field}: {exc.reason}")


class PlaceSetting(BaseModel):
    model_config = _ITEM

    country: str = Field(min_length=2, max_length=2, pattern="^[A-Z]{2}$")
    postal_code: str = ""
    city: str = ""
    country_area: str = ""
    street: str = ""

    def place(self) -> Place:
        return Place(self.country, self.postal_code, self.city, self.country_area, self.street)


class WarehouseSetting(BaseModel):
    """A Saleor warehouse as a place parcels leave from, on its own calendar."""

    model_config = _ITEM

    id: str = Field(min_length=1, description="The Saleor warehouse id")
    name: str = ""
    origin: PlaceSetting
    time_zone: str
    holiday_country: str | None = Field(default=None, description="Defaults to the origin's country")
    holiday_subdivision: str | None = None
    working_days: tuple[Weekday, ...] = WEEKDAYS[:5]
    cutoffs: dict[Weekday, time] = Field(default_factory=lambda: dict.fromkeys(WEEKDAYS[:5], time(14)))
    handling_days_min: int = 0
    handling_days_max: int = 1
    closures: tuple[date, ...] = ()
    _warehouse: Warehouse = PrivateAttr()

    @model_validator(mode="after")
    def _builds(self) -> WarehouseSetting:
        try:
            calendar = BusinessCalendar(
                self.holiday_country or self.origin.country,
                self.holiday_subdivision or None,
                frozenset(WEEKDAYS.index(day) for day in self.working_days),
                frozenset(self.closures),
            )
            self._warehouse = Warehouse(
                self.time_zone,
                {WEEKDAYS.index(day): cutoff for day, cutoff in self.cutoffs.items()},
                calendar,
                self.handling_days_min,
                self.handling_days_max,
            )
        except InvalidSetting as exc:
            raise _refused(exc, f"warehouse {self.id}") from exc
        return self

    @property
    def warehouse(self) -> Warehouse:
        return self._warehouse


class LevelSetting(BaseModel):
    """A channel's promise for one level and what the shopper pays for it."""

    model_config = _ITEM

    promise_days: int = Field(ge=0, description="At most this many business days from the day handling starts")
    markup_pct: Decimal = Decimal(0)
    markup_fixed: Decimal = Decimal(0)
    flat_price: Decimal | None = None
    free_above: Decimal | None = None
    _pricing: PricingPolicy = PrivateAttr()

    @model_validator(mode="after")
    def _builds(self) -> LevelSetting:
        try:
            self._pricing = PricingPolicy(self.markup_pct, self.markup_fixed, self.flat_price, self.free_above)
        except InvalidSetting as exc:
            raise ValueError(f"{exc.field}: {exc.reason}") from exc
        return self

    @property
    def pricing(self) -> PricingPolicy:
        return self._pricing


class ChannelSetting(BaseModel):
    model_config = _ITEM

    channel: str = Field(min_length=1, description="The Saleor channel's slug")
    warehouse: str = Field(min_length=1, description="The id of the warehouse checkout quotes from")
    levels: dict[Level, LevelSetting] = Field(min_length=1)


class BoxSetting(BaseModel):
    model_config = _ITEM

    name: str
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal
    max_weight_kg: Decimal
    tare_kg: Decimal = Decimal(0)
    _box: Box = PrivateAttr()

    @model_validator(mode="after")
    def _builds(self) -> BoxSetting:
        try:
            self._box = Box(
                self.name,
                Dimensions(self.length_cm, self.width_cm, self.height_cm),
                self.max_weight_kg,
                self.tare_kg,
            )
        except InvalidSetting as exc:
            raise _refused(exc, f"box {self.name!r}") from exc
        return self

    @property
    def box(self) -> Box:
        return self._box


class ProductTypeSetting(BaseModel):
    """A product type's default packed size, and weight for variants Saleor knows none for."""

    model_config = _ITEM

    product_type: str = Field(min_length=1)
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal
    weight_kg: Decimal | None = Field(default=None, gt=0)
    _dimensions: Dimensions = PrivateAttr()

    @model_validator(mode="after")
    def _builds(self) -> ProductTypeSetting:
        try:
            self._dimensions = Dimensions(self.length_cm, self.width_cm, self.height_cm)
        except InvalidSetting as exc:
            raise _refused(exc, f"product type {self.product_type!r}") from exc
        return self

    @property
    def dimensions(self) -> Dimensions:
        return self._dimensions


class RuleSetting(BaseModel):
    """A merchant rule: every condition given must hold; the first matching rule applies."""

    model_config = _ITEM

    name: str
    countries: tuple[str, ...] = ()
    postal_prefixes: tuple[str, ...] = ()
    min_weight_kg: Decimal | None = None
    max_weight_kg: Decimal | None = None
    min_order_value: Decimal | None = None
    max_order_value: Decimal | None = None
    channels: tuple[str, ...] = ()
    product_types: tuple[str, ...] = ()
    only_carriers: tuple[str, ...] = ()
    excluded_carriers: tuple[str, ...] = ()
    strategy: Strategy = Strategy.CHEAPEST
    fixed_price: Decimal | None = None
    free_above: Decimal | None = None
    _rule: Rule = PrivateAttr()

    @model_validator(mode="after")
    def _builds(self) -> RuleSetting:
        try:
            self._rule = Rule(
                self.name,
                Conditions(
                    frozenset(country.upper() for country in self.countries),
                    self.postal_prefixes,
                    self.min_weight_kg,
                    self.max_weight_kg,
                    self.min_order_value,
                    self.max_order_value,
                    frozenset(self.channels),
                    frozenset(self.product_types),
                ),
                Actions(
                    frozenset(self.only_carriers),
                    frozenset(self.excluded_carriers),
                    self.strategy,
                    self.fixed_price,
                    self.free_above,
                ),
            )
        except InvalidSetting as exc:
            raise _refused(exc, f"rule {self.name!r}") from exc
        return self

    @property
    def rule(self) -> Rule:
        return self._rule


@dataclass(frozen=True, slots=True)
class OriginWarehouse:
    id: str
    name: str
    origin: Place
    warehouse: Warehouse


@dataclass(frozen=True, slots=True)
class ChannelShipping:
    channel: str
    warehouse_id: str
    promise: ChannelPromise
    pricing: Mapping[Level, PricingPolicy]


@dataclass(frozen=True, slots=True)
class ShippingConfiguration:
    """The settings as quoting needs them: domain objects, looked up by id, slug and name."""

    locale: str
    warehouses: Mapping[str, OriginWarehouse]
    channels: Mapping[str, ChannelShipping]
    boxes: tuple[Box, ...]
    default_dimensions: Mapping[str, Dimensions]
    default_weights_kg: Mapping[str, Decimal]
    dimension_attributes: tuple[str, ...]
    carrier_preference: tuple[str, ...]
    rules: tuple[Rule, ...]

    def preference(self, carrier: str) -> int:
        """0 for the most preferred carrier; carriers not listed come after every listed one."""
        try:
            return self.carrier_preference.index(carrier)
        except ValueError:
            return len(self.carrier_preference)


EXAMPLE_WAREHOUSES = (
    '[{"id": "V2FyZWhvdXNlOjE=", "name": "Brooklyn", "origin": {"country": "US", "postal_code": "11201"}, '
    '"time_zone": "America/New_York", "holiday_subdivision": "NY", "cutoffs": {"mon": "15:00", "fri": "12:00"}, '
    '"handling_days_min": 0, "handling_days_max": 1, "closures": ["2026-12-24"]}]'
)
EXAMPLE_CHANNELS = (
    '[{"channel": "default-channel", "warehouse": "V2FyZWhvdXNlOjE=", "levels": {"standard": {"promise_days": 5, '
    '"markup_pct": "10", "free_above": "75"}, "expedited": {"promise_days": 3, "flat_price": "14.90"}}}]'
)


def _names(value: object) -> object:
    if isinstance(value, str):
        return tuple(name.strip() for name in value.split(",") if name.strip())
    return value


def _unique(items: tuple[str, ...], what: str) -> None:
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise ValueError(f"{what} listed more than once: {', '.join(repeated)}")


class ShippingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    locale: str = Field(
        default="en",
        title="Checkout locale",
        description="How arrival dates are written at checkout, e.g. en, en_GB, de (a CLDR locale).",
    )
    warehouses: tuple[WarehouseSetting, ...] = Field(
        default=(),
        title="Warehouses",
        description="A JSON list, one entry per Saleor warehouse parcels leave from: id, name, origin (country, "
        "postal_code, city, country_area, street), time_zone, holiday_country (defaults to the origin's) and "
        "holiday_subdivision, working_days (mon…sun), cutoffs per weekday (local time; a day without one ships "
        f"nothing), handling_days_min and _max, closures (dates). E.g. {EXAMPLE_WAREHOUSES}",
        json_schema_extra=JSON_TEXT,
    )
    channels: tuple[ChannelSetting, ...] = Field(
        default=(),
        title="Channels: promises and prices",
        description="A JSON list, one entry per channel: its slug, the warehouse checkout quotes from and, per "
        "level (standard, expedited, overnight), promise_days (business days) and the price: carrier cost plus "
        "markup_pct and/or markup_fixed, or a flat_price; free_above an order value. A level left out is not "
        f"offered. E.g. {EXAMPLE_CHANNELS}",
        json_schema_extra=JSON_TEXT,
    )
    boxes: tuple[BoxSetting, ...] = Field(
        default=(),
        title="Boxes",
        description="A JSON list of your boxes: name, inner length_cm, width_cm, height_cm, max_weight_kg (with "
        'the box) and tare_kg, e.g. [{"name": "M", "length_cm": 40, "width_cm": 30, "height_cm": 20, '
        '"max_weight_kg": 20, "tare_kg": "0.4"}].',
        json_schema_extra=JSON_TEXT,
    )
    product_types: tuple[ProductTypeSetting, ...] = Field(
        default=(),
        title="Product type sizes",
        description="A JSON list: each product type's packed length_cm, width_cm, height_cm, and weight_kg for "
        'variants without a weight, e.g. [{"product_type": "Shoes", "length_cm": 33, "width_cm": 22, '
        '"height_cm": 12, "weight_kg": "1.1"}]. A line whose product type is not listed gets no options.',
        json_schema_extra=JSON_TEXT,
    )
    dimension_attributes: tuple[str, ...] = Field(
        default=(),
        title="Dimension attributes",
        description="The slugs of the product or variant attributes holding the packed size: three numeric "
        "attributes for length, width and height, in that order (e.g. 'length, width, height'), or one text "
        "attribute holding all three (e.g. 'package-size' with values such as '30 x 20 x 10 cm'). Saleor's "
        "attribute unit (mm, cm, m, in, ft…) is converted; a number without one is in cm. A variant's value "
        "wins over its product's. Lines without them, or with a value that is not a size, use the product "
        "type sizes; empty to use those only.",
    )
    carrier_preference: tuple[str, ...] = Field(
        default=(),
        title="Carrier preference",
        description="Carriers in the order you prefer them when prices and dates tie, comma-separated "
        "(e.g. 'UPS, FedEx, USPS').",
    )
    rules: tuple[RuleSetting, ...] = Field(
        default=(),
        title="Rules",
        description="A JSON list tried in order, the first that matches applies. Conditions: countries, "
        "postal_prefixes, min_/max_weight_kg, min_/max_order_value, channels, product_types. Actions: "
        "only_carriers, excluded_carriers, strategy (cheapest or fastest), fixed_price, free_above. E.g. "
        '[{"name": "Glass never by USPS", "product_types": ["Glassware"], "excluded_carriers": ["USPS"]}].',
        json_schema_extra=JSON_TEXT,
    )
    _configuration: ShippingConfiguration = PrivateAttr()

    @field_validator("warehouses", "channels", "boxes", "product_types", "rules", mode="before")
    @classmethod
    def _parse_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return ()
        try:
            return json.loads(value, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc

    @field_validator("dimension_attributes", "carrier_preference", mode="before")
    @classmethod
    def _parse_names(cls, value: object) -> object:
        return _names(value)

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        try:
            Locale.parse(value.strip())
        except (UnknownLocaleError, ValueError, TypeError) as exc:
            raise ValueError(f"{value!r} is not a locale such as en, en_GB or de") from exc
        return value.strip()

    @field_validator("warehouses")
    @classmethod
    def _unique_warehouses(cls, value: tuple[WarehouseSetting, ...]) -> tuple[WarehouseSetting, ...]:
        _unique(tuple(warehouse.id for warehouse in value), "warehouse")
        return value

    @field_validator("channels")
    @classmethod
    def _channels_quote_from_known_warehouses(
        cls, value: tuple[ChannelSetting, ...], info: ValidationInfo
    ) -> tuple[ChannelSetting, ...]:
        _unique(tuple(channel.channel for channel in value), "channel")
        warehouses = info.data.get("warehouses")
        if warehouses is not None:  # None when the warehouses were refused: that error is shown
            known = {warehouse.id for warehouse in warehouses}
            for channel in value:
                if channel.warehouse not in known:
                    raise ValueError(
                        f"channel {channel.channel}: warehouse {channel.warehouse!r} is not among the warehouses"
                    )
        return value

    @field_validator("boxes")
    @classmethod
    def _unique_boxes(cls, value: tuple[BoxSetting, ...]) -> tuple[BoxSetting, ...]:
        _unique(tuple(box.name for box in value), "box")
        return value

    @field_validator("product_types")
    @classmethod
    def _unique_product_types(cls, value: tuple[ProductTypeSetting, ...]) -> tuple[ProductTypeSetting, ...]:
        _unique(tuple(item.product_type for item in value), "product type")
        return value

    @field_validator("dimension_attributes")
    @classmethod
    def _one_or_three(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) not in (0, 1, 3):
            raise ValueError(
                f"name three attributes (length, width, height) or one holding all three, not {len(value)}"
            )
        _unique(tuple(slug.lower() for slug in value), "attribute")
        return value

    @field_validator("carrier_preference")
    @classmethod
    def _unique_carriers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _unique(value, "carrier")
        return value

    @model_validator(mode="after")
    def _builds(self) -> ShippingSettings:
        self._configuration = ShippingConfiguration(
            locale=self.locale,
            warehouses={
                item.id: OriginWarehouse(item.id, item.name or item.id, item.origin.place(), item.warehouse)
                for item in self.warehouses
            },
            channels={
                item.channel: ChannelShipping(
                    item.channel,
                    item.warehouse,
                    ChannelPromise({level: setting.promise_days for level, setting in item.levels.items()}),
                    {level: setting.pricing for level, setting in item.levels.items()},
                )
                for item in self.channels
            },
            boxes=tuple(item.box for item in self.boxes),
            default_dimensions={item.product_type: item.dimensions for item in self.product_types},
            default_weights_kg={
                item.product_type: item.weight_kg for item in self.product_types if item.weight_kg is not None
            },
            dimension_attributes=self.dimension_attributes,
            carrier_preference=self.carrier_preference,
            rules=tuple(item.rule for item in self.rules),
        )
        return self

    def configuration(self) -> ShippingConfiguration:
        return self._configuration
