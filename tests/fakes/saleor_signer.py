"""Signs webhook bodies and mints dashboard tokens exactly as Saleor core does (PROTOCOL.md test vectors).

A thin layer over the stand-in's ``SigningKey``: numbered keys cached for the
suite, and defaults that match ``tests.builders`` (shop.test, app ``QXBwOjE=``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from app.standin.signing import SigningKey, generate_private_key, jwk_thumbprint

__all__ = ["SaleorSigner", "jwk_thumbprint"]


@cache
def _generated_key(index: int) -> RSAPrivateKey:
    """Cached so the suite makes each numbered key once."""
    del index
    return generate_private_key()


class SaleorSigner(SigningKey):
    def __init__(self, key_index: int = 0, *, legacy_kid: bool = False) -> None:
        super().__init__(_generated_key(key_index), legacy_kid=legacy_kid)

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
        return super().dashboard_token(
            app_id=app_id,
            iss=iss,
            user_permissions=user_permissions if user_permissions is not None else ["MANAGE_ORDERS", "MANAGE_PRODUCTS"],
            permissions=permissions if permissions is not None else ["MANAGE_ORDERS"],
            issued_at=issued_at,
            ttl=ttl,
            **extra,
        )
