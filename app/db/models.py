"""ORM rows. Every table carries the installation's ``saleor_api_url``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UtcDateTime


def tenant_fk() -> ForeignKey:
    """Every table's link to its installation: deleting a store deletes all it owns."""
    return ForeignKey("installations.saleor_api_url", ondelete="CASCADE")


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
        Index("ix_order_events_tenant_issued", "saleor_api_url", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    event: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(String(256))
    order_number: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    saleor_version: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SettingsRow(Base):
    """One section of a store's settings (e.g. ``general``), as validated JSON."""

    __tablename__ = "settings"

    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk(), primary_key=True)
    section: Mapped[str] = mapped_column(String(64), primary_key=True)
    values: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))


class SettingsChangeRow(Base):
    """Who changed which settings section when, and from what to what."""

    __tablename__ = "settings_changes"
    __table_args__ = (Index("ix_settings_changes_tenant_changed", "saleor_api_url", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    saleor_api_url: Mapped[str] = mapped_column(String(2048), tenant_fk())
    section: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changed_by: Mapped[str] = mapped_column(String(320))
    before: Mapped[str] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)
