"""The verification every webhook goes through (PROTOCOL.md c.2), exercised on ORDER_CREATED."""

import json

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import InstallationRow, OrderEventRow
from app.domain.installation import Installation
from app.runtime import Runtime
from app.saleor.jwks import JwksFetcher
from tests.api.conftest import Send
from tests.builders import body_of, order_payload
from tests.conftest import FakeMonotonic, FixedClock
from tests.fakes.fake_saleor import FakeSaleor
from tests.fakes.saleor_signer import SaleorSigner


async def _recorded(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OrderEventRow)) or 0)


async def _stored_jwks(runtime: Runtime) -> dict[str, object]:
    async with runtime.sessions() as session:
        return dict(json.loads((await session.scalars(select(InstallationRow.jwks))).one()))


@pytest.fixture
def monotonic(runtime: Runtime, monotonic: FakeMonotonic) -> FakeMonotonic:
    """The app's JWKS refetch window, on a clock the test moves."""
    runtime.jwks = JwksFetcher(
        runtime.http,
        refetch_interval_seconds=runtime.settings.jwks_refetch_interval_seconds,
        timeout_seconds=runtime.settings.saleor_timeout_seconds,
        monotonic=monotonic,
    )
    return monotonic


@pytest.mark.usefixtures("installation")
class TestWebhookVerification:
    async def test_accepts_a_correctly_signed_delivery(self, send: Send, runtime: Runtime) -> None:
        response = await send()
        assert (response.status_code, response.json()) == (200, {"status": "recorded"})
        assert await _recorded(runtime) == 1

    async def test_rejects_a_tampered_body_with_401_and_records_nothing(
        self, send: Send, signer: SaleorSigner, runtime: Runtime, fake_saleor: FakeSaleor
    ) -> None:
        body = body_of(order_payload())
        response = await send(body=body.replace(b"1001", b"1002"), signature=signer.sign(body))
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "SIGNATURE_VERIFICATION_FAILED"
        assert await _recorded(runtime) == 0

    async def test_rejects_a_foreign_key_even_after_refetching_the_jwks(
        self, send: Send, runtime: Runtime, fake_saleor: FakeSaleor
    ) -> None:
        response = await send(signed_by=SaleorSigner(1))
        assert response.status_code == 401
        assert fake_saleor.jwks_route.call_count == 1
        assert await _recorded(runtime) == 0

    async def test_accepts_a_rotated_key_after_one_refetch_and_stores_it(
        self, send: Send, runtime: Runtime, fake_saleor: FakeSaleor
    ) -> None:
        rotated = SaleorSigner(1)
        fake_saleor.serve_keys(rotated)
        response = await send(signed_by=rotated)
        assert response.status_code == 200
        assert await _stored_jwks(runtime) == rotated.jwks()
        second = await send(signed_by=rotated, body=body_of(order_payload(order_id="T3JkZXI6Mg==")))
        assert second.status_code == 200
        assert fake_saleor.jwks_route.call_count == 1

    async def test_a_flood_of_bad_signatures_fetches_the_jwks_once(
        self, send: Send, fake_saleor: FakeSaleor, clock: FixedClock
    ) -> None:
        statuses = [(await send(signed_by=SaleorSigner(1))).status_code for _ in range(20)]
        assert statuses == [401] + [503] * 19  # the key id may be Saleor's newest: retry after the window
        assert fake_saleor.jwks_route.call_count == 1

    async def test_a_genuine_delivery_right_after_a_forgery_still_sees_the_new_key(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        rotated = SaleorSigner(1)
        fake_saleor.serve_keys(rotated)
        assert (await send(signed_by=SaleorSigner(2))).status_code == 401
        assert (await send(signed_by=rotated)).status_code == 200
        assert await _stored_jwks(runtime) == rotated.jwks()

    async def test_a_forgery_under_a_known_key_id_is_refused_without_a_refetch(
        self, send: Send, signer: SaleorSigner, fake_saleor: FakeSaleor
    ) -> None:
        forger = SaleorSigner(2)
        forger.kid = signer.kid
        for _ in range(3):
            response = await send(signed_by=forger)
            assert (response.status_code, response.json()["error"]["type"]) == (401, "SIGNATURE_VERIFICATION_FAILED")
        assert fake_saleor.jwks_route.call_count == 0

    async def test_a_rotated_key_right_after_a_forgery_under_a_known_key_id_is_accepted(
        self, send: Send, signer: SaleorSigner, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        forger = SaleorSigner(2)
        forger.kid = signer.kid
        assert (await send(signed_by=forger)).status_code == 401
        rotated = SaleorSigner(1)
        fake_saleor.serve_keys(rotated)
        assert (await send(signed_by=rotated)).status_code == 200
        assert await _stored_jwks(runtime) == rotated.jwks()

    async def test_a_rotated_key_inside_the_refetch_window_gets_503_then_succeeds_on_retry(
        self, send: Send, fake_saleor: FakeSaleor, runtime: Runtime, monotonic: FakeMonotonic
    ) -> None:
        assert (await send(signed_by=SaleorSigner(2))).status_code == 401  # an unknown key id: one refetch
        rotated = SaleorSigner(1)
        fake_saleor.serve_keys(rotated)
        throttled = await send(signed_by=rotated)
        assert (throttled.status_code, throttled.json()["error"]["type"]) == (503, "JWKS_REFETCH_THROTTLED")
        monotonic.value += runtime.settings.jwks_refetch_interval_seconds
        assert (await send(signed_by=rotated)).status_code == 200
        assert await _stored_jwks(runtime) == rotated.jwks()
        assert fake_saleor.jwks_route.call_count == 2

    async def test_unreachable_jwks_on_a_key_miss_asks_saleor_to_retry(
        self, send: Send, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.jwks_route.mock(side_effect=httpx.ConnectError("refused"))
        response = await send(signed_by=SaleorSigner(1))
        assert (response.status_code, response.json()["error"]["type"]) == (503, "JWKS_NOT_AVAILABLE")

    async def test_an_unknown_store_is_a_401(self, send: Send) -> None:
        response = await send(headers={"saleor-api-url": "https://stranger.test/graphql/"})
        assert (response.status_code, response.json()["error"]["type"]) == (401, "NOT_REGISTERED")

    async def test_the_api_url_header_is_normalised_before_lookup(self, send: Send) -> None:
        response = await send(headers={"saleor-api-url": "https://SHOP.test:443/graphql"})
        assert response.status_code == 200

    @pytest.mark.parametrize(
        ("header", "code"),
        [
            pytest.param("saleor-api-url", "MISSING_API_URL_HEADER", id="api-url"),
            pytest.param("saleor-event", "MISSING_EVENT_HEADER", id="event"),
            pytest.param("saleor-signature", "MISSING_SIGNATURE_HEADER", id="signature"),
        ],
    )
    async def test_a_missing_header_is_a_400(self, send: Send, runtime: Runtime, header: str, code: str) -> None:
        response = await send(drop=(header,))
        assert (response.status_code, response.json()["error"]["type"]) == (400, code)
        assert await _recorded(runtime) == 0

    async def test_an_empty_body_is_a_400(self, send: Send) -> None:
        response = await send(body=b"")
        assert (response.status_code, response.json()["error"]["type"]) == (400, "MISSING_REQUEST_BODY")

    async def test_a_signed_body_that_is_not_json_is_a_400(self, send: Send) -> None:
        response = await send(body=b"not json at all")
        assert (response.status_code, response.json()["error"]["type"]) == (400, "CANT_BE_PARSED")

    async def test_a_non_json_body_with_a_bad_signature_is_a_401_not_parsed(self, send: Send) -> None:
        response = await send(body=b"not json at all", signature="eyJhbGciOiJSUzI1NiJ9..c2ln")
        assert response.status_code == 401

    async def test_an_event_header_for_another_endpoint_is_a_400(self, send: Send) -> None:
        response = await send(headers={"saleor-event": "order_updated"})
        assert (response.status_code, response.json()["error"]["type"]) == (400, "WRONG_EVENT")

    async def test_a_body_of_another_event_type_is_a_400(self, send: Send) -> None:
        response = await send(body=body_of(order_payload(typename="OrderUpdated")))
        assert (response.status_code, response.json()["error"]["type"]) == (400, "WRONG_EVENT")

    async def test_a_payload_missing_the_order_says_what_is_wrong(self, send: Send, runtime: Runtime) -> None:
        payload = order_payload()
        del payload["order"]
        response = await send(body=body_of(payload))
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "INVALID_PAYLOAD"
        assert "order" in response.json()["error"]["message"]
        assert await _recorded(runtime) == 0


async def test_a_store_that_has_not_installed_gets_401_not_a_lookup_of_keys(
    send: Send, fake_saleor: FakeSaleor
) -> None:
    response = await send()
    assert response.status_code == 401
    assert fake_saleor.jwks_route.call_count == 0


async def test_deliveries_are_scoped_to_the_store_that_signed_them(
    send: Send, runtime: Runtime, installation: Installation, fake_saleor: FakeSaleor
) -> None:
    """Another store's key cannot speak for shop.test, even with shop.test's header."""
    other = SaleorSigner(2)
    response = await send(signed_by=other)
    assert response.status_code == 401
