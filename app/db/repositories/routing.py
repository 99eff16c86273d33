"""A store's routing sources: partners (signing secrets encrypted with the app's key), the priorities of
its own warehouses, and its suppliers' offers."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, and_, delete, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import RoutingInHouseRow, RoutingPartnerRow, RoutingSupplierOfferRow
from app.db.upsert import insert_if_absent
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.money import Money
from app.domain.routing.model import PickPackFees, SourceKind
from app.security import SecretCipher
from app.services.routing.model import HandOffMethod, KeptOffer, Partner, RoutingSetup, SupplierOffer

_PARTNERS = cast(Table, RoutingPartnerRow.__table__)


def _partner(row: RoutingPartnerRow) -> Partner:
    fees = None
    if row.fee_per_order is not None and row.fee_per_unit is not None and row.fee_currency is not None:
        fees = PickPackFees(Money(row.fee_per_order, row.fee_currency), Money(row.fee_per_unit, row.fee_currency))
    return Partner(
        id=row.id,
        name=row.name,
        kind=SourceKind(row.kind),
        warehouse_id=SaleorId(row.warehouse_id),
        hand_off=HandOffMethod(row.hand_off),
        address=row.address,
        acceptance_window=timedelta(seconds=row.acceptance_window_seconds),
        priority=row.priority,
        fees=fees,
    )


def _terms(partner: Partner) -> dict[str, object]:
    """The partner's columns that its edits may change."""
    fees = partner.fees
    return {
        "name": partner.name,
        "kind": partner.kind.value,
        "warehouse_id": partner.warehouse_id,
        "hand_off": partner.hand_off.value,
        "address": partner.address,
        "acceptance_window_seconds": int(partner.acceptance_window.total_seconds()),
        "priority": partner.priority,
        "fee_per_order": None if fees is None else fees.per_order.amount,
        "fee_per_unit": None if fees is None else fees.per_unit.amount,
        "fee_currency": None if fees is None else fees.per_order.currency,
    }


def _offer(row: RoutingSupplierOfferRow) -> SupplierOffer:
    return SupplierOffer(row.sku, Money(row.unit_price, row.currency), row.handling_days, row.stock)


