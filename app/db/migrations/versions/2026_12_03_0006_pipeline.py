"""pipeline: deliveries wait for workers; effects wait for the dispatcher

Revision ID: 0006_pipeline
Revises: 0005d
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_pipeline"
down_revision = "0005d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_events") as table:
        # Deliveries stored before the pipeline were processed on arrival.
        table.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="done"))
        table.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        table.add_column(sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("retry_window_start", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE order_events SET next_attempt_at = received_at, processed_at = received_at,"
        " retry_window_start = received_at"
    )
    with op.batch_alter_table("order_events") as table:
        table.alter_column("next_attempt_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        table.alter_column("retry_window_start", existing_type=sa.DateTime(timezone=True), nullable=False)
        table.alter_column("status", existing_type=sa.String(length=16), server_default=None)
        table.alter_column("attempts", existing_type=sa.Integer(), server_default=None)
        table.create_index("ix_order_events_status_due", ["status", "next_attempt_at"])
    op.create_table(
        "effects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("order_id", sa.String(length=256), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retry_window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_effects_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_effects")),
        sa.UniqueConstraint("saleor_api_url", "key", name=op.f("uq_effects_saleor_api_url_key")),
    )
    op.create_index("ix_effects_status_due", "effects", ["status", "next_attempt_at"])
    op.create_index("ix_effects_tenant_order", "effects", ["saleor_api_url", "order_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_effects_tenant_order", table_name="effects")
    op.drop_index("ix_effects_status_due", table_name="effects")
    op.drop_table("effects")
    with op.batch_alter_table("order_events") as table:
        table.drop_index("ix_order_events_status_due")
        for column in ("retry_window_start", "processed_at", "last_error", "next_attempt_at", "attempts", "status"):
            table.drop_column(column)
