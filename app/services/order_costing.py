"""COGS and margin of an order: its fulfilment lines booked as issues, returns and cancellations
reversed at the cost the goods left with, and ``ops.cogs`` written back to Saleor."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.inventory import (
    CogsDocument,
    CostingPolicy,
    Move,
    MoveKind,
    Posting,
    SaleLine,
    cogs_summary,
    returnable_layers,
)
from app.services.inventory import book
from app.services.ports import InventoryLedger, LedgerEntry, PoolKey, SaleorWriter

COGS_KEY = "ops.cogs"
_SALE_KINDS = (MoveKind.ISSUE, MoveKind.CUSTOMER_RETURN)

# Saleor's FulfillmentStatus values, by what they mean for the goods. A REFUNDED fulfilment
# moves none: its units were moved out of a FULFILLED one (already booked under that line's id)
# or out of unfulfilled order lines (never left); a refund is money, a return is goods.
SHIPPED_STATUS = "FULFILLED"
RETURNED_STATUSES = frozenset({"RETURNED", "REFUNDED_AND_RETURNED", "REPLACED"})
CANCELED_STATUS = "CANCELED"


@dataclass(frozen=True, slots=True)
class CostedLine:
    """An order line as costing needs it."""

    id: str
    sku: str | None
    variant_id: str | None
    product_type: str | None
    quantity: int
    # Net (tax-excluded) unit price after discounts: revenue per unit.
    unit_price_net: Decimal
    # Saleor's cost price of the variant in the order's channel: the last known cost for a
    # sale from an empty pool.
    cost_price: Decimal | None

    @property
    def item(self) -> str | None:
        """The ledger's key for the variant: its SKU, or its Saleor ID when it has none."""
        return self.sku or self.variant_id


@dataclass(frozen=True, slots=True)
class FulfilledUnits:
    """One fulfilment line: units of one order line in one fulfilment."""

    id: str
    order_line_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class FulfillmentView:
    id: str
    status: str  # Saleor's FulfillmentStatus
    created: datetime
    warehouse_id: str | None
    lines: tuple[FulfilledUnits, ...]


@dataclass(frozen=True, slots=True)
class OrderFulfillments:
    """What an order webhook says about where the order's goods went."""

    order_id: str
    number: str
    currency: str
    lines: tuple[CostedLine, ...]
    fulfillments: tuple[FulfillmentView, ...]


@dataclass(frozen=True, slots=True)
class CostedOrder:
    document: CogsDocument | None  # None when no line sold in the order's currency was costed
    booked: int
    uncosted: tuple[str, ...]  # why some lines carry no cost


async def cost_order(
    url: SaleorApiUrl,
    order: OrderFulfillments,
    *,
    seen_at: datetime,
    ledger: InventoryLedger,
    policy: CostingPolicy,
    saleor: SaleorWriter,
    now: datetime,
) -> CostedOrder | None:
    """Book what left and came back since the last delivery; when anything did, write the
    order's COGS and margin back to Saleor. ``None`` when there was nothing new to book, so a
    redelivered webhook (or the ORDER_UPDATED our own note causes) writes nothing.

    Issues are booked first, then cancellations and returns, which come back at the cost the
    goods left with and so need the issues' postings. ``seen_at`` (the event's ``issuedAt``)
    dates cancellations, which Saleor does not date.
    """
    lines = {line.id: line for line in order.lines}
    issues, uncosted = await _issues(url, order, lines, ledger)
    bookings = [await book(url, issues, ledger=ledger, policy=policy, now=now)]
    postings = await ledger.order_postings(url, order.order_id)
    comebacks = _comebacks(order, lines, postings, seen_at)
    if comebacks:
        bookings.append(await book(url, comebacks, ledger=ledger, policy=policy, now=now))
        postings = await ledger.order_postings(url, order.order_id)
    booked = sum(len(booking.postings) for booking in bookings)
    if not booked:
        return None
    document, other_currency = _document(order.currency, lines, postings)
    uncosted += other_currency
    if document is not None:
        await _write(order.order_id, document, saleor, _note(document, uncosted))
    # Returned units may cover what other orders sold beyond stock.
    recosted = frozenset().union(*(booking.recosted_issues for booking in bookings))
    await recost_orders(url, recosted, ledger=ledger, saleor=saleor, besides=order.order_id)
    return CostedOrder(document, booked, tuple(uncosted))


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


