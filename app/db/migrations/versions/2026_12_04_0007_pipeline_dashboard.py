"""pipeline dashboard: what was processed and delivered lately, per store

Revision ID: 0007_pipeline_dashboard
Revises: 0006_pipeline
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_pipeline_dashboard"
down_revision = "0006_pipeline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Partial: rows enter once processed or delivered, so storing a delivery or an effect costs nothing more.
    for name, table, column in (
        ("ix_order_events_tenant_processed", "order_events", "processed_at"),
        ("ix_effects_tenant_done", "effects", "done_at"),
    ):
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, table, ["saleor_api_url", column], postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    op.drop_index("ix_effects_tenant_done", table_name="effects")
    op.drop_index("ix_order_events_tenant_processed", table_name="order_events")
