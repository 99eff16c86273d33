"""support reports: tickets read by when they were created

Revision ID: 0010f_support_created_index
Revises: 0010c_support_tickets
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0010f_support_created_index"
down_revision = "0010c_support_tickets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("support_tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_support_tickets_tenant_created", ["saleor_api_url", "created_at", "number"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("support_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_support_tickets_tenant_created")