async def _issues(
    url: SaleorApiUrl, order: OrderFulfillments, lines: dict[str, CostedLine], ledger: InventoryLedger
) -> tuple[list[LedgerEntry], list[str]]:
    """One issue per line of every fulfilment whose goods left (cancelled ones did leave first)."""
    shipped: list[tuple[FulfillmentView, FulfilledUnits, CostedLine, PoolKey]] = []
    uncosted: list[str] = []
    for fulfillment in order.fulfillments:
        if fulfillment.status not in (SHIPPED_STATUS, CANCELED_STATUS):
            continue
        for units in fulfillment.lines:
            line = lines.get(units.order_line_id)
            if line is None or line.item is None:
                uncosted.append(f"line {units.order_line_id}: its variant no longer exists")
            elif fulfillment.warehouse_id is None:
                uncosted.append(f"{line.item}: fulfilment {fulfillment.id} names no warehouse")
            else:
                shipped.append((fulfillment, units, line, (line.item, fulfillment.warehouse_id)))
    keys = {key for *_, key in shipped}
    # A pool keeps the currency its costs are in; a sale in another currency still takes its units.
    currencies = {key: stored.pool.currency for key, stored in (await ledger.pools(url, keys)).items()}
    entries = []
    for fulfillment, units, line, key in shipped:
        move = Move(
            id=f"issue:{units.id}",
            kind=MoveKind.ISSUE,
            sku=key[0],
            warehouse=key[1],
            at=fulfillment.created,
            quantity=units.quantity,
            currency=currencies.get(key, order.currency),
            reference=line.id,
        )
        entries.append(_entry(move, order, line))
    return entries, uncosted


def _entry(move: Move, order: OrderFulfillments, line: CostedLine) -> LedgerEntry:
    return LedgerEntry(
        move,
        source="saleor",
        recorded_by="saleor",
        order_id=order.order_id,
        product_type=line.product_type,
        seed_unit_cost=line.cost_price,
        # Revenue only where sale and cost share a currency: no exchange rates are guessed.
        unit_price=line.unit_price_net if move.currency == order.currency else None,
    )


def _comebacks(
    order: OrderFulfillments, lines: dict[str, CostedLine], postings: list[Posting], seen_at: datetime
) -> list[LedgerEntry]:
    """Cancelled fulfilments and returns as customer returns of the issues they undo.

    A cancelled fulfilment undoes its own lines' issues, for the units its lines still hold
    (a refund may have moved some out before: those stay with the customer). Returned units
    (Saleor moves them into a RETURNED fulfilment) are spread over the order line's issues
    that still have units out, oldest first. A returned fulfilment without a warehouse brought
    back nothing: Saleor reads its warehouse off its lines' stock, and only units that never
    shipped (returned or refunded from unfulfilled order lines) have none.
    """
    issues = [posting for posting in postings if posting.move.kind is MoveKind.ISSUE]
    returned: dict[str, int] = {}
    for posting in postings:
        if posting.move.kind is MoveKind.CUSTOMER_RETURN and posting.move.related_move_id:
            returned[posting.move.related_move_id] = (
                returned.get(posting.move.related_move_id, 0) + posting.move.quantity
            )

    def back(issue: Posting, move_id: str, quantity: int, at: datetime) -> LedgerEntry:
        later = [posting for posting in postings if posting.move.seq > issue.move.seq]
        returned[issue.move.id] = returned.get(issue.move.id, 0) + quantity
        move = dataclasses.replace(
            issue.move,
            id=move_id,
            kind=MoveKind.CUSTOMER_RETURN,
            at=max(at, issue.move.at),
            quantity=quantity,
            cost_of=returnable_layers(issue, later),
            related_move_id=issue.move.id,
            seq=0,
        )
        return _entry(move, order, lines[issue.move.reference])

    entries: list[LedgerEntry] = []
    by_id = {posting.move.id: posting for posting in issues}
    for fulfillment in order.fulfillments:
        for units in fulfillment.lines:
            if fulfillment.status == CANCELED_STATUS:
                issue = by_id.get(f"issue:{units.id}")
                if issue is not None:
                    quantity = min(units.quantity, issue.move.quantity - returned.get(issue.move.id, 0))
                    if quantity > 0:
                        entries.append(back(issue, f"cancel:{units.id}", quantity, seen_at))
            elif fulfillment.status in RETURNED_STATUSES and fulfillment.warehouse_id is not None:
                remaining = units.quantity
                for issue in (posting for posting in issues if posting.move.reference == units.order_line_id):
                    quantity = min(remaining, issue.move.quantity - returned.get(issue.move.id, 0))
                    if quantity > 0:
                        entries.append(back(issue, f"return:{units.id}:{issue.move.id}", quantity, fulfillment.created))
                        remaining -= quantity
    return entries


