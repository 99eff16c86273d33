"""Installing an app from its manifest URL, as Saleor's install task does (PROTOCOL.md a, b.1).

GET the manifest (with ``Saleor-Schema-Version``), validate it, create the App
with a fresh token and the manifest's webhooks, then POST ``{"auth_token": …}``
to ``tokenTargetUrl``. The app may call back with the token while that POST is
in flight, as against Saleor. Any failure removes the App again.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from graphql import parse, validate
from graphql.error import GraphQLSyntaxError

from app.standin.graphql_api import standin_schema
from app.standin.state import App, AppWebhook, PendingEvent, Store
from app.standin.webhooks import events_in_query

# COMMON_REQUESTS_TIMEOUT: 2 s to connect, 18 s to answer; no retries here.
TIMEOUT = httpx.Timeout(18.0, connect=2.0)
_COMPARATOR = re.compile(r"^(>=|<=|>|<|=|\^|~)?v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-[0-9A-Za-z.-]+)?$")


class InstallFailed(Exception):
    """The install did not complete; ``message`` is what the dashboard would show the staff user."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message if code is None else f"{code}: {message}")
        self.message = message
        self.code = code  # AppErrorCode when the manifest was refused


def _version_tuple(version: str) -> tuple[int, int, int]:
    """Numeric part only: pre-releases match "naturally" (3.24.0-a.0 satisfies >=3.20)."""
    parts = [int(p) for p in re.findall(r"\d+", version.split("-")[0])[:3]]
    major, minor, patch = (parts + [0, 0, 0])[:3]
    return major, minor, patch


def _comparator_holds(comparator: str, version: tuple[int, int, int]) -> bool:
    match = _COMPARATOR.match(comparator)
    if match is None:
        raise ValueError(comparator)
    operator, *raw = match.groups()
    given = [int(p) for p in raw if p is not None and p not in {"x", "X", "*"}]
    if not given:
        return operator in {None, "=", ">=", "<=", "^", "~"}  # "*" / "x": any version
    floor = _version_tuple(".".join(map(str, given)))
    # The first version past the given prefix, e.g. 3.20 → 3.21.0, 3 → 4.0.0.
    ceiling = _version_tuple(".".join(map(str, [*given[:-1], given[-1] + 1])))
    if operator == ">=":
        return version >= floor
    if operator == ">":
        return version >= ceiling if len(given) < 3 else version > floor
    if operator == "<":
        return version < floor
    if operator == "<=":
        return version < ceiling if len(given) < 3 else version <= floor
    if operator == "^":
        upper = (floor[0] + 1, 0, 0) if floor[0] else (0, floor[1] + 1, 0)
        return floor <= version < upper
    if operator == "~":
        upper = (floor[0], floor[1] + 1, 0) if len(given) > 1 else (floor[0] + 1, 0, 0)
        return floor <= version < upper
    return floor <= version < ceiling if len(given) < 3 else version == floor


def version_satisfies(version: str, constraint: str) -> bool:
    """npm-style range (``>=3.20 <4``, ``^3.20``, ``~3.20.1``, ``3.20.x``, ``a || b``); ValueError if unparseable."""
    numeric = _version_tuple(version)
    alternatives = [a.split() for a in constraint.split("||")]
    if any(not comparators for comparators in alternatives):
        raise ValueError(constraint)
    return any(all(_comparator_holds(c, numeric) for c in comparators) for comparators in alternatives)


def _webhooks(manifest: dict[str, Any]) -> list[AppWebhook]:
    webhooks: list[AppWebhook] = []
    for entry in manifest.get("webhooks") or []:
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) for k in ("name", "targetUrl", "query")
        ):
            raise InstallFailed("Each webhook needs name, targetUrl and query.", code="INVALID_MANIFEST_FORMAT")
        if urlsplit(entry["targetUrl"]).scheme not in {"http", "https"}:
            raise InstallFailed(f"Invalid target url: {entry['targetUrl']}.", code="INVALID_URL_FORMAT")
        query = entry["query"]
        try:
            errors = validate(standin_schema(), parse(query))
        except GraphQLSyntaxError as exc:
            errors = [exc]
        if errors:
            reasons = "; ".join(e.message for e in errors)
            raise InstallFailed(f"Subscription query is not valid: {reasons}", code="INVALID")
        # Sync events are called while a request waits (the stand-in calls the checkout's shipping list).
        events = (*(entry.get("asyncEvents") or ()), *(entry.get("syncEvents") or ())) or events_in_query(query)
        headers = entry.get("customHeaders") or {}
        webhooks.append(
            AppWebhook(
                name=entry["name"],
                target_url=entry["targetUrl"],
                query=query,
                events=events,
                is_active=bool(entry.get("isActive", True)),
                custom_headers={str(k).lower(): str(v) for k, v in headers.items()},
            )
        )
    return webhooks


