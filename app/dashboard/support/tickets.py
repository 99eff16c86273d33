"""Support inside the dashboard: the inbox, sorted by what breaches first, and each ticket with its thread,
its SLA clocks and the team's actions (public reply, internal note, status, assignee, priority, tags).

Support staff work orders, so the pages need ``MANAGE_ORDERS``. The assignee is a staff user as the
dashboard's token names them (their e-mail): a person takes a ticket, or hands it to someone who has
held tickets before.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from app.dashboard.router import templates
from app.dashboard.support import ticket_views as views
from app.dashboard.view_models import parse_locale
from app.dependencies import (
    DashboardContext,
    EffectOutboxDep,
    MacroStoreDep,
    RuntimeDep,
    SettingsStoreDep,
    TicketStoreDep,
    require_permissions,
)
from app.domain.ids import SaleorId
from app.domain.support.macros import MacroOrder, MacroRefused, macro_values
from app.domain.support.model import Priority
from app.domain.support.order_actions import OrderAction
from app.domain.support.ticket import (
    AgentReplied,
    Assigned,
    NoteAdded,
    NotificationKind,
    PriorityChanged,
    Status,
    StatusSet,
    TagsChanged,
    TicketEvent,
    TicketId,
    TicketRefused,
    normal_tags,
)
from app.errors import SaleorApiError
from app.integrations.macros import render_macro
from app.services.ports import SupportOrder
from app.services.settings import store_timezone
from app.services.support.desk import act, support_configuration, view
from app.services.support.macros import apply_macro
from app.services.support.mail import ReplyNotQueued, queue_notices, queue_reply
from app.services.support.model import INBOX_PAGE, InboxQuery, UnknownTicket
from app.services.support.order_actions import (
    OrderActionRefused,
    action_choices,
    order_in_view,
    saleor_refusal,
    take_order_action,
)

router = APIRouter()
SupportStaffDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_ORDERS"))]
MESSAGE_LIMIT = 20_000  # characters of one reply or note
UNSOLVED = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})
STATUS_FILTERS: dict[str, frozenset[Status]] = {
    "unsolved": UNSOLVED,
    "all": frozenset(),
    **{status.value: frozenset({status}) for status in Status},
}
DUE_FILTERS = {"breached": timedelta(0), "4h": timedelta(hours=4), "24h": timedelta(hours=24)}
FilterText = Annotated[str, Query(max_length=320)]


class NotUnderstood(ValueError):
    """A form the desk cannot turn into an event; the reason is shown and nothing changes."""


@router.get("/api/dashboard/fragments/support", response_class=HTMLResponse)
async def inbox_fragment(
    request: Request,
    viewer: SupportStaffDep,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    status: FilterText = "unsolved",
    assignee: FilterText = "",
    tag: FilterText = "",
    due: FilterText = "",
    page: Annotated[int, Query(ge=0, le=10_000)] = 0,
    locale: str | None = None,
) -> HTMLResponse:
    url, now = viewer.installation.saleor_api_url, runtime.clock.now()
    problems = []
    if status not in STATUS_FILTERS:
        problems.append(f"Unknown status {status!r}.")
    if due and due not in DUE_FILTERS:
        problems.append(f"Unknown SLA filter {due!r}.")
    tag_filter = None
    if tag.strip():
        try:
            (tag_filter,) = normal_tags([tag])
        except ValueError as exc:
            problems.append(str(exc))
    filters = {"status": status, "assignee": assignee, "tag": tag, "due": due}
    context: dict[str, Any] = {
        "filters": filters,
        "statuses": [("unsolved", "Unsolved"), ("all", "All")] + [(s.value, views.STATUS_LABELS[s]) for s in Status],
        "assignees": await tickets.assignees(url),
        "me": viewer.user.email,
        "fragment": views.FRAGMENT,
        "page": page,
        "problems": problems,
        "rows": [],
        "has_more": False,
    }
    if not problems:
        who = viewer.user.email if assignee == "me" else assignee
        query = InboxQuery(
            statuses=STATUS_FILTERS[status],
            assignee=who if who and who != "none" else None,
            unassigned=assignee == "none",
            tag=tag_filter,
            due_before=now + DUE_FILTERS[due] if due else None,
            offset=page * INBOX_PAGE,
        )
        found = await tickets.inbox(url, query)
        configuration = await support_configuration(settings, url)
        zone, language = await store_timezone(settings, url), parse_locale(locale)
        context["rows"] = views.inbox_rows(found.rows, now, configuration.warn_before, zone, language)
        context["has_more"] = found.has_more
        context["timezone"] = str(zone)
    return templates.TemplateResponse(
        request, "fragments/support_inbox.html", context, status_code=422 if problems else 200
    )


async def _ticket_fragment(
    request: Request,
    viewer: DashboardContext,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    macros: MacroStoreDep,
    runtime: RuntimeDep,
    ticket_id: str,
    locale: str | None,
    *,
    message: str | None = None,
    error: str | None = None,
    macro: str | None = None,
    chosen_order: str | None = None,
) -> HTMLResponse:
    url, now = viewer.installation.saleor_api_url, runtime.clock.now()
    shown = await view(tickets, settings, url, TicketId(ticket_id), now)
    if shown is None:
        return HTMLResponse("No such ticket.", status_code=404)
    ticket, sla = shown
    zone, language = await store_timezone(settings, url), parse_locale(locale)
    order_id = order_in_view(ticket, chosen_order)
    order: SupportOrder | None = None
    saleor_problem = None
    if order_id is not None and ticket.status is not Status.CLOSED:
        # Asked as the staff user: what they see of the order is what their own account may see.
        try:
            order = await runtime.saleor.staff_gateway(url, viewer.user.token).support_order(order_id)
        except SaleorApiError as exc:
            saleor_problem = saleor_refusal(exc)
        if order is None and saleor_problem is None:
            saleor_problem = "Saleor has no such order, or your account may not see it."
    draft = ""
    if macro:
        values = macro_values(
            ticket_number=ticket.id,
            subject=ticket.subject,
            requester=ticket.requester.email,
            agent=viewer.user.email,
            order=None
            if order is None
            else MacroOrder(order.number, order.customer_name, order.customer_email, order.tracking_number),
        )
        try:
            draft = await apply_macro(macros, render_macro, url, macro, values)
        except MacroRefused as exc:
            error = f"Macro not applied: {exc}"
    context = {
        "ticket": views.ticket_view(ticket, await tickets.order_numbers(url, ticket.order_ids), zone, language),
        "sla": views.sla_view(sla, now, zone, language),
        "statuses": [(s.value, views.STATUS_LABELS[s]) for s in views.SETTABLE_STATUSES],
        "priorities": [p.value for p in views.PRIORITIES],
        "assignees": [a for a in await tickets.assignees(url) if a != viewer.user.email],
        "me": viewer.user.email,
        "inbox": views.FRAGMENT,
        "actions": f"{views.ACTIONS}/{ticket.id}",
        "closed": ticket.status is Status.CLOSED,
        "message": message,
        "error": error,
        "timezone": str(zone),
        "limit": MESSAGE_LIMIT,
        "macros": await macros.list(url),
        "macro": macro,
        "draft": draft,
        "order_id": order_id,
        "order": order,
        "saleor_problem": saleor_problem,
        "choices": [] if order is None else action_choices(order, viewer.user.permissions),
    }
    response = templates.TemplateResponse(
        request, "fragments/support_ticket.html", context, status_code=422 if error else 200
    )
    if message or error:
        # A header is plain ASCII: a tag or name the person typed may not be.
        response.headers["x-ops-notice"] = (message or error or "").encode("ascii", "replace").decode()
    return response


@router.get("/api/dashboard/fragments/support/ticket", response_class=HTMLResponse)
async def ticket_fragment(
    request: Request,
    viewer: SupportStaffDep,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    macros: MacroStoreDep,
    ticket_id: Annotated[str, Query(alias="id", min_length=1, max_length=16)],
    macro: Annotated[str | None, Query(max_length=32)] = None,
    order: Annotated[str | None, Query(max_length=128)] = None,
    locale: str | None = None,
) -> HTMLResponse:
    """The ticket; with ``macro``, its reply box holds that macro filled in with the ticket's data, to edit; with
    ``order``, that one of the ticket's orders is the one its Saleor actions and macros are about."""
    return await _ticket_fragment(
        request, viewer, tickets, settings, macros, runtime, ticket_id, locale, macro=macro or None, chosen_order=order
    )


