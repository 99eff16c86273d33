"""The fraud review queue and the merchant's allow and block lists, inside the dashboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.dashboard.router import templates
from app.dashboard.view_models import parse_locale, review_rows
from app.dependencies import (
    DashboardContext,
    EffectOutboxDep,
    FraudRepositoryDep,
    RuntimeDep,
    SettingsStoreDep,
    require_permissions,
)
from app.domain.fraud import ListEntryInvalid, ListKind, parse_list_entry
from app.services.fraud import ReviewClosed, ReviewOutcome, decide_review
from app.services.settings import store_timezone

router = APIRouter()
ReviewerDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_ORDERS"))]
QUEUE_SIZE = 50  # the oldest first; a decided order makes room for the next
BLOCKABLE = {"email": ListKind.EMAIL, "card": ListKind.CARD, "ip": ListKind.IP}


async def _reviews_fragment(
    request: Request,
    viewer: DashboardContext,
    fraud: FraudRepositoryDep,
    settings: SettingsStoreDep,
    locale: str | None,
    *,
    message: str | None = None,
    list_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    url = viewer.installation.saleor_api_url
    reviews = await fraud.open_reviews(url, QUEUE_SIZE)
    order_ids = [r.order_id for r in reviews]
    rows = review_rows(
        reviews,
        await fraud.assessments_of(url, order_ids),
        await fraud.identifiers_of(url, order_ids),
        await store_timezone(settings, url),
        parse_locale(locale),
    )
    context = {
        "reviews": rows,
        "entries": await fraud.list_entries(url),
        "kinds": [kind.value for kind in ListKind],
        "outcomes": [outcome.value for outcome in REJECTION_REASONS],
        "message": message,
        "list_error": list_error,
    }
    response = templates.TemplateResponse(request, "fragments/reviews.html", context, status_code=status_code)
    if message:
        response.headers["x-ops-notice"] = message
    return response


@router.get("/api/dashboard/fragments/reviews", response_class=HTMLResponse)
async def reviews_fragment(
    request: Request,
    viewer: ReviewerDep,
    fraud: FraudRepositoryDep,
    settings: SettingsStoreDep,
    locale: str | None = None,
) -> HTMLResponse:
    return await _reviews_fragment(request, viewer, fraud, settings, locale)


# Why an order is rejected, the likeliest first (the form's default): every outcome but approved.
REJECTION_REASONS = (ReviewOutcome.REFUNDED_AS_FRAUD, ReviewOutcome.REFUNDED, ReviewOutcome.DISPUTED)


def _rejection_reason(value: object) -> ReviewOutcome | None:
    return next((reason for reason in REJECTION_REASONS if reason.value == value), None)


@router.post("/api/dashboard/reviews/{order_id}", response_class=HTMLResponse)
async def close_review(
    request: Request,
    order_id: str,
    viewer: ReviewerDep,
    fraud: FraudRepositoryDep,
    settings: SettingsStoreDep,
    effects: EffectOutboxDep,
    runtime: RuntimeDep,
    locale: str | None = None,
) -> HTMLResponse:
    """Approve (confirm in Saleor) or reject (optionally cancel, optionally block its email, card or IP)."""
    form = await request.form()
    url = viewer.installation.saleor_api_url
    decision = form.get("decision")
    if decision not in ("approve", "reject"):
        return await _reviews_fragment(
            request, viewer, fraud, settings, locale, message="Choose approve or reject.", status_code=422
        )
    # The form's reason says why an order is rejected; an approval is always closed as approved.
    outcome = ReviewOutcome.APPROVED if decision == "approve" else _rejection_reason(form.get("reason"))
    if outcome is None:
        message = "Choose why it is rejected: " + ", ".join(r.value.replace("_", " ") for r in REJECTION_REASONS) + "."
        return await _reviews_fragment(request, viewer, fraud, settings, locale, message=message, status_code=422)
    identifiers = await fraud.identifiers(url, order_id)
    blocked = tuple(
        parse_list_entry(kind.value, identifiers[name], allow=False, note=f"order {order_id} rejected")
        for name, kind in BLOCKABLE.items()
        if decision == "reject" and form.get(f"block_{name}") and name in identifiers
    )
    result = await decide_review(
        url,
        order_id,
        approve=decision == "approve",
        reason=outcome,
        cancel=decision == "reject" and bool(form.get("cancel")),
        note=str(form.get("note") or ""),
        by=viewer.user.email,
        fraud=fraud,
        # A review closes once, so the order names this decision's effects.
        saleor=runtime.deciding(viewer.installation, effects, f"review:{order_id}"),
        now=runtime.clock.now(),
        block=blocked,
    )
    if not isinstance(result, ReviewClosed):
        return await _reviews_fragment(
            request, viewer, fraud, settings, locale, message="This review was already closed.", status_code=422
        )
    verdict = "approved" if decision == "approve" else "rejected"
    response = await _reviews_fragment(request, viewer, fraud, settings, locale, message=f"Order {verdict}.")
    response.headers["x-ops-order-changed"] = order_id
    return response


@router.post("/api/dashboard/lists", response_class=HTMLResponse)
async def add_list_entry(
    request: Request,
    viewer: ReviewerDep,
    fraud: FraudRepositoryDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    locale: str | None = None,
) -> HTMLResponse:
    form = await request.form()
    try:
        entry = parse_list_entry(
            str(form.get("kind") or ""),
            str(form.get("value") or ""),
            allow=form.get("list") == "allow",
            note=str(form.get("note") or ""),
        )
    except ListEntryInvalid as exc:
        return await _reviews_fragment(request, viewer, fraud, settings, locale, list_error=str(exc), status_code=422)
    await fraud.add_list_entry(viewer.installation.saleor_api_url, entry, by=viewer.user.email, at=runtime.clock.now())
    listed = "allow" if entry.allow else "block"
    return await _reviews_fragment(
        request, viewer, fraud, settings, locale, message=f"{entry.value} is on the {listed} list."
    )


@router.post("/api/dashboard/lists/remove", response_class=HTMLResponse)
async def remove_list_entry(
    request: Request,
    viewer: ReviewerDep,
    fraud: FraudRepositoryDep,
    settings: SettingsStoreDep,
    locale: str | None = None,
) -> HTMLResponse:
    form = await request.form()
    try:
        kind = ListKind(str(form.get("kind") or ""))
    except ValueError:
        return await _reviews_fragment(
            request, viewer, fraud, settings, locale, list_error="Unknown list kind.", status_code=422
        )
    value = str(form.get("value") or "")
    removed = await fraud.remove_list_entry(viewer.installation.saleor_api_url, kind, value)
    message = f"{value} removed." if removed else f"{value} was not listed."
    return await _reviews_fragment(request, viewer, fraud, settings, locale, message=message)
