import base64
import json

import jwt
import pytest

from app.errors import SignatureError, UnknownSigningKeyError
from app.saleor.jwks import parse_key_set
from app.saleor.signature import verify_webhook_signature
from tests.fakes.saleor_signer import SaleorSigner, jwk_thumbprint

BODY = (
    b'{"__typename":"OrderCreated","issuedAt":"2026-01-01T00:00:00+00:00",'
    b'"version":"3.24.0","order":{"id":"T3JkZXI6MQ=="}}'
)


def _header(signature: str) -> bytes:
    segment = signature.split(".")[0]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class TestSignerMatchesSaleor:
    def test_protected_header_is_byte_exact_with_core(self, signer: SaleorSigner) -> None:
        expected = json.dumps(
            {"alg": "RS256", "b64": False, "crit": ["b64"], "kid": signer.kid, "typ": "JWT"},
            separators=(",", ":"),
        ).encode()
        assert _header(signer.sign(BODY)) == expected

    def test_signature_has_an_empty_payload_segment(self, signer: SaleorSigner) -> None:
        assert signer.sign(BODY).split(".")[1] == ""

    def test_kid_is_the_rfc7638_thumbprint(self) -> None:
        # The worked example of RFC 7638 section 3.1.
        n = (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
            "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgd"
            "AZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur"
            "-kEgU8awapJzKnqDKgw"
        )
        assert jwk_thumbprint(n, "AQAB") == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


class TestVerifyWebhookSignature:
    def test_accepts_the_exact_body_signed_by_a_key_in_the_jwks(self, signer: SaleorSigner) -> None:
        verify_webhook_signature(signer.sign(BODY), BODY, parse_key_set(signer.jwks_text()))

    def test_rejects_a_body_with_one_byte_flipped(self, signer: SaleorSigner) -> None:
        tampered = BODY.replace(b"MQ==", b"Mg==")
        with pytest.raises(SignatureError, match="does not match"):
            verify_webhook_signature(signer.sign(BODY), tampered, parse_key_set(signer.jwks_text()))

    def test_rejects_the_same_json_reserialised_with_other_spacing(self, signer: SaleorSigner) -> None:
        respaced = json.dumps(json.loads(BODY)).encode()
        with pytest.raises(SignatureError, match="does not match"):
            verify_webhook_signature(signer.sign(BODY), respaced, parse_key_set(signer.jwks_text()))

    def test_rejects_a_signature_made_with_a_key_not_in_the_jwks(self, signer: SaleorSigner) -> None:
        foreign = SaleorSigner(1)
        with pytest.raises(UnknownSigningKeyError):
            verify_webhook_signature(foreign.sign(BODY), BODY, parse_key_set(signer.jwks_text()))

    def test_a_foreign_key_that_claims_our_kid_is_a_forgery_not_a_key_miss(self, signer: SaleorSigner) -> None:
        foreign = SaleorSigner(1)
        foreign.kid = signer.kid
        with pytest.raises(SignatureError) as caught:
            verify_webhook_signature(foreign.sign(BODY), BODY, parse_key_set(signer.jwks_text()))
        assert not isinstance(caught.value, UnknownSigningKeyError)

    def test_accepts_a_header_without_crit_as_saleor_before_3_20_sent(self, signer: SaleorSigner) -> None:
        signature = signer.sign(BODY, crit=False)
        assert b"crit" not in _header(signature)
        verify_webhook_signature(signature, BODY, parse_key_set(signer.jwks_text()))

    def test_accepts_the_constant_kid_of_saleor_before_3_15(self) -> None:
        legacy = SaleorSigner(0, legacy_kid=True)
        verify_webhook_signature(legacy.sign(BODY), BODY, parse_key_set(legacy.jwks_text()))

    def test_rejects_an_attached_payload_jws(self, signer: SaleorSigner) -> None:
        attached = jwt.api_jws.encode(BODY, signer.private_key, algorithm="RS256", headers={"kid": signer.kid})
        with pytest.raises(SignatureError, match="detached"):
            verify_webhook_signature(attached, BODY, parse_key_set(signer.jwks_text()))

    def test_rejects_a_detached_jws_that_encodes_its_payload(self, signer: SaleorSigner) -> None:
        attached = jwt.api_jws.encode(BODY, signer.private_key, algorithm="RS256", headers={"kid": signer.kid})
        head, _, tail = attached.split(".")
        with pytest.raises(SignatureError, match="b64=false"):
            verify_webhook_signature(f"{head}..{tail}", BODY, parse_key_set(signer.jwks_text()))

    @pytest.mark.parametrize("alg", ["none", "HS256"])
    def test_rejects_other_algorithms(self, signer: SaleorSigner, alg: str) -> None:
        header = json.dumps({"alg": alg, "b64": False, "crit": ["b64"], "kid": signer.kid}).encode()
        forged = base64.urlsafe_b64encode(header).rstrip(b"=").decode() + "..c2ln"
        with pytest.raises(SignatureError, match="not RS256"):
            verify_webhook_signature(forged, BODY, parse_key_set(signer.jwks_text()))

    @pytest.mark.parametrize("value", ["", "abc", "a.b.c.d", "!!!..sig", "a" * 64])
    def test_rejects_malformed_values_without_trying_keys(self, signer: SaleorSigner, value: str) -> None:
        with pytest.raises(SignatureError) as caught:
            verify_webhook_signature(value, BODY, parse_key_set(signer.jwks_text()))
        assert not isinstance(caught.value, UnknownSigningKeyError)

    @pytest.mark.parametrize(
        "header",
        [
            pytest.param(b'["RS256"]', id="not-an-object"),
            pytest.param(b'{"alg":"RS256","b64":false,"crit":["b64"],"kid":["a"]}', id="kid-not-a-string"),
            pytest.param(b"\xff\xfe", id="not-utf8"),
        ],
    )
    def test_rejects_a_protected_header_that_is_not_one_without_trying_keys(
        self, signer: SaleorSigner, header: bytes
    ) -> None:
        forged = base64.urlsafe_b64encode(header).rstrip(b"=").decode() + "..c2ln"
        with pytest.raises(SignatureError) as caught:
            verify_webhook_signature(forged, BODY, parse_key_set(signer.jwks_text()))
        assert not isinstance(caught.value, UnknownSigningKeyError)

    def test_a_redelivery_verified_before_is_still_checked_against_its_body_and_the_keys_held_now(
        self, signer: SaleorSigner
    ) -> None:
        signature = signer.sign(BODY)
        keys = parse_key_set(signer.jwks_text())
        verify_webhook_signature(signature, BODY, keys)
        verify_webhook_signature(signature, BODY, keys)  # Saleor's retry: the same bytes, the same signature
        with pytest.raises(SignatureError):
            verify_webhook_signature(signature, BODY + b" ", keys)
        impostor = SaleorSigner(1)
        impostor.kid = signer.kid  # the store's keys now hold another key under that id
        with pytest.raises(SignatureError) as caught:
            verify_webhook_signature(signature, BODY, parse_key_set(impostor.jwks_text()))
        assert not isinstance(caught.value, UnknownSigningKeyError)
        with pytest.raises(UnknownSigningKeyError):
            verify_webhook_signature(signature, BODY, parse_key_set(SaleorSigner(2).jwks_text()))
