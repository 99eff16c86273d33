"""Fakes for live carrier rates: a store's carrier accounts in memory, and carriers' HTTP answers
recorded in files, served at Karrio's HTTP boundary (the ``urlopen`` its request helper calls)."""

from __future__ import annotations

import dataclasses
import io
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from pathlib import Path

import karrio.core.utils.helpers as karrio_http
import pytest

from app.domain.ids import SaleorApiUrl
from app.services.shipping.model import CarrierAccount, CarrierSpec, ConnectionCheck, NewCarrierAccount

RECORDED = Path(__file__).parent.parent / "adapters" / "integrations" / "karrio" / "recorded"


class InMemoryCarrierAccounts:
    def __init__(self) -> None:
        self.stored: dict[SaleorApiUrl, list[CarrierAccount]] = {}
        self._next_id = 1

    async def add(self, url: SaleorApiUrl, account: NewCarrierAccount, at: datetime) -> CarrierAccount:
        stored = CarrierAccount(
            self._next_id,
            account.carrier,
            account.label,
            dict(account.credentials),
            account.test_mode,
            True,
            at,
            dict(account.service_levels),
        )
        self._next_id += 1
        self.stored.setdefault(url, []).append(stored)
        return stored

    async def accounts(self, url: SaleorApiUrl, *, active_only: bool = False) -> list[CarrierAccount]:
        return [a for a in self.stored.get(url, []) if a.active or not active_only]

    async def get(self, url: SaleorApiUrl, account_id: int) -> CarrierAccount | None:
        return next((a for a in self.stored.get(url, []) if a.id == account_id), None)

    async def remove(self, url: SaleorApiUrl, account_id: int) -> bool:
        before = self.stored.get(url, [])
        self.stored[url] = [a for a in before if a.id != account_id]
        return len(self.stored[url]) < len(before)

    def deactivate(self, url: SaleorApiUrl, account_id: int) -> None:
        self.stored[url] = [dataclasses.replace(a, active=a.id != account_id and a.active) for a in self.stored[url]]


@dataclass(frozen=True, slots=True)
class SeenRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class _Route:
    url_part: str
    body: bytes
    status: int
    hold_seconds: float
    error: OSError | None


class _Response:
    """What karrio reads of urllib's response."""

    def __init__(self, body: bytes, url: str) -> None:
        self._body, self.status, self.headers, self.url = body, 200, Message(), url

    def read(self) -> bytes:
        return self._body

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *_: object) -> None:
        return None


@dataclass
class RecordedCarrierHttp:
    """Answers each request whose URL contains a route's part with that route's recorded body; a request
    no route expects fails the way an unreachable host does."""

    routes: list[_Route] = field(default_factory=list)
    seen: list[SeenRequest] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    holding: threading.Event = field(default_factory=threading.Event)

    def on(
        self,
        url_part: str,
        recorded: str | None = None,
        *,
        body: bytes = b"",
        status: int = 200,
        hold_seconds: float = 0.0,
        error: OSError | None = None,
    ) -> None:
        """``hold_seconds`` keeps the answer back (until the test ends at the latest), as a slow carrier does."""
        content = (RECORDED / recorded).read_bytes() if recorded else body
        self.routes.insert(0, _Route(url_part, content, status, hold_seconds, error))

    def __call__(self, request: urllib.request.Request, timeout: float | None = None) -> _Response:
        data = request.data if isinstance(request.data, bytes) else str(request.data or "").encode()
        self.seen.append(SeenRequest(request.get_method(), request.full_url, dict(request.header_items()), data))
        route = next((r for r in self.routes if r.url_part in request.full_url), None)
        if route is None:
            raise urllib.error.URLError(f"no recorded answer for {request.full_url}")
        if route.hold_seconds:
            self.holding.set()
            self.released.wait(route.hold_seconds)
        if route.error is not None:
            raise route.error
        if route.status >= 400:
            raise urllib.error.HTTPError(request.full_url, route.status, "error", Message(), io.BytesIO(route.body))
        return _Response(route.body, request.full_url)

    def urls(self) -> list[str]:
        return [seen.url.split("?")[0] for seen in self.seen]


@pytest.fixture
def carrier_http(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordedCarrierHttp]:
    recorded = RecordedCarrierHttp()
    monkeypatch.setattr(karrio_http, "urlopen", recorded)
    yield recorded
    recorded.released.set()  # a held answer's worker thread ends with the test


class FakeCarrierConnector:
    """Carriers with the given specs; every check answers ``answer`` and is recorded."""

    def __init__(self, specs: tuple[CarrierSpec, ...], answer: ConnectionCheck) -> None:
        self.specs, self.answer = specs, answer
        self.checked: list[tuple[CarrierAccount, float]] = []

    def carriers(self) -> tuple[CarrierSpec, ...]:
        return self.specs

    async def check(self, account: CarrierAccount, *, within_seconds: float) -> ConnectionCheck:
        self.checked.append((account, within_seconds))
        return self.answer
