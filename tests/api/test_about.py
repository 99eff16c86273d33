"""The pages a merchant and a newcomer read before installing: the root, about and privacy."""

from __future__ import annotations

import re

import httpx
import pytest

from app.saleor.manifest import build_manifest

# Capabilities DESIGN.md plans that the app does not have yet; naming them would promise them.
NOT_YET = re.compile(r"shipping|rate|routing|3PL|dropship|ticket|SLA|analytics|carrier", re.IGNORECASE)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


class TestRoot:
    async def test_says_what_the_app_is_and_where_its_manifest_is(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/")
        assert response.status_code == 200
        text = _text(response.text)
        assert "Saleor Ops" in text
        assert "https://ops.test/api/manifest" in text


class TestWhatTheAppPromises:
    def test_the_manifest_describes_only_what_exists(self) -> None:
        about = build_manifest("https://ops.test")["about"]
        assert not NOT_YET.search(about), about
        for capability in ("fraud", "cost of goods"):
            assert capability in about.lower()

    @pytest.mark.parametrize("path", ["/", "/about"])
    async def test_the_about_pages_describe_only_what_exists(self, client: httpx.AsyncClient, path: str) -> None:
        text = _text((await client.get(path)).text)
        assert not NOT_YET.search(text), NOT_YET.search(text)
        for capability in ("fraud", "cost of goods", "install"):
            assert capability in text.lower()


class TestPrivacy:
    async def test_the_manifest_links_the_privacy_page(self, client: httpx.AsyncClient) -> None:
        url = build_manifest("https://ops.test")["dataPrivacyUrl"]
        response = await client.get(url.removeprefix("https://ops.test"))
        assert response.status_code == 200
        assert "<h1>Privacy</h1>" in response.text

    async def test_says_what_is_stored_for_how_long_and_how_to_delete_it(self, client: httpx.AsyncClient) -> None:
        text = _text((await client.get("/about/privacy")).text).lower()
        for stored in ("name", "address", "e-mail", "ip address", "bin", "last 4", "settings", "ledger"):
            assert stored in text, stored
        assert "30 days unless the store sets another" in text
        assert "kept for 30 days" in text, "the grace period after the app is removed"
        assert "saleor-ops export-store" in text
        assert "saleor-ops forget-store" in text

    async def test_says_what_connected_carriers_receive(self, client: httpx.AsyncClient) -> None:
        text = _text((await client.get("/about/privacy")).text).lower()
        assert "sends nothing to anyone else" not in text
        assert "carrier accounts" in text
        for sent in ("destination's street, city, region, postal code and country", "weights and sizes"):
            assert sent in text, sent
