"""The partner callbacks: a 3PL or supplier accepts or rejects a hand-off, and confirms the shipments
it sends (``app.services.routing.callbacks``).

Each request is signed with the partner's secret: ``X-Ops-Timestamp`` (Unix seconds, within 5 minutes
of now) and ``X-Ops-Signature``, the hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` over the raw body.
A request that is refused changes nothing and says why in ``detail``: 401 a bad or stale signature,
404 an unknown hand-off, 409 a replay or a conflict with what the hand-off is, 422 a body that does
not hold. Repeating what was done already answers 200 and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.dependencies import (
    EffectOutboxDep,
    RoutingPlansDep,
    RoutingSourcesDep,
    RuntimeDep,
    SettingsStoreDep,
    TicketStoreDep,
)
from app.domain.ids import SaleorApiUrl
from app.services.pipeline import Outbox
from app.services.routing import callbacks
from app.services.routing.lifecycle import settle_partner_tickets
from app.services.routing.plans import HandOff, PartnerShipment

M = TypeVar("M", bound=BaseModel)
router = APIRouter(prefix="/api/routing/hand-offs", tags=["partner callbacks"])
MAX_BODY_BYTES = 64 * 1024

TimestampHeader = Annotated[str, Header(alias="X-Ops-Timestamp", description="Unix seconds, within 5 minutes of now")]
SignatureHeader = Annotated[
    str, Header(alias="X-Ops-Signature", description='Hex HMAC-SHA256 of f"{timestamp}.{body}" with your secret')
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Rejection(_Body):
    reason: str = Field(default="", max_length=1000, description="Why the partner cannot ship it")


class ShippedLine(_Body):
    line_id: str = Field(alias="lineId", min_length=1)
    quantity: int = Field(ge=1)


class ShipmentConfirmation(_Body):
    shipment_id: str = Field(alias="shipmentId", min_length=1, max_length=128, description="The partner's own id")
    carrier: str = Field(min_length=1, max_length=128)
    tracking_number: str = Field(alias="trackingNumber", min_length=1, max_length=256)
    lines: list[ShippedLine] = Field(min_length=1, description="The order lines and units this shipment sent")


class HandOffState(BaseModel):
    hand_off_id: str = Field(serialization_alias="handOffId")
    order_id: str = Field(serialization_alias="orderId")
    status: str
    shipped: dict[str, int] = Field(description="Units shipped so far per order line")

    @classmethod
    def of(cls, hand_off: HandOff) -> HandOffState:
        return cls(
            hand_off_id=hand_off.id,
            order_id=hand_off.order_id,
            status=hand_off.status.value,
            shipped=dict(hand_off.shipped),
        )


async def _raw(request: Request) -> str:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, "the body is larger than 64 KiB")
    try:
        return body.decode()
    except UnicodeDecodeError as exc:
        raise HTTPException(400, "the body is not UTF-8") from exc


def _parsed(model: type[M], body: str) -> M:
    try:
        return model.model_validate_json(body or "{}")
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise HTTPException(422, problems) from exc


@contextmanager
def _refusals() -> Iterator[None]:
    """A refused callback answers with its status and reason; raised, it rolls the request's changes back."""
    try:
        yield
    except callbacks.CallbackRefused as refused:
        raise HTTPException(refused.status, refused.reason) from refused


async def _verified(
    hand_off_id: str,
    request: Request,
    timestamp: str,
    signature: str,
    plans: RoutingPlansDep,
    sources: RoutingSourcesDep,
    now: datetime,
) -> tuple[SaleorApiUrl, HandOff, str]:
    body = await _raw(request)
    with _refusals():
        url, hand_off = await callbacks.verified_hand_off(
            hand_off_id, timestamp=timestamp, signature=signature, body=body, plans=plans, sources=sources, now=now
        )
    return url, hand_off, body


def _outbox(effects: EffectOutboxDep, url: SaleorApiUrl, signature: str, now: datetime) -> Outbox:
    # Named after the signed request: the same request is a replay, refused before it writes anything.
    return Outbox(effects, url, f"partner-callback:{signature.strip().lower()}", now)


