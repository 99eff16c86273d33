"""The dashboard JWT dependency (PROTOCOL.md e.4), through the installation status endpoint."""

from datetime import timedelta

import httpx
import pytest

from app.domain.installation import Installation
from tests.builders import NOW
from tests.conftest import FixedClock
from tests.fakes.fake_saleor import FakeSaleor
from tests.fakes.saleor_signer import SaleorSigner

HOME = "/api/dashboard/fragments/home"


def _headers(token: str, api_url: str = "https://shop.test/graphql/") -> dict[str, str]:
    return {"authorization-bearer": token, "saleor-api-url": api_url}


@pytest.mark.usefixtures("installation")
class TestDashboardAuth:
    async def test_a_staff_user_with_the_permission_gets_the_status(
        self, client: httpx.AsyncClient, signer: SaleorSigner
    ) -> None:
        response = await client.get(HOME, headers=_headers(signer.dashboard_token(issued_at=NOW.timestamp())))
        assert response.status_code == 200
        assert "https://shop.test/graphql/" in response.text

    async def test_an_expired_token_is_a_401(
        self, client: httpx.AsyncClient, signer: SaleorSigner, clock: FixedClock
    ) -> None:
        token = signer.dashboard_token(issued_at=NOW.timestamp())
        clock.advance(minutes=10)
        response = await client.get(HOME, headers=_headers(token))
        assert response.status_code == 401
        assert "expired" in response.json()["error"]["message"]

    async def test_a_token_of_another_app_is_a_401(self, client: httpx.AsyncClient, signer: SaleorSigner) -> None:
        token = signer.dashboard_token(issued_at=NOW.timestamp(), app_id="QXBwOjc=")
        assert (await client.get(HOME, headers=_headers(token))).status_code == 401

    async def test_a_user_without_the_permission_is_a_403_that_names_it(
        self, client: httpx.AsyncClient, signer: SaleorSigner
    ) -> None:
        token = signer.dashboard_token(issued_at=NOW.timestamp(), user_permissions=["MANAGE_PRODUCTS"])
        response = await client.get(HOME, headers=_headers(token))
        assert response.status_code == 403
        assert "MANAGE_ORDERS" in response.json()["error"]["message"]

    async def test_an_unknown_key_refetches_once_then_rejects(
        self, client: httpx.AsyncClient, fake_saleor: FakeSaleor
    ) -> None:
        token = SaleorSigner(1).dashboard_token(issued_at=NOW.timestamp())
        response = await client.get(HOME, headers=_headers(token))
        assert response.status_code == 401
        assert fake_saleor.jwks_route.call_count == 1

    async def test_a_token_signed_by_a_rotated_key_passes_after_refetch(
        self, client: httpx.AsyncClient, fake_saleor: FakeSaleor
    ) -> None:
        rotated = SaleorSigner(1)
        fake_saleor.serve_keys(rotated)
        token = rotated.dashboard_token(issued_at=NOW.timestamp())
        assert (await client.get(HOME, headers=_headers(token))).status_code == 200

    @pytest.mark.parametrize("missing", ["authorization-bearer", "saleor-api-url"])
    async def test_missing_headers_are_a_401(
        self, client: httpx.AsyncClient, signer: SaleorSigner, missing: str
    ) -> None:
        headers = _headers(signer.dashboard_token(issued_at=NOW.timestamp()))
        del headers[missing]
        assert (await client.get(HOME, headers=headers)).status_code == 401

    async def test_a_store_that_never_installed_is_a_401(self, client: httpx.AsyncClient, signer: SaleorSigner) -> None:
        token = signer.dashboard_token(issued_at=NOW.timestamp())
        response = await client.get(HOME, headers=_headers(token, "https://other.test/graphql/"))
        assert (response.status_code, response.json()["error"]["type"]) == (401, "NOT_REGISTERED")


@pytest.mark.parametrize(
    "path", ["/dashboard", "/dashboard/", "/dashboard/settings", "/dashboard/order", "/dashboard/order/popup"]
)
async def test_page_shells_carry_no_store_data(
    client: httpx.AsyncClient, installation: Installation, path: str
) -> None:
    response = await client.get(f"{path}?saleorApiUrl=https://shop.test/graphql/&id=QXBwOjE=&theme=dark&orderId=T3I=")
    assert response.status_code == 200
    assert "shop.test" not in response.text
    assert "/static/app-bridge.js" in response.text
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("path", "mount"),
    [
        pytest.param("/dashboard/reviews", "page", id="app-page"),
        pytest.param("/dashboard/order", "widget", id="widget"),
        pytest.param("/dashboard/order/popup", "popup", id="popup"),
    ],
)
async def test_a_page_knows_where_the_dashboard_shows_it(client: httpx.AsyncClient, path: str, mount: str) -> None:
    response = await client.get(path)
    assert f'data-mount="{mount}"' in response.text


async def test_only_the_installing_stores_dashboard_may_frame_a_page(
    client: httpx.AsyncClient, installation: Installation
) -> None:
    installed = await client.get("/dashboard?saleorApiUrl=https://shop.test/graphql/")
    assert "frame-ancestors https://shop.test" in installed.headers["content-security-policy"]
    stranger = await client.get("/dashboard?saleorApiUrl=https://evil.test/graphql/")
    assert "frame-ancestors 'none'" in stranger.headers["content-security-policy"]


async def test_the_token_lifetime_is_checked_against_the_clock(
    client: httpx.AsyncClient, installation: Installation, signer: SaleorSigner, clock: FixedClock
) -> None:
    token = signer.dashboard_token(issued_at=(NOW + timedelta(hours=1)).timestamp())
    clock.advance(hours=1, minutes=4)
    assert (await client.get(HOME, headers=_headers(token))).status_code == 200


class TestAFramingDashboardTheAppDoesNotAllow:
    """The browser shows such a dashboard a grey frame and says why only in its console; the app's log says it too."""

    FRAMED = {"sec-fetch-dest": "iframe", "referer": "https://dashboard.shop.test/"}
    PAGE = "/dashboard?saleorApiUrl=https://shop.test/graphql/"

    def refusals(self, caplog: pytest.LogCaptureFixture) -> list[str]:
        return [r.getMessage() for r in caplog.records if "APP_DASHBOARD_ORIGINS" in r.getMessage()]

    @pytest.mark.usefixtures("installation")
    async def test_is_logged_once_with_the_setting_that_allows_it(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        for _ in range(3):
            response = await client.get(self.PAGE, headers=self.FRAMED)
            assert "frame-ancestors https://shop.test" in response.headers["content-security-policy"]
        (message,) = self.refusals(caplog)
        assert "https://dashboard.shop.test" in message

    @pytest.mark.usefixtures("installation")
    async def test_the_stores_own_dashboard_is_not_logged(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        await client.get(self.PAGE, headers={**self.FRAMED, "referer": "https://shop.test/dashboard/"})
        await client.get(self.PAGE)  # opened on its own, not framed
        assert self.refusals(caplog) == []
