"""ORM rows. Every table carries the installation's ``saleor_api_url``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, ExactDecimal, UtcDateTime
from app.domain.pipeline import Status


def tenant_fk() -> ForeignKey:
    """Every table's link to its installation: deleting a store deletes all it owns."""
    return ForeignKey("installations.saleor_api_url", ondelete="CASCADE")


# What a stored body becomes once its retention has passed: valid JSON that holds nothing.
PRUNED_PAYLOAD = "{}"
# Rows whose body retention may still erase. Written out as SQL (no bound parameters), so that the
# partial indexes below are used by the pruning queries, which carry the same condition.
PAYLOAD_KEPT = text(f"payload <> '{PRUNED_PAYLOAD}'")
PROCESSED_PAYLOAD_KEPT = text(f"status = '{Status.DONE}' AND payload <> '{PRUNED_PAYLOAD}'")


class InstallationRow(Base):
    __tablename__ = "installations"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(256))
    token_encrypted: Mapped[str] = mapped_column(Text)
    jwks: Mapped[str] = mapped_column(Text)
    saleor_domain: Mapped[str | None] = mapped_column(String(512))
    schema_version: Mapped[str | None] = mapped_column(String(32))
    saleor_version: Mapped[str | None] = mapped_column(String(64))
    installed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    uninstalled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OrderEventRow(Base):
    """An order webhook as Saleor delivered it, once per occurrence.

    Saleor sends no delivery id; a retry repeats the body byte for byte, so the
    event, the order and the event's ``issuedAt`` name one occurrence.
    """

    __tablename__ = "order_events"
    __table_args__ = (
        UniqueConstraint("saleor_api_url", "event", "order_id", "issued_at"),
        Index("ix_order_events_tenant_order", "saleor_api_url", "order_id"),
        Index("ix_order_events_tenant_issued", "saleor_api_url", "issued_at"),
        # In the claim's order (due first, then stored first), so a claim reads the first due heads
        # and stops at its limit rather than checking and sorting every waiting delivery.
        Index("ix_order_events_status_due", "status", "next_attempt_at", "id"),
        # Deliveries processed lately, for the dashboard. Partial: a delivery is stored unprocessed, so
        # the acknowledge path writes no entry here.
        Index(
            "ix_order_events_tenant_processed",
            "saleor_api_url",
            "processed_at",
            postgresql_where=text("processed_at IS NOT NULL"),
            sqlite_where=text("processed_at IS NOT NULL"),
        ),
        # Only processed deliveries whose body is still kept: storing a delivery does not touch it,
        # and once pruned a row leaves it, so pruning never walks through the store's history.
        Index(
            "ix_order_events_tenant_prunable",
            "saleor_api_url",
            "processed_at",
            postgresql_where=PROCESSED_PAYLOAD_KEPT,
            sqlite_where=PROCESSED_PAYLOAD_KEPT,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    event: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(String(256))
    order_number: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    saleor_version: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Its way through the pipeline (app.domain.pipeline.Status): pending until a worker has handed
    # it to every subscriber of its event, in one transaction with what they decided.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Attempts stop a day after this: its arrival, or the moment staff last asked for a retry.
    retry_window_start: Mapped[datetime] = mapped_column(UtcDateTime())


class EffectRow(Base):
    """Something a decision must make happen outside the app (a write to Saleor), kept in the
    decision's transaction and delivered by a dispatcher: in order per order, retried with backoff.

    ``key`` names the decision that caused it (the delivery, or the review, and its place among
    that decision's effects), so the same decision can never queue it twice.
    """

    __tablename__ = "effects"
    __table_args__ = (
        UniqueConstraint("saleor_api_url", "key"),
        Index("ix_effects_status_due", "status", "next_attempt_at"),
        Index("ix_effects_tenant_order", "saleor_api_url", "order_id", "id"),
        # For the dashboard: a store's effects delivered lately, and those not delivered yet (few, and
        # otherwise found only among all the store's effects).
        Index(
            "ix_effects_tenant_done",
            "saleor_api_url",
            "done_at",
            postgresql_where=text("done_at IS NOT NULL"),
            sqlite_where=text("done_at IS NOT NULL"),
        ),
        Index(
            "ix_effects_tenant_open",
            "saleor_api_url",
            "created_at",
            postgresql_where=text("status <> 'done'"),
            sqlite_where=text("status <> 'done'"),
        ),
        Index(
            "ix_effects_tenant_prunable",
            "saleor_api_url",
            "done_at",
            postgresql_where=PROCESSED_PAYLOAD_KEPT,
            sqlite_where=PROCESSED_PAYLOAD_KEPT,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    order_id: Mapped[str] = mapped_column(String(256))
    key: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # JSON: what the kind's Saleor call takes
    # Effects of one order go in order within their lane: "" for Saleor's writes, one per partner for
    # hand-offs, so that a partner down for hours holds back neither Saleor nor the other partners.
    lane: Mapped[str] = mapped_column(String(64), default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Attempts stop a day after this: the decision, or the moment staff last asked for a retry.
    retry_window_start: Mapped[datetime] = mapped_column(UtcDateTime())
    # A claimed effect's lease: past it, a dispatcher that died mid-call is presumed gone.
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class FailedDeliveryRow(Base):
    """A verified webhook whose body carries Saleor's ``errors`` instead of the data, kept to be seen.

    The order is null in such a body, so one delivery is one body of one event (a retry repeats it
    byte for byte): its SHA-256 is the key.
    """

    __tablename__ = "failed_deliveries"
    __table_args__ = (
        UniqueConstraint("saleor_api_url", "event", "body_sha256"),
        Index("ix_failed_deliveries_tenant_received", "saleor_api_url", "received_at"),
        Index(
            "ix_failed_deliveries_tenant_prunable",
            "saleor_api_url",
            "received_at",
            postgresql_where=PAYLOAD_KEPT,
            sqlite_where=PAYLOAD_KEPT,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    event: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    body_sha256: Mapped[str] = mapped_column(String(64))
    errors: Mapped[str] = mapped_column(Text)  # JSON: [{"message", "path"}]
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SettingsRow(Base):
    """One section of a store's settings (e.g. ``general``), as validated JSON."""

    __tablename__ = "settings"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    section: Mapped[str] = mapped_column(String(64), primary_key=True)
    values: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))


class SettingsChangeRow(Base):
    """Who changed which settings section when, and from what to what."""

    __tablename__ = "settings_changes"
    __table_args__ = (Index("ix_settings_changes_tenant_changed", "saleor_api_url", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    section: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changed_by: Mapped[str] = mapped_column(String(320))
    before: Mapped[str] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)


class FraudAssessmentRow(Base):
    """One fraud assessment per order and stage (created, paid)."""

    __tablename__ = "fraud_assessments"
    __table_args__ = (
        UniqueConstraint("saleor_api_url", "order_id", "stage"),
        Index("ix_fraud_assessments_tenant_assessed", "saleor_api_url", "assessed_at"),
        Index("ix_fraud_assessments_tenant_email", "saleor_api_url", "email"),
        Index("ix_fraud_assessments_tenant_customer", "saleor_api_url", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    order_id: Mapped[str] = mapped_column(String(256))
    order_number: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(256))
    email: Mapped[str | None] = mapped_column(String(320))
    customer_id: Mapped[str | None] = mapped_column(String(256))
    total: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    currency: Mapped[str] = mapped_column(String(3))
    score: Mapped[int]
    decision: Mapped[str] = mapped_column(String(16))
    deciding_rule: Mapped[str] = mapped_column(String(512))
    reasons: Mapped[str] = mapped_column(Text)
    probability: Mapped[Decimal] = mapped_column(Numeric(8, 6))
    expected_loss: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    margin: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    assessed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FraudReviewRow(Base):
    """An order held for a person: opened by a review or reject decision, closed with a reason."""

    __tablename__ = "fraud_reviews"
    __table_args__ = (Index("ix_fraud_reviews_tenant_status_opened", "saleor_api_url", "status", "opened_at"),)

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    order_number: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    opened_by: Mapped[str] = mapped_column(String(512))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(320))
    closed_reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")


class FraudVelocityRow(Base):
    """Which order used which email, card, IP or shipping address, and when: velocity is counted here."""

    __tablename__ = "fraud_velocity"
    __table_args__ = (
        UniqueConstraint("saleor_api_url", "dimension", "value", "order_id"),
        Index("ix_fraud_velocity_lookup", "saleor_api_url", "dimension", "value", "seen_at"),
        # Keys older than the longest velocity window are forgotten in seen_at order.
        Index("ix_fraud_velocity_tenant_seen", "saleor_api_url", "seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    dimension: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(512))
    order_id: Mapped[str] = mapped_column(String(256))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FraudListEntryRow(Base):
    """An allow- or block-list entry the merchant keeps (email, domain, IP/CIDR, country, card, customer)."""

    __tablename__ = "fraud_list_entries"
    __table_args__ = (UniqueConstraint("saleor_api_url", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(512))
    allow: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())
    added_by: Mapped[str] = mapped_column(String(320))


class InventoryPoolRow(Base):
    """The current state of one cost pool (SKU × warehouse): where the next move starts from."""

    __tablename__ = "inventory_pools"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    sku: Mapped[str] = mapped_column(String(256), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(256), primary_key=True)
    product_type: Mapped[str | None] = mapped_column(String(256))
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[Decimal] = mapped_column(ExactDecimal())
    unit_cost: Mapped[Decimal] = mapped_column(ExactDecimal())
    layers: Mapped[str] = mapped_column(Text)
    shortfalls: Mapped[str] = mapped_column(Text)
    # Position (instant, phase, sequence) of the latest move applied; a new move before it is backdated.
    last_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_phase: Mapped[int | None] = mapped_column(SmallInteger)
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    moves_since_snapshot: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InventoryMoveRow(Base):
    """One ledger move, append-only, with its current posting.

    The posting columns change only when a backdated move re-posts the later moves of its pool.
    """

    __tablename__ = "inventory_moves"
    __table_args__ = (
        UniqueConstraint("saleor_api_url", "move_id"),
        Index("ix_inventory_moves_pool_position", "saleor_api_url", "sku", "warehouse", "at", "phase", "seq"),
        Index("ix_inventory_moves_tenant_order", "saleor_api_url", "order_id"),
        Index("ix_inventory_moves_tenant_at", "saleor_api_url", "at"),
        Index("ix_inventory_moves_tenant_related", "saleor_api_url", "related_move_id"),
        # Supplier returns and landed costs may name a receipt by its reference (the PO number).
        Index("ix_inventory_moves_tenant_reference", "saleor_api_url", "reference"),
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    move_id: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(32))
    sku: Mapped[str] = mapped_column(String(256))
    warehouse: Mapped[str] = mapped_column(String(256))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    phase: Mapped[int] = mapped_column(SmallInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    unit_cost: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    amount: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    receipt_id: Mapped[str | None] = mapped_column(String(256))
    cost_of: Mapped[str] = mapped_column(Text, default="[]")
    related_move_id: Mapped[str | None] = mapped_column(String(256))
    counterpart_warehouse: Mapped[str | None] = mapped_column(String(256))
    method: Mapped[str | None] = mapped_column(String(8))
    reference: Mapped[str] = mapped_column(String(512), default="")
    order_id: Mapped[str | None] = mapped_column(String(256))
    # Net unit sale price of an issue or customer return, in the move's currency: revenue for reports.
    unit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    source: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(String(320))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    posted_method: Mapped[str] = mapped_column(String(8))
    posted_value: Mapped[Decimal] = mapped_column(ExactDecimal())
    posted_cogs: Mapped[Decimal] = mapped_column(ExactDecimal())
    posted_variance: Mapped[Decimal] = mapped_column(ExactDecimal())
    posted_layers: Mapped[str] = mapped_column(Text)
    posted_corrections: Mapped[str] = mapped_column(Text)
    balance_quantity: Mapped[int] = mapped_column(BigInteger)
    balance_value: Mapped[Decimal] = mapped_column(ExactDecimal())


class InventorySnapshotRow(Base):
    """A pool as it stood after the move at (at, phase, seq): where a backdated move's replay starts."""

    __tablename__ = "inventory_snapshots"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    sku: Mapped[str] = mapped_column(String(256), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(256), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    phase: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    pool: Mapped[str] = mapped_column(Text)


class ApiKeyRow(Base):
    """A key a store's other systems (purchasing, ERP) call the app's HTTP API with; only its hash is kept."""

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("key_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    name: Mapped[str] = mapped_column(String(128))
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(320))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SaleorNameRow(Base):
    """What a store calls one of its Saleor objects (a warehouse, a variant), to show instead of its id.

    Learned from what Saleor already sends or answers (webhook payloads, the warehouses query);
    the latest name wins.
    """

    __tablename__ = "saleor_names"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    saleor_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    slug: Mapped[str | None] = mapped_column(String(512))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ShippingRateTableRow(Base):
    """One warehouse's rate table, kept as the CSV rows it is imported and exported as
    (``app.services.shipping.tables``): one format to read, whichever way the table came in."""

    __tablename__ = "shipping_rate_tables"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    warehouse_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    # The tables' order as given: a file lists them in it.
    position: Mapped[int] = mapped_column(Integer)
    rows: Mapped[str] = mapped_column(Text)
    # A new token with every replacement of the store's tables (all rows share it): quoting in every
    # process compares it to tell that what it derived from the tables is stale.
    revision: Mapped[str] = mapped_column(String(32))


class CarrierAccountRow(Base):
    """A carrier account a store connected for live rates. Its credentials are one JSON object,
    encrypted with the app's secret key; ``service_levels`` (JSON) overrides the carrier's default
    level of some services."""

    __tablename__ = "carrier_accounts"
    __table_args__ = (Index("ix_carrier_accounts_tenant", "saleor_api_url", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    carrier: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(128))
    credentials_encrypted: Mapped[str] = mapped_column(Text)
    service_levels: Mapped[str] = mapped_column(Text)
    test_mode: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ShippingDecisionRow(Base):
    """The carrier service each shipment of an order goes with, chosen when the order is cleared and again
    when routing re-plans it (``app.services.shipping.orders``). ``shipments`` (JSON) holds each one's
    ``ops.shipping`` entry, explanation and units per order line; ``checked_fulfillments`` (JSON) the
    fulfilments already re-checked against the promise; ``plan_revision`` the routing plan's revision the
    shipments follow (NULL: Saleor's allocation)."""

    __tablename__ = "shipping_decisions"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    shipments: Mapped[str] = mapped_column(Text)
    checked_fulfillments: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    plan_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RoutingPartnerRow(Base):
    """A 3PL or dropship supplier routing hands shipments off to, shipping from one of the store's Saleor
    warehouses. The pick-and-pack fees are a 3PL's only; its signing secret is encrypted with the app's
    secret key."""

    __tablename__ = "routing_partners"
    __table_args__ = (
        UniqueConstraint("saleor_api_url", "warehouse_id"),
        UniqueConstraint("saleor_api_url", "name"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    warehouse_id: Mapped[str] = mapped_column(String(256))
    hand_off: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(2048))
    acceptance_window_seconds: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer)
    fee_per_order: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    fee_per_unit: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    fee_currency: Mapped[str | None] = mapped_column(String(3))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    secret_rotated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RoutingInHouseRow(Base):
    """The merchant's priority of a warehouse it ships itself (lower is preferred); one without a row
    is at priority 0."""

    __tablename__ = "routing_in_house"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    warehouse_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    priority: Mapped[int] = mapped_column(Integer)


class RoutingSupplierOfferRow(Base):
    """A SKU a dropship supplier sells, as its latest feed said; a feed replaces all of the supplier's rows."""

    __tablename__ = "routing_supplier_offers"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    partner_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("routing_partners.id", ondelete="CASCADE"), primary_key=True
    )
    sku: Mapped[str] = mapped_column(String(256), primary_key=True)
    unit_price: Mapped[Decimal] = mapped_column(ExactDecimal())
    currency: Mapped[str] = mapped_column(String(3))
    handling_days: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RoutingPlanRow(Base):
    """An order's routing plan (``app.services.routing.planning``): made once fraud clears it, revised
    when a partner rejects its share. ``shipments`` (JSON) holds each source's units, ``metadata`` the
    ``ops.routing`` last written, ``excluded`` (JSON) the warehouses left out of re-plans and why."""

    __tablename__ = "routing_plans"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    routed: Mapped[bool] = mapped_column(Boolean)
    shipments: Mapped[str] = mapped_column(Text)
    metadata_: Mapped[str] = mapped_column("metadata", Text)
    excluded: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RoutingHandOffRow(Base):
    """A plan's shipment handed to its partner; ``id`` is the reference the partner calls back with.
    One per order, warehouse and plan revision. ``units`` and ``shipped`` are JSON."""

    __tablename__ = "routing_hand_offs"
    __table_args__ = (
        UniqueConstraint("saleor_api_url", "order_id", "warehouse_id", "revision"),
        Index("ix_routing_hand_offs_order", "saleor_api_url", "order_id"),
        # Housekeeping's question: a partner's hand-offs still unanswered, oldest first.
        Index("ix_routing_hand_offs_unanswered", "saleor_api_url", "partner_id", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    order_id: Mapped[str] = mapped_column(String(256))
    revision: Mapped[int] = mapped_column(Integer)
    partner_id: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[str] = mapped_column(String(256))
    units: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    shipped: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RoutingShipmentRow(Base):
    """A shipment a partner confirmed for a hand-off, under the partner's own shipment id (a repeat
    of it changes nothing). ``lines`` (JSON) maps order line id to units shipped."""

    __tablename__ = "routing_shipments"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    hand_off_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(128))
    tracking_number: Mapped[str] = mapped_column(String(256))
    lines: Mapped[str] = mapped_column(Text)
    confirmed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RoutingCallbackRow(Base):
    """The signature of each partner callback taken, kept while its timestamp is fresh: the same
    request sent again is a replay."""

    __tablename__ = "routing_callbacks"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SupportCounterRow(Base):
    """The last ticket number a store gave out: tickets are numbered per store, 1, 2, 3…"""

    __tablename__ = "support_counters"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class SupportTicketRow(Base):
    """A support ticket (``app.domain.support.ticket.Ticket``) without its lists, which have their own tables.

    ``store_key`` names the order and reason of a ticket the store opened itself, once per store. The
    ``sla_*`` columns hold what the inbox sorts and filters by, recomputed by the services whenever the
    ticket changes: the policy that applies, the earliest deadline of a clock still going and its metric
    (no deadline while every clock is stopped or paused). The measures after them are what reports read.
    """

    __tablename__ = "support_tickets"
    __table_args__ = (
        UniqueConstraint("saleor_api_url", "store_key"),
        # The inbox: everything by what breaches first, or one status, or one assignee's, in that order.
        Index("ix_support_tickets_tenant_due", "saleor_api_url", "sla_due_at", "number"),
        Index("ix_support_tickets_tenant_status_due", "saleor_api_url", "status", "sla_due_at", "number"),
        Index("ix_support_tickets_tenant_assignee_due", "saleor_api_url", "assignee", "sla_due_at", "number"),
        # Reports: the tickets created in a period, read in pages of (created_at, number).
        Index("ix_support_tickets_tenant_created", "saleor_api_url", "created_at", "number"),
        # Housekeeping: the solved tickets whose time to close has come.
        Index(
            "ix_support_tickets_tenant_solved",
            "saleor_api_url",
            "solved_at",
            postgresql_where=text("status = 'solved'"),
            sqlite_where=text("status = 'solved'"),
        ),
    )

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    requester_email: Mapped[str] = mapped_column(String(320))
    requester_customer_id: Mapped[str | None] = mapped_column(String(256))
    subject: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(320))
    order_value: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    order_currency: Mapped[str | None] = mapped_column(String(3))
    follow_up_of: Mapped[int | None] = mapped_column(Integer)
    store_reason: Mapped[str | None] = mapped_column(String(32))
    store_key: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    solved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sla_policy: Mapped[str | None] = mapped_column(String(128))
    sla_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sla_due_metric: Mapped[str | None] = mapped_column(String(16))
    # What reports read (``app.domain.support.reports.TicketMeasures``), kept whenever the ticket changes as the
    # SLA due is: business time to the first reply and to resolution (microseconds), and per metric the clocks
    # achieved, breached, and the deadline of the one still going.
    first_reply_micros: Mapped[int | None] = mapped_column(BigInteger)
    resolution_micros: Mapped[int | None] = mapped_column(BigInteger)
    first_reply_achieved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_reply_breached: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_reply_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    next_reply_achieved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_reply_breached: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_reply_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolution_achieved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    resolution_breached: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    resolution_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


def ticket_fk() -> ForeignKeyConstraint:
    """A ticket's rows go with their ticket (and so with the store)."""
    return ForeignKeyConstraint(
        ["saleor_api_url", "ticket_number"],
        ["support_tickets.saleor_api_url", "support_tickets.number"],
        ondelete="CASCADE",
    )


class SupportMessageRow(Base):
    """One entry of a ticket's thread, in the order written: a public reply or an internal note."""

    __tablename__ = "support_messages"
    __table_args__ = (ticket_fk(),)

    saleor_api_url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    ticket_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    author: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean)
    written_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SupportStatusChangeRow(Base):
    """A ticket's status history, in order: the SLA clocks' pauses are read from it."""

    __tablename__ = "support_status_changes"
    __table_args__ = (ticket_fk(),)

    saleor_api_url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    ticket_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SupportTicketOrderRow(Base):
    """An order a ticket is about, in the order linked; looked up by order for the order page's card."""

    __tablename__ = "support_ticket_orders"
    __table_args__ = (ticket_fk(), Index("ix_support_ticket_orders_tenant_order", "saleor_api_url", "order_id"))

    saleor_api_url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    ticket_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    order_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class SupportTicketTagRow(Base):
    """A tag on a ticket; looked up by tag for the inbox's filter."""

    __tablename__ = "support_ticket_tags"
    __table_args__ = (ticket_fk(), Index("ix_support_ticket_tags_tenant_tag", "saleor_api_url", "tag", "ticket_number"))

    saleor_api_url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    ticket_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class SupportMacroRow(Base):
    """A saved reply of a store's support team (``app.domain.support.macros.Macro``), named once per store."""

    __tablename__ = "support_macros"
    __table_args__ = (UniqueConstraint("saleor_api_url", "name"),)

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
