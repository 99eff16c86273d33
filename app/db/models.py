"""ORM rows. Every table carries the installation's ``saleor_api_url``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UtcDateTime

# Deleting an installation deletes everything that belongs to it.
TENANT_FK = ForeignKey("installations.saleor_api_url", ondelete="CASCADE")


class InstallationRow(Base):
    __tablename__ = "installations"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(256))
    token_encrypted: Mapped[str] = mapped_column(Text)
    jwks: Mapped[str] = mapped_column(Text)
    saleor_domain: Mapped[str | None] = mapped_column(String(512))
    schema_version: Mapped[str | None] = mapped_column(String(32))
    saleor_version: Mapped[str | None] = mapped_column(String(64))
    installed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OrderEventRow(Base):
    """An order webhook as Saleor delivered it, once per occurrence.

    Saleor sends no delivery id; a retry repeats the body byte for byte, so the
    event, the order and the event's ``issuedAt`` name one occurrence.
    """

    __tablename__ = "order_events"
    __table_args__ = (
        UniqueConstraint("saleor_api_url", "event", "order_id", "issued_at"),
        Index("ix_order_events_tenant_order", "saleor_api_url", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), TENANT_FK)
    event: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(String(256))
    order_number: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    saleor_version: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
