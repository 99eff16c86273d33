"""failed deliveries: verified webhooks whose body carries Saleor's errors

Revision ID: 0005a_failed_deliveries
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005a_failed_deliveries"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failed_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_failed_deliveries_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_deliveries")),
        sa.UniqueConstraint(
            "saleor_api_url",
            "event",
            "body_sha256",
            name=op.f("uq_failed_deliveries_saleor_api_url_event_body_sha256"),
        ),
    )
    with op.batch_alter_table("failed_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_failed_deliveries_tenant_received", ["saleor_api_url", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("failed_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_failed_deliveries_tenant_received")
    op.drop_table("failed_deliveries")
