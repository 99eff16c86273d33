"""Saleor's signing key: the JWKS it serves, webhook signatures and dashboard JWTs (PROTOCOL.md c.2, e.4).

One RSA key signs both, as in core (``saleor/core/jwt_manager.py``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

# What core emits for ≤3.14 instead of the thumbprint.
LEGACY_KID = "1"


def b64url_uint(value: int) -> str:
    """Big-endian, unpadded base64url, as JWK ``n`` and ``e`` are written."""
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwk_thumbprint(n: str, e: str) -> str:
    """RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace."""
    canonical = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def generate_private_key() -> RSAPrivateKey:
    """RSA 2048 / e=65537, what core generates in DEBUG."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class SigningKey:
    """A Saleor's private key; ``kid`` is a plain attribute so tests can forge a foreign key's kid."""

    def __init__(self, private_key: RSAPrivateKey | None = None, *, legacy_kid: bool = False) -> None:
        self.private_key = private_key if private_key is not None else generate_private_key()
        numbers = self.private_key.public_key().public_numbers()
        self.n = b64url_uint(numbers.n)
        self.e = b64url_uint(numbers.e)
        self.kid = LEGACY_KID if legacy_kid else jwk_thumbprint(self.n, self.e)

    @classmethod
    def from_pem(cls, pem: bytes, *, legacy_kid: bool = False) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, RSAPrivateKey):
            raise ValueError("Saleor signs with an RSA key")
        return cls(key, legacy_kid=legacy_kid)

    def to_pem(self) -> bytes:
        """PKCS#8 PEM, the form of core's ``RSA_PRIVATE_KEY``; lets a demo keep its key across runs."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def jwk(self) -> dict[str, Any]:
        """The public key as core's PyJWT emits it (``alg`` from 3.21, ``key_ops`` from PyJWT 2.13)."""
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
        """The ``Saleor-Signature`` value, ``<header>..<signature>``, over the raw body bytes.

        ``crit=False`` signs as Saleor ≤3.19 did: ``b64: false`` without ``crit``,
        which PyJWT will not encode, so the signing input is built by hand.
        """
        if crit:
            return jwt.api_jws.encode(
                body,
                self.private_key,
                algorithm="RS256",
                headers={"kid": self.kid, "crit": ["b64"]},
                is_payload_detached=True,
            )
        header = json.dumps(
            {"alg": "RS256", "b64": False, "kid": self.kid, "typ": "JWT"}, separators=(",", ":"), sort_keys=True
        ).encode()
        h = base64.urlsafe_b64encode(header).rstrip(b"=")
        signature = jwt.get_algorithm_by_name("RS256").sign(h + b"." + body, self.private_key)
        return f"{h.decode()}..{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    def decode_jwt(self, token: str, *, now: float) -> dict[str, Any]:
        """Core's ``jwt_decode``: the signature and ``exp`` checked (PyJWT's errors), ``aud`` not; the time is the
        stand-in's clock, ``now`` (a timestamp), not the machine's."""
        claims: dict[str, Any] = jwt.decode(
            token,
            self.private_key.public_key(),
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
        if isinstance(claims.get("exp"), int | float) and claims["exp"] <= now:
            raise jwt.ExpiredSignatureError("Signature has expired")
        return claims

    def dashboard_token(
        self,
        *,
        app_id: str,
        iss: str,
        user_permissions: list[str],
        permissions: list[str],
        email: str = "staff@shop.test",
        user_id: str = "VXNlcjox",
        issued_at: float | None = None,
        ttl: int = 300,
        **extra: Any,
    ) -> str:
        """The JWT the dashboard hands an app page (``App.accessToken``), with core's claims.

        ``iss`` is the API URL as ``Saleor-Api-Url`` carries it; ``permissions`` are the
        effective ones (app ∩ user); ``extra`` adds or overrides claims (``aud``, ``app_extension``…).
        """
        iat = int(issued_at if issued_at is not None else time.time())
        claims: dict[str, Any] = {
            "iat": iat,
            "exp": iat + ttl,
            "iss": iss,
            "owner": "saleor",
            "type": "thirdparty",
            "token": "dashboard-session",
            "email": email,
            "user_id": user_id,
            "is_staff": True,
            "app": app_id,
            "permissions": permissions,
            "user_permissions": user_permissions,
            **extra,
        }
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})
