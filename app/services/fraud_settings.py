"""The fraud section of a store's settings: thresholds, write-back choices, rules and reshippers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator, model_validator

from app.domain.fraud import AddressFacts, FraudPolicy, FraudPolicyInvalid, Rule, RulesInvalid, parse_rules

# Radar ships "block if the CVC check fails" as an optional rule; a review is the gentler default.
# Card testing shows as one card tried on several orders within minutes.
DEFAULT_RULES = json.dumps(
    [
        {
            "name": "CVC check failed",
            "action": "review",
            "when": [{"attribute": "cvv_result", "op": "=", "value": "mismatch"}],
        },
        {
            "name": "Card testing",
            "action": "block",
            "when": [{"attribute": "velocity_card", "op": ">=", "value": 2, "window_hours": 1}],
        },
    ],
    indent=1,
)
TEXTAREA: dict[str, JsonValue] = {"widget": "textarea"}
CHECKBOX: dict[str, JsonValue] = {"widget": "checkbox"}


def _channel_thresholds(text: str) -> dict[str, tuple[int, int]]:
    """``default-channel: 60/70`` per line → {slug: (review, reject)}."""
    thresholds: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        slug, _, pair = line.partition(":")
        review, _, reject = pair.partition("/")
        try:
            thresholds[slug.strip()] = (int(review), int(reject))
        except ValueError as exc:
            raise ValueError(
                f"line {number}: write 'channel-slug: review/reject', e.g. 'default-channel: 60/70'"
            ) from exc
        if not slug.strip():
            raise ValueError(f"line {number}: the channel slug is missing")
    return thresholds


def _reshippers(text: str) -> tuple[AddressFacts, ...]:
    """``street; postal code; country`` per line."""
    addresses = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split(";")]
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"line {number}: write 'street; postal code; country', e.g. '7855 NW 37th St; 33166; US'")
        street, postal_code, country = parts
        addresses.append(AddressFacts(country=country.upper(), postal_code=postal_code, street=street))
    return tuple(addresses)


class FraudSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    review_threshold: int = Field(
        default=65,
        ge=0,
        le=101,
        title="Review at score",
        description="Orders scoring this or more wait for a person (101 switches review off).",
    )
    reject_threshold: int = Field(
        default=75,
        ge=0,
        le=101,
        title="Reject at score",
        description="Orders scoring this or more are rejected (101 switches it off).",
    )
    channel_thresholds: str = Field(
        default="",
        title="Thresholds per channel",
        description="One channel per line, 'channel-slug: review/reject', e.g. 'wholesale: 80/90'.",
        json_schema_extra=TEXTAREA,
    )
    fraud_cost_multiplier: str = Field(
        default="3.36",
        title="Cost of fraud per $1 lost",
        description="What a fraudulent dollar really costs once fees and replacement are counted "
        "(LexisNexis 2020: 3.36).",
    )
    confirm_approved: bool = Field(
        default=True,
        title="Confirm approved orders",
        description="Release an approved order held as UNCONFIRMED in Saleor (orderConfirm).",
        json_schema_extra=CHECKBOX,
    )
    cancel_rejected: bool = Field(
        default=False,
        title="Cancel rejected orders",
        description="Cancel a rejected order in Saleor (orderCancel); otherwise it stays held for the review queue.",
        json_schema_extra=CHECKBOX,
    )
    rules: str = Field(
        default=DEFAULT_RULES,
        title="Rules",
        description="A JSON list, checked allow → block → review, first match wins; e.g. "
        '[{"name": "big orders", "action": "review", '
        '"when": [{"attribute": "order_total", "op": ">", "value": "1000"}]}]. See docs/fraud-scoring.md.',
        json_schema_extra=TEXTAREA,
    )
    reshipper_addresses: str = Field(
        default="",
        title="Reshipper addresses",
        description="Freight forwarders you know, one per line: 'street; postal code; country'.",
        json_schema_extra=TEXTAREA,
    )

    @field_validator("reject_threshold")
    @classmethod
    def _reject_above_review(cls, value: int, info: ValidationInfo) -> int:
        review = info.data.get("review_threshold")
        if review is not None and value < review:
            raise ValueError(f"must be at least the review threshold ({review})")
        return value

    @field_validator("channel_thresholds")
    @classmethod
    def _valid_channel_thresholds(cls, value: str) -> str:
        for slug, (review, reject) in _channel_thresholds(value).items():
            if not (0 <= review <= reject <= 101):
                raise ValueError(f"{slug}: need 0 ≤ review ≤ reject ≤ 101, got {review}/{reject}")
        return value

    @field_validator("fraud_cost_multiplier")
    @classmethod
    def _positive_decimal(cls, value: str) -> str:
        try:
            number = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a number") from exc
        if not number.is_finite() or number < 1:
            raise ValueError("must be a number of at least 1")
        return value.strip()

    @field_validator("rules")
    @classmethod
    def _valid_rules(cls, value: str) -> str:
        try:
            parse_rules(json.loads(value or "[]"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
        except RulesInvalid as exc:
            raise ValueError("; ".join(exc.errors)) from exc
        return value

    @field_validator("reshipper_addresses")
    @classmethod
    def _valid_reshippers(cls, value: str) -> str:
        _reshippers(value)
        return value

    @model_validator(mode="after")
    def _a_valid_policy(self) -> FraudSettings:
        _policy(self)
        return self


def _policy(settings: FraudSettings) -> FraudPolicy:
    try:
        return FraudPolicy(
            review_threshold=settings.review_threshold,
            reject_threshold=settings.reject_threshold,
            channel_thresholds=_channel_thresholds(settings.channel_thresholds),
            fraud_cost_multiplier=Decimal(settings.fraud_cost_multiplier),
            reshipper_addresses=_reshippers(settings.reshipper_addresses),
        )
    except FraudPolicyInvalid as exc:
        raise ValueError("; ".join(exc.errors)) from exc


@dataclass(frozen=True, slots=True)
class FraudConfiguration:
    """The settings as the scoring needs them."""

    policy: FraudPolicy
    rules: tuple[Rule, ...]
    confirm_approved: bool
    cancel_rejected: bool


@lru_cache(maxsize=256)
def configuration(settings: FraudSettings) -> FraudConfiguration:
    """Parsed once per distinct settings (rules compile their conditions), not once per order."""
    return FraudConfiguration(
        policy=_policy(settings),
        rules=parse_rules(json.loads(settings.rules or "[]")),
        confirm_approved=settings.confirm_approved,
        cancel_rejected=settings.cancel_rejected,
    )
