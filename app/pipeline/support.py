"""Support: the store opens a ticket before the customer writes (``app.services.support.desk``).

- An order fraud holds for a person's review gets one ticket (the review opens in fraud's subscriber,
  which runs first, in the same transaction). Once the review is closed (approved or rejected, from
  the dashboard or by a cancel in Saleor), the next event of the order (Saleor sends one for the note
  the review writes) clears the ticket's cause: it closes unless people are talking in it.
- A fulfilment whose re-check (shipping's subscriber, which runs first) found that nothing arrives by
  the promised date any more gets one ticket.
- An order whose fulfilments took more units than the inventory ledger held gets one ticket, opened after
  costing booked them (inventory's subscriber runs first), naming the SKUs and units short. Its cause
  clears once incoming moves cover every one of those units: on the order's next event, or at the
  housekeeping round after the receipt is booked (receipts arrive by CSV, the API or the opening
  balance, outside the pipeline; the ledger's pools say what is still short whichever way they came).
- A promise at risk clears when a later fulfilment's re-check finds every shipment of the order keeping
  its promised date again (the goods went with a service that arrives in time).
- An order whose write to Saleor failed for good (the dispatcher gave up on an effect: Saleor refused
  it, or its retries ran out) gets one ticket, opened in the transaction that records the failure.

The requester is the order's customer; an order without an e-mail address gets no ticket.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.shipping_decisions import SqlShippingDecisions
from app.db.repositories.support import SqlTicketStore
from app.domain.fraud import Sentiment
from app.domain.ids import SaleorId
from app.domain.support.model import StoreReason
from app.domain.support.ticket import Requester
from app.pipeline import inventory
from app.pipeline.fraud import FraudReadPerBatch
from app.pipeline.processing import Processing, SettingsReadOncePerBatch, Subscription
from app.services.pipeline import Effect
from app.services.ports import StoredAssessment
from app.services.support.desk import StoreCause, clear_store_cause, open_for_store
from app.services.support.shortfalls import COVERED, order_shortfalls, shortfall_details
from app.webhooks.payloads import OrderPayload

log = logging.getLogger(__name__)

IN_REVIEW = "open"


def _requester(order: OrderPayload) -> Requester | None:
    email = order.user_email or (order.user.email if order.user is not None else None)
    try:
        return None if email is None else Requester(email, None if order.user is None else SaleorId(order.user.id))
    except ValueError:  # Saleor keeps whatever the checkout was given
        return None


async def open_ticket(processing: Processing, reason: StoreReason, details: str) -> None:
    url, order = processing.delivery.saleor_api_url, processing.payload.order
    requester = _requester(order)
    if requester is None:
        log.info(
            "no support ticket: the order has no customer e-mail",
            extra={"saleor_api_url": url, "order_id": order.id, "reason": reason.value},
        )
        return
    cause = StoreCause(
        order_id=SaleorId(order.id),
        order_number=order.number,
        reason=reason,
        requester=requester,
        details=details,
        order_value=order.total.gross.to_money(),
    )
    settings = SettingsReadOncePerBatch(processing.session, processing.reads)
    opened = await open_for_store(SqlTicketStore(processing.session), settings, url, cause, processing.now)
    if opened is not None:
        log.info(
            "support ticket opened by the store",
            extra={"saleor_api_url": url, "order_id": order.id, "ticket": opened.id, "reason": reason.value},
        )


def _why_held(opened_by: str, assessments: list[StoredAssessment]) -> str:
    """Who held the order, and what counted against it in its latest assessment."""
    held = f"Held for review by {opened_by}."
    if not assessments:
        return held
    latest = assessments[-1]
    against = "; ".join(reason.detail for reason in latest.reasons if reason.sentiment is Sentiment.NEGATIVE)
    return f"{held} Score {latest.score} ({latest.decision}): {against or 'nothing stood out'}."


async def follow_review(processing: Processing) -> None:
    url, order = processing.delivery.saleor_api_url, processing.payload.order
    fraud = FraudReadPerBatch(processing)
    review = await fraud.review(url, order.id)
    if review is None or review.status not in (IN_REVIEW, "closed"):
        return
    if review.status == IN_REVIEW:
        assessments = await fraud.assessments(url, order.id)
        await open_ticket(processing, StoreReason.HELD_FOR_REVIEW, _why_held(review.opened_by, assessments))
        return
    outcome = f"The review was closed by {review.closed_by or 'Saleor'} ({review.closed_reason or 'closed'})."
    await _clear(processing, StoreReason.HELD_FOR_REVIEW, f"{outcome} {review.note}".strip())


async def follow_promise(processing: Processing) -> None:
    url, payload = processing.delivery.saleor_api_url, processing.payload
    if payload.fulfillment is None:
        return
    decision = await SqlShippingDecisions(processing.session).get(url, payload.order.id)
    if decision is None or payload.fulfillment.id not in decision.checked_fulfillments:
        return
    late = [
        shipment
        for shipment in decision.shipments
        if shipment.entry is not None and shipment.entry.get("meetsPromise") is False
    ]
    if late:
        lines = [line for shipment in late for line in shipment.explanation]
        details = "\n".join(["No service brings the goods by the promised date.", *lines])
        await open_ticket(processing, StoreReason.PROMISE_AT_RISK, details)
        return
    await _clear(
        processing,
        StoreReason.PROMISE_AT_RISK,
        f"Fulfilment {payload.fulfillment.id} was re-checked: every shipment now keeps its promised date.",
    )


async def _clear(processing: Processing, reason: StoreReason, explanation: str) -> None:
    url, order = processing.delivery.saleor_api_url, processing.payload.order
    settings = SettingsReadOncePerBatch(processing.session, processing.reads)
    desk = SqlTicketStore(processing.session)
    await clear_store_cause(desk, settings, url, SaleorId(order.id), reason, explanation, processing.now)


async def follow_stock(processing: Processing) -> None:
    if processing.by_this_app:  # costing books nothing for our own writes either
        return
    url, order = processing.delivery.saleor_api_url, processing.payload.order
    shortfalls = await order_shortfalls(url, order.id, ledger=SqlInventoryLedger(processing.session))
    if shortfalls:
        await open_ticket(processing, StoreReason.SOLD_BEYOND_STOCK, shortfall_details(shortfalls))
    else:
        await _clear(processing, StoreReason.SOLD_BEYOND_STOCK, COVERED)


async def effect_gave_up(session: AsyncSession, effect: Effect, error: str, now: datetime) -> None:
    """The dispatcher gave up on ``effect``: a ticket about its order, so that a person sees to it."""
    url = effect.saleor_api_url
    tickets = SqlTicketStore(session)
    customer = await tickets.order_customer(url, effect.order_id)
    try:
        requester = None if customer is None else Requester(customer[1])
    except ValueError:
        requester = None
    if customer is None or requester is None:
        log.info(
            "no support ticket: the order's customer e-mail is not known",
            extra={"saleor_api_url": url, "order_id": effect.order_id, "reason": StoreReason.EFFECT_FAILED.value},
        )
        return
    what = effect.kind.replace("_", " ")
    details = (
        f"Saleor Ops could not write the {what} to Saleor after {effect.attempts} attempt(s): {error}. "
        "Order processing lists it as failed; retry it there once the cause is fixed."
    )
    cause = StoreCause(effect.order_id, customer[0], StoreReason.EFFECT_FAILED, requester, details)
    await open_for_store(tickets, SqlSettingsStore(session), url, cause, now)


on_order = Subscription(
    "support", frozenset({"order_created", "order_paid", "order_fully_paid", "order_updated"}), follow_review
)
on_fulfilment = Subscription("support", frozenset({"fulfillment_created"}), follow_promise)
on_costing = Subscription("support", inventory.subscription.events, follow_stock)
