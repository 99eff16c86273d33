"""In-memory fakes of shipping's ports: rate tables kept in a list, carriers that answer as told."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from app.domain.ids import SaleorApiUrl
from app.domain.shipping.rates import Quote, RateTable
from app.services.ports import CarrierQuotes, RateTableStore, ShippingDecisions, ShippingRevisions
from app.services.shipping.model import LiveQuotes, OrderShipping, RateRequest
from tests.fakes.in_memory import InMemorySettingsStore


class InMemoryRateTableStore:
    def __init__(self, *tables: RateTable) -> None:
        self.tables = list(tables)
        self.reads = 0
        self.replacements = 0

    async def rate_tables(self, saleor_api_url: SaleorApiUrl) -> list[RateTable]:
        self.reads += 1
        return list(self.tables)

    async def replace_rate_tables(self, saleor_api_url: SaleorApiUrl, tables: Sequence[RateTable]) -> None:
        self.tables = list(tables)
        self.replacements += 1


class InMemoryShippingRevisions:
    """Moves with every saved change of the settings and every replacement of the tables, as the SQL one."""

    def __init__(self, settings: InMemorySettingsStore, tables: InMemoryRateTableStore) -> None:
        self.settings = settings
        self.tables = tables
        self.reads = 0

    async def revision(self, saleor_api_url: SaleorApiUrl) -> tuple[int, int]:
        self.reads += 1
        return len(self.settings.changes), self.tables.replacements


class FakeCarrierQuotes:
    """Answers ``quotes`` (with ``problems``) after ``delay`` seconds, or raises ``failure``; keeps each request."""

    def __init__(
        self,
        *quotes: Quote,
        problems: tuple[str, ...] = (),
        delay: float = 0.0,
        failure: Exception | None = None,
    ) -> None:
        self.answer = LiveQuotes(quotes, problems)
        self.delay = delay
        self.failure = failure
        self.requests: list[RateRequest] = []
        self.deadlines: list[float] = []

    async def quotes(self, saleor_api_url: SaleorApiUrl, request: RateRequest, *, within_seconds: float) -> LiveQuotes:
        self.requests.append(request)
        self.deadlines.append(within_seconds)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failure is not None:
            raise self.failure
        return self.answer


class InMemoryShippingDecisions:
    def __init__(self) -> None:
        self.decisions: dict[str, OrderShipping] = {}

    async def get(self, url: SaleorApiUrl, order_id: str) -> OrderShipping | None:
        return self.decisions.get(order_id)

    async def add(self, url: SaleorApiUrl, decision: OrderShipping) -> bool:
        if decision.order_id in self.decisions:
            return False
        self.decisions[decision.order_id] = decision
        return True

    async def replace(self, url: SaleorApiUrl, decision: OrderShipping) -> None:
        self.decisions[decision.order_id] = decision


def _conforms(
    tables: InMemoryRateTableStore,
    carriers: FakeCarrierQuotes,
    decisions: InMemoryShippingDecisions,
    revisions: InMemoryShippingRevisions,
) -> tuple[RateTableStore, CarrierQuotes, ShippingDecisions, ShippingRevisions]:
    return tables, carriers, decisions, revisions  # mypy checks the fakes against the ports here
