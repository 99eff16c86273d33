"""data lifecycle: a removed store's grace period; indexes that keep pruning off the store's history

Revision ID: 0008_data_lifecycle
Revises: 0007_pipeline_dashboard
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_data_lifecycle"
down_revision = "0007_pipeline_dashboard"
branch_labels = None
depends_on = None

# As app.db.models writes them: the pruning queries carry the same conditions, word for word.
_PAYLOAD_KEPT = sa.text("payload <> '{}'")
_PROCESSED_PAYLOAD_KEPT = sa.text("status = 'done' AND payload <> '{}'")


def upgrade() -> None:
    # A plain ADD COLUMN, which SQLite has: copying the table (batch mode) would drop the old one,
    # and with it, by cascade, every store's records.
    op.add_column("installations", sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_order_events_tenant_prunable",
        "order_events",
        ["saleor_api_url", "processed_at"],
        postgresql_where=_PROCESSED_PAYLOAD_KEPT,
        sqlite_where=_PROCESSED_PAYLOAD_KEPT,
    )
    op.create_index(
        "ix_effects_tenant_prunable",
        "effects",
        ["saleor_api_url", "done_at"],
        postgresql_where=_PROCESSED_PAYLOAD_KEPT,
        sqlite_where=_PROCESSED_PAYLOAD_KEPT,
    )
    op.create_index(
        "ix_failed_deliveries_tenant_prunable",
        "failed_deliveries",
        ["saleor_api_url", "received_at"],
        postgresql_where=_PAYLOAD_KEPT,
        sqlite_where=_PAYLOAD_KEPT,
    )
    op.create_index("ix_fraud_velocity_tenant_seen", "fraud_velocity", ["saleor_api_url", "seen_at"])


def downgrade() -> None:
    op.drop_index("ix_fraud_velocity_tenant_seen", table_name="fraud_velocity")
    op.drop_index("ix_failed_deliveries_tenant_prunable", table_name="failed_deliveries")
    op.drop_index("ix_effects_tenant_prunable", table_name="effects")
    op.drop_index("ix_order_events_tenant_prunable", table_name="order_events")
    op.drop_column("installations", "uninstalled_at")  # SQLite 3.35+ drops a column in place
