"""The dashboard harness as a newcomer uses it after ``make demo``: the order link opens a real order."""

from __future__ import annotations

import httpx
import jwt
import respx
from fastapi import FastAPI

from app.saleor.manifest import build_manifest
from app.standin.harness import DEFAULT_PERMISSIONS, HarnessConfig, create_site
from app.standin.signing import SigningKey

API_URL = "http://standin.test/graphql/"


def _site(latest_order_id: str | None) -> httpx.AsyncClient:
    config = HarnessConfig(
        app_url="http://app.test",
        saleor_api_url=API_URL,
        app_id="QXBwOjE=",
        key=SigningKey(),
        latest_order_id=lambda: latest_order_id,
    )
    site = create_site(FastAPI(), config)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=site), base_url="http://standin.test")


@respx.mock
async def test_the_order_card_link_names_the_stores_latest_order() -> None:
    # The settings name the order card as the app's own manifest mounts it for the played release.
    respx.get("http://app.test/api/manifest").mock(
        return_value=httpx.Response(200, json=build_manifest("http://app.test", schema_version="3.22"))
    )
    async with _site("T3JkZXI6NDI=") as harness:
        assert (await harness.get("/harness/settings")).json()["orderId"] == "T3JkZXI6NDI="


async def test_the_default_user_carries_the_harness_permissions() -> None:
    async with _site(None) as harness:
        token = (await harness.get("/harness/token")).json()["token"]
    assert sorted(jwt.decode(token, options={"verify_signature": False})["user_permissions"]) == sorted(
        DEFAULT_PERMISSIONS
    )