class SqlRoutingSources:
    """``RoutingSourceStore`` (and so ``RoutingSources``) on the request's or the worker's session."""

    def __init__(self, session: AsyncSession, cipher: SecretCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def has_partners(self, saleor_api_url: SaleorApiUrl) -> bool:
        return bool(
            await self._session.scalar(select(exists().where(RoutingPartnerRow.saleor_api_url == saleor_api_url)))
        )

    async def setup(self, saleor_api_url: SaleorApiUrl, skus: Collection[str]) -> RoutingSetup:
        # Each partner with its offers of the asked SKUs (none for a 3PL), in one query; the priorities in another.
        P, Offer = RoutingPartnerRow, RoutingSupplierOfferRow  # noqa: N806 - table aliases
        rows = await self._session.execute(
            select(P, Offer)
            .outerjoin(Offer, and_(Offer.partner_id == P.id, Offer.sku.in_(sorted(set(skus)))))
            .where(P.saleor_api_url == saleor_api_url)
            .order_by(P.name, Offer.sku)
        )
        partners: dict[str, Partner] = {}
        offers: dict[str, dict[str, SupplierOffer]] = {}
        for partner_row, offer_row in rows:
            if partner_row.id not in partners:
                partners[partner_row.id] = _partner(partner_row)
                if partner_row.kind == SourceKind.DROPSHIP:
                    offers[partner_row.id] = {}
            if offer_row is not None:
                offers[partner_row.id][offer_row.sku] = _offer(offer_row)
        return RoutingSetup(tuple(partners.values()), await self.in_house(saleor_api_url), offers)

    async def partner_secret(self, saleor_api_url: SaleorApiUrl, partner_id: str) -> str | None:
        encrypted = await self._session.scalar(
            select(RoutingPartnerRow.secret_encrypted).where(
                RoutingPartnerRow.saleor_api_url == saleor_api_url, RoutingPartnerRow.id == partner_id
            )
        )
        return None if encrypted is None else self._cipher.decrypt(encrypted)

    async def partners(self, saleor_api_url: SaleorApiUrl) -> list[Partner]:
        rows = await self._session.scalars(
            select(RoutingPartnerRow)
            .where(RoutingPartnerRow.saleor_api_url == saleor_api_url)
            .order_by(RoutingPartnerRow.name)
        )
        return [_partner(row) for row in rows]

    async def partner(self, saleor_api_url: SaleorApiUrl, partner_id: str) -> Partner | None:
        row = await self._session.scalar(
            select(RoutingPartnerRow).where(
                RoutingPartnerRow.saleor_api_url == saleor_api_url, RoutingPartnerRow.id == partner_id
            )
        )
        return None if row is None else _partner(row)

    async def add_partner(self, saleor_api_url: SaleorApiUrl, partner: Partner, secret: str, at: datetime) -> bool:
        # Two requests adding the same name (or warehouse) at once both pass the form's check: the unique
        # constraints decide, and the later one keeps nothing rather than failing its transaction.
        added = await insert_if_absent(
            self._session,
            _PARTNERS,
            {
                "id": partner.id,
                "saleor_api_url": saleor_api_url,
                "secret_encrypted": self._cipher.encrypt(secret),
                "secret_rotated_at": at,
                "created_at": at,
                "updated_at": at,
                **_terms(partner),
            },
        )
        if added:
            await self._leaves_in_house(saleor_api_url, partner.warehouse_id)
        return added

    async def update_partner(self, saleor_api_url: SaleorApiUrl, partner: Partner, at: datetime) -> bool:
        await self._leaves_in_house(saleor_api_url, partner.warehouse_id)
        result = await self._session.execute(
            update(RoutingPartnerRow)
            .where(RoutingPartnerRow.saleor_api_url == saleor_api_url, RoutingPartnerRow.id == partner.id)
            .values(updated_at=at, **_terms(partner))
        )
        return bool(getattr(result, "rowcount", 0))

    async def remove_partner(self, saleor_api_url: SaleorApiUrl, partner_id: str) -> bool:
        # The offers go with it (their foreign key cascades).
        result = await self._session.execute(
            delete(RoutingPartnerRow).where(
                RoutingPartnerRow.saleor_api_url == saleor_api_url, RoutingPartnerRow.id == partner_id
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def replace_secret(self, saleor_api_url: SaleorApiUrl, partner_id: str, secret: str, at: datetime) -> bool:
        result = await self._session.execute(
            update(RoutingPartnerRow)
            .where(RoutingPartnerRow.saleor_api_url == saleor_api_url, RoutingPartnerRow.id == partner_id)
            .values(secret_encrypted=self._cipher.encrypt(secret), secret_rotated_at=at, updated_at=at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def in_house(self, saleor_api_url: SaleorApiUrl) -> dict[SaleorId, int]:
        rows = await self._session.execute(
            select(RoutingInHouseRow.warehouse_id, RoutingInHouseRow.priority).where(
                RoutingInHouseRow.saleor_api_url == saleor_api_url
            )
        )
        return {SaleorId(warehouse_id): priority for warehouse_id, priority in rows}

    async def set_in_house_priority(self, saleor_api_url: SaleorApiUrl, warehouse_id: SaleorId, priority: int) -> None:
        changed = await self._session.execute(
            update(RoutingInHouseRow)
            .where(RoutingInHouseRow.saleor_api_url == saleor_api_url, RoutingInHouseRow.warehouse_id == warehouse_id)
            .values(priority=priority)
        )
        if not getattr(changed, "rowcount", 0):
            await self._session.execute(
                insert(RoutingInHouseRow).values(
                    saleor_api_url=saleor_api_url, warehouse_id=warehouse_id, priority=priority
                )
            )

    async def offers(self, saleor_api_url: SaleorApiUrl, supplier_id: str) -> list[KeptOffer]:
        rows = await self._session.scalars(
            select(RoutingSupplierOfferRow)
            .where(
                RoutingSupplierOfferRow.saleor_api_url == saleor_api_url,
                RoutingSupplierOfferRow.partner_id == supplier_id,
            )
            .order_by(RoutingSupplierOfferRow.sku)
        )
        return [KeptOffer(_offer(row), row.updated_at) for row in rows]

    async def replace_offers(
        self, saleor_api_url: SaleorApiUrl, supplier_id: str, offers: Sequence[SupplierOffer], at: datetime
    ) -> None:
        await self._session.execute(
            delete(RoutingSupplierOfferRow).where(
                RoutingSupplierOfferRow.saleor_api_url == saleor_api_url,
                RoutingSupplierOfferRow.partner_id == supplier_id,
            )
        )
        rows = [
            {
                "saleor_api_url": saleor_api_url,
                "partner_id": supplier_id,
                "sku": offer.sku,
                "unit_price": offer.unit_price.amount,
                "currency": offer.unit_price.currency,
                "handling_days": offer.handling_days,
                "stock": offer.stock,
                "updated_at": at,
            }
            for offer in offers
        ]
        if rows:  # SQLAlchemy batches the rows within the database's limit on parameters
            await self._session.execute(insert(RoutingSupplierOfferRow), rows)

    async def _leaves_in_house(self, saleor_api_url: SaleorApiUrl, warehouse_id: SaleorId) -> None:
        """A warehouse a partner runs is no longer the merchant's own: its in-house priority goes."""
        await self._session.execute(
            delete(RoutingInHouseRow).where(
                RoutingInHouseRow.saleor_api_url == saleor_api_url, RoutingInHouseRow.warehouse_id == warehouse_id
            )
        )
