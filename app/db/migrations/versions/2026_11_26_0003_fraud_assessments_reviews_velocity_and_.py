"""fraud assessments, reviews, velocity and lists

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("fraud_assessments",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
    sa.Column("order_id", sa.String(length=256), nullable=False),
    sa.Column("order_number", sa.String(length=64), nullable=False),
    sa.Column("stage", sa.String(length=16), nullable=False),
    sa.Column("channel", sa.String(length=256), nullable=False),
    sa.Column("email", sa.String(length=320), nullable=True),
    sa.Column("customer_id", sa.String(length=256), nullable=True),
    sa.Column("total", sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column("currency", sa.String(length=3), nullable=False),
    sa.Column("score", sa.Integer(), nullable=False),
    sa.Column("decision", sa.String(length=16), nullable=False),
    sa.Column("deciding_rule", sa.String(length=512), nullable=False),
    sa.Column("reasons", sa.Text(), nullable=False),
    sa.Column("probability", sa.Numeric(precision=8, scale=6), nullable=False),
    sa.Column("expected_loss", sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column("margin", sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["saleor_api_url"], ["installations.saleor_api_url"], name=op.f("fk_fraud_assessments_saleor_api_url_installations"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_assessments")),
    sa.UniqueConstraint("saleor_api_url", "order_id", "stage", name=op.f("uq_fraud_assessments_saleor_api_url_order_id_stage"))
    )
    with op.batch_alter_table("fraud_assessments", schema=None) as batch_op:
        batch_op.create_index("ix_fraud_assessments_tenant_assessed", ["saleor_api_url", "assessed_at"], unique=False)
        batch_op.create_index("ix_fraud_assessments_tenant_customer", ["saleor_api_url", "customer_id"], unique=False)
        batch_op.create_index("ix_fraud_assessments_tenant_email", ["saleor_api_url", "email"], unique=False)

    op.create_table("fraud_list_entries",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
    sa.Column("kind", sa.String(length=32), nullable=False),
    sa.Column("value", sa.String(length=512), nullable=False),
    sa.Column("allow", sa.Boolean(), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("added_by", sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(["saleor_api_url"], ["installations.saleor_api_url"], name=op.f("fk_fraud_list_entries_saleor_api_url_installations"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_list_entries")),
    sa.UniqueConstraint("saleor_api_url", "kind", "value", name=op.f("uq_fraud_list_entries_saleor_api_url_kind_value"))
    )
    op.create_table("fraud_reviews",
    sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
    sa.Column("order_id", sa.String(length=256), nullable=False),
    sa.Column("order_number", sa.String(length=64), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("opened_by", sa.String(length=512), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("closed_by", sa.String(length=320), nullable=True),
    sa.Column("closed_reason", sa.String(length=32), nullable=True),
    sa.Column("note", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(["saleor_api_url"], ["installations.saleor_api_url"], name=op.f("fk_fraud_reviews_saleor_api_url_installations"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("saleor_api_url", "order_id", name=op.f("pk_fraud_reviews"))
    )
    with op.batch_alter_table("fraud_reviews", schema=None) as batch_op:
        batch_op.create_index("ix_fraud_reviews_tenant_status_opened", ["saleor_api_url", "status", "opened_at"], unique=False)

    op.create_table("fraud_velocity",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
    sa.Column("dimension", sa.String(length=32), nullable=False),
    sa.Column("value", sa.String(length=512), nullable=False),
    sa.Column("order_id", sa.String(length=256), nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["saleor_api_url"], ["installations.saleor_api_url"], name=op.f("fk_fraud_velocity_saleor_api_url_installations"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_velocity")),
    sa.UniqueConstraint("saleor_api_url", "dimension", "value", "order_id", name=op.f("uq_fraud_velocity_saleor_api_url_dimension_value_order_id"))
    )
    with op.batch_alter_table("fraud_velocity", schema=None) as batch_op:
        batch_op.create_index("ix_fraud_velocity_lookup", ["saleor_api_url", "dimension", "value", "seen_at"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("fraud_velocity", schema=None) as batch_op:
        batch_op.drop_index("ix_fraud_velocity_lookup")

    op.drop_table("fraud_velocity")
    with op.batch_alter_table("fraud_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_fraud_reviews_tenant_status_opened")

    op.drop_table("fraud_reviews")
    op.drop_table("fraud_list_entries")
    with op.batch_alter_table("fraud_assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_fraud_assessments_tenant_email")
        batch_op.drop_index("ix_fraud_assessments_tenant_customer")
        batch_op.drop_index("ix_fraud_assessments_tenant_assessed")

    op.drop_table("fraud_assessments")
