"""Effects: what a decision must make happen in Saleor, kept with the decision and delivered later.

A service that decides something calls a ``SaleorWriter``. Inside the pipeline (and on every
request that decides), that writer is an ``Outbox``: each call becomes one stored effect, in the
same transaction as the decision, so the two commit or roll back together. The dispatcher then
``deliver``s each effect over the network, outside any transaction, retrying until Saleor has it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from app.domain.ids import SaleorApiUrl, SaleorId
from app.errors import SaleorMutationError
from app.services.ports import ChannelRef, SaleorGateway, StockLevel, WarehouseRef


class EffectKind:
    """One name per Saleor write; the payload holds what its call takes."""

    FRAUD_DECISION = "fraud_decision"  # ops.fraud, the note and (maybe) the order's release
    COGS = "cogs"  # ops.cogs on the order and its lines, and the note
    SHIPPING = "shipping"  # ops.shipping and the note
    ROUTING = "routing"  # ops.routing and the note
    FULFIL = "fulfil"  # a partner's confirmed shipment as a Saleor fulfilment
    HAND_OFF = "hand_off"  # a shipment posted to its partner, not to Saleor (``app.services.routing.hand_offs``)
    PURCHASE_ORDER = "purchase_order"  # a shipment e-mailed to its partner (app.services.routing.purchase_orders)
    CANCEL_HAND_OFF = "cancel_hand_off"  # a hand-off's cancel posted to its partner, in the same lane
    CANCEL_PURCHASE_ORDER = "cancel_purchase_order"  # a purchase order's cancel e-mailed, in the same lane
    CONFIRM = "confirm"
    CANCEL = "cancel"
    NOTE = "note"
    SUPPORT_REPLY = "support_reply"  # an agent's reply e-mailed to the requester (app.services.support.mail)
    SUPPORT_NOTICE = "support_notice"  # an assignee e-mailed about their ticket (app.services.support.mail)


@dataclass(frozen=True, slots=True)
class NewEffect:
    order_id: SaleorId
    kind: str
    payload: Mapping[str, Any]
    lane: str = ""  # effects of an order are delivered in order within a lane (``EffectRow.lane``)


@dataclass(frozen=True, slots=True)
class Effect:
    """A stored effect as a dispatcher claimed it; ``attempts`` counts this one."""

    id: int
    saleor_api_url: SaleorApiUrl
    order_id: SaleorId
    kind: str
    payload: Mapping[str, Any]
    attempts: int
    retry_window_start: datetime  # attempts stop a day after it

    @property
    def may_have_arrived(self) -> bool:
        """An earlier attempt may have reached Saleor before its dispatcher died or timed out."""
        return self.attempts > 1

    @property
    def note(self) -> str | None:
        note = self.payload.get("note", self.payload.get("message"))
        return note if isinstance(note, str) else None


def partner_lane(partner_id: str) -> str:
    """The lane of a partner's effects: one that is down holds back neither Saleor's writes nor other partners."""
    return f"partner:{partner_id}"


class EffectOutbox(Protocol):
    async def add(self, url: SaleorApiUrl, key: str, effect: NewEffect, at: datetime) -> bool:
        """Store the effect, due at ``at``, unless one with this key is stored already (now, or with the rest
        of its batch in the same transaction); True when stored or kept to be."""


class Outbox:
    """A ``SaleorWriter`` that keeps each write as an effect named after its cause.

    ``cause`` names the decision (``delivery:42``, ``review:…``): its n-th write is effect
    ``cause#n``, so the same decision, run again after a rollback, names the same effects.
    """

    def __init__(self, outbox: EffectOutbox, url: SaleorApiUrl, cause: str, now: datetime) -> None:
        self._outbox = outbox
        self._url = url
        self._cause = cause
        self._now = now
        self._count = 0

    async def _add(self, order_id: SaleorId, kind: str, payload: Mapping[str, Any], *, lane: str = "") -> None:
        self._count += 1
        key = f"{self._cause}#{self._count}"
        await self._outbox.add(self._url, key, NewEffect(order_id, kind, payload, lane), self._now)

    async def add_order_note(self, order_id: SaleorId, message: str) -> None:
        await self._add(order_id, EffectKind.NOTE, {"message": message})

    async def confirm_order(self, order_id: SaleorId) -> None:
        await self._add(order_id, EffectKind.CONFIRM, {})

    async def cancel_order(self, order_id: SaleorId) -> None:
        await self._add(order_id, EffectKind.CANCEL, {})

    async def record_fraud_decision(
        self, order_id: SaleorId, metadata: dict[str, str], note: str, *, confirm: bool
    ) -> None:
        await self._add(order_id, EffectKind.FRAUD_DECISION, {"metadata": metadata, "note": note, "confirm": confirm})

    async def record_cogs(
        self,
        order_id: SaleorId,
        metadata: dict[str, str],
        line_metadata: Mapping[SaleorId, dict[str, str]],
        note: str,
    ) -> None:
        await self._add(
            order_id,
            EffectKind.COGS,
            {"metadata": metadata, "lineMetadata": {str(k): v for k, v in line_metadata.items()}, "note": note},
        )

    async def record_shipping(self, order_id: SaleorId, metadata: dict[str, str], note: str) -> None:
        await self._add(order_id, EffectKind.SHIPPING, {"metadata": metadata, "note": note})

    async def record_routing(self, order_id: SaleorId, metadata: dict[str, str], note: str) -> None:
        await self._add(order_id, EffectKind.ROUTING, {"metadata": metadata, "note": note})

    async def fulfill_order(
        self,
        order_id: SaleorId,
        warehouse_id: SaleorId,
        lines: Mapping[str, int],
        tracking_number: str,
        *,
        allow_stock_to_be_exceeded: bool,
    ) -> None:
        await self._add(
            order_id,
            EffectKind.FULFIL,
            {
                "warehouse": warehouse_id,
                "lines": dict(lines),
                "trackingNumber": tracking_number,
                "allowStockToBeExceeded": allow_stock_to_be_exceeded,
            },
        )

    async def send_hand_off(self, order_id: SaleorId, partner_id: str, endpoint: str, body: Mapping[str, Any]) -> None:
        await self._add(
            order_id,
            EffectKind.HAND_OFF,
            {"partner": partner_id, "endpoint": endpoint, "body": body},
            lane=partner_lane(partner_id),
        )

    async def cancel_hand_off(
        self, order_id: SaleorId, partner_id: str, endpoint: str, body: Mapping[str, Any]
    ) -> None:
        # The hand-off's lane: the partner never hears of a cancel before the hand-off it cancels.
        await self._add(
            order_id,
            EffectKind.CANCEL_HAND_OFF,
            {"partner": partner_id, "endpoint": endpoint, "body": body},
            lane=partner_lane(partner_id),
        )

    async def send_purchase_order(
        self, order_id: SaleorId, partner_id: str, to: str, purchase_order: Mapping[str, Any]
    ) -> None:
        await self._add(
            order_id,
            EffectKind.PURCHASE_ORDER,
            {"partner": partner_id, "to": to, "purchaseOrder": purchase_order},
            lane=partner_lane(partner_id),
        )

    async def cancel_purchase_order(
        self, order_id: SaleorId, partner_id: str, to: str, cancel: Mapping[str, Any]
    ) -> None:
        # The purchase order's lane: the partner never reads of a cancel before the order it cancels.
        await self._add(
            order_id,
            EffectKind.CANCEL_PURCHASE_ORDER,
            {"partner": partner_id, "to": to, "cancel": cancel},
            lane=partner_lane(partner_id),
        )


class OutboxGateway(Outbox):
    """A ``SaleorGateway`` for a decision that also reads: reads go to Saleor now, writes to the outbox."""

    def __init__(
        self, saleor: SaleorGateway, outbox: EffectOutbox, url: SaleorApiUrl, cause: str, now: datetime
    ) -> None:
        super().__init__(outbox, url, cause, now)
        self._saleor = saleor

    async def order_notes(self, order_id: SaleorId) -> set[str]:
        return await self._saleor.order_notes(order_id)

    async def update_private_metadata(self, object_id: SaleorId, items: dict[str, str]) -> None:
        await self._saleor.update_private_metadata(object_id, items)

    async def tracking_numbers(self, order_id: SaleorId) -> set[tuple[str, str]]:
        return await self._saleor.tracking_numbers(order_id)

    async def warehouses(self) -> list[WarehouseRef]:
        return await self._saleor.warehouses()

    async def channels(self) -> list[ChannelRef]:
        return await self._saleor.channels()

    def stock_levels(self) -> AsyncIterator[StockLevel]:
        return self._saleor.stock_levels()


def encode(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


async def deliver(effect: Effect, saleor: SaleorGateway) -> str:
    """Make the effect happen in Saleor; what was done, for the log and the dashboard.

    Metadata and a release can be sent twice to the same end; a note cannot. So when an earlier
    attempt may have reached Saleor (its dispatcher died mid-call, or Saleor refused one part of the
    request and took the rest), the order's notes are read first: if the note is there, everything
    else is sent again without it. A note is never added twice, and no metadata is lost.
    """
    order_id, payload = effect.order_id, effect.payload
    noted = effect.may_have_arrived and effect.note is not None and effect.note in await saleor.order_notes(order_id)
    if effect.kind == EffectKind.FRAUD_DECISION:
        if noted:
            await saleor.update_private_metadata(order_id, dict(payload["metadata"]))
            return "metadata written again, note already there" + (
                f"; {await _confirm(saleor, order_id)}" if payload["confirm"] else ""
            )
        try:
            await saleor.record_fraud_decision(
                order_id, dict(payload["metadata"]), payload["note"], confirm=bool(payload["confirm"])
            )
        except SaleorMutationError as exc:
            # Only the release can say INVALID: someone confirmed the order since it was assessed.
            if not (payload["confirm"] and _invalid(exc)):
                raise
            return "written; was not held"
        return "written"
    if effect.kind == EffectKind.SHIPPING:
        if noted:
            await saleor.update_private_metadata(order_id, dict(payload["metadata"]))
            return "metadata written again, note already there"
        await saleor.record_shipping(order_id, dict(payload["metadata"]), payload["note"])
        return "written"
    if effect.kind == EffectKind.ROUTING:
        if noted:
            await saleor.update_private_metadata(order_id, dict(payload["metadata"]))
            return "metadata written again, note already there"
        await saleor.record_routing(order_id, dict(payload["metadata"]), payload["note"])
        return "written"
    if effect.kind == EffectKind.FULFIL:
        warehouse, tracking = SaleorId(payload["warehouse"]), str(payload["trackingNumber"])
        # A fulfilment cannot be made twice: an attempt that may have arrived is looked for first.
        if effect.may_have_arrived and (warehouse, tracking) in await saleor.tracking_numbers(order_id):
            return "was fulfilled already"
        await saleor.fulfill_order(
            order_id,
            warehouse,
            {str(line): int(quantity) for line, quantity in payload["lines"].items()},
            tracking,
            allow_stock_to_be_exceeded=bool(payload["allowStockToBeExceeded"]),
        )
        return "fulfilled"
    if effect.kind == EffectKind.COGS:
        if noted:
            await saleor.update_private_metadata(order_id, dict(payload["metadata"]))
            for line, items in payload["lineMetadata"].items():
                await saleor.update_private_metadata(SaleorId(line), dict(items))
            return "metadata written again, note already there"
        lines = {SaleorId(line): dict(items) for line, items in payload["lineMetadata"].items()}
        await saleor.record_cogs(order_id, dict(payload["metadata"]), lines, payload["note"])
        return "written"
    if effect.kind == EffectKind.NOTE:
        if noted:
            return "already written"
        await saleor.add_order_note(order_id, payload["message"])
        return "written"
    if effect.kind == EffectKind.CONFIRM:
        return await _confirm(saleor, order_id)
    if effect.kind == EffectKind.CANCEL:
        try:
            await saleor.cancel_order(order_id)
        except SaleorMutationError as exc:
            # The attempt that died after Saleor cancelled it leaves an order that can't be cancelled again.
            if not (effect.may_have_arrived and {e.code for e in exc.errors} == {"CANNOT_CANCEL_ORDER"}):
                raise
            return "was cancelled already"
        return "cancelled"
    raise ValueError(f"no delivery for effects of kind {effect.kind!r}")


async def _confirm(saleor: SaleorGateway, order_id: SaleorId) -> str:
    try:
        await saleor.confirm_order(order_id)
    except SaleorMutationError as exc:
        # Saleor says INVALID when the order is not UNCONFIRMED: confirmed already, or never held.
        if not _invalid(exc):
            raise
        return "was not held"
    return "confirmed"


def _invalid(exc: SaleorMutationError) -> bool:
    return {e.code for e in exc.errors} == {"INVALID"}
