"""The support section of a store's settings: the team's business hours and calendar, its SLA policies,
and when solved tickets close.

Hours and policies are edited in the dashboard as JSON (a text field given a string is parsed first),
closed dates as comma-separated ISO dates. Each part is turned into its domain object while it is
validated, so a bad value is refused naming where it is, and a store's saved settings always build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

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

from app.domain.money import Money
from app.domain.support.hours import BusinessHours
from app.domain.support.model import Channel, InvalidSupportSetting, Priority
from app.domain.support.sla import Conditions, Metric, SlaPolicy
from app.domain.support.ticket import AUTO_CLOSE_AFTER, AUTO_CLOSE_LONGEST

JSON_TEXT: dict[str, JsonValue] = {"widget": "json"}
CHECKBOX: dict[str, JsonValue] = {"widget": "checkbox"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ITEM = ConfigDict(extra="forbid", frozen=True)

# A starting point in the spirit of Zendesk's examples: urgent first, and every target in business hours.
DEFAULT_POLICIES: list[dict[str, object]] = [
    {
        "name": "Standard",
        "targets": {
            "urgent": {"first_reply": 60, "next_reply": 120, "resolution": 480},
            "high": {"first_reply": 120, "next_reply": 240, "resolution": 960},
            "normal": {"first_reply": 480, "next_reply": 480, "resolution": 2400},
            "low": {"first_reply": 960, "next_reply": 960, "resolution": 4800},
        },
    }
]


def _office_hours() -> dict[str, tuple[tuple[time, time], ...]]:
    return {day: ((time(9), time(17)),) for day in WEEKDAYS[:5]}


def _refused(exc: InvalidSupportSetting, whose: str) -> ValueError:
    return ValueError(f"{whose}: {exc.field}: {exc.reason}")


class PolicySetting(BaseModel):
    """An SLA policy: conditions that must all hold, and targets in minutes per priority and metric."""

    model_config = _ITEM

    name: str = Field(min_length=1, max_length=128)
    priorities: tuple[Priority, ...] = ()
    channels: tuple[Channel, ...] = ()
    tags: tuple[str, ...] = ()
    min_order_value: Decimal | None = None
    max_order_value: Decimal | None = None
    currency: str | None = Field(default=None, description="The order values' currency, needed with either bound")
    business_hours: bool = Field(default=True, description="False counts every minute of every day")
    targets: dict[Priority, dict[Metric, int]] = Field(min_length=1)

    def policy(self, hours: BusinessHours) -> SlaPolicy:
        """The domain policy, counted in ``hours`` (or every minute when the policy says so)."""
        try:
            return self._build(hours)
        except InvalidSupportSetting as exc:
            raise _refused(exc, f"policy {self.name!r}") from exc

    def _build(self, hours: BusinessHours) -> SlaPolicy:
        bounds = (self.min_order_value, self.max_order_value)
        if self.currency is None and any(bound is not None for bound in bounds):
            raise InvalidSupportSetting("currency", "order value bounds need their currency")
        try:
            low, high = (None if v is None or self.currency is None else Money(v, self.currency) for v in bounds)
        except ValueError as exc:
            raise InvalidSupportSetting("currency", str(exc)) from exc
        try:
            conditions = Conditions(
                frozenset(self.priorities), frozenset(self.channels), frozenset(self.tags), low, high
            )
        except ValueError as exc:  # a tag that is not one word
            if isinstance(exc, InvalidSupportSetting):
                raise
            raise InvalidSupportSetting("tags", str(exc)) from exc
        return SlaPolicy(self.name, self.targets, hours if self.business_hours else BusinessHours.always(), conditions)


@dataclass(frozen=True, slots=True)
class SupportConfiguration:
    """The settings as the desk needs them: domain objects."""

    hours: BusinessHours
    policies: tuple[SlaPolicy, ...]
    close_solved_after: timedelta
    warn_before: timedelta


class SupportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    time_zone: str = Field(
        default="UTC",
        title="Team time zone",
        description="The zone the business hours are in (an IANA name such as Europe/Warsaw).",
    )
    hours: dict[str, tuple[tuple[time, time], ...]] = Field(
        default_factory=_office_hours,
        title="Business hours",
        description="A JSON object: per weekday (mon…sun) its windows as [opens, closes] local times; a day left "
        'out is not worked, 00:00 as a closing time is midnight. E.g. {"mon": [["09:00", "12:30"], '
        '["13:30", "17:00"]], "sat": [["10:00", "14:00"]]}',
        json_schema_extra=JSON_TEXT,
    )
    holiday_country: str | None = Field(
        default=None,
        title="Public holidays of",
        description="A country code (e.g. US, PL, GB): its public holidays are not worked. Empty for none.",
    )
    holiday_subdivision: str | None = Field(
        default=None,
        title="Holidays' subdivision",
        description="A state or region of that country whose own holidays count too (e.g. NY, CA). Empty for none.",
    )
    closures: tuple[date, ...] = Field(
        default=(),
        title="Team closures",
        description="Dates the team does not work besides public holidays, comma-separated (e.g. 2026-12-24, "
        "2026-12-31).",
    )
    policies: tuple[PolicySetting, ...] = Field(
        default_factory=lambda: tuple(PolicySetting.model_validate(policy) for policy in DEFAULT_POLICIES),
        title="SLA policies",
        description="A JSON list tried in order, the first that matches a ticket applies. Conditions (all must hold, "
        "empty holds always): priorities, channels (email, web_form, store, staff), tags, min_/max_order_value "
        "with their currency. Targets per priority (low, normal, high, urgent): first_reply, next_reply and "
        "resolution in minutes of business hours (business_hours: false counts every minute). A priority left "
        'out is not measured. E.g. [{"name": "VIP", "tags": ["vip"], "targets": {"normal": {"first_reply": 60}}}]',
        json_schema_extra=JSON_TEXT,
    )
    close_solved_after_days: int = Field(
        default=AUTO_CLOSE_AFTER.days,
        ge=1,
        le=AUTO_CLOSE_LONGEST.days,
        title="Close solved tickets after (days)",
        description="A solved ticket closes this many days after it was solved (1 to 28); a customer writing "
        "after that opens a follow-up ticket.",
    )
    warn_before_minutes: int = Field(
        default=30,
        ge=0,
        le=7 * 24 * 60,
        title="Warn before a breach (minutes)",
        description="A clock this close to its deadline is shown as a warning.",
    )
    notify_assignees: bool = Field(
        default=True,
        title="E-mail assignees",
        description="A person assigned a ticket, or whose ticket the customer answered, gets an e-mail with a "
        "link to it (through the support mail's SMTP server).",
        json_schema_extra=CHECKBOX,
    )
    dashboard_url: str | None = Field(
        default=None,
        max_length=2048,
        title="Saleor dashboard address",
        description="Where your team opens the Saleor dashboard, for the links in those e-mails (e.g. "
        "https://shop.example/dashboard/). Empty: the API's host with /dashboard/, as Saleor serves it.",
    )
    _configuration: SupportConfiguration = PrivateAttr()

    @field_validator("hours", "policies", mode="before")
    @classmethod
    def _parse_json(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        if not value.strip():  # no hours (refused: the team works some time) or no policies (no SLA)
            return {} if info.field_name == "hours" else ()
        try:
            return json.loads(value, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc

    @field_validator("closures", mode="before")
    @classmethod
    def _parse_dates(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(day.strip() for day in value.split(",") if day.strip())
        return value

    @field_validator("holiday_country", "holiday_subdivision", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().upper() or None
        return value

    @field_validator("dashboard_url", mode="before")
    @classmethod
    def _an_address(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        value = value.strip()
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"{value!r} is not the address of a dashboard (http or https, no query)")
        return value

    @field_validator("hours")
    @classmethod
    def _known_weekdays(
        cls, value: dict[str, tuple[tuple[time, time], ...]]
    ) -> dict[str, tuple[tuple[time, time], ...]]:
        unknown = sorted(set(value) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"weekdays are mon…sun, not {', '.join(unknown)}")
        return value

    @field_validator("policies")
    @classmethod
    def _unique_names(cls, value: tuple[PolicySetting, ...]) -> tuple[PolicySetting, ...]:
        names = [policy.name for policy in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"policy listed more than once: {', '.join(repeated)}")
        return value

    @model_validator(mode="after")
    def _builds(self) -> SupportSettings:
        try:
            hours = BusinessHours(
                self.time_zone,
                {WEEKDAYS.index(day): windows for day, windows in self.hours.items()},
                self.holiday_country,
                self.holiday_subdivision,
                frozenset(self.closures),
            )
        except InvalidSupportSetting as exc:
            raise _refused(exc, "business hours") from exc
        self._configuration = SupportConfiguration(
            hours=hours,
            policies=tuple(policy.policy(hours) for policy in self.policies),
            close_solved_after=timedelta(days=self.close_solved_after_days),
            warn_before=timedelta(minutes=self.warn_before_minutes),
        )
        return self

    def configuration(self) -> SupportConfiguration:
        return self._configuration
