import json

import httpx
import pytest
import respx

from app.domain.ids import saleor_api_url
from app.errors import JwksUnavailableError
from app.saleor.jwks import JwksFetcher, parse_key_set, validate_jwks
from tests.conftest import FakeMonotonic
from tests.fakes.saleor_signer import SaleorSigner

API_URL = saleor_api_url("https://shop.test/graphql/")
JWKS_URL = "https://shop.test/.well-known/jwks.json"


@pytest.fixture
async def fetcher(monotonic: FakeMonotonic):
    async with httpx.AsyncClient() as http:
        yield JwksFetcher(http, refetch_interval_seconds=30, timeout_seconds=1, monotonic=monotonic)


class TestValidateJwks:
    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("<html>", id="not-json"),
            pytest.param("[]", id="not-an-object"),
            pytest.param('{"keys": {}}', id="keys-not-array"),
            pytest.param('{"keys": []}', id="no-keys"),
            pytest.param('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', id="no-rsa-key"),
        ],
    )
    def test_refuses_what_is_not_a_usable_jwks(self, text: str) -> None:
        with pytest.raises(JwksUnavailableError):
            validate_jwks(text)

    def test_accepts_saleor_jwks_with_or_without_alg(self, signer: SaleorSigner) -> None:
        jwk = signer.jwk()
        del jwk["alg"], jwk["key_ops"]
        validate_jwks(json.dumps({"keys": [jwk]}))
        assert parse_key_set(signer.jwks_text()).key_for(signer.kid) is not None


class TestJwksFetcher:
    @respx.mock
    async def test_fetch_requires_200_and_a_keys_array(self, fetcher: JwksFetcher, signer: SaleorSigner) -> None:
        respx.get(JWKS_URL).mock(return_value=httpx.Response(404, text="nope"))
        with pytest.raises(JwksUnavailableError, match="404"):
            await fetcher.fetch(API_URL)
        respx.get(JWKS_URL).mock(return_value=httpx.Response(200, json=signer.jwks()))
        assert json.loads(await fetcher.fetch(API_URL)) == signer.jwks()

    @respx.mock
    async def test_fetch_reports_an_unreachable_saleor(self, fetcher: JwksFetcher) -> None:
        respx.get(JWKS_URL).mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(JwksUnavailableError, match="could not reach"):
            await fetcher.fetch(API_URL)

    @respx.mock
    async def test_refetch_asks_saleor_at_most_once_per_interval(
        self, fetcher: JwksFetcher, signer: SaleorSigner, monotonic: FakeMonotonic
    ) -> None:
        route = respx.get(JWKS_URL).mock(return_value=httpx.Response(200, json=signer.jwks()))
        first = await fetcher.refetch(API_URL)
        assert (json.loads(first.text), first.throttled) == (signer.jwks(), False)
        for _ in range(50):
            again = await fetcher.refetch(API_URL)
            assert (again.text, again.throttled) == (first.text, True)
        assert route.call_count == 1
        monotonic.value += 31
        assert not (await fetcher.refetch(API_URL)).throttled
        assert route.call_count == 2

    @respx.mock
    async def test_a_failed_refetch_is_not_retried_within_the_interval(
        self, fetcher: JwksFetcher, monotonic: FakeMonotonic
    ) -> None:
        route = respx.get(JWKS_URL).mock(return_value=httpx.Response(503))
        for _ in range(5):
            with pytest.raises(JwksUnavailableError):
                await fetcher.refetch(API_URL)
        assert route.call_count == 1

    @respx.mock
    async def test_the_interval_is_kept_per_store(self, fetcher: JwksFetcher, signer: SaleorSigner) -> None:
        first = respx.get(JWKS_URL).mock(return_value=httpx.Response(200, json=signer.jwks()))
        other = respx.get("https://other.test/.well-known/jwks.json").mock(
            return_value=httpx.Response(200, json=signer.jwks())
        )
        await fetcher.refetch(API_URL)
        await fetcher.refetch(saleor_api_url("https://other.test/graphql/"))
        assert (first.call_count, other.call_count) == (1, 1)
