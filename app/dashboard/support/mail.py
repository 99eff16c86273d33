"""Support · E-mail (``/dashboard/support-mail``): the store's SMTP server for replies, the domain
customers answer to, Mailgun's inbound signing key, and where a storefront sends customers (the form
and the API).

Secrets are stored encrypted and never shown back: an empty field keeps the kept one. Support is the
order team's work, so the page needs ``MANAGE_ORDERS``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.api.support import store_ref
from app.dashboard.router import templates
from app.dependencies import DashboardContext, RuntimeDep, SettingsStoreDep, require_permissions
from app.services.support.mail import change_mail_settings, mail_settings

router = APIRouter()
SupportManagerDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_ORDERS"))]


async def _render(
    request: Request,
    viewer: DashboardContext,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    *,
    status_code: int = 200,
    **outcome: Any,
) -> HTMLResponse:
    url = viewer.installation.saleor_api_url
    kept = await mail_settings(settings, url)
    public = runtime.settings.public_url.rstrip("/")
    ref = store_ref(url)
    context = {
        "values": kept.model_dump() if kept else {"smtp_port": 587, "security": "starttls"},
        "password_kept": bool(kept and kept.password_encrypted),
        "signing_key_kept": bool(kept and kept.inbound_signing_key_encrypted),
        "reply_domain": kept.reply_domain if kept else None,
        "form_url": f"{public}/support/{ref}",
        "api_url": f"{public}/api/stores/{ref}/support/requests",
        "inbound_url": f"{public}/api/stores/{ref}/support/inbound-mail/mailgun",
        "problems": {},
        "saved": None,
        **outcome,
    }
    return templates.TemplateResponse(request, "fragments/support_mail.html", context, status_code=status_code)


@router.get("/api/dashboard/fragments/support-mail", response_class=HTMLResponse)
async def support_mail_fragment(
    request: Request, viewer: SupportManagerDep, settings: SettingsStoreDep, runtime: RuntimeDep
) -> HTMLResponse:
    return await _render(request, viewer, settings, runtime)


@router.post("/api/dashboard/support-mail", response_class=HTMLResponse)
async def save_support_mail(
    request: Request, viewer: SupportManagerDep, settings: SettingsStoreDep, runtime: RuntimeDep
) -> HTMLResponse:
    """The whole section is checked; on any problem nothing is saved and the reasons come back by field."""
    submitted = {name: value for name, value in (await request.form()).items() if isinstance(value, str)}
    outcome = await change_mail_settings(
        settings,
        viewer.installation.saleor_api_url,
        submitted,
        cipher=runtime.cipher,
        changed_by=viewer.user.email,
        clock=runtime.clock,
    )
    if isinstance(outcome, tuple):
        shown = {name: value for name, value in submitted.items() if name not in ("password", "inbound_signing_key")}
        problems = {problem.column or "": problem.message for problem in outcome}
        response = await _render(request, viewer, settings, runtime, status_code=422, values=shown, problems=problems)
        response.headers["x-ops-notice"] = "Nothing was saved: check the marked fields."
        return response
    response = await _render(request, viewer, settings, runtime, saved="Support e-mail settings saved.")
    response.headers["x-ops-notice"] = "Support e-mail settings saved."
    return response
