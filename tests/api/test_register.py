"""POST /api/register, every step of PROTOCOL.md b.2."""

import logging

import httpx
import pytest
from sqlalchemy import select

from app.config import Settings
from app.db.models import InstallationRow
from app.logs import JsonFormatter
from app.runtime import Runtime
from tests.builders import SHOP_API_URL
from tests.fakes.fake_saleor import FakeSaleor

SALEOR_HEADERS = {
    "saleor-api-url": "https://shop.test/graphql/",
    "saleor-domain": "shop.test",
    "saleor-schema-version": "3.20",
    "content-type": "application/json",
}


async def _register(client: httpx.AsyncClient, body: object = None, headers: dict[str, str] | None = None):
    return await client.post(
        "/api/register",
        json=body if body is not None else {"auth_token": "app-token-1"},
        headers=headers if headers is not None else SALEOR_HEADERS,
    )


class TestRegister:
    async def test_installs_the_store_after_saleor_confirms_the_token(
        self, client: httpx.AsyncClient, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        response = await _register(client)
        assert (response.status_code, response.json()) == (200, {"success": True})
        (call,) = fake_saleor.calls("AppIdentity")
        assert call["authorization"] == "Bearer app-token-1"
        async with runtime.sessions() as session:
            row = (await session.scalars(select(InstallationRow))).one()
        assert row.saleor_api_url == SHOP_API_URL
        assert row.app_id == "QXBwOjE="
        assert (row.saleor_domain, row.schema_version, row.saleor_version) == ("shop.test", "3.20", "3.24.0-a.0")
        assert "app-token-1" not in row.token_encrypted
        assert runtime.cipher.decrypt(row.token_encrypted) == "app-token-1"

    async def test_never_logs_the_token(
        self, client: httpx.AsyncClient, fake_saleor: FakeSaleor, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        await _register(client, {"auth_token": "very-secret-token"})
        fake_saleor.on("AppIdentity", httpx.Response(401))
        await _register(client, {"auth_token": "very-secret-token"})
        formatter = JsonFormatter()
        assert caplog.records
        assert not [r for r in caplog.records if "very-secret-token" in formatter.format(r)]

    async def test_normalises_the_api_url_it_keys_on(
        self, client: httpx.AsyncClient, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        response = await _register(client, headers={**SALEOR_HEADERS, "saleor-api-url": "https://SHOP.test/graphql"})
        assert response.status_code == 200
        async with runtime.sessions() as session:
            assert (await session.scalars(select(InstallationRow.saleor_api_url))).all() == [SHOP_API_URL]

    async def test_installing_again_replaces_the_token(
        self, client: httpx.AsyncClient, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        await _register(client)
        await _register(client, {"auth_token": "app-token-2"})
        async with runtime.sessions() as session:
            rows = (await session.scalars(select(InstallationRow))).all()
        assert [runtime.cipher.decrypt(r.token_encrypted) for r in rows] == ["app-token-2"]

    async def test_missing_api_url_header_is_a_400_in_plain_text(self, client: httpx.AsyncClient) -> None:
        response = await _register(client, headers={"content-type": "application/json"})
        assert (response.status_code, response.text) == (400, "Missing saleor-api-url header")

    async def test_a_body_that_is_not_json_is_a_400(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/register", content=b"token=1", headers=SALEOR_HEADERS)
        assert (response.status_code, response.text) == (400, "Invalid request json.")

    @pytest.mark.parametrize("body", [{}, {"auth_token": ""}, {"token": "x"}, ["auth_token"]])
    async def test_a_body_without_auth_token_is_a_400(self, client: httpx.AsyncClient, body: object) -> None:
        response = await _register(client, body)
        assert (response.status_code, response.text) == (400, "Missing auth token.")

    async def test_a_disallowed_saleor_is_refused_with_403(self, settings: Settings, fake_saleor: FakeSaleor) -> None:
        from app.main import create_app

        app = create_app(settings.model_copy(update={"allowed_saleor_urls": "https://*.saleor.cloud/graphql/"}))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://ops.test") as c:
            response = await _register(c)
        await app.state.runtime.close()
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "SALEOR_URL_PROHIBITED"
        assert response.json()["success"] is False
        assert fake_saleor.requests == []

    async def test_a_token_saleor_rejects_is_refused_with_401(
        self, client: httpx.AsyncClient, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        fake_saleor.on("AppIdentity", httpx.Response(401, json={"errors": [{"message": "invalid token"}]}))
        response = await _register(client)
        assert response.status_code == 401
        assert response.json()["error"] == {
            "code": "UNKNOWN_APP_ID",
            "message": "Saleor did not confirm the app token.",
        }
        async with runtime.sessions() as session:
            assert (await session.scalars(select(InstallationRow))).all() == []

    async def test_an_answer_without_app_id_is_refused_with_401(
        self, client: httpx.AsyncClient, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.on("AppIdentity", {"data": {"app": None, "shop": {"version": "3.20.0"}}})
        response = await _register(client)
        assert (response.status_code, response.json()["error"]["code"]) == (401, "UNKNOWN_APP_ID")

    @pytest.mark.parametrize(
        "jwks_answer",
        [
            pytest.param(httpx.Response(500), id="server-error"),
            pytest.param(httpx.Response(200, text="<html>"), id="not-json"),
            pytest.param(httpx.Response(200, json={"no": "keys"}), id="no-keys"),
            pytest.param(httpx.ConnectError("refused"), id="unreachable"),
        ],
    )
    async def test_unavailable_jwks_is_refused_with_401(
        self, client: httpx.AsyncClient, fake_saleor: FakeSaleor, jwks_answer: httpx.Response | Exception
    ) -> None:
        if isinstance(jwks_answer, Exception):
            fake_saleor.jwks_route.mock(side_effect=jwks_answer)
        else:
            fake_saleor.jwks_route.mock(return_value=jwks_answer)
        response = await _register(client)
        assert (response.status_code, response.json()["error"]["code"]) == (401, "JWKS_NOT_AVAILABLE")

    async def test_get_is_not_allowed(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/register")).status_code == 405


async def test_a_store_that_cannot_be_saved_gets_saleors_error_shape(
    client: httpx.AsyncClient, fake_saleor: FakeSaleor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from app.db.repositories.installations import SqlInstallationStore

    async def broken_save(self: SqlInstallationStore, installation: object) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(SqlInstallationStore, "save", broken_save)
    response = await _register(client)
    assert response.status_code == 500
    assert response.json() == {
        "success": False,
        "error": {"message": "Registration failed: could not save the auth data."},
    }
