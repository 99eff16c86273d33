"""routing: a partner's hand-offs still waiting for an answer, read oldest first by housekeeping

Revision ID: 0011a_hand_offs_unanswered
Revises: 0010f_support_created_index
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0011a_hand_offs_unanswered"
down_revision = "0011f_support_macros"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("routing_hand_offs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routing_hand_offs_unanswered",
            ["saleor_api_url", "partner_id", "status", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("routing_hand_offs", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_hand_offs_unanswered")
