"""Interfaces the services depend on; adapters in app.db, app.graphql and app.saleor implement them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from app.domain.fraud import ListEntry, ListKind, OrderFacts, Reason, RiskAssessment, Stage, VelocityProbe
from app.domain.ids import AppId, SaleorApiUrl, SaleorId
from app.domain.installation import Installation
from app.domain.order_event import ReceivedOrderEvent


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class InstallationStore(Protocol):
    async def get(self, saleor_api_url: SaleorApiUrl) -> Installation | None: ...
    async def save(self, installation: Installation) -> None: ...
    async def replace_jwks(self, saleor_api_url: SaleorApiUrl, jwks: str, now: datetime) -> None: ...
    async def mark_revoked(self, saleor_api_url: SaleorApiUrl, now: datetime) -> None: ...
    async def delete(self, saleor_api_url: SaleorApiUrl) -> bool: ...


class OrderEventLog(Protocol):
    async def record(self, event: ReceivedOrderEvent) -> bool: ...


@dataclass(frozen=True, slots=True)
class SettingsChange:
    section: str
    changed_at: datetime
    changed_by: str
    before: str
    after: str


class SettingsStore(Protocol):
    async def get(self, saleor_api_url: SaleorApiUrl, section: str) -> dict[str, object] | None: ...
    async def save(self, saleor_api_url: SaleorApiUrl, change: SettingsChange) -> None:
        """Write ``change.after`` as the section's values and keep ``change`` in the history."""

    async def history(self, saleor_api_url: SaleorApiUrl, limit: int) -> list[SettingsChange]: ...


@dataclass(frozen=True, slots=True)
class AppIdentity:
    app_id: AppId
    saleor_version: str | None


class SaleorAuthority(Protocol):
    """What registration asks of the Saleor instance that claims to install us."""

    async def identify_app(self, saleor_api_url: SaleorApiUrl, token: str) -> AppIdentity: ...
    async def fetch_jwks(self, saleor_api_url: SaleorApiUrl) -> str: ...


class SaleorGateway(Protocol):
    """What the services ask of a store's GraphQL API (``GqlSaleorGateway`` implements it)."""

    async def add_order_note(self, order_id: SaleorId, message: str) -> None: ...
    async def confirm_order(self, order_id: SaleorId) -> None: ...
    async def record_fraud_decision(
        self, order_id: SaleorId, metadata: dict[str, str], note: str, *, confirm: bool
    ) -> None:
        """Metadata, note and (when ``confirm``) the order's release, in one request."""

    async def cancel_order(self, order_id: SaleorId) -> None: ...


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    store_order_count: int
    store_median_total: Decimal | None
    customer_order_count: int
    customer_average_total: Decimal | None


@dataclass(frozen=True, slots=True)
class StoredAssessment:
    order_id: str
    order_number: str
    stage: Stage
    score: int
    decision: str
    deciding_rule: str
    reasons: tuple[Reason, ...]
    total: Decimal
    currency: str
    email: str | None
    expected_loss: Decimal | None
    margin: Decimal | None
    assessed_at: datetime


@dataclass(frozen=True, slots=True)
class FraudReview:
    order_id: str
    order_number: str
    status: str  # open | closed
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    closed_by: str | None
    closed_reason: str | None
    note: str


class FraudRepository(Protocol):
    async def save_assessment(
        self, url: SaleorApiUrl, assessment: RiskAssessment, facts: OrderFacts, order_number: str
    ) -> bool: ...
    async def assessments(self, url: SaleorApiUrl, order_id: str) -> list[StoredAssessment]: ...
    async def assessments_of(
        self, url: SaleorApiUrl, order_ids: Sequence[str]
    ) -> dict[str, list[StoredAssessment]]: ...
    async def customer_history(self, url: SaleorApiUrl, facts: OrderFacts) -> CustomerHistory: ...
    async def count_velocity(
        self, url: SaleorApiUrl, probes: Sequence[VelocityProbe], *, order_id: str, now: datetime
    ) -> dict[VelocityProbe, int]: ...
    async def remember_velocity(
        self, url: SaleorApiUrl, probes: Sequence[VelocityProbe], *, order_id: str, at: datetime
    ) -> None: ...
    async def identifiers(self, url: SaleorApiUrl, order_id: str) -> dict[str, str]: ...
    async def identifiers_of(self, url: SaleorApiUrl, order_ids: Sequence[str]) -> dict[str, dict[str, str]]: ...
    async def list_entries(self, url: SaleorApiUrl) -> list[ListEntry]: ...
    async def add_list_entry(self, url: SaleorApiUrl, entry: ListEntry, *, by: str, at: datetime) -> None: ...
    async def remove_list_entry(self, url: SaleorApiUrl, kind: ListKind, value: str) -> bool: ...
    async def open_review(
        self, url: SaleorApiUrl, order_id: str, order_number: str, *, by: str, at: datetime
    ) -> bool: ...
    async def review(self, url: SaleorApiUrl, order_id: str) -> FraudReview | None: ...
    async def close_review(
        self, url: SaleorApiUrl, order_id: str, *, reason: str, by: str, at: datetime, note: str
    ) -> bool: ...
    async def open_reviews(self, url: SaleorApiUrl, limit: int) -> list[FraudReview]: ...
