"""Per-store settings: one validated section per capability, every change kept with who and when."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.domain.ids import SaleorApiUrl
from app.domain.inventory import CostingPolicy, Method
from app.services.costing_settings import CostingSettings
from app.services.fraud_settings import FraudSettings
from app.services.ports import SettingsChange, SettingsStore
from app.services.shipping.settings import ShippingSettings
from app.services.support.settings import SupportSettings


class GeneralSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = Field(
        default="UTC",
        title="Store time zone",
        description="Times in these pages are shown in this zone (an IANA name such as Europe/Warsaw).",
    )
    payload_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        title="Keep webhook bodies for (days)",
        description="Order webhooks carry the customer's e-mail, addresses, IP address and card BIN and last 4. "
        "This many days after a delivery is processed its body is erased; the event stays listed, and "
        "assessments, reviews and the cost ledger are kept (1 to 3650 days).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a time zone name such as Europe/Warsaw or America/New_York") from exc
        return value


# The settings page belongs to whoever manages orders: they read every section. Whoever may change a
# section reads it too, so a shipping manager without MANAGE_ORDERS sees (and edits) shipping alone.
READS_EVERY_SECTION = "MANAGE_ORDERS"


@dataclass(frozen=True, slots=True)
class SettingsSection:
    key: str
    title: str
    model: type[BaseModel]
    # The staff permission needed to change it; it also lets its holder read it (``readable_by``).
    permission: str
    choices: Mapping[str, list[str]] = field(default_factory=dict)

    def readable_by(self, permissions: Collection[str]) -> bool:
        return READS_EVERY_SECTION in permissions or self.permission in permissions


SECTIONS: dict[str, SettingsSection] = {
    section.key: section
    for section in [
        SettingsSection(
            key="general",
            title="General",
            model=GeneralSettings,
            permission="MANAGE_APPS",
            choices={"timezone": sorted(available_timezones())},
        ),
        # Whoever may cancel orders may decide which orders get held or cancelled.
        SettingsSection(key="fraud", title="Fraud scoring", model=FraudSettings, permission="MANAGE_ORDERS"),
        # The app holds MANAGE_ORDERS only, so that is the most a dashboard token can carry.
        SettingsSection(
            key="costing",
            title="Cost valuation",
            model=CostingSettings,
            permission="MANAGE_ORDERS",
            choices={"method": [method.value for method in Method]},
        ),
        # Checkout's shipping options and the carrier each order ships with: who manages shipping decides.
        SettingsSection(key="shipping", title="Shipping", model=ShippingSettings, permission="MANAGE_SHIPPING"),
        # The support team works orders: whoever manages orders sets its hours and SLAs.
        SettingsSection(key="support", title="Support", model=SupportSettings, permission="MANAGE_ORDERS"),
    ]
}


def readable_sections(permissions: Collection[str]) -> list[SettingsSection]:
    """The sections a staff member holding ``permissions`` may see, in the page's order."""
    return [section for section in SECTIONS.values() if section.readable_by(permissions)]


@dataclass(frozen=True, slots=True)
class SettingsRejected:
    """What was wrong, field by field; nothing was saved."""

    section: SettingsSection
    errors: dict[str, str]
    submitted: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SettingsSaved:
    section: SettingsSection
    values: BaseModel
    changed: bool


def _message(inner: tuple[int | str, ...], message: str) -> str:
    """The reason, after where in a structured field it applies: "item 2 › cutoffs › mon: …"."""
    reason = message.removeprefix("Value error, ")
    if not inner:
        return reason
    where = " › ".join(f"item {part + 1}" if isinstance(part, int) else part for part in inner)
    return f"{where}: {reason}"


async def read_settings(store: SettingsStore, saleor_api_url: SaleorApiUrl, section: SettingsSection) -> BaseModel:
    stored = await store.get(saleor_api_url, section.key)
    if section.model.model_config.get("frozen"):
        # Keyed by the values' canonical JSON text, which any stored section (lists too) has.
        return _validated(section.model, json.dumps(stored or {}, sort_keys=True))
    return section.model.model_validate(stored or {})


@lru_cache(maxsize=256)
def _validated(model: type[BaseModel], stored: str) -> BaseModel:
    """An immutable section validated once per distinct stored values, not every time it is read (the
    pipeline reads the fraud section for every order it scores, checkout the shipping section for
    every cart)."""
    return model.model_validate_json(stored)


async def change_settings(
    store: SettingsStore,
    saleor_api_url: SaleorApiUrl,
    section: SettingsSection,
    submitted: Mapping[str, Any],
    *,
    changed_by: str,
    now: datetime,
) -> SettingsSaved | SettingsRejected:
    """Validate the whole section; save it and record the change only if every field is valid."""
    unknown = sorted(set(submitted) - set(section.model.model_fields))
    if unknown:
        return SettingsRejected(section, dict.fromkeys(unknown, "This setting does not exist."), submitted)
    try:
        values = section.model.model_validate(dict(submitted))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "__all__"
            message = _message(error["loc"][1:], error["msg"])
            errors[name] = f"{errors[name]}; {message}" if name in errors else message
        return SettingsRejected(section, errors, submitted)
    before = await read_settings(store, saleor_api_url, section)
    if before == values:
        return SettingsSaved(section, values, changed=False)
    await store.save(
        saleor_api_url,
        SettingsChange(
            section=section.key,
            changed_at=now,
            changed_by=changed_by,
            before=json.dumps(before.model_dump(mode="json"), sort_keys=True),
            after=json.dumps(values.model_dump(mode="json"), sort_keys=True),
        ),
    )
    return SettingsSaved(section, values, changed=True)


async def costing_policy(store: SettingsStore, saleor_api_url: SaleorApiUrl) -> CostingPolicy:
    costing = await read_settings(store, saleor_api_url, SECTIONS["costing"])
    assert isinstance(costing, CostingSettings)
    return costing.policy()


async def store_timezone(store: SettingsStore, saleor_api_url: SaleorApiUrl) -> ZoneInfo:
    return ZoneInfo((await _general(store, saleor_api_url)).timezone)


async def payload_retention_days(store: SettingsStore, saleor_api_url: SaleorApiUrl) -> int:
    return (await _general(store, saleor_api_url)).payload_retention_days


async def _general(store: SettingsStore, saleor_api_url: SaleorApiUrl) -> GeneralSettings:
    general = await read_settings(store, saleor_api_url, SECTIONS["general"])
    assert isinstance(general, GeneralSettings)
    return general
