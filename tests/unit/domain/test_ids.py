import pytest

from app.domain.ids import InvalidSaleorApiUrl, saleor_api_url, saleor_jwks_url, url_matches_any


class TestSaleorApiUrl:
    @pytest.mark.parametrize(
        ("raw", "normalised"),
        [
            pytest.param("https://shop.test/graphql/", "https://shop.test/graphql/", id="already-normal"),
            pytest.param("https://Shop.TEST/graphql", "https://shop.test/graphql/", id="case-and-slash"),
            pytest.param("HTTPS://shop.test:443/graphql/", "https://shop.test/graphql/", id="default-port"),
            pytest.param("http://localhost:8000/graphql/", "http://localhost:8000/graphql/", id="custom-port"),
            pytest.param(" https://shop.test/api/GraphQL/ ", "https://shop.test/api/GraphQL/", id="path-keeps-case"),
            pytest.param("http://[::1]:8000/graphql/", "http://[::1]:8000/graphql/", id="ipv6"),
        ],
    )
    def test_normalises_so_header_and_dashboard_forms_agree(self, raw: str, normalised: str) -> None:
        assert saleor_api_url(raw) == normalised

    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param("ftp://shop.test/graphql/", id="scheme"),
            pytest.param("shop.test/graphql/", id="no-scheme"),
            pytest.param("https:///graphql/", id="no-host"),
            pytest.param("https://shop.test/graphql/?x=1", id="query"),
            pytest.param("https://user:pw@shop.test/graphql/", id="credentials"),
            pytest.param("https://shop.test:99999/graphql/", id="bad-port"),
        ],
    )
    def test_refuses_what_is_not_a_saleor_api_url(self, raw: str) -> None:
        with pytest.raises(InvalidSaleorApiUrl):
            saleor_api_url(raw)

    def test_jwks_lives_at_the_site_root(self) -> None:
        url = saleor_api_url("https://shop.test:8443/api/graphql/")
        assert saleor_jwks_url(url) == "https://shop.test:8443/.well-known/jwks.json"


class TestUrlMatchesAny:
    def test_empty_list_allows_every_store(self) -> None:
        assert url_matches_any("https://any.test/graphql/", [])

    @pytest.mark.parametrize(
        ("pattern", "allowed"),
        [
            pytest.param("https://*.saleor.cloud/graphql/", True, id="wildcard-subdomain"),
            pytest.param("https://shop.saleor.cloud/graphql", True, id="exact-unnormalised"),
            pytest.param("https://other.saleor.cloud/graphql/", False, id="exact-other"),
            pytest.param("https://*.example.com/*", False, id="wildcard-other-domain"),
            pytest.param("*", True, id="star"),
        ],
    )
    def test_matches_wildcard_and_exact_patterns(self, pattern: str, allowed: bool) -> None:
        assert url_matches_any("https://shop.saleor.cloud/graphql/", [pattern]) is allowed

    def test_a_dot_in_a_pattern_is_literal(self) -> None:
        assert not url_matches_any("https://shopXsaleor.cloud/graphql/", ["https://shop.saleor.cloud/*"])
