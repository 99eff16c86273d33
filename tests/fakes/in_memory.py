"""In-memory implementations of the service ports, typed against the real Protocols."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from app.domain.fraud import ListEntry, ListKind, OrderFacts, RiskAssessment, Stage, VelocityDimension, VelocityProbe
from app.domain.ids import AppId, SaleorApiUrl, SaleorId
from app.domain.installation import Installation
from app.domain.order_event import FailedDelivery, ReceivedOrderEvent
from app.errors import GraphQLErrorDetail, JwksUnavailableError, SaleorApiError, SaleorMutationError
from app.services.ports import (
    CANCELLED_IN_SALEOR,
    AppIdentity,
    ChannelRef,
    CustomerHistory,
    FraudRepository,
    FraudReview,
    InstallationStore,
    KeptStore,
    OrderEventLog,
    RetentionStore,
    SaleorAuthority,
    SaleorGateway,
    SettingsChange,
    SettingsStore,
    StockLevel,
    StoredAssessment,
    WarehouseRef,
)


class InMemoryInstallationStore:
    def __init__(self) -> None:
        self.rows: dict[SaleorApiUrl, Installation] = {}

    async def get(self, saleor_api_url: SaleorApiUrl) -> Installation | None:
        return self.rows.get(saleor_api_url)

    async def save(self, installation: Installation) -> None:
        self.rows[installation.saleor_api_url] = installation

    async def replace_jwks(self, saleor_api_url: SaleorApiUrl, jwks: str, now: datetime) -> None:
        self.rows[saleor_api_url] = dataclasses.replace(self.rows[saleor_api_url], jwks=jwks, updated_at=now)

    async def mark_revoked(self, saleor_api_url: SaleorApiUrl, now: datetime) -> None:
        self.rows[saleor_api_url] = dataclasses.replace(self.rows[saleor_api_url], revoked_at=now)

    async def uninstall(self, saleor_api_url: SaleorApiUrl, now: datetime) -> None:
        row = self.rows[saleor_api_url]
        self.rows[saleor_api_url] = dataclasses.replace(
            row, token="", revoked_at=row.revoked_at or now, uninstalled_at=row.uninstalled_at or now
        )

    async def delete(self, saleor_api_url: SaleorApiUrl) -> bool:
        return self.rows.pop(saleor_api_url, None) is not None


class InMemoryOrderEventLog:
    def __init__(self) -> None:
        self.events: dict[tuple[str, str, str, datetime], ReceivedOrderEvent] = {}
        self.failed: dict[tuple[str, str, str], FailedDelivery] = {}

    async def record(self, event: ReceivedOrderEvent) -> bool:
        key = (event.saleor_api_url, event.event, event.order_id, event.issued_at)
        if key in self.events:
            return False
        self.events[key] = event
        return True

    async def record_failed(self, delivery: FailedDelivery) -> bool:
        key = (delivery.saleor_api_url, delivery.event, delivery.fingerprint)
        if key in self.failed:
            return False
        self.failed[key] = delivery
        return True


class InMemorySettingsStore:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], dict[str, object]] = {}
        self.changes: list[SettingsChange] = []

    async def get(self, saleor_api_url: SaleorApiUrl, section: str) -> dict[str, object] | None:
        return self.values.get((saleor_api_url, section))

    async def save(self, saleor_api_url: SaleorApiUrl, change: SettingsChange) -> None:
        self.values[(saleor_api_url, change.section)] = json.loads(change.after)
        self.changes.append(change)

    async def history(self, saleor_api_url: SaleorApiUrl, limit: int) -> list[SettingsChange]:
        return list(reversed(self.changes))[:limit]


class InMemoryRetentionStore:
    """Each store's prunable rows as the instants that make them due, per prune; each call recorded."""

    def __init__(self) -> None:
        self.kept: dict[SaleorApiUrl, datetime | None] = {}  # store → when it was uninstalled
        self.due_at: dict[tuple[SaleorApiUrl, str], list[datetime]] = {}
        self.calls: list[tuple[str, SaleorApiUrl, datetime, int]] = []
        self.failing: set[SaleorApiUrl] = set()

    def add(self, url: SaleorApiUrl, prune: str, *instants: datetime) -> None:
        self.kept.setdefault(url, None)
        self.due_at.setdefault((url, prune), []).extend(instants)

    async def stores(self) -> list[KeptStore]:
        return [KeptStore(url, at) for url, at in sorted(self.kept.items())]

    async def delete_uninstalled(self, url: SaleorApiUrl, *, uninstalled_before: datetime) -> bool:
        at = self.kept.get(url)
        if at is None or at > uninstalled_before:
            return False
        del self.kept[url]
        for key in [key for key in self.due_at if key[0] == url]:
            del self.due_at[key]
        return True

    async def prune_delivery_payloads(self, url: SaleorApiUrl, *, processed_before: datetime, limit: int) -> int:
        return self._prune("delivery_payloads", url, processed_before, limit)

    async def prune_failed_delivery_payloads(self, url: SaleorApiUrl, *, received_before: datetime, limit: int) -> int:
        return self._prune("failed_delivery_payloads", url, received_before, limit)

    async def prune_effect_payloads(self, url: SaleorApiUrl, *, done_before: datetime, limit: int) -> int:
        return self._prune("effect_payloads", url, done_before, limit)

    async def forget_velocity_keys(self, url: SaleorApiUrl, *, seen_before: datetime, limit: int) -> int:
        return self._prune("velocity_keys", url, seen_before, limit)

    def _prune(self, prune: str, url: SaleorApiUrl, before: datetime, limit: int) -> int:
        if url in self.failing:
            raise RuntimeError("the database went away")
        self.calls.append((prune, url, before, limit))
        instants = self.due_at.get((url, prune), [])
        due = [at for at in instants if at < before][:limit]
        for at in due:
            instants.remove(at)
        return len(due)


