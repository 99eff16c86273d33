"""The application's exceptions, one tree; no HTTP knowledge here.

    AppError
    ├── NotInstalledError          no installation for this Saleor API URL
    ├── SignatureError             a webhook signature or dashboard token is not acceptable
    │   ├── UnknownSigningKeyError its key id is not in these keys (Saleor may have rotated)
    │   └── JwksUnavailableError   Saleor's JWKS could not be fetched (transient)
    │       └── JwksRefetchThrottledError  the keys may be new, but were fetched moments ago
    ├── PermissionDeniedError      a verified staff user lacks a permission the action needs
    └── SaleorApiError             a call to Saleor's GraphQL API failed
        ├── SaleorUnavailableError network error, timeout, 429 or 5xx after retries (transient)
        ├── SaleorUnauthorizedError Saleor answered 401: the app token is revoked
        ├── SaleorGraphQLError     top-level GraphQL ``errors``
        └── SaleorMutationError    a mutation's ``errors`` list was not empty

The web layer maps these to HTTP statuses in one place (``app.main``).
"""

from __future__ import annotations

from dataclasses import dataclass


class AppError(Exception):
    """Base of every error the app raises on purpose."""


class NotInstalledError(AppError):
    pass


class SignatureError(AppError):
    pass


class UnknownSigningKeyError(SignatureError):
    pass


class JwksUnavailableError(SignatureError):
    pass


class JwksRefetchThrottledError(JwksUnavailableError):
    pass


class PermissionDeniedError(AppError):
    def __init__(self, missing: list[str]) -> None:
        super().__init__("missing permission: " + ", ".join(missing))
        self.missing = missing


class SaleorApiError(AppError):
    def __init__(self, message: str, *, operation: str) -> None:
        super().__init__(f"{operation}: {message}")
        self.operation = operation


class SaleorUnavailableError(SaleorApiError):
    def __init__(self, message: str, *, operation: str, retry_after: float | None = None) -> None:
        super().__init__(message, operation=operation)
        self.retry_after = retry_after  # seconds Saleor asked us to wait (429, 503)


class SaleorUnauthorizedError(SaleorApiError):
    pass


@dataclass(frozen=True, slots=True)
class GraphQLErrorDetail:
    message: str
    code: str | None = None
    field: str | None = None


class SaleorGraphQLError(SaleorApiError):
    def __init__(self, errors: list[GraphQLErrorDetail], *, operation: str) -> None:
        super().__init__("; ".join(e.message for e in errors), operation=operation)
        self.errors = errors


class SaleorMutationError(SaleorApiError):
    def __init__(self, errors: list[GraphQLErrorDetail], *, operation: str) -> None:
        # A code Saleor could not show comes back null (see ``app.graphql.client``).
        summary = "; ".join(f"{e.field or '-'}: {e.message}" + (f" ({e.code})" if e.code else "") for e in errors)
        super().__init__(summary, operation=operation)
        self.errors = errors
