"""routing plans: each order's plan, the hand-offs to partners, the shipments they confirm, and the
signatures of their callbacks (replays refused); effects get a lane, so hand-offs to a partner that is
down hold back neither the order's writes to Saleor nor the other partners

Revision ID: 0010b_routing_plans
Revises: 0010a_routing_sources
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010b_routing_plans"
down_revision = "0010a_routing_sources"
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
    # A plain ADD COLUMN with a constant default: SQLite keeps the table (and its indexes) as it is.
    op.add_column("effects", sa.Column("lane", sa.String(length=64), nullable=False, server_default=""))
    op.create_table(
        "routing_plans",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("order_id", sa.String(length=256), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("routed", sa.Boolean(), nullable=False),
        sa.Column("shipments", sa.Text(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("excluded", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _tenant("routing_plans"),
        sa.PrimaryKeyConstraint("saleor_api_url", "order_id", name=op.f("pk_routing_plans")),
    )
    op.create_table(
        "routing_hand_offs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("order_id", sa.String(length=256), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.String(length=256), nullable=False),
        sa.Column("units", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("shipped", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _tenant("routing_hand_offs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_hand_offs")),
        sa.UniqueConstraint(
            "saleor_api_url",
            "order_id",
            "warehouse_id",
            "revision",
            name=op.f("uq_routing_hand_offs_saleor_api_url_order_id_warehouse_id_revision"),
        ),
    )
    op.create_index("ix_routing_hand_offs_order", "routing_hand_offs", ["saleor_api_url", "order_id"])
    op.create_table(
        "routing_shipments",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("hand_off_id", sa.String(length=64), nullable=False),
        sa.Column("shipment_id", sa.String(length=128), nullable=False),
        sa.Column("carrier", sa.String(length=128), nullable=False),
        sa.Column("tracking_number", sa.String(length=256), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        _tenant("routing_shipments"),
        sa.PrimaryKeyConstraint("hand_off_id", "shipment_id", name=op.f("pk_routing_shipments")),
    )
    op.create_table(
        "routing_callbacks",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        _tenant("routing_callbacks"),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_routing_callbacks")),
    )


def downgrade() -> None:
    op.drop_table("routing_callbacks")
    op.drop_table("routing_shipments")
    op.drop_index("ix_routing_hand_offs_order", table_name="routing_hand_offs")
    op.drop_table("routing_hand_offs")
    op.drop_table("routing_plans")
    with op.batch_alter_table("effects") as batch:
        batch.drop_column("lane")
