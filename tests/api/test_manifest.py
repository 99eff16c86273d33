"""The manifest Saleor installs from, and that it matches what the app serves."""

import json
import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from app import __version__
from app.graphql.documents import load
from app.saleor.manifest import MANIFEST_PATH, build_manifest
from app.saleor.routes import router as saleor_router
from app.webhooks import WEBHOOKS

ABSOLUTE = re.compile(r"^https://ops\.test/")


@pytest.fixture
async def manifest(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/manifest")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


class TestManifest:
    def test_requires_the_fields_every_supported_saleor_needs(self, manifest: dict[str, Any]) -> None:
        for key in ("id", "version", "name", "tokenTargetUrl"):
            assert manifest[key]
        assert manifest["version"] == __version__
        assert manifest["requiredSaleorVersion"] == ">=3.20"
        assert manifest["author"].strip()

    def test_every_url_is_absolute_from_the_public_url(self, manifest: dict[str, Any]) -> None:
        for key in ("appUrl", "tokenTargetUrl", "dataPrivacyUrl", "homepageUrl", "supportUrl"):
            assert ABSOLUTE.match(manifest[key]), key
        assert ABSOLUTE.match(manifest["brand"]["logo"]["default"])
        assert manifest["brand"]["logo"]["default"].endswith(".png")
        for webhook in manifest["webhooks"]:
            assert ABSOLUTE.match(webhook["targetUrl"])

    def test_asks_for_no_permission_apps_may_not_hold(self, manifest: dict[str, Any]) -> None:
        assert "MANAGE_APPS" not in manifest["permissions"]
        for extension in manifest["extensions"]:
            assert set(extension.get("permissions", [])) <= set(manifest["permissions"])

    def test_every_webhook_has_its_route_subscription_and_matching_event(self, manifest: dict[str, Any]) -> None:
        routes = {d.event: d for d in WEBHOOKS}
        declared = {}
        for webhook in manifest["webhooks"]:
            events: list[str] = [*webhook.get("asyncEvents", []), *webhook.get("syncEvents", [])]
            (event,) = events
            declared[event] = webhook
            definition = routes[event]
            assert webhook["targetUrl"] == "https://ops.test" + definition.path
            assert webhook["query"] == load("subscriptions", event.lower()).source
            assert f"... on {definition.typename} " in webhook["query"]
        assert set(declared) == set(routes)

    async def test_every_webhook_route_answers_post(self, client: httpx.AsyncClient) -> None:
        for definition in WEBHOOKS:
            response = await client.post(definition.path, content=b"{}")
            assert (response.status_code, response.json()["error"]["type"]) == (400, "MISSING_API_URL_HEADER")

    def test_the_committed_template_keeps_urls_relative(self) -> None:
        template = json.loads(MANIFEST_PATH.read_text())
        assert template["tokenTargetUrl"].startswith("/")
        assert "version" not in template, "the version comes from the package"

    def test_extension_urls_follow_the_dashboard_rules(self) -> None:
        template: dict[str, Any] = {
            "id": "x",
            "name": "x",
            "appUrl": "/dashboard",
            "extensions": [
                {"label": "Orders", "mount": "NAVIGATION_ORDERS", "target": "APP_PAGE", "url": "/orders"},
                {"label": "Card", "mount": "ORDER_DETAILS_WIDGETS", "target": "WIDGET", "url": "/widget"},
            ],
            "webhooks": [],
        }
        built = build_manifest("https://ops.test", template)
        assert [e["url"] for e in built["extensions"]] == ["/orders", "https://ops.test/widget"]
        assert template["extensions"][1]["url"] == "/widget", "the template is not mutated"


class TestExtensionsPerSaleorVersion:
    async def _extensions(self, client: httpx.AsyncClient, version: str | None) -> set[tuple[str, str]]:
        headers = {"saleor-schema-version": version} if version else {}
        manifest = (await client.get("/api/manifest", headers=headers)).json()
        for extension in manifest["extensions"]:
            assert "minSaleorVersion" not in extension
            assert "maxSaleorVersion" not in extension
        return {(e["mount"], e["target"]) for e in manifest["extensions"]}

    @pytest.mark.parametrize("version", ["3.22", "3.24", None])
    async def test_saleor_3_22_and_newer_get_the_order_widget(self, client: httpx.AsyncClient, version: str | None):
        assert await self._extensions(client, version) == {
            ("NAVIGATION_ORDERS", "APP_PAGE"),
            ("NAVIGATION_CATALOG", "APP_PAGE"),
            ("NAVIGATION_CUSTOMERS", "APP_PAGE"),
            ("ORDER_DETAILS_WIDGETS", "WIDGET"),
        }

    @pytest.mark.parametrize("version", ["3.20", "3.21"])
    async def test_older_saleor_gets_the_order_card_as_a_popup(self, client: httpx.AsyncClient, version: str):
        assert await self._extensions(client, version) == {
            ("NAVIGATION_ORDERS", "APP_PAGE"),
            ("NAVIGATION_CATALOG", "APP_PAGE"),
            ("NAVIGATION_CUSTOMERS", "APP_PAGE"),
            ("ORDER_DETAILS_MORE_ACTIONS", "POPUP"),
        }

    async def test_the_popup_has_its_own_address_so_the_card_knows_it_is_in_a_dialog(
        self, client: httpx.AsyncClient
    ) -> None:
        manifest = (await client.get("/api/manifest", headers={"saleor-schema-version": "3.20"})).json()
        urls = {e["mount"]: e["url"] for e in manifest["extensions"]}
        assert urls["ORDER_DETAILS_MORE_ACTIONS"] == "https://ops.test/dashboard/order/popup"

    async def test_app_page_stays_relative_and_others_are_absolute(self, manifest: dict[str, Any]) -> None:
        urls = {e["label"]: e["url"] for e in manifest["extensions"]}
        assert urls["Fraud review"] == "/reviews"
        assert urls["Fulfilment routing"] == "/routing"
        assert urls["Cost & valuation"] == "/inventory"
        assert urls["Support"] == "/support"
        assert urls["Saleor Ops"] == "https://ops.test/dashboard/order"

    async def test_every_app_page_is_a_page_the_app_serves(
        self, client: httpx.AsyncClient, manifest: dict[str, Any]
    ) -> None:
        for extension in manifest["extensions"]:
            if extension["target"] == "APP_PAGE":  # the dashboard loads appUrl + url
                assert (await client.get("/dashboard" + extension["url"])).status_code == 200, extension["url"]


async def test_saleor_manifest_cli_prints_the_same_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    assert main(["manifest"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["tokenTargetUrl"].endswith("/api/register")


class TestNoRedirects:
    """Saleor counts a 3xx as success; no Saleor-facing route may answer with one."""

    async def test_saleor_facing_paths_never_redirect(self, client: httpx.AsyncClient) -> None:
        paths = [r.path for r in saleor_router.routes if isinstance(r, APIRoute)]
        paths += [d.path for d in WEBHOOKS]
        for path in paths:
            for variant in (path, path + "/", path.upper()):
                for method in ("GET", "POST"):
                    response = await client.request(method, variant, content=b"{}")
                    assert not 300 <= response.status_code < 400, f"{method} {variant} -> {response.status_code}"


async def test_health_reports_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


async def test_health_is_503_when_the_database_is_unreachable(settings: Any, tmp_path: Any) -> None:
    from app.main import create_app

    broken = settings.model_copy(update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none"})
    app = create_app(broken)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://ops.test") as c:
        response = await c.get("/health")
    await app.state.runtime.close()
    assert response.status_code == 503
