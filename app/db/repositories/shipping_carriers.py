"""A store's carrier accounts; credentials stored as one JSON object encrypted with the app's key."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
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


class StoresWithoutCarrierAccounts:
    """Stores this process found with no active carrier account, remembered ``ttl_seconds``: a store
    quoting from its rate tables alone would otherwise read its accounts on every checkout, each read
    a database session, and a burst of them waiting on the connection pool. An account connected
    meanwhile is asked within about ``ttl_seconds``.

    Once the memory is older, one caller reads the accounts again (``knows_none`` says False to it)
    while the others go on trusting the memory until that read is back or as long again has passed.
    """

    def __init__(self, ttl_seconds: float = 1.0, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._monotonic = monotonic
        self._found: dict[SaleorApiUrl, float] = {}
        # Since when a caller has been reading the store's accounts again.
        self._reading: dict[SaleorApiUrl, float] = {}

    def knows_none(self, url: SaleorApiUrl) -> bool:
        """Whether the store is taken to have no active account; False tells the caller to read them and
        say what it found (``found``)."""
        found = self._found.get(url)
        if found is None:
            return False
        now = self._monotonic()
        if now - found < self.ttl_seconds:
            return True
        # A read that never came back (its caller failed) is given up after the same time.
        if now - self._reading.get(url, -math.inf) < self.ttl_seconds:
            return True
        self._reading[url] = now
        return False

    def found(self, url: SaleorApiUrl, accounts: Sequence[CarrierAccount]) -> None:
        self._reading.pop(url, None)
        if any(account.active for account in accounts):
            self._found.pop(url, None)
        else:
            self._found[url] = self._monotonic()


class CarrierAccountsOnTheirOwnSession:
    """The same accounts, each call in a transaction of its own: for the live carriers' question at
    checkout, which may outlive the request that asked it (``LiveQuoteCache``) and so must not use
    that request's session (ending the request while the question waited for a connection on it
    broke the session). A store ``without_accounts`` remembers has none is answered without a session."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: SecretCipher,
        without_accounts: StoresWithoutCarrierAccounts,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._without_accounts = without_accounts

    async def add(self, url: SaleorApiUrl, account: NewCarrierAccount, at: datetime) -> CarrierAccount:
        async with self._sessions.begin() as session:
            added = await SqlCarrierAccounts(session, self._cipher).add(url, account, at)
        self._without_accounts.found(url, [added])
        return added

    async def accounts(self, url: SaleorApiUrl, *, active_only: bool = False) -> list[CarrierAccount]:
        if active_only and self._without_accounts.knows_none(url):
            return []
        async with self._sessions() as session:
            accounts = await SqlCarrierAccounts(session, self._cipher).accounts(url, active_only=active_only)
        self._without_accounts.found(url, accounts)
        return accounts

    async def get(self, url: SaleorApiUrl, account_id: int) -> CarrierAccount | None:
        async with self._sessions() as session:
            return await SqlCarrierAccounts(session, self._cipher).get(url, account_id)

    async def remove(self, url: SaleorApiUrl, account_id: int) -> bool:
        async with self._sessions.begin() as session:
            return await SqlCarrierAccounts(session, self._cipher).remove(url, account_id)
