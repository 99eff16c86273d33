"""shipping decisions follow routing's plan: the plan revision their shipments were chosen for

Revision ID: 0011e_shipping_plan_revision
Revises: 0010f_support_created_index
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011e_shipping_plan_revision"
down_revision = "0010f_support_created_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the shipments are Saleor's allocation, as every decision made before routing planned them.
    with op.batch_alter_table("shipping_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_revision", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shipping_decisions", schema=None) as batch_op:
        batch_op.drop_column("plan_revision")
