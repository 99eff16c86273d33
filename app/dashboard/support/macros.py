"""Support › Macros: the store's saved replies, written with the variables a ticket fills in.

A macro is checked when it is saved (every variable it names must exist; the template must read), so a
mistake shows on this page, not in front of a customer. Support staff manage them (``MANAGE_ORDERS``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from app.dashboard.router import templates
from app.dashboard.support.ticket_views import FRAGMENT
from app.dashboard.view_models import local_time, parse_locale
from app.dependencies import DashboardContext, MacroStoreDep, RuntimeDep, SettingsStoreDep, require_permissions
from app.domain.support.macros import BODY_LIMIT, MACRO_VARIABLES, NAME_LIMIT, MacroId, MacroRefused
from app.integrations.macros import render_macro
from app.services.settings import store_timezone
from app.services.support.macros import save_macro

router = APIRouter()
SupportStaffDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_ORDERS"))]
MACROS = f"{FRAGMENT}/macros"
ACTIONS = "/api/dashboard/support/macros"


async def _render(
    request: Request,
    viewer: DashboardContext,
    macros: MacroStoreDep,
    settings: SettingsStoreDep,
    locale: str | None,
    *,
    editing: dict[str, str] | None = None,
    message: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    url = viewer.installation.saleor_api_url
    zone, language = await store_timezone(settings, url), parse_locale(locale)
    context: dict[str, Any] = {
        "support_tab": "macros",
        "macros": [
            {"macro": saved, "updated": local_time(saved.updated_at, zone, language)}
            for saved in await macros.list(url)
        ],
        "variables": [
            (f"{name}.{field}", about) for name, fields in MACRO_VARIABLES.items() for field, about in fields.items()
        ],
        "editing": editing or {"id": "", "name": "", "body": ""},
        "fragment": MACROS,
        "actions": ACTIONS,
        "name_limit": NAME_LIMIT,
        "body_limit": BODY_LIMIT,
        "message": message,
        "error": error,
    }
    response = templates.TemplateResponse(
        request, "fragments/support_macros.html", context, status_code=422 if error else 200
    )
    if message or error:
        response.headers["x-ops-notice"] = (message or error or "").encode("ascii", "replace").decode()
    return response


@router.get("/api/dashboard/fragments/support/macros", response_class=HTMLResponse)
async def macros_fragment(
    request: Request,
    viewer: SupportStaffDep,
    macros: MacroStoreDep,
    settings: SettingsStoreDep,
    edit: Annotated[str | None, Query(max_length=32)] = None,
    locale: str | None = None,
) -> HTMLResponse:
    """The macros, and a form for a new one (or the one ``edit`` names)."""
    editing = None
    if edit:
        found = await macros.get(viewer.installation.saleor_api_url, MacroId(edit))
        if found is None:
            return HTMLResponse("No such macro.", status_code=404)
        editing = {"id": found.id, "name": found.name, "body": found.body}
    return await _render(request, viewer, macros, settings, locale, editing=editing)


@router.post("/api/dashboard/support/macros", response_class=HTMLResponse)
async def save(
    request: Request,
    viewer: SupportStaffDep,
    macros: MacroStoreDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    locale: str | None = None,
) -> HTMLResponse:
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    submitted = {"id": form.get("id", ""), "name": form.get("name", ""), "body": form.get("body", "")}
    try:
        saved = await save_macro(
            macros,
            render_macro,
            viewer.installation.saleor_api_url,
            macro_id=submitted["id"] or None,
            name=submitted["name"],
            body=submitted["body"],
            by=viewer.user.email,
            now=runtime.clock.now(),
        )
    except MacroRefused as exc:
        return await _render(request, viewer, macros, settings, locale, editing=submitted, error=f"Not saved: {exc}")
    return await _render(request, viewer, macros, settings, locale, message=f"Macro {saved.name!r} saved.")


@router.post("/api/dashboard/support/macros/{macro_id}/delete", response_class=HTMLResponse)
async def delete(
    request: Request,
    macro_id: str,
    viewer: SupportStaffDep,
    macros: MacroStoreDep,
    settings: SettingsStoreDep,
    locale: str | None = None,
) -> HTMLResponse:
    url = viewer.installation.saleor_api_url
    found = await macros.get(url, MacroId(macro_id))
    if found is None or not await macros.delete(url, found.id):
        return HTMLResponse("No such macro.", status_code=404)
    return await _render(request, viewer, macros, settings, locale, message=f"Macro {found.name!r} deleted.")
