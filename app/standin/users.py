"""A user's JWT as a bearer token, authenticated as Saleor's ``load_user_from_request`` does
(``saleor/core/auth_backend.py``, 3.20 and today alike).

Only a token Saleor issued (``owner: "saleor"``) is tried as a JWT; its signature and expiry are checked, its
``type`` must be ``access`` or ``thirdparty`` (the dashboard's token for an app), and the active user its
``email`` names must still hold the key in its ``token`` claim. A ``permissions`` claim replaces the user's
own: a third-party token acts with the user's permissions that the app holds too, and no others.

Saleor authenticates lazily: a bad token fails only where a resolver asks who is calling (a permission
check), as a GraphQL error whose code is the PyJWT exception's name, with HTTP 200.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import jwt
from graphql import GraphQLError

from app.standin.signing import SigningKey
from app.standin.state import Customer, Store

JWT_TYPES = frozenset({"access", "thirdparty"})
_CREATE_NEW = "Invalid token. Create new one by using tokenCreate mutation."


class AuthenticationFailed(GraphQLError):
    """Saleor's ``format_error`` of a PyJWT error: its message, and its class name as the code."""

    def __init__(self, error: jwt.PyJWTError) -> None:
        super().__init__(str(error), extensions={"exception": {"code": type(error).__name__}})


@dataclass(frozen=True, slots=True)
class UserSession:
    """Who a JWT authenticates, with the permissions Saleor grants it; or why it does not."""

    user: Customer | None = None
    permissions: frozenset[str] = frozenset()
    error: AuthenticationFailed | None = None


def is_saleor_token(token: str) -> bool:
    """Core's ``is_saleor_token``: decodable without verifying, with ``owner: "saleor"``."""
    try:
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return bool(payload.get("owner") == "saleor")


def authenticate_user(store: Store, key: SigningKey, token: str, *, now: datetime) -> UserSession:
    try:
        payload = key.decode_jwt(token, now=now.timestamp())
        if payload.get("type") not in JWT_TYPES:
            raise jwt.InvalidTokenError(_CREATE_NEW)
        user = store.active_user(str(payload.get("email")))
        if not payload.get("token"):
            raise jwt.InvalidTokenError(_CREATE_NEW)
        if user is None:
            raise jwt.InvalidTokenError("Invalid token. User does not exist or is inactive.")
        if user.jwt_token_key != payload["token"]:
            raise jwt.InvalidTokenError(_CREATE_NEW)
    except jwt.PyJWTError as exc:
        return UserSession(error=AuthenticationFailed(exc))
    permissions = payload.get("permissions")
    # The stand-in keeps no permissions of a user's own: without the claim (a login token) a user holds none.
    return UserSession(user, frozenset(permissions) if isinstance(permissions, list) else frozenset())
