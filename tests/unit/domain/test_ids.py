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
            pytest.param("*", False, id="a-lone-star-is-no-url"),
        ],
    )
    def test_matches_wildcard_and_exact_patterns(self, pattern: str, allowed: bool) -> None:
        assert url_matches_any("https://shop.saleor.cloud/graphql/", [pattern]) is allowed

    def test_a_dot_in_a_pattern_is_literal(self) -> None:
        assert not url_matches_any("https://shopXsaleor.cloud/graphql/", ["https://shop.saleor.cloud/*"])

    @pytest.mark.parametrize(
        "hostile",
        [
            pytest.param("https://evil.example/x.saleor.cloud/graphql/", id="path-posing-as-host"),
            pytest.param("https://evil.example/.saleor.cloud/graphql/", id="path-empty-label"),
            pytest.param("https://shop.saleor.cloud@evil.example/.saleor.cloud/graphql/", id="userinfo"),
            pytest.param("https://evil.example:443@a.saleor.cloud/graphql/", id="userinfo-with-colon"),
            pytest.param("https://evil.example?.saleor.cloud/graphql/", id="query"),
            pytest.param("https://evil.example#.saleor.cloud/graphql/", id="fragment"),
            pytest.param("https://evil.example:8443.saleor.cloud/graphql/", id="port-posing-as-label"),
            pytest.param("https://shop.saleor.cloud:8443/graphql/", id="other-port"),
            pytest.param("http://shop.saleor.cloud/graphql/", id="plain-http"),
            pytest.param("https://shop.saleor.cloud./graphql/", id="trailing-dot"),
            pytest.param("https://.saleor.cloud/graphql/", id="empty-label"),
            pytest.param("https://shop.saleor.cloud.evil.example/graphql/", id="suffix-domain"),
            pytest.param("https://evil.example\\.saleor.cloud/graphql/", id="backslash"),
            pytest.param("https://shop.saleor.cloud/graphql/x/graphql/", id="longer-path"),
        ],
    )
    def test_the_readme_example_refuses_hostile_urls(self, hostile: str) -> None:
        assert not url_matches_any(hostile, ["https://*.saleor.cloud/graphql/"])

    @pytest.mark.parametrize(
        "genuine",
        [
            pytest.param("https://shop.saleor.cloud/graphql/", id="plain"),
            pytest.param("https://shop-eu.saleor.cloud/graphql/", id="hyphen"),
            pytest.param(saleor_api_url("HTTPS://Shop.Saleor.Cloud:443/graphql"), id="normalised"),
        ],
    )
    def test_the_readme_example_allows_its_stores(self, genuine: str) -> None:
        assert url_matches_any(genuine, ["https://*.saleor.cloud/graphql/"])

    def test_a_star_stays_within_one_path_segment(self) -> None:
        assert url_matches_any("https://shop.test/a/graphql/", ["https://shop.test/*/graphql/"])
        assert not url_matches_any("https://shop.test/a/b/graphql/", ["https://shop.test/*/graphql/"])