class FakeSaleorAuthority:
    def __init__(self, *, app_id: str = "QXBwOjE=", jwks: str = '{"keys": []}') -> None:
        self.app_id = app_id
        self.jwks = jwks
        self.token_valid = True
        self.jwks_available = True
        self.tokens_seen: list[str] = []

    async def identify_app(self, saleor_api_url: SaleorApiUrl, token: str) -> AppIdentity:
        self.tokens_seen.append(token)
        if not self.token_valid:
            raise SaleorApiError("401", operation="AppIdentity")
        return AppIdentity(app_id=AppId(self.app_id), saleor_version="3.20.119")

    async def fetch_jwks(self, saleor_api_url: SaleorApiUrl) -> str:
        if not self.jwks_available:
            raise JwksUnavailableError("down")
        return self.jwks


_: tuple[type[InstallationStore], type[OrderEventLog], type[SaleorAuthority], type[SettingsStore]] = (
    InMemoryInstallationStore,
    InMemoryOrderEventLog,
    FakeSaleorAuthority,
    InMemorySettingsStore,
)


class FakeSaleorGateway:
    """Records what a service asked of Saleor; ``refuse_confirm`` plays Saleor's INVALID for a non-held order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, object]] = []
        self.refuse_confirm = False
        self.warehouse_list: list[WarehouseRef] = []
        self.channel_list: list[ChannelRef] = []
        self.stock_list: list[StockLevel] = []
        self.fulfilled: list[tuple[str, str, str]] = []  # (order, warehouse, tracking number)

    async def add_order_note(self, order_id: SaleorId, message: str) -> None:
        self.calls.append(("note", order_id, message))

    async def confirm_order(self, order_id: SaleorId) -> None:
        if self.refuse_confirm:
            raise SaleorMutationError(
                [GraphQLErrorDetail("not unconfirmed", "INVALID", "id")], operation="OrderConfirm"
            )
        self.calls.append(("confirm", order_id, None))

    async def record_fraud_decision(
        self, order_id: SaleorId, metadata: dict[str, str], note: str, *, confirm: bool
    ) -> None:
        self.calls.append(("metadata", order_id, dict(metadata)))
        await self.add_order_note(order_id, note)
        if confirm:
            await self.confirm_order(order_id)

    async def cancel_order(self, order_id: SaleorId) -> None:
        self.calls.append(("cancel", order_id, None))

    async def record_cogs(
        self,
        order_id: SaleorId,
        metadata: dict[str, str],
        line_metadata: Mapping[SaleorId, dict[str, str]],
        note: str,
    ) -> None:
        self.calls.append(("metadata", order_id, dict(metadata)))
        for line_id, items in line_metadata.items():
            self.calls.append(("line_metadata", line_id, dict(items)))
        await self.add_order_note(order_id, note)

    async def record_shipping(self, order_id: SaleorId, metadata: dict[str, str], note: str) -> None:
        self.calls.append(("metadata", order_id, dict(metadata)))
        await self.add_order_note(order_id, note)

    async def record_routing(self, order_id: SaleorId, metadata: dict[str, str], note: str) -> None:
        await self.record_shipping(order_id, metadata, note)

    async def fulfill_order(
        self,
        order_id: SaleorId,
        warehouse_id: SaleorId,
        lines: Mapping[str, int],
        tracking_number: str,
        *,
        allow_stock_to_be_exceeded: bool,
    ) -> None:
        self.calls.append(
            ("fulfill", order_id, (warehouse_id, dict(lines), tracking_number, allow_stock_to_be_exceeded))
        )
        self.fulfilled.append((order_id, warehouse_id, tracking_number))

    async def tracking_numbers(self, order_id: SaleorId) -> set[tuple[str, str]]:
        return {(warehouse, tracking) for order, warehouse, tracking in self.fulfilled if order == order_id}

    async def update_private_metadata(self, object_id: SaleorId, items: dict[str, str]) -> None:
        self.calls.append(("metadata", object_id, dict(items)))

    async def order_notes(self, order_id: SaleorId) -> set[str]:
        return {str(message) for kind, order, message in self.calls if kind == "note" and order == order_id}

    async def warehouses(self) -> list[WarehouseRef]:
        return list(self.warehouse_list)

    async def channels(self) -> list[ChannelRef]:
        return list(self.channel_list)

    async def stock_levels(self) -> AsyncIterator[StockLevel]:
        for level in self.stock_list:
            yield level

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.calls]


class InMemoryFraudRepository:
    def __init__(self) -> None:
        self.assessments_: dict[tuple[str, str], StoredAssessment] = {}
        self.velocity: list[tuple[VelocityDimension, str, str, datetime]] = []
        self.entries: dict[tuple[ListKind, str], ListEntry] = {}
        self.reviews: dict[str, FraudReview] = {}

    async def save_assessment(
        self, url: SaleorApiUrl, assessment: RiskAssessment, facts: OrderFacts, order_number: str
    ) -> bool:
        key = (assessment.order_id, assessment.stage.value)
        if key in self.assessments_:
            return False
        self.assessments_[key] = StoredAssessment(
            order_id=assessment.order_id,
            order_number=order_number,
            stage=assessment.stage,
            score=assessment.score,
            decision=assessment.decision.value,
            deciding_rule=assessment.deciding_rule,
            reasons=assessment.reasons,
            total=facts.total,
            currency=facts.currency,
            email=facts.email,
            expected_loss=assessment.expected_loss,
            margin=assessment.margin,
            assessed_at=assessment.assessed_at,
        )
        return True

    async def save_assessment_and_hold(
        self, url: SaleorApiUrl, assessment: RiskAssessment, facts: OrderFacts, order_number: str, *, at: datetime
    ) -> tuple[bool, bool]:
        if not await self.save_assessment(url, assessment, facts, order_number):
            return False, False
        return True, await self.hold_for_payment(url, assessment.order_id, order_number, at=at)

    async def assessments(self, url: SaleorApiUrl, order_id: str) -> list[StoredAssessment]:
        return sorted((a for a in self.assessments_.values() if a.order_id == order_id), key=lambda a: a.assessed_at)

    async def assessments_of(self, url: SaleorApiUrl, order_ids: Sequence[str]) -> dict[str, list[StoredAssessment]]:
        return {order_id: await self.assessments(url, order_id) for order_id in order_ids}

    async def customer_history(self, url: SaleorApiUrl, facts: OrderFacts, *, count_to: int) -> CustomerHistory:
        """As the SQL repository, simplified: a paid approval with no review builds trust, a rejection adds risk."""
        latest: dict[str, StoredAssessment] = {}
        paid: set[str] = set()
        for assessment in sorted(self.assessments_.values(), key=lambda a: a.assessed_at):
            if assessment.order_id != facts.order_id:
                latest[assessment.order_id] = assessment
                if assessment.stage is Stage.PAID:
                    paid.add(assessment.order_id)
        mine = [a for a in latest.values() if facts.email and a.email == facts.email]
        trusted = [a for a in mine if a.order_id in paid and a.decision == "approve" and a.order_id not in self.reviews]
        return CustomerHistory(
            min(len(latest), count_to),
            Decimal(statistics.median([a.total for a in latest.values()])) if latest else None,
            len(trusted),
            sum((a.total for a in trusted), Decimal(0)) / len(trusted) if trusted else None,
            sum(1 for a in mine if a.decision == "reject"),
        )

    async def record_velocity(
        self, url: SaleorApiUrl, probes: Sequence[VelocityProbe], *, order_id: str, at: datetime
    ) -> dict[VelocityProbe, int]:
        for dimension, value in dict.fromkeys((probe.dimension, probe.value) for probe in probes):
            self.velocity.append((dimension, value, order_id, at))
        return {
            probe: len(
                {
                    seen_order
                    for dimension, value, seen_order, seen_at in self.velocity
                    if dimension is probe.dimension
                    and value == probe.value
                    and seen_order != order_id
                    and seen_at >= at - timedelta(hours=probe.window_hours)
                }
            )
            for probe in probes
        }

    async def record_velocity_and_history(
        self, url: SaleorApiUrl, probes: Sequence[VelocityProbe], facts: OrderFacts, *, at: datetime, count_to: int
    ) -> tuple[dict[VelocityProbe, int], CustomerHistory]:
        counts = await self.record_velocity(url, probes, order_id=facts.order_id, at=at)
        return counts, await self.customer_history(url, facts, count_to=count_to)

    async def identifiers(self, url: SaleorApiUrl, order_id: str) -> dict[str, str]:
        return {d.value: v for d, v, o, _ in self.velocity if o == order_id}

    async def identifiers_of(self, url: SaleorApiUrl, order_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        return {order_id: await self.identifiers(url, order_id) for order_id in order_ids}

    async def list_entries(self, url: SaleorApiUrl) -> list[ListEntry]:
        return list(self.entries.values())

    async def add_list_entry(self, url: SaleorApiUrl, entry: ListEntry, *, by: str, at: datetime) -> None:
        self.entries[(entry.kind, entry.value)] = entry

    async def remove_list_entry(self, url: SaleorApiUrl, kind: ListKind, value: str) -> bool:
        return self.entries.pop((kind, value), None) is not None

    async def open_review(self, url: SaleorApiUrl, order_id: str, order_number: str, *, by: str, at: datetime) -> bool:
        if order_id in self.reviews and self.reviews[order_id].status != "awaiting_payment":
            return False
        self.reviews[order_id] = FraudReview(order_id, order_number, "open", at, by, None, None, None, "")
        return True

    async def hold_for_payment(self, url: SaleorApiUrl, order_id: str, order_number: str, *, at: datetime) -> bool:
        if order_id in self.reviews:
            return False
        self.reviews[order_id] = FraudReview(
            order_id, order_number, "awaiting_payment", at, "payment:awaiting", None, None, None, ""
        )
        return True

    async def release_hold(self, url: SaleorApiUrl, order_id: str) -> None:
        if order_id in self.reviews and self.reviews[order_id].status == "awaiting_payment":
            del self.reviews[order_id]

    async def close_as_cancelled(self, url: SaleorApiUrl, order_id: str, order_number: str, *, at: datetime) -> None:
        review = self.reviews.get(order_id)
        if review is None:
            review = FraudReview(order_id, order_number, "open", at, "saleor:cancelled", None, None, None, "")
        if review.status != "closed":
            self.reviews[order_id] = dataclasses.replace(
                review, status="closed", closed_at=at, closed_by="Saleor", closed_reason=CANCELLED_IN_SALEOR
            )

    async def review(self, url: SaleorApiUrl, order_id: str) -> FraudReview | None:
        return self.reviews.get(order_id)

    async def close_review(
        self, url: SaleorApiUrl, order_id: str, *, reason: str, by: str, at: datetime, note: str
    ) -> bool:
        review = self.reviews.get(order_id)
        if review is None or review.status == "closed":
            return False
        self.reviews[order_id] = dataclasses.replace(
            review, status="closed", closed_at=at, closed_by=by, closed_reason=reason, note=note
        )
        return True

    async def open_reviews(self, url: SaleorApiUrl, limit: int) -> list[FraudReview]:
        return [r for r in self.reviews.values() if r.status != "closed"][:limit]


__: tuple[type[FraudRepository], type[SaleorGateway], type[RetentionStore]] = (
    InMemoryFraudRepository,
    FakeSaleorGateway,
    InMemoryRetentionStore,
)