def _body(form: dict[str, str]) -> str:
    body = form.get("body", "").strip()
    if not body:
        raise NotUnderstood("Write something first.")
    if len(body) > MESSAGE_LIMIT:
        raise NotUnderstood(f"A message has at most {MESSAGE_LIMIT} characters, not {len(body)}.")
    return body


def _status(value: str, *, keep: bool) -> Status | None:
    if keep and not value:
        return None
    try:
        status = Status(value)
    except ValueError:
        raise NotUnderstood(f"Unknown status {value!r}.") from None
    if status not in views.SETTABLE_STATUSES:
        raise NotUnderstood(f"A ticket cannot be set {views.STATUS_LABELS[status]} by hand.")
    return status


def _event(action: str, form: dict[str, str], viewer: DashboardContext) -> tuple[TicketEvent, str]:
    """The event a form asks for, and what to say once it is done."""
    me = viewer.user.email
    match action:
        case "reply":
            return AgentReplied(me, _body(form), _status(form.get("status", ""), keep=True)), "Reply added."
        case "note":
            return NoteAdded(me, _body(form)), "Internal note added."
        case "status":
            status = _status(form.get("status", ""), keep=False)
            assert status is not None
            return StatusSet(status), f"Status set to {views.STATUS_LABELS[status]}."
        case "assign":
            chosen = form.get("assignee", "")
            if chosen == "me":
                return Assigned(me), "Assigned to you."
            if chosen == "none":
                return Assigned(None), "Unassigned."
            if "@" not in chosen or len(chosen) > 320:
                raise NotUnderstood("Choose whom to assign the ticket to.")
            return Assigned(chosen), f"Assigned to {chosen}."
        case "priority":
            try:
                priority = Priority(form.get("priority", ""))
            except ValueError:
                raise NotUnderstood("Choose a priority: low, normal, high or urgent.") from None
            return PriorityChanged(priority), f"Priority set to {priority.value}."
        case "tags":
            try:
                added = normal_tags(form.get("add", "").replace(",", " ").split())
                removed = normal_tags(name.removeprefix("remove:") for name in form if name.startswith("remove:"))
            except ValueError as exc:
                raise NotUnderstood(str(exc)) from None
            if any(len(tag) > 64 for tag in added):
                raise NotUnderstood("A tag has at most 64 characters.")
            return TagsChanged(added=added, removed=removed), "Tags saved."
    raise NotUnderstood(f"Unknown action {action!r}.")