def _validated(manifest: Any, store: Store) -> dict[str, Any]:
    if not isinstance(manifest, dict):
        raise InstallFailed("The manifest is not a JSON object.", code="INVALID_MANIFEST_FORMAT")
    missing = [key for key in ("id", "name", "version") if not isinstance(manifest.get(key), str)]
    if missing:
        raise InstallFailed(f"Missing required fields: {', '.join(missing)}.", code="INVALID_MANIFEST_FORMAT")
    required = manifest.get("requiredSaleorVersion")
    if required is not None:
        try:
            satisfied = version_satisfies(store.shop.version, str(required))
        except ValueError:
            raise InstallFailed(f"Incorrect value for required Saleor version: {required}.", code="INVALID") from None
        if not satisfied:
            raise InstallFailed(
                f"Saleor version {store.shop.version} does not satisfy {required}.", code="UNSUPPORTED_SALEOR_VERSION"
            )
    if "MANAGE_APPS" in (manifest.get("permissions") or []):
        raise InstallFailed("Apps cannot be granted MANAGE_APPS.", code="OUT_OF_SCOPE_PERMISSION")
    if any(app.identifier == manifest["id"] for app in store.apps.values()):
        raise InstallFailed("App with the same identifier is already installed.", code="UNIQUE")
    return manifest


def _refusal_message(response: httpx.Response) -> str:
    """Saleor shows the app's ``{"error": {"message"}}`` verbatim, else a generic text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if isinstance(message, str) and message:
        return message
    return f"App internal error ({response.status_code}). Try later or contact with app support."


async def install_app(
    manifest_url: str,
    *,
    http: httpx.AsyncClient,
    store: Store,
    api_url: str,
    now: datetime,
    permissions: list[str] | None = None,
) -> App:
    """Install the app whose manifest is at ``manifest_url``; raise ``InstallFailed`` as Saleor would fail it.

    ``permissions`` are what the staff user grants; by default the manifest's.
    Unlike Saleor, which counts a 3xx from ``tokenTargetUrl`` as success (and loses
    the token), the stand-in fails it, so a redirecting register route shows in tests.
    """
    schema_version = store.shop.schema_version
    user_agent = f"Saleor/{schema_version}"
    try:
        response = await http.get(
            manifest_url,
            headers={"Saleor-Schema-Version": schema_version, "User-Agent": user_agent},
            timeout=TIMEOUT,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        raise InstallFailed(f"Can't fetch manifest data: {exc}.", code="MANIFEST_URL_CANT_CONNECT") from exc
    if not response.is_success:
        raise InstallFailed(
            f"Can't fetch manifest data: {manifest_url} answered {response.status_code}.",
            code="MANIFEST_URL_CANT_CONNECT",
        )
    try:
        manifest = _validated(json.loads(response.content), store)
    except ValueError:
        raise InstallFailed("The manifest is not valid JSON.", code="INVALID_MANIFEST_FORMAT") from None

    app = store.add_app(
        App(
            pk=store.next_pk("App"),
            identifier=manifest["id"],
            name=manifest["name"],
            token=secrets.token_urlsafe(22),  # an opaque 30-character token, like Saleor's
            version=manifest["version"],
            permissions=tuple(permissions if permissions is not None else manifest.get("permissions") or ()),
            manifest_url=manifest_url,
            webhooks=_webhooks(manifest),
        )
    )
    token_target_url = manifest.get("tokenTargetUrl")
    if isinstance(token_target_url, str):
        domain = urlsplit(api_url).netloc
        try:
            answer = await http.post(
                token_target_url,
                content=json.dumps({"auth_token": app.token}).encode(),
                headers={
                    "Content-Type": "application/json",
                    "Saleor-Domain": domain,
                    "X-Saleor-Domain": domain,
                    "Saleor-Api-Url": api_url,
                    "Saleor-Schema-Version": schema_version,
                    "User-Agent": user_agent,
                },
                timeout=TIMEOUT,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            del store.apps[app.pk]
            raise InstallFailed("Failed to connect to app. Try later or contact with app support.") from exc
        if not answer.is_success:
            del store.apps[app.pk]
            raise InstallFailed(_refusal_message(answer))
    app.is_installed = True
    store.outbox.append(PendingEvent("APP_INSTALLED", app, now))
    return app
