"""Webhook signatures: RS256 JWS with a detached, unencoded payload (RFC 7515 + RFC 7797).

PyJWT's JWS decoder insists on ``crit: ["b64"]``, which Saleor only sends since
3.20; the signing input is simple enough to check with PyJWT's RS256 primitive
directly, so both header forms verify the same way.
"""

from __future__ import annotations

import base64
import binascii

import jwt
from jwt.algorithms import RSAAlgorithm

from app.errors import SignatureError, UnknownSigningKeyError
from app.saleor.jwks import KeySet

_RS256 = RSAAlgorithm(RSAAlgorithm.SHA256)
_UNDERSTOOD_CRITICAL = {"b64"}


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def verify_webhook_signature(signature: str, body: bytes, keys: KeySet) -> None:
    """Raise ``SignatureError`` unless ``signature`` signs exactly ``body`` with one of ``keys``.

    Only a key id missing from ``keys`` is an ``UnknownSigningKeyError`` (worth a refetch); a
    signature that fails under a key we hold is a forgery, whatever Saleor rotates to later.
    """
    segments = signature.split(".")
    if len(segments) != 3 or segments[1] != "":
        raise SignatureError("signature is not a detached JWS")
    header_segment, _, signature_segment = segments
    try:
        header = jwt.get_unverified_header(signature)
        signature_bytes = _b64url_decode(signature_segment)
    except (jwt.DecodeError, binascii.Error, ValueError) as exc:
        raise SignatureError("signature is malformed") from exc
    if header.get("alg") != "RS256":
        raise SignatureError(f"signature algorithm {header.get('alg')!r} is not RS256")
    if header.get("b64") is not False:
        raise SignatureError("signature does not use an unencoded payload (b64=false)")
    critical = header.get("crit", [])
    if not isinstance(critical, list) or not set(critical) <= _UNDERSTOOD_CRITICAL:
        raise SignatureError(f"signature has critical headers we do not understand: {critical!r}")
    key = keys.key_for(header.get("kid"))
    if key is None:
        raise UnknownSigningKeyError("signature key id is not in the store's JWKS")
    if not _RS256.verify(header_segment.encode("ascii") + b"." + body, key, signature_bytes):
        raise SignatureError("signature does not match the body")
