"""A staff user's GraphQL calls to a real Saleor: what a merchant does in the dashboard, as requests."""

from __future__ import annotations

import time
from typing import Any

import httpx

# Saleor's staff access tokens live five minutes (JWT_TTL_ACCESS); a fresh one is taken well before.
TOKEN_LIFETIME_SECONDS = 240.0
REQUEST_TIMEOUT_SECONDS = 30.0

JSON = dict[str, Any]


class SaleorCallFailed(AssertionError):
    """Saleor refused a call: its GraphQL errors or the mutation's own ``errors`` list, quoted."""


class StaffSaleor:
    """Calls Saleor's GraphQL API as a staff user, logging in again before the token expires."""

    def __init__(self, api_url: str, email: str, password: str) -> None:
        self.api_url = api_url
        self._email, self._password = email, password
        self._http = httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS)
        self._token: str | None = None
        self._token_taken_at = 0.0

    def close(self) -> None:
        self._http.close()

    def query(self, document: str, **variables: Any) -> JSON:
        """The ``data`` of a query; any GraphQL error fails the call, quoted."""
        return self._post(document, variables, self._staff_token())

    def mutate(self, document: str, field: str, **variables: Any) -> JSON:
        """The result of the mutation ``field``; its ``errors`` list fails the call, quoted."""
        return _succeeded(field, self.query(document, **variables))

    def mutate_as_shopper(self, document: str, field: str, **variables: Any) -> JSON:
        """A storefront call with no login: a guest's checkout belongs to no account (a staff user's would)."""
        return _succeeded(field, self._post(document, variables, token=None))

    def _staff_token(self) -> str:
        if self._token is None or time.monotonic() - self._token_taken_at > TOKEN_LIFETIME_SECONDS:
            created = self._post(
                "mutation Login($email: String!, $password: String!) {"
                " tokenCreate(email: $email, password: $password) { token errors { field message code } } }",
                {"email": self._email, "password": self._password},
                token=None,
            )["tokenCreate"]
            if not created["token"]:
                raise SaleorCallFailed(f"the staff user {self._email} cannot log in: {created['errors']}")
            self._token, self._token_taken_at = created["token"], time.monotonic()
        return self._token

    def _post(self, document: str, variables: JSON, token: str | None) -> JSON:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self._http.post(self.api_url, json={"query": document, "variables": variables}, headers=headers)
        if response.status_code != 200:
            raise SaleorCallFailed(f"Saleor answered {response.status_code}: {response.text[:500]}")
        body: JSON = response.json()
        if body.get("errors"):
            raise SaleorCallFailed(f"Saleor's GraphQL errors: {body['errors']}")
        data: JSON = body["data"]
        return data


def _succeeded(field: str, data: JSON) -> JSON:
    result: JSON = data[field]
    if result.get("errors"):
        raise SaleorCallFailed(f"{field} refused: {result['errors']}")
    return result
