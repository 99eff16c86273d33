"""support tickets: tickets numbered per store, their threads, status history, orders and tags

Revision ID: 0010c_support_tickets
Revises: 0010b_routing_plans
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010c_support_tickets"
down_revision = "0010b_routing_plans"
branch_labels = None
depends_on = None

EXACT_DECIMAL = sa.Numeric().with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "support_counters",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_support_counters_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saleor_api_url", name=op.f("pk_support_counters")),
    )
    op.create_table(
        "support_tickets",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("requester_email", sa.String(length=320), nullable=False),
        sa.Column("requester_customer_id", sa.String(length=256), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=320), nullable=True),
        sa.Column("order_value", EXACT_DECIMAL, nullable=True),
        sa.Column("order_currency", sa.String(length=3), nullable=True),
        sa.Column("follow_up_of", sa.Integer(), nullable=True),
        sa.Column("store_reason", sa.String(length=32), nullable=True),
        sa.Column("store_key", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("solved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_policy", sa.String(length=128), nullable=True),
        sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_due_metric", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["saleor_api_url"],
            ["installations.saleor_api_url"],
            name=op.f("fk_support_tickets_saleor_api_url_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saleor_api_url", "number", name=op.f("pk_support_tickets")),
        sa.UniqueConstraint("saleor_api_url", "store_key", name=op.f("uq_support_tickets_saleor_api_url_store_key")),
    )
    with op.batch_alter_table("support_tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_support_tickets_tenant_assignee_due",
            ["saleor_api_url", "assignee", "sla_due_at", "number"],
            unique=False,
        )
        batch_op.create_index("ix_support_tickets_tenant_due", ["saleor_api_url", "sla_due_at", "number"], unique=False)
        batch_op.create_index(
            "ix_support_tickets_tenant_solved",
            ["saleor_api_url", "solved_at"],
            unique=False,
            postgresql_where=sa.text("status = 'solved'"),
            sqlite_where=sa.text("status = 'solved'"),
        )
        batch_op.create_index(
            "ix_support_tickets_tenant_status_due", ["saleor_api_url", "status", "sla_due_at", "number"], unique=False
        )

    op.create_table(
        "support_messages",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("ticket_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("author_name", sa.String(length=320), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url", "ticket_number"],
            ["support_tickets.saleor_api_url", "support_tickets.number"],
            name=op.f("fk_support_messages_saleor_api_url_support_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saleor_api_url", "ticket_number", "position", name=op.f("pk_support_messages")),
    )
    op.create_table(
        "support_status_changes",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("ticket_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url", "ticket_number"],
            ["support_tickets.saleor_api_url", "support_tickets.number"],
            name=op.f("fk_support_status_changes_saleor_api_url_support_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saleor_api_url", "ticket_number", "position", name=op.f("pk_support_status_changes")),
    )
    op.create_table(
        "support_ticket_orders",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("ticket_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("order_id", sa.String(length=256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url", "ticket_number"],
            ["support_tickets.saleor_api_url", "support_tickets.number"],
            name=op.f("fk_support_ticket_orders_saleor_api_url_support_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saleor_api_url", "ticket_number", "order_id", name=op.f("pk_support_ticket_orders")),
    )
    with op.batch_alter_table("support_ticket_orders", schema=None) as batch_op:
        batch_op.create_index("ix_support_ticket_orders_tenant_order", ["saleor_api_url", "order_id"], unique=False)

    op.create_table(
        "support_ticket_tags",
        sa.Column("saleor_api_url", sa.String(length=2048), nullable=False),
        sa.Column("ticket_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["saleor_api_url", "ticket_number"],
            ["support_tickets.saleor_api_url", "support_tickets.number"],
            name=op.f("fk_support_ticket_tags_saleor_api_url_support_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saleor_api_url", "ticket_number", "tag", name=op.f("pk_support_ticket_tags")),
    )
    with op.batch_alter_table("support_ticket_tags", schema=None) as batch_op:
        batch_op.create_index(
            "ix_support_ticket_tags_tenant_tag", ["saleor_api_url", "tag", "ticket_number"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("support_ticket_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_support_ticket_tags_tenant_tag")

    op.drop_table("support_ticket_tags")
    with op.batch_alter_table("support_ticket_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_support_ticket_orders_tenant_order")

    op.drop_table("support_ticket_orders")
    op.drop_table("support_status_changes")
    op.drop_table("support_messages")
    with op.batch_alter_table("support_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_support_tickets_tenant_status_due")
        batch_op.drop_index(
            "ix_support_tickets_tenant_solved",
            postgresql_where=sa.text("status = 'solved'"),
            sqlite_where=sa.text("status = 'solved'"),
        )
        batch_op.drop_index("ix_support_tickets_tenant_due")
        batch_op.drop_index("ix_support_tickets_tenant_assignee_due")

    op.drop_table("support_tickets")
    op.drop_table("support_counters")
