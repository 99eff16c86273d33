"""Live rates from a store's carrier accounts through Karrio, whose calls block: each account's call
runs in a worker thread, all of them under one deadline. A carrier that fails, answers an error or
does not answer in time becomes a problem in the answer (and a log line), never an exception, so the
caller can answer from the rate tables instead."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, TypeVar

import karrio.sdk as karrio_sdk
from karrio.core import models as karrio
from karrio.core.utils import Cache

from app.domain.ids import SaleorApiUrl
from app.domain.shipping.parcels import Dimensions, Parcel
from app.domain.shipping.rates import Quote
from app.integrations.karrio import mapper
from app.integrations.karrio.settings import SETTINGS_CLASSES, carrier_specs
from app.security import SecretDecryptionError
from app.services.ports import CarrierAccounts, Clock
from app.services.shipping.model import CarrierAccount, CarrierSpec, ConnectionCheck, LiveQuotes, Place, RateRequest

log = logging.getLogger(__name__)
# Karrio's model library warns of every vendor field its models do not name: noise, not problems.
logging.getLogger("jstruct").setLevel(logging.ERROR)

T = TypeVar("T")
Rates = tuple[list[karrio.RateDetails], list[karrio.Message]]

# A sample parcel and route per carrier for "test connection": a lane every such account can quote.
_SAMPLE_PARCEL = Parcel(
    box=None,
    contents=(),
    weight_kg=Decimal(1),
    dimensions=Dimensions(Decimal(20), Decimal(15), Decimal(10)),
    reason="connection test",
)
_NEW_YORK = Place("US", "10001", "New York", "NY", "350 5th Ave")
_LOS_ANGELES = Place("US", "90012", "Los Angeles", "CA", "200 N Spring St")
_TORONTO = Place("CA", "M5V3L9", "Toronto", "ON", "290 Bremner Blvd")
_OTTAWA = Place("CA", "K1A0B1", "Ottawa", "ON", "111 Wellington St")
_SAMPLE_ROUTES: dict[str, tuple[Place, Place, str]] = {
    "ups": (_NEW_YORK, _LOS_ANGELES, "USD"),
    "fedex": (_NEW_YORK, _LOS_ANGELES, "USD"),
    "usps": (_NEW_YORK, _LOS_ANGELES, "USD"),
    "easypost": (_NEW_YORK, _LOS_ANGELES, "USD"),
    "dhl_express": (_NEW_YORK, _TORONTO, "USD"),
    "canadapost": (_OTTAWA, _TORONTO, "CAD"),
}


def _title(carrier: str) -> str:
    return SETTINGS_CLASSES[carrier][0] if carrier in SETTINGS_CLASSES else carrier


class KarrioCalls:
    """The process's worker threads for Karrio's blocking calls, and the carriers' sign-in tokens.

    A bounded pool of its own, so that carriers that hang cannot take the threads the rest of the app
    uses; a call past its deadline is abandoned (a thread cannot be stopped) and its answer dropped.
    """

    def __init__(self, max_workers: int = 16) -> None:
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="karrio")
        # Karrio keys cached tokens by carrier and credentials, so one cache serves every account.
        self.tokens = Cache()

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def fetch_rates(account: CarrierAccount, request: karrio.RateRequest, tokens: Cache) -> Rates:
    """Karrio's rating through one account (blocking: HTTP to the carrier)."""
    gateway = karrio_sdk.gateway[account.carrier].create(
        {**account.credentials, "id": str(account.id), "test_mode": account.test_mode}, cache=tokens
    )
    rates, messages = karrio_sdk.Rating.fetch(request).from_(gateway).parse()
    return list(rates), list(messages)


class KarrioCarrierQuotes:
    """``CarrierQuotes`` and ``CarrierConnector`` through Karrio's SDK."""

    def __init__(self, accounts: CarrierAccounts, calls: KarrioCalls, clock: Clock) -> None:
        self._accounts, self._calls, self._clock = accounts, calls, clock

    def carriers(self) -> Sequence[CarrierSpec]:
        return carrier_specs()

    async def quotes(self, saleor_api_url: SaleorApiUrl, request: RateRequest, *, within_seconds: float) -> LiveQuotes:
        try:
            accounts = await self._accounts.accounts(saleor_api_url, active_only=True)
        except SecretDecryptionError:
            problem = "the carrier accounts' credentials do not decrypt with APP_SECRET_KEY: connect them again"
            log.warning("Live rates: %s; the rate tables answer", problem, extra={"saleor_api_url": saleor_api_url})
            return LiveQuotes((), (problem,))
        if not accounts:
            return LiveQuotes(())
        ship_date = self._clock.now().date()
        karrio_request = mapper.karrio_rate_request(request, ship_date)
        calls = [asyncio.ensure_future(self._call(account, karrio_request)) for account in accounts]
        await asyncio.wait(calls, timeout=within_seconds)
        quotes: list[Quote] = []
        problems: list[str] = []
        for account, call in zip(accounts, calls, strict=True):
            name = f"{_title(account.carrier)} ({account.label})"
            failure: str | None = None
            if not call.done():
                call.cancel()
                failure = f"did not answer within {within_seconds:g} s"
            elif (error := call.exception()) is not None:
                failure = f"failed: {type(error).__name__}: {error}"
            else:
                rates, messages = call.result()
                errors = mapper.carrier_errors(messages)
                mapped = mapper.map_rates(account, request, rates, ship_date)
                quotes.extend(mapped.quotes)
                problems.extend(f"{name}: {problem}" for problem in mapped.problems)
                if errors and not rates:
                    failure = "failed: " + "; ".join(errors)
                elif not rates:
                    problems.append(f"{name} has no service for this shipment")
            if failure is not None:
                problems.append(f"{name} {failure}")
                log.warning(
                    "Live rates from %s %s; the rate tables answer for it",
                    name,
                    failure,
                    extra={"saleor_api_url": saleor_api_url, "carrier": account.carrier, "account": account.id},
                )
        return LiveQuotes(tuple(quotes), tuple(problems))

    async def _call(self, account: CarrierAccount, request: karrio.RateRequest) -> Rates:
        return await self._calls.run(fetch_rates, account, request, self._calls.tokens)

    async def check(self, account: CarrierAccount, *, within_seconds: float) -> ConnectionCheck:
        origin, destination, currency = _SAMPLE_ROUTES.get(account.carrier, (_NEW_YORK, _LOS_ANGELES, "USD"))
        sample = RateRequest("connection-test", origin, destination, False, (_SAMPLE_PARCEL,), currency)
        request = mapper.karrio_rate_request(sample, self._clock.now().date())
        route = f"{origin.city} to {destination.city}"
        try:
            rates, messages = await asyncio.wait_for(self._call(account, request), timeout=within_seconds)
        except TimeoutError:
            return ConnectionCheck(False, f"{_title(account.carrier)} did not answer within {within_seconds:g} s.")
        except Exception as error:  # whatever Karrio raises is the carrier's answer to show
            return ConnectionCheck(False, f"{_title(account.carrier)} could not be reached: {error}")
        errors = mapper.carrier_errors(messages)
        if rates:
            return ConnectionCheck(True, f"Connected: {len(rates)} rates for a 1 kg parcel from {route}.")
        if errors:
            return ConnectionCheck(False, f"{_title(account.carrier)} answered: {'; '.join(errors)}")
        return ConnectionCheck(False, f"{_title(account.carrier)} answered no rate for a 1 kg parcel from {route}.")
