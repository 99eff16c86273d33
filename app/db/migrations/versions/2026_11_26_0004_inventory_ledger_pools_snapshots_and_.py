"""inventory ledger pools snapshots and api keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Exact decimals: NUMERIC on PostgreSQL, text on SQLite (see app.db.base.ExactDecimal).
EXACT_DECIMAL = sa.Numeric().with_variant(sa.Text(), "sqlite")

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_api_keys_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "inventory_moves",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("move_id", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=256), nullable=False),
        sa.Column("warehouse", sa.String(length=256), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phase", sa.SmallInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("unit_cost", EXACT_DECIMAL, nullable=True),
        sa.Column("amount", EXACT_DECIMAL, nullable=True),
        sa.Column("receipt_id", sa.String(length=256), nullable=True),
        sa.Column("cost_of", sa.Text(), nullable=False),
        sa.Column("related_move_id", sa.String(length=256), nullable=True),
        sa.Column("counterpart_warehouse", sa.String(length=256), nullable=True),
        sa.Column("method", sa.String(length=8), nullable=True),
        sa.Column("reference", sa.String(length=512), nullable=False),
        sa.Column("order_id", sa.String(length=256), nullable=True),
        sa.Column("unit_price", EXACT_DECIMAL, nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=320), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_method", sa.String(length=8), nullable=False),
        sa.Column("posted_value", EXACT_DECIMAL, nullable=False),
        sa.Column("posted_cogs", EXACT_DECIMAL, nullable=False),
        sa.Column("posted_variance", EXACT_DECIMAL, nullable=False),
        sa.Column("posted_layers", sa.Text(), nullable=False),
        sa.Column("posted_corrections", sa.Text(), nullable=False),
        sa.Column("balance_quantity", sa.BigInteger(), nullable=False),
        sa.Column("balance_value", EXACT_DECIMAL, nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_inventory_moves_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_inventory_moves")),
        sa.UniqueConstraint("saleor_api_url", "move_id", name=op.f("uq_inventory_moves_saleor_api_url_move_id")),
    )
    with op.batch_alter_table("inventory_moves", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inventory_moves_pool_position",
            ["saleor_api_url", "sku", "warehouse", "at", "phase", "seq"],
            unique=False,
        )
        batch_op.create_index("ix_inventory_moves_tenant_at", ["saleor_api_url", "at"], unique=False)
        batch_op.create_index("ix_inventory_moves_tenant_order", ["saleor_api_url", "order_id"], unique=False)
        batch_op.create_index("ix_inventory_moves_tenant_related", ["saleor_api_url", "related_move_id"], unique=False)
        batch_op.create_index("ix_inventory_moves_tenant_reference", ["saleor_api_url", "reference"], unique=False)

    op.create_table(
        "inventory_pools",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("sku", sa.String(length=256), nullable=False),
        sa.Column("warehouse", sa.String(length=256), nullable=False),
        sa.Column("product_type", sa.String(length=256), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("value", EXACT_DECIMAL, nullable=False),
        sa.Column("unit_cost", EXACT_DECIMAL, nullable=False),
        sa.Column("layers", sa.Text(), nullable=False),
        sa.Column("shortfalls", sa.Text(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_phase", sa.SmallInteger(), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.Column("moves_since_snapshot", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_inventory_pools_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saleor_api_url", "sku", "warehouse", name=op.f("pk_inventory_pools")),
    )
    op.create_table(
        "inventory_snapshots",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("sku", sa.String(length=256), nullable=False),
        sa.Column("warehouse", sa.String(length=256), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phase", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("pool", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_inventory_snapshots_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "saleor_api_url", "sku", "warehouse", "at", "phase", "seq", name=op.f("pk_inventory_snapshots")
        ),
    )


def downgrade() -> None:
    op.drop_table("inventory_snapshots")
    op.drop_table("inventory_pools")
    with op.batch_alter_table("inventory_moves", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_moves_tenant_reference")
        batch_op.drop_index("ix_inventory_moves_tenant_related")
        batch_op.drop_index("ix_inventory_moves_tenant_order")
        batch_op.drop_index("ix_inventory_moves_tenant_at")
        batch_op.drop_index("ix_inventory_moves_pool_position")

    op.drop_table("inventory_moves")
    op.drop_table("api_keys")