@router.post("/api/dashboard/support/tickets/{ticket_id}/{action}", response_class=HTMLResponse)
async def ticket_action(
    request: Request,
    ticket_id: str,
    action: str,
    viewer: SupportStaffDep,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    effects: EffectOutboxDep,
    macros: MacroStoreDep,
    runtime: RuntimeDep,
    locale: str | None = None,
) -> HTMLResponse:
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    url = viewer.installation.saleor_api_url
    now = runtime.clock.now()
    try:
        event, done = _event(action, form, viewer)
        change = await act(tickets, settings, url, TicketId(ticket_id), event, now)
    except UnknownTicket:
        return HTMLResponse("No such ticket.", status_code=404)
    except (NotUnderstood, TicketRefused) as exc:
        reason = exc.reason if isinstance(exc, TicketRefused) else str(exc)
        return await _ticket_fragment(
            request, viewer, tickets, settings, macros, runtime, ticket_id, locale, error=f"Nothing changed: {reason}"
        )
    for notification in change.notifications:
        if notification.kind is NotificationKind.REPLY_TO_REQUESTER and notification.message is not None:
            # E-mailed by the dispatcher once this transaction commits with the reply.
            queued = await queue_reply(
                url,
                change.ticket,
                notification.message,
                outbox=effects,
                settings=settings,
                secret=runtime.settings.resolve_secret_key(),
                now=now,
            )
            if isinstance(queued, ReplyNotQueued):
                done = f"{done} Not e-mailed: {queued.reason}."
    unnoticed = await queue_notices(
        url,
        change.ticket,
        change.notifications,
        outbox=effects,
        settings=settings,
        app_id=viewer.installation.app_id,
        now=now,
        actor=viewer.user.email,
    )
    if unnoticed is not None:
        done = f"{done} The assignee is not e-mailed: {unnoticed.reason}."
    runtime.wake_workers()
    return await _ticket_fragment(request, viewer, tickets, settings, macros, runtime, ticket_id, locale, message=done)


@router.post("/api/dashboard/support/tickets/{ticket_id}/order/{action}", response_class=HTMLResponse)
async def order_action(
    request: Request,
    ticket_id: str,
    action: str,
    viewer: SupportStaffDep,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    macros: MacroStoreDep,
    runtime: RuntimeDep,
    locale: str | None = None,
) -> HTMLResponse:
    """Cancel the ticket's order, add a note to it or grant a refund on it in Saleor, as the staff user (with their
    dashboard token)."""
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    url, order_id = viewer.installation.saleor_api_url, form.get("order", "")
    try:
        chosen = OrderAction(action)
    except ValueError:
        return HTMLResponse(f"Unknown action {action!r}.", status_code=404)
    try:
        _, done = await take_order_action(
            runtime.saleor.staff_gateway(url, viewer.user.token),
            tickets,
            settings,
            url,
            TicketId(ticket_id),
            action=chosen,
            order_id=SaleorId(order_id),
            note=form.get("note", ""),
            amount=form.get("amount", ""),
            staff=viewer.user.email,
            permissions=viewer.user.permissions,
            now=runtime.clock.now(),
        )
    except UnknownTicket:
        return HTMLResponse("No such ticket.", status_code=404)
    except (OrderActionRefused, TicketRefused) as exc:
        reason = exc.reason if isinstance(exc, TicketRefused) else str(exc)
        return await _ticket_fragment(
            request,
            viewer,
            tickets,
            settings,
            macros,
            runtime,
            ticket_id,
            locale,
            error=f"Nothing changed: {reason}",
            chosen_order=order_id,
        )
    response = await _ticket_fragment(
        request, viewer, tickets, settings, macros, runtime, ticket_id, locale, message=done, chosen_order=order_id
    )
    response.headers["x-ops-order-changed"] = "1"  # the order page, if that is where this ran, reloads it
    return response
