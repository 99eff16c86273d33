"""The JWT the Saleor dashboard hands an app page through AppBridge (PROTOCOL.md e.4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import jwt

from app.domain.ids import AppId
from app.errors import PermissionDeniedError, SignatureError, UnknownSigningKeyError
from app.saleor.jwks import KeySet

CLOCK_SKEW_SECONDS = 10


@dataclass(frozen=True, slots=True)
class StaffUser:
    email: str
    user_id: str | None
    # The user's own permissions, and the effective ones (app ∩ user) Saleor grants this token.
    user_permissions: frozenset[str]
    permissions: frozenset[str]
    # The JWT itself: Saleor takes it as a bearer token, acting as this user with ``permissions``.
    token: str = field(default="", repr=False)

    def require(self, *required: str) -> None:
        missing = [p for p in required if p not in self.user_permissions]
        if missing:
            raise PermissionDeniedError(missing)


def verify_dashboard_token(token: str, keys: KeySet, *, app_id: AppId, now: datetime) -> StaffUser:
    """Signature, expiry and our app id; ``aud`` is not checked (the manifest sets no audience)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise SignatureError("could not decode the dashboard token") from exc
    if header.get("alg") != "RS256":
        raise SignatureError("dashboard token is not RS256")
    key = keys.key_for(header.get("kid"))
    if key is None:
        raise UnknownSigningKeyError("dashboard token key id is not in the store's JWKS")
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat"], "verify_aud": False, "verify_exp": False, "verify_iat": False},
        )
    except jwt.InvalidSignatureError as exc:
        raise SignatureError("dashboard token signature does not verify") from exc
    except jwt.InvalidTokenError as exc:
        raise SignatureError(f"dashboard token is invalid: {exc}") from exc
    # Time claims are checked against the injected clock, not the machine's.
    if not isinstance(claims["exp"], int | float) or claims["exp"] + CLOCK_SKEW_SECONDS < now.timestamp():
        raise SignatureError("dashboard token has expired")
    if claims.get("app") != app_id:
        raise SignatureError("dashboard token was issued for another app")
    if claims.get("type", "thirdparty") != "thirdparty":
        raise SignatureError("dashboard token is not an app token")
    return StaffUser(
        email=str(claims.get("email", "")),
        user_id=None if claims.get("user_id") is None else str(claims["user_id"]),
        user_permissions=frozenset(_names(claims.get("user_permissions"))),
        permissions=frozenset(_names(claims.get("permissions"))),
        token=token,
    )


def _names(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []
