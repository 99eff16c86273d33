"""shipping decisions: the carrier service each shipment of an order goes with, once per order

Revision ID: 0009d_shipping_decisions
Revises: 0009c_carrier_accounts
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009d_shipping_decisions"
down_revision = "0009c_carrier_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shipping_decisions",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("order_id", sa.String(length=256), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("shipments", sa.Text(), nullable=False),
        sa.Column("checked_fulfillments", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_shipping_decisions_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saleor_api_url", "order_id", name=op.f("pk_shipping_decisions")),
    )


def downgrade() -> None:
    op.drop_table("shipping_decisions")
