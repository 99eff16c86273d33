"""saleor names: what a store calls its warehouses and variants

Revision ID: 0005d
Revises: 0005a_failed_deliveries
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005d"
down_revision = "0005a_failed_deliveries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saleor_names",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("saleor_id", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("slug", sa.String(length=512), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_saleor_names_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saleor_api_url", "saleor_id", name=op.f("pk_saleor_names")),
    )


def downgrade() -> None:
    op.drop_table("saleor_names")
