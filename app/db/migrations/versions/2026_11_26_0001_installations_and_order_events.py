"""installations and order events

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("installations",
    sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
    sa.Column("app_id", sa.String(length=256), nullable=False),
    sa.Column("token_encrypted", sa.Text(), nullable=False),
    sa.Column("jwks", sa.Text(), nullable=False),
    sa.Column("saleor_domain", sa.String(length=512), nullable=True),
    sa.Column("schema_version", sa.String(length=32), nullable=True),
    sa.Column("saleor_version", sa.String(length=64), nullable=True),
    sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("saleor_api_url", name=op.f("pk_installations"))
    )
    op.create_table("order_events",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
    sa.Column("event", sa.String(length=64), nullable=False),
    sa.Column("order_id", sa.String(length=256), nullable=False),
    sa.Column("order_number", sa.String(length=64), nullable=True),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("saleor_version", sa.String(length=64), nullable=True),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["saleor_api_url"], ["installations.saleor_api_url"], name=op.f("fk_order_events_saleor_api_url_installations"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    sa.UniqueConstraint("saleor_api_url", "event", "order_id", "issued_at", name=op.f("uq_order_events_saleor_api_url_event_order_id_issued_at"))
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index("ix_order_events_tenant_order", ["saleor_api_url", "order_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_order_events_tenant_order")

    op.drop_table("order_events")
    op.drop_table("installations")
