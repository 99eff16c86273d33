"""rate table revision: a token replaced with every change of a store's tables, so that quoting in
any process can tell its derived copies are stale

Revision ID: 0009k_rate_table_revision
Revises: 0009d_shipping_decisions
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009k_rate_table_revision"
down_revision = "0009d_shipping_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shipping_rate_tables") as batch:
        # Tables stored before get one token, "": it changes with their next replacement.
        batch.add_column(sa.Column("revision", sa.String(length=32), nullable=False, server_default=""))
    with op.batch_alter_table("shipping_rate_tables") as batch:
        batch.alter_column("revision", existing_type=sa.String(length=32), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("shipping_rate_tables") as batch:
        batch.drop_column("revision")
