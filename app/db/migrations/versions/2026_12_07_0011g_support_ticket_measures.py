"""support reports: each ticket's measures kept with it, backfilled for the tickets kept so far

Revision ID: 0011g_support_ticket_measures
Revises: 0010f_support_created_index
Create Date: 2026-12-07

Reports read what the desk keeps whenever a ticket changes (business time to the first reply and to
resolution, per metric the clocks achieved, breached and the deadline of the one still going) instead of
measuring every ticket's thread and history at report time. The tickets kept before this revision are
measured here once, as the desk would at their latest change, under each store's support settings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.db.base import ExactDecimal, UtcDateTime
from app.db.repositories.support import measure_columns
from app.domain.money import Money
from app.domain.support.model import Channel, Priority, StoreReason
from app.domain.support.reports import TicketMeasures, ticket_measures
from app.domain.support.sla import measure_sla, select_policy
from app.domain.support.ticket import Author, Message, Requester, Status, StatusChange, Ticket, TicketId
from app.services.support.settings import SupportSettings

revision = "0011g_support_ticket_measures"
down_revision = "0011a_hand_offs_unanswered"
branch_labels = None
depends_on = None

BATCH = 2_000
_COUNTS = [name for name in measure_columns(TicketMeasures()) if name.endswith(("_achieved", "_breached"))]


def upgrade() -> None:
    with op.batch_alter_table("support_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_reply_micros", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("resolution_micros", sa.BigInteger(), nullable=True))
        for metric in ("first_reply", "next_reply", "resolution"):
            batch_op.add_column(sa.Column(f"{metric}_achieved", sa.Integer(), server_default="0", nullable=False))
            batch_op.add_column(sa.Column(f"{metric}_breached", sa.Integer(), server_default="0", nullable=False))
            batch_op.add_column(sa.Column(f"{metric}_due_at", UtcDateTime(), nullable=True))
    _measure_kept_tickets(datetime.now(UTC))


def downgrade() -> None:
    # Column by column, not in a batch: SQLite's batch copies the table, and dropping the old copy would cascade
    # to the tickets' threads and histories (foreign keys are on). SQLite drops a plain column itself (3.35+).
    for metric in ("resolution", "next_reply", "first_reply"):
        op.drop_column("support_tickets", f"{metric}_due_at")
        op.drop_column("support_tickets", f"{metric}_breached")
        op.drop_column("support_tickets", f"{metric}_achieved")
    op.drop_column("support_tickets", "resolution_micros")
    op.drop_column("support_tickets", "first_reply_micros")


_tickets = sa.table(
    "support_tickets",
    sa.column("saleor_api_url", sa.String),
    sa.column("number", sa.Integer),
    sa.column("requester_email", sa.String),
    sa.column("channel", sa.String),
    sa.column("status", sa.String),
    sa.column("priority", sa.String),
    sa.column("assignee", sa.String),
    sa.column("order_value", ExactDecimal()),
    sa.column("order_currency", sa.String),
    sa.column("store_reason", sa.String),
    sa.column("created_at", UtcDateTime()),
    sa.column("updated_at", UtcDateTime()),
    sa.column("first_reply_micros", sa.BigInteger),
    sa.column("resolution_micros", sa.BigInteger),
    *(sa.column(name, sa.Integer) for name in _COUNTS),
    *(sa.column(f"{metric}_due_at", UtcDateTime()) for metric in ("first_reply", "next_reply", "resolution")),
)
_messages = sa.table(
    "support_messages",
    sa.column("saleor_api_url", sa.String),
    sa.column("ticket_number", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("author", sa.String),
    sa.column("public", sa.Boolean),
    sa.column("written_at", UtcDateTime()),
)
_changes = sa.table(
    "support_status_changes",
    sa.column("saleor_api_url", sa.String),
    sa.column("ticket_number", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("status", sa.String),
    sa.column("changed_at", UtcDateTime()),
)
_tags = sa.table(
    "support_ticket_tags",
    sa.column("saleor_api_url", sa.String),
    sa.column("ticket_number", sa.Integer),
    sa.column("tag", sa.String),
)
_settings = sa.table(
    "settings", sa.column("saleor_api_url", sa.String), sa.column("section", sa.String), sa.column("values", sa.Text)
)


def _measure_kept_tickets(now: datetime) -> None:
    """Each store's tickets measured in batches by number, each batch's entries read in one query per table."""
    bind = op.get_bind()
    stores = bind.execute(sa.select(_tickets.c.saleor_api_url).distinct()).scalars().all()
    columns = list(measure_columns(TicketMeasures()))
    update = (
        _tickets.update()
        .where(_tickets.c.saleor_api_url == sa.bindparam("url_"), _tickets.c.number == sa.bindparam("number_"))
        .values({name: sa.bindparam(name) for name in columns})
    )
    for url in stores:
        stored = bind.execute(
            sa.select(_settings.c["values"]).where(_settings.c.saleor_api_url == url, _settings.c.section == "support")
        ).scalar()
        configuration = SupportSettings.model_validate(json.loads(stored) if stored else {}).configuration()
        after = 0
        while True:
            rows = bind.execute(
                sa.select(_tickets)
                .where(_tickets.c.saleor_api_url == url, _tickets.c.number > after)
                .order_by(_tickets.c.number)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            first, last = rows[0].number, rows[-1].number
            threads, histories, tags = _entries(bind, url, first, last)
            updates = []
            for row in rows:
                ticket = Ticket(
                    id=TicketId(str(row.number)),
                    requester=Requester(row.requester_email),
                    subject="",
                    description="",
                    channel=Channel(row.channel),
                    created_at=row.created_at,
                    status=Status(row.status),
                    priority=Priority(row.priority),
                    assignee=row.assignee,
                    tags=frozenset(tags.get(row.number, ())),
                    order_value=None
                    if row.order_value is None or row.order_currency is None
                    else Money(row.order_value, row.order_currency),
                    thread=tuple(threads.get(row.number, ())),
                    history=tuple(histories.get(row.number, ())),
                    updated_at=row.updated_at,
                    store_reason=None if row.store_reason is None else StoreReason(row.store_reason),
                )
                policy = select_policy(configuration.policies, ticket)
                sla = None if policy is None else measure_sla(ticket, policy, now)
                hours = configuration.hours if policy is None else policy.hours
                measures = ticket_measures(ticket, hours, sla)
                updates.append({"url_": url, "number_": row.number, **measure_columns(measures)})
            bind.execute(update, updates)
            after = last


def _entries(
    bind: sa.Connection, url: str, first: int, last: int
) -> tuple[dict[int, list[Message]], dict[int, list[StatusChange]], dict[int, list[str]]]:
    """The public messages (their authors and times: what the measures read), status history and tags of the
    tickets numbered ``first`` to ``last``."""
    M, S, G = _messages.c, _changes.c, _tags.c
    threads: dict[int, list[Message]] = {}
    for number, author, written_at in bind.execute(
        sa.select(M.ticket_number, M.author, M.written_at)
        .where(M.saleor_api_url == url, M.ticket_number.between(first, last), M.public.is_(True))
        .order_by(M.ticket_number, M.position)
    ):
        threads.setdefault(number, []).append(Message(Author(author), "", "", True, written_at))
    histories: dict[int, list[StatusChange]] = {}
    for number, status, changed_at in bind.execute(
        sa.select(S.ticket_number, S.status, S.changed_at)
        .where(S.saleor_api_url == url, S.ticket_number.between(first, last))
        .order_by(S.ticket_number, S.position)
    ):
        histories.setdefault(number, []).append(StatusChange(Status(status), changed_at))
    tags: dict[int, list[str]] = {}
    for number, tag in bind.execute(
        sa.select(G.ticket_number, G.tag).where(G.saleor_api_url == url, G.ticket_number.between(first, last))
    ):
        tags.setdefault(number, []).append(tag)
    return threads, histories, tags
