"""Webhook signatures: RS256 JWS with a detached, unencoded payload (RFC 7515 + RFC 7797).

PyJWT's JWS decoder insists on ``crit: ["b64"]``, which Saleor only sends since
3.20; the signing input is simple enough to check with PyJWT's RS256 primitive
directly, so both header forms verify the same way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from jwt.algorithms import RSAAlgorithm

from app.errors import SignatureError, UnknownSigningKeyError
from app.saleor.jwks import KeySet

_RS256 = RSAAlgorithm(RSAAlgorithm.SHA256)
_UNDERSTOOD_CRITICAL = {"b64"}
# Saleor retries a delivery with the same bytes and signature: the RS256 check of a pair already
# verified is skipped while the key that verified it is still the one its key id names. Only
# verified pairs are kept, so forgeries cannot fill it.
_VERIFIED_PAIRS = 4096
_verified: OrderedDict[tuple[str, bytes], Any] = OrderedDict()


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@lru_cache(maxsize=256)
def _protected_header(segment: str) -> Mapping[str, Any]:
    """Decoded once per distinct header: a store signs every delivery under the same one."""
    header = json.loads(_b64url_decode(segment))
    if not isinstance(header, dict):
        raise ValueError("the protected header is not a JSON object")
    return MappingProxyType(header)


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
        header = _protected_header(header_segment)
        signature_bytes = _b64url_decode(signature_segment)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("signature is malformed") from exc
    if header.get("alg") != "RS256":
        raise SignatureError(f"signature algorithm {header.get('alg')!r} is not RS256")
    if header.get("b64") is not False:
        raise SignatureError("signature does not use an unencoded payload (b64=false)")
    critical = header.get("crit", [])
    if not isinstance(critical, list) or not set(critical) <= _UNDERSTOOD_CRITICAL:
        raise SignatureError(f"signature has critical headers we do not understand: {critical!r}")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise SignatureError("signature key id is not a string")
    key = keys.key_for(kid)
    if key is None:
        raise UnknownSigningKeyError("signature key id is not in the store's JWKS")
    pair = (signature, hashlib.sha256(body).digest())
    if _verified.get(pair) is key:
        _verified.move_to_end(pair)
        return
    if not _RS256.verify(header_segment.encode("ascii") + b"." + body, key, signature_bytes):
        raise SignatureError("signature does not match the body")
    _verified[pair] = key
    if len(_verified) > _VERIFIED_PAIRS:
        _verified.popitem(last=False)
