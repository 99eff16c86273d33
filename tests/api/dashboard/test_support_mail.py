"""Support · E-mail: the store's SMTP server, reply domain and Mailgun key, secrets never shown back."""

from typing import Any

import httpx
import pytest

from app.api.support import store_ref
from app.db.repositories.settings import SqlSettingsStore
from app.domain.ids import SaleorApiUrl
from app.runtime import Runtime
from app.services.support.mail import SECTION, mail_settings

pytestmark = pytest.mark.usefixtures("installation")
URL = SaleorApiUrl("https://shop.test/graphql/")
FORM = {
    "smtp_host": "smtp.mailgun.org",
    "smtp_port": "587",
    "security": "starttls",
    "username": "postmaster@mail.shop.example",
    "password": "smtp-very-secret",
    "from_address": "help@shop.example",
    "from_name": "Shop support",
    "reply_domain": "mail.shop.example",
    "inbound_signing_key": "mailgun-very-secret",
}


async def _kept(runtime: Runtime) -> dict[str, object] | None:
    async with runtime.sessions() as session:
        return await SqlSettingsStore(session).get(URL, SECTION)


class TestSupportMailPage:
    async def test_the_page_has_its_shell(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/dashboard/support-mail")
        assert page.status_code == 200
        assert 'data-page="support-mail"' in page.text

    async def test_shows_where_customers_write_and_where_mailgun_forwards(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        page = await client.get("/api/dashboard/fragments/support-mail", headers=staff_headers("MANAGE_ORDERS"))
        assert page.status_code == 200
        ref = store_ref(URL)
        assert f'<code id="support-form-url">https://ops.test/support/{ref}</code>' in page.text
        assert f'forward("https://ops.test/api/stores/{ref}/support/inbound-mail/mailgun")' in page.text

    async def test_saves_the_section_with_its_secrets_encrypted_and_never_shown(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        response = await client.post("/api/dashboard/support-mail", data=FORM, headers=staff_headers("MANAGE_ORDERS"))
        assert response.status_code == 200, response.text
        assert response.headers["x-ops-notice"] == "Support e-mail settings saved."
        assert "very-secret" not in response.text
        assert response.text.count("Kept, encrypted: leave empty to keep it.") == 2
        kept = await _kept(runtime)
        assert kept is not None
        assert "very-secret" not in str(kept)
        async with runtime.sessions() as session:
            settings = await mail_settings(SqlSettingsStore(session), URL)
        assert settings is not None
        assert runtime.cipher.decrypt(settings.password_encrypted) == "smtp-very-secret"
        assert runtime.cipher.decrypt(settings.inbound_signing_key_encrypted) == "mailgun-very-secret"

    async def test_bad_values_come_back_marked_and_nothing_is_saved(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        response = await client.post(
            "/api/dashboard/support-mail",
            data={**FORM, "smtp_port": "99999", "reply_domain": "not a domain"},
            headers=staff_headers("MANAGE_ORDERS"),
        )
        assert response.status_code == 422
        assert 'id="mail-smtp_port-error"' in response.text
        assert 'id="mail-reply_domain-error"' in response.text
        assert "very-secret" not in response.text
        assert await _kept(runtime) is None

    async def test_needs_manage_orders(self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime) -> None:
        response = await client.post("/api/dashboard/support-mail", data=FORM, headers=staff_headers("MANAGE_SHIPPING"))
        assert response.status_code == 403
        assert await _kept(runtime) is None
