"""routing sources: a store's 3PL and dropship partners (signing secrets encrypted), the priorities of
its own warehouses, and its suppliers' offers

Revision ID: 0010a_routing_sources
Revises: 0009k_rate_table_revision
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Exact decimals: NUMERIC on PostgreSQL, text on SQLite (see app.db.base.ExactDecimal).
EXACT_DECIMAL = sa.Numeric().with_variant(sa.Text(), "sqlite")

revision = "0010a_routing_sources"
down_revision = "0009k_rate_table_revision"
branch_labels = None
depends_on = None


def _tenant(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["saleor_api_url"],
        ["installations.saleor_api_url"],
        name=op.f(f"fk_{table}_saleor_api_url_installations"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "routing_partners",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("warehouse_id", sa.String(length=256), nullable=False),
        sa.Column("hand_off", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=2048), nullable=False),
        sa.Column("acceptance_window_seconds", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("fee_per_order", EXACT_DECIMAL, nullable=True),
        sa.Column("fee_per_unit", EXACT_DECIMAL, nullable=True),
        sa.Column("fee_currency", sa.String(length=3), nullable=True),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _tenant("routing_partners"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_partners")),
        sa.UniqueConstraint("saleor_api_url", "name", name=op.f("uq_routing_partners_saleor_api_url_name")),
        sa.UniqueConstraint(
            "saleor_api_url", "warehouse_id", name=op.f("uq_routing_partners_saleor_api_url_warehouse_id")
        ),
    )
    op.create_table(
        "routing_in_house",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("warehouse_id", sa.String(length=256), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        _tenant("routing_in_house"),
        sa.PrimaryKeyConstraint("saleor_api_url", "warehouse_id", name=op.f("pk_routing_in_house")),
    )
    op.create_table(
        "routing_supplier_offers",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=256), nullable=False),
        sa.Column("unit_price", EXACT_DECIMAL, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("handling_days", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["routing_partners.id"],
            name=op.f("fk_routing_supplier_offers_partner_id_routing_partners"),
            ondelete="CASCADE",
        ),
        _tenant("routing_supplier_offers"),
        sa.PrimaryKeyConstraint("partner_id", "sku", name=op.f("pk_routing_supplier_offers")),
    )


def downgrade() -> None:
    op.drop_table("routing_supplier_offers")
    op.drop_table("routing_in_house")
    op.drop_table("routing_partners")
