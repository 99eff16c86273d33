"""The stand-in on HTTP: ``GET /.well-known/jwks.json`` and ``POST <api path>`` (e.g. ``/graphql/``).

Like Saleor, the JWKS sits at the site root whatever the API path, a request
whose ``Authorization: Bearer`` token is no app's gets HTTP 401, and a query
that cannot run at all (bad JSON, syntax, validation) gets 400 with ``errors``.
A bearer token Saleor issued as a JWT (a user's, or the dashboard's token for an
app) runs the operation as that user (``users``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.standin.encoding import dump_json
from app.standin.graphql_api import ListDeliveryMethods, execute
from app.standin.signing import SigningKey
from app.standin.state import App, Store
from app.standin.users import UserSession, authenticate_user, is_saleor_token

Clock = Callable[[], datetime]


def _json(payload: Any, status_code: int = 200) -> Response:
    return Response(dump_json(payload), status_code=status_code, media_type="application/json")


def _error(message: str, status_code: int, code: str | None = None) -> Response:
    error: dict[str, Any] = {"message": message}
    if code is not None:
        error["extensions"] = {"exception": {"code": code}}
    return _json({"errors": [error]}, status_code)


def _caller(request: Request, store: Store, key: SigningKey, now: datetime) -> App | UserSession | None:
    """The app whose token this is, or the user a Saleor JWT names; None for anything else."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    if is_saleor_token(token):
        return authenticate_user(store, key, token, now=now)
    return store.app_by_token(token)


def create_asgi_app(
    *,
    store: Store,
    key: SigningKey,
    api_url: str,
    clock: Clock,
    list_delivery_methods: ListDeliveryMethods | None = None,
) -> Starlette:
    """``list_delivery_methods`` asks the apps for a checkout's options (``StandIn`` passes its own)."""

    async def jwks(_: Request) -> Response:
        return _json(key.jwks())

    async def graphql_endpoint(request: Request) -> Response:
        caller = _caller(request, store, key, clock())
        if caller is None:
            # The only answer a revoked or unknown app token gets; the app treats it as "uninstalled".
            return _error("Invalid token.", 401, "InvalidTokenError")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error("Unable to parse the request body as JSON.", 400)
        if isinstance(body, list):  # Saleor takes batches, answering a list in order
            results = [await _operation(store, caller, clock, item, list_delivery_methods) for item in body]
            return _json([payload for payload, _ in results])
        payload, status_code = await _operation(store, caller, clock, body, list_delivery_methods)
        return _json(payload, status_code)

    return Starlette(
        routes=[
            Route("/.well-known/jwks.json", jwks, methods=["GET"]),
            Route(urlsplit(api_url).path or "/", graphql_endpoint, methods=["POST"]),
        ]
    )


async def _operation(
    store: Store,
    caller: App | UserSession,
    clock: Clock,
    body: Any,
    list_delivery_methods: ListDeliveryMethods | None,
) -> tuple[dict[str, Any], int]:
    query = body.get("query") if isinstance(body, dict) else None
    if not isinstance(query, str) or not query.strip():
        return {"errors": [{"message": "Must provide a query string."}]}, 400
    variables = body.get("variables")
    operation = body.get("operationName")
    result = await execute(
        store,
        query,
        app=caller if isinstance(caller, App) else None,
        user=caller if isinstance(caller, UserSession) else None,
        now=clock(),
        variables=variables if isinstance(variables, dict) else None,
        operation_name=operation if isinstance(operation, str) else None,
        list_delivery_methods=list_delivery_methods,
    )
    payload = dict(result.formatted)
    return payload, 400 if result.data is None and result.errors else 200