_REFUSALS: dict[int | str, dict[str, object]] = {
    401: {"description": "Bad or stale signature, or a partner no longer set up"},
    404: {"description": "No such hand-off"},
    409: {"description": "A replay, or a conflict with the hand-off's state: rejected, cancelled or expired"},
    422: {"description": "A body that does not hold: an unknown line, more units than handed off"},
}


@router.post("/{hand_off_id}/accept", responses=_REFUSALS)
async def accept_hand_off(
    hand_off_id: str,
    request: Request,
    timestamp: TimestampHeader,
    signature: SignatureHeader,
    plans: RoutingPlansDep,
    sources: RoutingSourcesDep,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
) -> HandOffState:
    """The partner will ship the hand-off. An empty body (or ``{}``) is signed like any other. A
    cancelled or expired hand-off can no longer be accepted (409, saying so)."""
    now = runtime.clock.now()
    url, hand_off, body = await _verified(hand_off_id, request, timestamp, signature, plans, sources, now)
    _parsed(_Body, body)
    with _refusals():
        accepted = await callbacks.accept(url, hand_off, plans=plans, now=now)
    await settle_partner_tickets(url, hand_off.order_id, plans=plans, desk=tickets, settings=settings, now=now)
    return HandOffState.of(accepted)


def _body(model: type[BaseModel]) -> dict[str, Any]:
    """The body a route reads itself (raw, for its signature), as the OpenAPI document shows it."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.post("/{hand_off_id}/reject", responses=_REFUSALS, openapi_extra=_body(Rejection))
async def reject_hand_off(
    hand_off_id: str,
    request: Request,
    timestamp: TimestampHeader,
    signature: SignatureHeader,
    plans: RoutingPlansDep,
    sources: RoutingSourcesDep,
    effects: EffectOutboxDep,
    runtime: RuntimeDep,
) -> HandOffState:
    """The partner will not ship it (body: ``Rejection``): noted on the order, and its units are
    re-planned without the partner. A cancelled or expired hand-off answers 409."""
    now = runtime.clock.now()
    url, hand_off, body = await _verified(hand_off_id, request, timestamp, signature, plans, sources, now)
    rejection = _parsed(Rejection, body)
    with _refusals():
        rejected = await callbacks.reject(
            url,
            hand_off,
            rejection.reason,
            plans=plans,
            sources=sources,
            saleor=_outbox(effects, url, signature, now),
            now=now,
        )
    runtime.wake_workers()
    return HandOffState.of(rejected)


@router.post("/{hand_off_id}/shipments", responses=_REFUSALS, openapi_extra=_body(ShipmentConfirmation))
async def confirm_shipment(
    hand_off_id: str,
    request: Request,
    timestamp: TimestampHeader,
    signature: SignatureHeader,
    plans: RoutingPlansDep,
    sources: RoutingSourcesDep,
    effects: EffectOutboxDep,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
) -> HandOffState:
    """The partner sent these units (body: ``ShipmentConfirmation``; partial shipments allowed): they
    become a Saleor fulfilment from its warehouse with the tracking number. A shipment confirmed after
    the hand-off was cancelled is refused (409, saying so)."""
    now = runtime.clock.now()
    url, hand_off, body = await _verified(hand_off_id, request, timestamp, signature, plans, sources, now)
    confirmation = _parsed(ShipmentConfirmation, body)
    lines: dict[str, int] = {}
    for line in confirmation.lines:
        lines[line.line_id] = lines.get(line.line_id, 0) + line.quantity
    shipment = PartnerShipment(
        hand_off.id, confirmation.shipment_id, confirmation.carrier, confirmation.tracking_number, lines, now
    )
    with _refusals():
        updated = await callbacks.confirm_shipment(
            url,
            hand_off,
            shipment,
            plans=plans,
            sources=sources,
            saleor=_outbox(effects, url, signature, now),
            now=now,
        )
    await settle_partner_tickets(url, hand_off.order_id, plans=plans, desk=tickets, settings=settings, now=now)
    runtime.wake_workers()
    return HandOffState.of(updated)


# Read raw for their signatures, so FastAPI does not see them: the API's document adds them by name.
BODY_MODELS: tuple[type[BaseModel], ...] = (Rejection, ShipmentConfirmation)
