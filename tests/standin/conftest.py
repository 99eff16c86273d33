"""A stand-in Saleor with a small catalogue, and the real app wired to it in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from graphql import ExecutionResult
from sqlalchemy import delete

from app.config import Settings
from app.db.base import Base
from app.main import create_app
from app.pipeline.worker import Worker
from app.runtime import Runtime
from app.standin.facade import StandIn
from app.standin.signing import SigningKey
from app.standin.state import Address, App, Channel, Customer, ProductVariant, Warehouse
from tests.conftest import FixedClock

MANIFEST_URL = "https://ops.test/api/manifest"


@dataclass
class Catalogue:
    channel: Channel
    mug: ProductVariant
    tee: ProductVariant
    main: Warehouse  # in-house
    tpl: Warehouse  # a 3PL: just another warehouse to Saleor
    customer: Customer


@pytest.fixture(scope="session")
def standin_key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def standin(standin_key: SigningKey, clock: FixedClock) -> StandIn:
    return StandIn(api_url="http://shop.standin/graphql/", key=standin_key, clock=clock.now)


@pytest.fixture
def catalogue(standin: StandIn) -> Catalogue:
    store = standin.store
    channel = store.add_channel(slug="default-channel", name="Default", currency_code="USD")
    drinkware, apparel = store.add_product_type(name="Drinkware"), store.add_product_type(name="Apparel")
    mugs = store.add_product(name="Mug", product_type=drinkware)
    mug = store.add_variant(
        mugs,
        sku="MUG-BLUE",
        name="Blue",
        prices={channel: (Decimal("12.50"), Decimal("4.10"))},
        weight_kg=Decimal("0.4"),
    )
    tees = store.add_product(name="T-shirt", product_type=apparel)
    tee = store.add_variant(tees, sku="TEE-M", name="M", prices={channel: (Decimal("20.00"), Decimal("7.00"))})
    main = store.add_warehouse(name="Main", address=Address(company_name="Main", city="Austin", country="US"))
    tpl = store.add_warehouse(name="Shipwell 3PL", slug="shipwell")
    # Both ship in the channel, as Saleor must be told before it lists or allocates their stock.
    store.assign_warehouse(channel, main)
    store.assign_warehouse(channel, tpl)
    store.add_shipping_zone(name="United States", countries=["US"], warehouses=[main, tpl], channels=[channel])
    store.set_stock(main, mug, 5)
    store.set_stock(tpl, mug, 10)
    store.set_stock(main, tee, 3)
    customer = store.add_customer(
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        address=Address(first_name="Ada", last_name="Lovelace", street_address1="1 Main St", city="Austin"),
    )
    return Catalogue(channel, mug, tee, main, tpl, customer)


@pytest.fixture
def caller(standin: StandIn) -> App:
    """An installed app holding a token, for calling the API without the real app."""
    store = standin.store
    return store.add_app(
        App(
            pk=store.next_pk("App"),
            identifier="test.caller",
            name="Caller",
            token="caller-token",
            permissions=("MANAGE_ORDERS",),
            is_installed=True,
        )
    )


async def run(standin: StandIn, caller: App, query: str, **variables: Any) -> dict[str, Any]:
    """Execute as ``caller`` and return ``data``, failing on top-level errors."""
    result: ExecutionResult = await standin.execute(query, variables, app=caller)
    assert not result.errors, result.errors
    assert result.data is not None
    return result.data


@pytest.fixture
async def ops(settings: Settings, clock: FixedClock, standin: StandIn) -> AsyncIterator[FastAPI]:
    """The app, whose outbound HTTP reaches the stand-in, and the stand-in reaching the app at https://ops.test;
    the app's worker drains after each call the stand-in makes (no worker loop runs in tests)."""
    application = create_app(
        settings, clock=clock, http=httpx.AsyncClient(transport=httpx.ASGITransport(app=standin.asgi))
    )
    worker: Worker = application.state.worker

    async def processed(_: httpx.Response) -> None:
        # As Saleor would find it moments later: each delivery processed, its effects delivered.
        await worker.drain()

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application),
        base_url="https://ops.test",
        event_hooks={"response": [processed]},
    ) as to_app:
        standin.http = to_app
        yield application
    runtime: Runtime = application.state.runtime
    async with runtime.sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(delete(table))
    await runtime.close()
