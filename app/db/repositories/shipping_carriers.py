"""A store's carrier accounts; credentials stored as one JSON object encrypted with the app's key."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Awaitable, Callable, Sequence
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

    A read of a store's active accounts is shared by every caller asking while it is under way: on a
    process that has not read them yet, a burst of checkouts would otherwise take a pooled connection
    each and wait on the pool past the live quotes' deadline. Once the memory is older, its callers
    trust it while the read is under way, for as long again at most (a read that hangs is not trusted
    forever: the next caller after that reads again).
    """

    def __init__(self, ttl_seconds: float = 1.0, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._monotonic = monotonic
        self._found: dict[SaleorApiUrl, float] = {}
        # Each store's read under way, and when it began.
        self._reads: dict[SaleorApiUrl, tuple[float, asyncio.Future[list[CarrierAccount]]]] = {}

    async def active_accounts(
        self, url: SaleorApiUrl, read: Callable[[], Awaitable[list[CarrierAccount]]]
    ) -> list[CarrierAccount]:
        """The store's active accounts: none while the memory says so, else what ``read`` (or the read
        already under way) finds."""
        now = self._monotonic()
        under_way = self._reads.get(url)
        if under_way is not None and now - under_way[0] >= self.ttl_seconds:
            under_way = None
        found = self._found.get(url)
        if found is not None and (now - found < self.ttl_seconds or under_way is not None):
            return []
        reading: asyncio.Future[list[CarrierAccount]]
        if under_way is None:
            reading = asyncio.ensure_future(read())
            self._reads[url] = (now, reading)
            reading.add_done_callback(functools.partial(self._read_done, url))
        else:
            reading = under_way[1]
        # Shielded: a checkout that stops waiting leaves the read to finish for the others.
        return list(await asyncio.shield(reading))

    def _read_done(self, url: SaleorApiUrl, reading: asyncio.Future[list[CarrierAccount]]) -> None:
        if url in self._reads and self._reads[url][1] is reading:
            del self._reads[url]
        if not reading.cancelled() and reading.exception() is None:  # a failed read is tried again next time
            self.found(url, reading.result())

    def found(self, url: SaleorApiUrl, accounts: Sequence[CarrierAccount]) -> None:
        if any(account.active for account in accounts):
            self._found.pop(url, None)
        else:
            self._found[url] = self._monotonic()


class CarrierAccountsOnTheirOwnSession:
    """The same accounts, each call in a transaction of its own: for the live carriers' question at
    checkout, which may outlive the request that asked it (``LiveQuoteCache``) and so must not use
    that request's session (ending the request while the question waited for a connection on it
    broke the session). A store ``without_accounts`` remembers has none is answered without a
    session, and a read of the active accounts under way is shared."""

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
        if active_only:
            return await self._without_accounts.active_accounts(url, functools.partial(self._read, url, True))
        accounts = await self._read(url, False)
        self._without_accounts.found(url, accounts)
        return accounts

    async def _read(self, url: SaleorApiUrl, active_only: bool) -> list[CarrierAccount]:
        async with self._sessions() as session:
            return await SqlCarrierAccounts(session, self._cipher).accounts(url, active_only=active_only)

    async def get(self, url: SaleorApiUrl, account_id: int) -> CarrierAccount | None:
        async with self._sessions() as session:
            return await SqlCarrierAccounts(session, self._cipher).get(url, account_id)

    async def remove(self, url: SaleorApiUrl, account_id: int) -> bool:
        async with self._sessions.begin() as session:
            return await SqlCarrierAccounts(session, self._cipher).remove(url, account_id)
