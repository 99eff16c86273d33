"""support macros: a store's saved replies

Revision ID: 0011f_support_macros
Revises: 0010f_support_created_index
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011f_support_macros"
down_revision = "0011e_shipping_plan_revision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "support_macros",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_support_macros_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saleor_api_url", "id", name=op.f("pk_support_macros")),
        sa.UniqueConstraint("saleor_api_url", "name", name=op.f("uq_support_macros_saleor_api_url_name")),
    )


def downgrade() -> None:
    op.drop_table("support_macros")
