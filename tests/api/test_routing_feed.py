"""``POST /api/routing/suppliers/{id}/offers``: a supplier's feed with the store's API key, all or nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from app.db.repositories.api_keys import SqlApiKeyStore
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.routing import SqlRoutingSources
from app.domain.ids import SaleorApiUrl, SaleorId, saleor_api_url
from app.domain.installation import Installation
from app.domain.money import Money
from app.domain.routing.model import PickPackFees, SourceKind
from app.runtime import Runtime
from app.services.api_keys import ApiKeyCreated, create_api_key
from app.services.routing.model import HandOffMethod, KeptOffer, Partner
from tests.builders import NOW, make_installation

SHOP = saleor_api_url("https://shop.test/graphql/")
OTHER = saleor_api_url("https://other.test/graphql/")
ACME = Partner(
    id="acme",
    name="Acme",
    kind=SourceKind.DROPSHIP,
    warehouse_id=SaleorId("V2FyZWhvdXNlOjM="),
    hand_off=HandOffMethod.EMAIL,
    address="orders@acme.example",
    acceptance_window=timedelta(hours=24),
)
PATH = "/api/routing/suppliers/acme/offers"
OFFER = {"sku": "MUG-1", "unit_price": 3.10, "currency": "USD", "handling_days": 2, "stock": 40}


async def _key(runtime: Runtime, url: SaleorApiUrl) -> str:
    async with runtime.sessions.begin() as session:
        created = await create_api_key(SqlApiKeyStore(session), url, "Feeds", by="staff@shop.test", now=NOW)
    assert isinstance(created, ApiKeyCreated)
    return created.secret


@pytest.fixture
async def key(runtime: Runtime, installation: Installation) -> str:
    async with runtime.sessions.begin() as session:
        await SqlRoutingSources(session, runtime.cipher).add_partner(SHOP, ACME, "secret", NOW)
    return await _key(runtime, SHOP)


async def _offers(runtime: Runtime) -> list[KeptOffer]:
    async with runtime.sessions() as session:
        return await SqlRoutingSources(session, runtime.cipher).offers(SHOP, ACME.id)


async def _post(client: httpx.AsyncClient, key: str, body: object, path: str = PATH) -> httpx.Response:
    return await client.post(path, content=json.dumps(body), headers={"authorization": f"Bearer {key}"})


async def test_a_feed_replaces_the_suppliers_offers(client: httpx.AsyncClient, key: str, runtime: Runtime) -> None:
    first = await _post(client, key, {"offers": [OFFER, {**OFFER, "sku": "CUP-1"}]})
    assert first.status_code == 200, first.text
    assert first.json() == {"supplier": "acme", "offers": 2}
    second = await _post(client, key, {"offers": [{**OFFER, "unit_price": "2.95", "stock": 7}]})
    assert second.json() == {"supplier": "acme", "offers": 1}
    [kept] = await _offers(runtime)
    assert (kept.offer.sku, str(kept.offer.unit_price.amount), kept.offer.stock) == ("MUG-1", "2.95", 7)


async def test_one_bad_item_stores_nothing(client: httpx.AsyncClient, key: str, runtime: Runtime) -> None:
    await _post(client, key, {"offers": [OFFER]})
    response = await _post(client, key, {"offers": [{**OFFER, "sku": "CUP-1"}, {**OFFER, "currency": "XX"}]})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"index": 1, "field": "currency", "value": "XX", "message": "is not an ISO 4217 code"}
    ]
    assert [kept.offer.sku for kept in await _offers(runtime)] == ["MUG-1"]


async def test_a_body_of_the_wrong_shape_is_refused(client: httpx.AsyncClient, key: str) -> None:
    response = await _post(client, key, [OFFER])
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "OFFERS_REJECTED"


@pytest.mark.parametrize("authorization", [None, "Bearer sops_not-a-key", "Basic c29wczp4"])
async def test_a_call_without_a_live_key_is_refused(
    client: httpx.AsyncClient, key: str, runtime: Runtime, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    response = await client.post(PATH, json={"offers": [OFFER]}, headers=headers)
    assert response.status_code == 401
    assert await _offers(runtime) == []


async def test_another_stores_key_does_not_reach_this_stores_supplier(
    client: httpx.AsyncClient, key: str, runtime: Runtime, installation: Installation
) -> None:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(
            make_installation(saleor_api_url=OTHER, jwks=installation.jwks)
        )
    other_key = await _key(runtime, OTHER)
    response = await _post(client, other_key, {"offers": [OFFER]})
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "UNKNOWN_SUPPLIER"
    assert await _offers(runtime) == []


async def test_a_3pl_takes_no_feed(client: httpx.AsyncClient, key: str, runtime: Runtime) -> None:
    async with runtime.sessions.begin() as session:
        sources = SqlRoutingSources(session, runtime.cipher)
        await sources.add_partner(
            SHOP,
            Partner(
                id="west",
                name="West",
                kind=SourceKind.THIRD_PARTY,
                warehouse_id=SaleorId("V2FyZWhvdXNlOjI="),
                hand_off=HandOffMethod.WEBHOOK,
                address="https://west.example/orders",
                acceptance_window=timedelta(hours=4),
                fees=PickPackFees(Money(Decimal(2), "USD"), Money(Decimal(0), "USD")),
            ),
            "secret",
            NOW,
        )
    response = await _post(client, key, {"offers": [OFFER]}, path="/api/routing/suppliers/west/offers")
    assert response.status_code == 404
