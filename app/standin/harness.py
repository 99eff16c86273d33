"""A page that plays the Saleor dashboard: it frames the app's pages and speaks AppBridge to them.

The browser tests and the demo use it exactly as the dashboard would be used:
the iframe has the dashboard's sandbox, the page answers ``notifyReady`` with a
``handshake`` carrying a real JWT signed by the stand-in's key, pushes ``theme``
changes, and shows what the app asks of it (notifications, redirects, resizes).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from app.standin.signing import SigningKey
from app.standin.state import Store, to_global_id

STATIC = Path(__file__).parent / "harness_static"
# Every permission one of the app's pages asks for (Receipts needs MANAGE_PRODUCTS), so the
# default user opens them all; ``?permissions=A,B`` plays a user with fewer.
DEFAULT_PERMISSIONS = ("MANAGE_ORDERS", "MANAGE_PRODUCTS", "MANAGE_APPS")
TOKEN_TTL_SECONDS = 300


@dataclass
class HarnessConfig:
    app_url: str  # where the app is served, e.g. http://localhost:8000
    saleor_api_url: str  # the stand-in's API URL; its origin is this page's origin
    app_id: str
    key: SigningKey
    saleor_version: str = "3.22.0"
    # The order the "Order card" link opens when the page names none: the store's latest.
    latest_order_id: Callable[[], str | None] = field(default=lambda: None)
    # The dashboard release the page plays unless ?dashboard= names another (the newest one tagged).
    dashboard_version: str = "3.23.27"
    # The stand-in's store: its tokens then name a staff user of it, so Saleor (the stand-in) takes them as
    # bearer tokens too, as it takes a real dashboard's.
    store: Store | None = None


DASHBOARD_VERSION = re.compile(r"\d+\.\d+\.\d+")
ORDER_MOUNTS = ("ORDER_DETAILS_WIDGETS", "ORDER_DETAILS_MORE_ACTIONS")


async def _order_card(app_url: str, saleor_version: str) -> dict[str, object]:
    """The order page's extension as Saleor of that version installs it: from the app's own manifest."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{app_url}/api/manifest", headers={"Saleor-Schema-Version": saleor_version})
    response.raise_for_status()
    extension = next(e for e in response.json()["extensions"] if e["mount"] in ORDER_MOUNTS)
    return {
        "label": extension["label"],
        "path": urlsplit(extension["url"]).path,
        "popup": extension["target"] == "POPUP",
    }


def harness_routes(config: HarnessConfig) -> list[Route | Mount]:
    """The dashboard pages, to mount on the stand-in's origin (which serves the JWKS)."""
    foreign_key = SigningKey()  # signs tokens no installed Saleor issued
    order_cards: dict[str, dict[str, object]] = {}  # per Saleor version; the app's manifest does not change

    async def page(_: Request) -> Response:
        return FileResponse(STATIC / "harness.html")

    async def order_card(saleor_version: str) -> dict[str, object]:
        if saleor_version not in order_cards:
            order_cards[saleor_version] = await _order_card(config.app_url, saleor_version)
        return order_cards[saleor_version]

    async def settings(request: Request) -> JSONResponse:
        """The page's settings; ``dashboard`` is the release to play (a 3.20 dashboard sits beside a 3.20 core)."""
        dashboard = request.query_params.get("dashboard") or config.dashboard_version
        if not DASHBOARD_VERSION.fullmatch(dashboard):
            return JSONResponse({"error": f"dashboard must be a release like 3.20.41, not {dashboard!r}"}, 400)
        return JSONResponse(
            {
                "appUrl": config.app_url,
                "saleorApiUrl": config.saleor_api_url,
                "appId": config.app_id,
                "saleorVersion": config.saleor_version,
                "orderId": config.latest_order_id(),
                "dashboardVersion": dashboard,
                "orderCard": await order_card(".".join(dashboard.split(".")[:2])),
            }
        )

    async def token(request: Request) -> JSONResponse:
        """A dashboard JWT: ``kind`` is valid, expired or foreign; ``permissions`` the user's."""
        kind = request.query_params.get("kind", "valid")
        raw = request.query_params.get("permissions")
        user_permissions = raw.split(",") if raw else list(DEFAULT_PERMISSIONS)
        issued_at = time.time() - (2 * TOKEN_TTL_SECONDS if kind == "expired" else 0)
        key = foreign_key if kind == "foreign" else config.key
        staff = None if config.store is None else config.store.staff_user("staff@shop.test")
        jwt = key.dashboard_token(
            app_id=config.app_id,
            iss=config.saleor_api_url,
            user_permissions=[p for p in user_permissions if p],
            permissions=[p for p in user_permissions if p == "MANAGE_ORDERS"],
            issued_at=issued_at,
            ttl=TOKEN_TTL_SECONDS,
            **({} if staff is None else {"token": staff.jwt_token_key, "user_id": to_global_id("User", staff.pk)}),
        )
        return JSONResponse({"token": jwt})

    return [
        Route("/", page),
        Route("/apps/{address:path}", page),  # an app page at its dashboard address, /apps/<id>/app/<sub-path>
        Route("/harness/settings", settings),
        Route("/harness/token", token),
        Mount("/harness/static", app=StaticFiles(directory=STATIC)),
    ]


def create_site(standin_asgi: ASGIApp, config: HarnessConfig) -> Starlette:
    """The stand-in's origin as a person sees it: the dashboard pages, and Saleor's JWKS and API."""
    return Starlette(routes=[*harness_routes(config), Mount("/", app=standin_asgi)])
