"""shipping rate tables: each warehouse's table as its CSV rows

Revision ID: 0009a_shipping_rate_tables
Revises: 0008_data_lifecycle
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009a_shipping_rate_tables"
down_revision = "0008_data_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shipping_rate_tables",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("warehouse_id", sa.String(length=256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_shipping_rate_tables_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saleor_api_url", "warehouse_id", name=op.f("pk_shipping_rate_tables")),
    )


def downgrade() -> None:
    op.drop_table("shipping_rate_tables")