def _document(
    currency: str, lines: Mapping[str, CostedLine], postings: list[Posting]
) -> tuple[CogsDocument | None, list[str]]:
    """``ops.cogs`` over the lines whose costs are in the order's currency; the others named."""
    sold = [p for p in postings if p.move.kind in _SALE_KINDS and p.move.reference in lines]
    other = sorted({p.move.reference for p in sold if p.move.currency != currency})
    notes = [f"{lines[line_id].item}: its cost is kept in another currency than {currency}" for line_id in other]
    units: dict[str, int] = {}
    for posting in sold:
        if posting.move.currency == currency:
            units[posting.move.reference] = units.get(posting.move.reference, 0) - posting.quantity
    if not units:
        return None, notes
    sales = [
        SaleLine(line_id, lines[line_id].item or line_id, lines[line_id].unit_price_net * quantity)
        for line_id, quantity in units.items()
    ]
    same = [posting for posting in postings if posting.move.currency == currency]
    return cogs_summary(sales, same, currency=currency), notes


async def recost_orders(
    url: SaleorApiUrl,
    issue_ids: Collection[str],
    *,
    ledger: InventoryLedger,
    saleor: SaleorWriter,
    besides: str | None = None,
) -> int:
    """Write ``ops.cogs`` again on the orders whose issues a later move recosted — a receipt
    covering units sold beyond stock, or a backdated move — so each order shows what the ledger
    now says its goods cost. The number of orders rewritten; ``besides`` is one not to touch."""
    rewritten = 0
    for order_id in sorted(await ledger.orders_of(url, issue_ids) - {besides}):
        document = await ledger_document(url, order_id, ledger=ledger)
        if document is not None:
            await _write(order_id, document, saleor, _note(document, (), recosted=True))
            rewritten += 1
    return rewritten


async def ledger_document(url: SaleorApiUrl, order_id: str, *, ledger: InventoryLedger) -> CogsDocument | None:
    """The order's ``ops.cogs`` from the ledger alone (its issues carry each line's net price);
    ``None`` when none of its lines was costed in the currency it was sold in."""
    sales = await ledger.sale_prices(url, order_id)
    if not sales:
        return None
    lines = {
        line_id: CostedLine(line_id, sku, None, None, 0, unit_price, None)
        for line_id, (sku, unit_price, _) in sales.items()
    }
    currency = next(iter(sales.values()))[2]
    document, _ = _document(currency, lines, await ledger.order_postings(url, order_id))
    return document


async def _write(order_id: str, document: CogsDocument, saleor: SaleorWriter, note: str) -> None:
    await saleor.record_cogs(
        SaleorId(order_id),
        {COGS_KEY: _compact(document)},
        {SaleorId(line["lineId"]): {COGS_KEY: _compact(line)} for line in document["lines"]},
        note,
    )


def _note(document: CogsDocument, uncosted: Sequence[str], *, recosted: bool = False) -> str:
    currency = document["currency"]
    margin = f"{document['grossMargin']} {currency}"
    if document["marginPct"] is not None:
        margin += f" ({document['marginPct']}%)"
    text = (
        f"Saleor Ops: cost of goods {document['cogs']} {currency} ({document['method'].upper()}) "
        f"on sales of {document['revenue']} {currency}; gross margin {margin}."
    )
    if recosted:
        text += " Updated: goods sold before their purchase was recorded are now at the purchase's cost."
    if uncosted:
        text += " Not costed: " + "; ".join(uncosted) + "."
    return text
