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


# Partial indexes: what was done lately (rows enter once done, so storing a delivery costs nothing
# more), and the effects not done yet (few among all of a store's effects).
INDEXES = (
    ("ix_order_events_tenant_processed", "order_events", "processed_at", "processed_at IS NOT NULL"),
    ("ix_effects_tenant_done", "effects", "done_at", "done_at IS NOT NULL"),
    ("ix_effects_tenant_open", "effects", "created_at", "status <> 'done'"),
)


def upgrade() -> None:
    for name, table, column, where in INDEXES:
        predicate = sa.text(where)
        op.create_index(name, table, ["saleor_api_url", column], postgresql_where=predicate, sqlite_where=predicate)


def downgrade() -> None:
    for name, table, _, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
