"""settings and their history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("settings",
    sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
    sa.Column("section", sa.String(length=64), nullable=False),
    sa.Column("values", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_by", sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(["saleor_api_url"], ["installations.saleor_api_url"], name=op.f("fk_settings_saleor_api_url_installations"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("saleor_api_url", "section", name=op.f("pk_settings"))
    )
    op.create_table("settings_changes",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
    sa.Column("section", sa.String(length=64), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("changed_by", sa.String(length=320), nullable=False),
    sa.Column("before", sa.Text(), nullable=False),
    sa.Column("after", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(["saleor_api_url"], ["installations.saleor_api_url"], name=op.f("fk_settings_changes_saleor_api_url_installations"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_settings_changes"))
    )
    with op.batch_alter_table("settings_changes", schema=None) as batch_op:
        batch_op.create_index("ix_settings_changes_tenant_changed", ["saleor_api_url", "changed_at"], unique=False)
    # The dashboard's home lists a store's latest order events.
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index("ix_order_events_tenant_issued", ["saleor_api_url", "issued_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_order_events_tenant_issued")
    with op.batch_alter_table("settings_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_settings_changes_tenant_changed")

    op.drop_table("settings_changes")
    op.drop_table("settings")
