from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from app.dependencies import get_ticket_store
from app.runtime import Runtime
from app.services.support.rate_limit import customer_request_limits
from tests.conftest import FakeMonotonic
from tests.fakes.support import InMemoryTicketStore


@pytest.fixture
def tickets(app: FastAPI) -> Iterator[InMemoryTicketStore]:
    """The app's ticket store, in memory (support's SQL storage is built apart)."""
    store = InMemoryTicketStore()
    app.dependency_overrides[get_ticket_store] = lambda: store
    yield store
    app.dependency_overrides.pop(get_ticket_store)


@pytest.fixture(autouse=True)
def sender_limits(runtime: Runtime, monotonic: FakeMonotonic) -> None:
    """Request limits on a clock that moves only when a test moves it."""
    runtime.support_senders = customer_request_limits(monotonic)
