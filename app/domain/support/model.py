"""Support's shared vocabulary: priorities, channels and the errors that name what was refused."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    """Where a ticket came from: a customer's e-mail, the storefront's form, the store itself, or a staff user
    opening one from the order page (after a call or a chat)."""

    EMAIL = "email"
    WEB_FORM = "web_form"
    STORE = "store"
    STAFF = "staff"


class StoreReason(StrEnum):
    """Why the store opened a ticket itself, before the customer wrote."""

    HELD_FOR_REVIEW = "held_for_review"  # fraud review holds the order
    PROMISE_AT_RISK = "promise_at_risk"  # a shipment can no longer keep its promised date
    PARTNER_REJECTED = "partner_rejected"  # a 3PL or supplier refused the hand-off
    PARTNER_NO_ANSWER = "partner_no_answer"  # a hand-off was never acknowledged
    EFFECT_FAILED = "effect_failed"  # a write-back to Saleor failed after its last retry
    SOLD_BEYOND_STOCK = "sold_beyond_stock"  # a sale was booked for more than the stock held


class InvalidSupportSetting(ValueError):
    """Business hours or an SLA policy that cannot be used; ``field`` names it for a settings form."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def as_utc(name: str, instant: datetime) -> datetime:
    """The aware ``instant`` in UTC, as support keeps every time; a naive one is refused, naming ``name``."""
    if instant.tzinfo is UTC:
        return instant
    if instant.utcoffset() is None:
        raise ValueError(f"{name} must be a time-zone aware datetime, not {instant!r}")
    return instant.astimezone(UTC)
