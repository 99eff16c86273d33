"""A store's carrier accounts; credentials stored as one JSON object encrypted with the app's key."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import CarrierAccountRow
from app.domain.ids import SaleorApiUrl
from app.domain.shipping.model import Level
from app.security import SecretCipher
from app.services.shipping.model import CarrierAccount, NewCarrierAccount


class SqlCarrierAccounts:
    def __init__(self, session: AsyncSession, cipher: SecretCipher) -> None:
        self._session = session
        self._cipher = cipher

    def _account(self, row: CarrierAccountRow) -> CarrierAccount:
        credentials = json.loads(self._cipher.decrypt(row.credentials_encrypted))
        levels = {service: Level(level) for service, level in json.loads(row.service_levels).items()}
        return CarrierAccount(
            id=row.id,
            carrier=row.carrier,
            label=row.label,
            credentials=credentials,
            test_mode=row.test_mode,
            active=row.active,
            created_at=row.created_at,
            service_levels=levels,
        )

    async def add(self, url: SaleorApiUrl, account: NewCarrierAccount, at: datetime) -> CarrierAccount:
        row = CarrierAccountRow(
            saleor_api_url=url,
            carrier=account.carrier,
            label=account.label,
            credentials_encrypted=self._cipher.encrypt(json.dumps(dict(account.credentials), sort_keys=True)),
            service_levels=json.dumps({service: level.value for service, level in account.service_levels.items()}),
            test_mode=account.test_mode,
            active=True,
            created_at=at,
        )
        self._session.add(row)
        await self._session.flush()
        return self._account(row)

    async def accounts(self, url: SaleorApiUrl, *, active_only: bool = False) -> list[CarrierAccount]:
        query = select(CarrierAccountRow).where(CarrierAccountRow.saleor_api_url == url)
        if active_only:
            query = query.where(CarrierAccountRow.active.is_(True))
        rows = await self._session.scalars(query.order_by(CarrierAccountRow.id))
        return [self._account(row) for row in rows]

    async def get(self, url: SaleorApiUrl, account_id: int) -> CarrierAccount | None:
        row = await self._session.scalar(
            select(CarrierAccountRow).where(CarrierAccountRow.saleor_api_url == url, CarrierAccountRow.id == account_id)
        )
        return None if row is None else self._account(row)

    async def remove(self, url: SaleorApiUrl, account_id: int) -> bool:
        result = await self._session.execute(
            delete(CarrierAccountRow).where(CarrierAccountRow.saleor_api_url == url, CarrierAccountRow.id == account_id)
        )
        return bool(getattr(result, "rowcount", 0))


class CarrierAccountsOnTheirOwnSession:
    """The same accounts, each call in a transaction of its own: for the live carriers' question at
    checkout, which may outlive the request that asked it (``LiveQuoteCache``) and so must not use
    that request's session (ending the request while the question waited for a connection on it
    broke the session)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: SecretCipher) -> None:
        self._sessions = sessions
        self._cipher = cipher

    async def add(self, url: SaleorApiUrl, account: NewCarrierAccount, at: datetime) -> CarrierAccount:
        async with self._sessions.begin() as session:
            return await SqlCarrierAccounts(session, self._cipher).add(url, account, at)

    async def accounts(self, url: SaleorApiUrl, *, active_only: bool = False) -> list[CarrierAccount]:
        async with self._sessions() as session:
            return await SqlCarrierAccounts(session, self._cipher).accounts(url, active_only=active_only)

    async def get(self, url: SaleorApiUrl, account_id: int) -> CarrierAccount | None:
        async with self._sessions() as session:
            return await SqlCarrierAccounts(session, self._cipher).get(url, account_id)

    async def remove(self, url: SaleorApiUrl, account_id: int) -> bool:
        async with self._sessions.begin() as session:
            return await SqlCarrierAccounts(session, self._cipher).remove(url, account_id)
