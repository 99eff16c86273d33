import pytest

from app.domain.fraud.address import AddressCheck, FieldCheck, check_address, check_address_parts, country_known
from tests.unit.domain.fraud.builders import make_address

V, BAD, MISSING, NOT_USED = FieldCheck.VALID, FieldCheck.INVALID, FieldCheck.MISSING, FieldCheck.NOT_USED


class TestCheckAddressParts:
    @pytest.mark.parametrize(
        ("country", "region", "postal", "expected"),
        [
            pytest.param("US", "CA", "94103", (V, V), id="us-valid-zip-and-state"),
            pytest.param("us", "California", "94103-1234", (V, V), id="us-state-name-and-zip4"),
            pytest.param("US", "CA", "1234", (V, BAD), id="us-zip-too-short"),
            pytest.param("US", "NY", "94103", (V, BAD), id="us-zip-of-another-state"),
            pytest.param("US", "XX", "94103", (BAD, V), id="us-unknown-state"),
            pytest.param("US", "", "94103", (MISSING, V), id="us-state-missing"),
            pytest.param("US", "CA", "", (V, MISSING), id="us-zip-missing"),
            pytest.param("GB", "", "N8 7NB", (NOT_USED, V), id="gb-postcode"),
            pytest.param("GB", "", "n8  7nb", (NOT_USED, V), id="gb-postcode-lower-case-spaced"),
            pytest.param("GB", "", "NOTAPOSTCODE", (NOT_USED, BAD), id="gb-invalid"),
            pytest.param("DE", "", "10115", (NOT_USED, V), id="de-valid"),
            pytest.param("DE", "Bavaria", "10115", (V, V), id="de-free-text-region"),
            pytest.param("IE", "", "", (NOT_USED, NOT_USED), id="ie-postal-optional"),
            pytest.param("CA", "QC", "H2X 1Y4", (V, V), id="ca-quebec"),
            pytest.param("CA", "QC", "M5V 2T6", (V, BAD), id="ca-ontario-code-in-quebec"),
            pytest.param("AE", "Dubai", "12345", (V, V), id="postal-code-ignored-where-unused"),
        ],
    )
    def test_region_and_postal_code(
        self, country: str, region: str, postal: str, expected: tuple[FieldCheck, ...]
    ) -> None:
        check = check_address_parts(country, region, postal)
        assert check.country_known
        assert (check.region, check.postal_code) == expected

    @pytest.mark.parametrize(
        "country",
        [
            pytest.param("XY", id="not-a-country"),
            pytest.param("ZZ", id="google-default-record"),
            pytest.param("", id="empty"),
            pytest.param("USA", id="three-letters"),
            pytest.param("../", id="path-like"),
        ],
    )
    def test_unknown_countries(self, country: str) -> None:
        assert check_address_parts(country, "", "") == AddressCheck(False, NOT_USED, NOT_USED)

    def test_check_address_reads_the_facts(self) -> None:
        assert check_address(make_address()) == AddressCheck(True, V, V)


class TestCountryKnown:
    @pytest.mark.parametrize(
        ("code", "known"),
        [
            pytest.param("US", True, id="us"),
            pytest.param("gb", True, id="lower-case"),
            pytest.param("XK", True, id="kosovo"),
            pytest.param("XY", False, id="unknown"),
            pytest.param("ZZ", False, id="zz"),
            pytest.param("ALL", False, id="google-all-file"),
        ],
    )
    def test_country_known(self, code: str, known: bool) -> None:
        assert country_known(code) is known
