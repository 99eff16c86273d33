"""Signs webhook bodies and mints dashboard tokens exactly as Saleor core does (PROTOCOL.md test vectors)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwk_thumbprint(n: str, e: str) -> str:
    """RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace."""
    canonical = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@cache
def _generated_key(index: int) -> RSAPrivateKey:
    """RSA 2048 / e=65537 as core generates; cached so the suite makes each key once."""
    del index
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class SaleorSigner:
    def __init__(self, key_index: int = 0, *, legacy_kid: bool = False) -> None:
        self.private_key = _generated_key(key_index)
        numbers = self.private_key.public_key().public_numbers()
        self.n = _b64url_uint(numbers.n)
        self.e = _b64url_uint(numbers.e)
        self.kid = "1" if legacy_kid else jwk_thumbprint(self.n, self.e)

    def jwk(self) -> dict[str, Any]:
        return {
            "kty": "RSA",
            "n": self.n,
            "e": self.e,
            "use": "sig",
            "kid": self.kid,
            "alg": "RS256",
            "key_ops": ["verify"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk()]}

    def jwks_text(self) -> str:
        return json.dumps(self.jwks())

    def sign(self, body: bytes, *, crit: bool = True) -> str:
        """The ``Saleor-Signature`` value, ``<header>..<signature>``, over the raw body.

        ``crit=False`` signs as Saleor ≤3.19 did: ``b64: false`` without ``crit``.
        """
        if not crit:
            return self._sign_without_crit(body)
        return jwt.api_jws.encode(
            body,
            self.private_key,
            algorithm="RS256",
            headers={"kid": self.kid, "crit": ["b64"]},
            is_payload_detached=True,
        )

    def _sign_without_crit(self, body: bytes) -> str:
        header = json.dumps(
            {"alg": "RS256", "b64": False, "kid": self.kid, "typ": "JWT"}, separators=(",", ":"), sort_keys=True
        ).encode()
        h = base64.urlsafe_b64encode(header).rstrip(b"=")
        signature = jwt.get_algorithm_by_name("RS256").sign(h + b"." + body, self.private_key)
        return f"{h.decode()}..{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    def dashboard_token(
        self,
        *,
        app_id: str = "QXBwOjE=",
        iss: str = "https://shop.test/graphql/",
        user_permissions: list[str] | None = None,
        permissions: list[str] | None = None,
        issued_at: float | None = None,
        ttl: int = 300,
        **extra: Any,
    ) -> str:
        iat = int(issued_at if issued_at is not None else time.time())
        claims: dict[str, Any] = {
            "iat": iat,
            "exp": iat + ttl,
            "iss": iss,
            "owner": "saleor",
            "type": "thirdparty",
            "token": "dashboard-session",
            "email": "staff@shop.test",
            "user_id": "VXNlcjox",
            "is_staff": True,
            "app": app_id,
            "permissions": permissions if permissions is not None else ["MANAGE_ORDERS"],
            "user_permissions": user_permissions
            if user_permissions is not None
            else ["MANAGE_ORDERS", "MANAGE_PRODUCTS"],
            **extra,
        }
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})
