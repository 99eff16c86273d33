"""The ticket card on Saleor's order page: the order's tickets (number, subject, status, what is due next) to
open in place, and a form to open a new one about the order, for a call or a chat the customer started.

It is loaded into the order card (``fragments/order_card.html``), which the order page mounts as a widget
(Saleor 3.22+) or a popup from the order's menu (3.20–3.21), so it works wherever the card does.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from app.dashboard.router import templates
from app.dashboard.support import ticket_views as views
from app.dashboard.view_models import parse_locale
from app.dependencies import DashboardContext, RuntimeDep, SettingsStoreDep, TicketStoreDep, require_permissions
from app.domain.ids import SaleorId
from app.domain.support.model import Channel
from app.domain.support.ticket import Requester, open_ticket
from app.services.settings import store_timezone
from app.services.support.desk import add_ticket, support_configuration, ticket_sla
from app.services.support.mail import ticket_path

router = APIRouter()
SupportStaffDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_ORDERS"))]
OrderIdQuery = Annotated[str, Query(alias="orderId", min_length=1, max_length=256)]
SUBJECT_LIMIT = 300
DESCRIPTION_LIMIT = 20_000


async def _card(
    request: Request,
    viewer: DashboardContext,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    order_id: str,
    locale: str | None,
    *,
    submitted: dict[str, str] | None = None,
    message: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    url, now = viewer.installation.saleor_api_url, runtime.clock.now()
    zone, language = await store_timezone(settings, url), parse_locale(locale)
    configuration = await support_configuration(settings, url)
    rows = []
    for ticket in await tickets.for_order(url, SaleorId(order_id)):
        sla = views.sla_view(ticket_sla(configuration, ticket, now), now, zone, language)
        rows.append(
            {
                "id": ticket.id,
                "subject": ticket.subject,
                "status": ticket.status.value,
                "status_label": views.STATUS_LABELS[ticket.status],
                "due_next": None if sla is None else sla.due_next,
                "support_page": ticket_path(viewer.installation.app_id, ticket.id),
            }
        )
    known = await tickets.order_customer(url, SaleorId(order_id))
    context: dict[str, Any] = {
        "order_id": order_id,
        "rows": rows,
        "ticket_fragment": f"{views.FRAGMENT}/ticket",
        "action": "/api/dashboard/support/order-tickets",
        "form": submitted or {"requester": known[1] if known else "", "subject": "", "description": ""},
        "subject_limit": SUBJECT_LIMIT,
        "message": message,
        "error": error,
    }
    response = templates.TemplateResponse(
        request, "fragments/support_order.html", context, status_code=422 if error else 200
    )
    if message or error:
        response.headers["x-ops-notice"] = (message or error or "").encode("ascii", "replace").decode()
    return response


@router.get("/api/dashboard/fragments/support/order", response_class=HTMLResponse)
async def order_tickets_fragment(
    request: Request,
    viewer: SupportStaffDep,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    order_id: OrderIdQuery,
    locale: str | None = None,
) -> HTMLResponse:
    return await _card(request, viewer, tickets, settings, runtime, order_id, locale)


@router.post("/api/dashboard/support/order-tickets", response_class=HTMLResponse)
async def open_order_ticket(
    request: Request,
    viewer: SupportStaffDep,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    locale: str | None = None,
) -> HTMLResponse:
    """A new ticket about the order, opened by the staff user for its customer; nothing is e-mailed yet."""
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    order_id = form.get("orderId", "")
    if not 0 < len(order_id) <= 256:
        return HTMLResponse("Which order? The form names none.", status_code=422)
    submitted = {name: form.get(name, "").strip() for name in ("requester", "subject", "description")}
    url, now = viewer.installation.saleor_api_url, runtime.clock.now()
    try:
        if not submitted["subject"] or len(submitted["subject"]) > SUBJECT_LIMIT:
            raise ValueError(f"a ticket needs a subject of at most {SUBJECT_LIMIT} characters")
        if len(submitted["description"]) > DESCRIPTION_LIMIT:
            raise ValueError(f"the message has at most {DESCRIPTION_LIMIT} characters")
        ticket = open_ticket(
            await tickets.next_id(url),
            requester=Requester(submitted["requester"]),
            subject=submitted["subject"],
            description=submitted["description"],
            channel=Channel.STAFF,
            now=now,
            order_ids=[SaleorId(order_id)],
        )
    except ValueError as exc:
        return await _card(
            request,
            viewer,
            tickets,
            settings,
            runtime,
            order_id,
            locale,
            submitted=submitted,
            error=f"Not opened: {exc}.",
        )
    await add_ticket(tickets, settings, url, ticket, now)
    return await _card(
        request, viewer, tickets, settings, runtime, order_id, locale, message=f"Ticket #{ticket.id} opened."
    )
