"""carrier accounts: a store's connected carriers for live rates, credentials encrypted

Revision ID: 0009c_carrier_accounts
Revises: 0009a_shipping_rate_tables
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009c_carrier_accounts"
down_revision = "0009a_shipping_rate_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carrier_accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("credentials_encrypted", sa.Text(), nullable=False),
        sa.Column("service_levels", sa.Text(), nullable=False),
        sa.Column("test_mode", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_carrier_accounts_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_accounts")),
    )
    op.create_index("ix_carrier_accounts_tenant", "carrier_accounts", ["saleor_api_url", "id"])


def downgrade() -> None:
    op.drop_index("ix_carrier_accounts_tenant", table_name="carrier_accounts")
    op.drop_table("carrier_accounts")
