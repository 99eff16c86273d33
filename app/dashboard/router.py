from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from app import __version__
from app.dependencies import DashboardContext, OrderEventLogDep, require_permissions

router = APIRouter()
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_home(request: Request) -> HTMLResponse:
    """The shell carries no store data; the page fetches it with the dashboard's token."""
    return templates.TemplateResponse(request, "home.html", {"version": __version__})


class InstallationStatus(BaseModel):
    saleor_api_url: str
    saleor_version: str | None
    installed_at: str
    staff_email: str
    order_events: int


@router.get("/api/dashboard/status")
async def installation_status(
    context: Annotated[DashboardContext, Depends(require_permissions("MANAGE_ORDERS"))],
    events: OrderEventLogDep,
) -> InstallationStatus:
    installation = context.installation
    return InstallationStatus(
        saleor_api_url=installation.saleor_api_url,
        saleor_version=installation.saleor_version,
        installed_at=installation.installed_at.isoformat(),
        staff_email=context.user.email,
        order_events=await events.count(installation.saleor_api_url),
    )


@router.get("/about", response_class=HTMLResponse)
async def about(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "about.html", {"version": __version__, "section": "about"})


@router.get("/about/privacy", response_class=HTMLResponse)
async def privacy(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "about.html", {"version": __version__, "section": "privacy"})


@router.get("/about/support", response_class=HTMLResponse)
async def support(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "about.html", {"version": __version__, "section": "support"})
