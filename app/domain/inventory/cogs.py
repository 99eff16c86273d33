"""COGS and gross margin of an order, in the ``ops.cogs`` shape written into Saleor metadata."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypedDict

from app.domain.inventory.method import Method
from app.domain.inventory.move import LayerTake, MoveKind, sort_key
from app.domain.inventory.pool import UNIT_COST_STEP, ZERO, landed_cost_increment
from app.domain.inventory.posting import Correction, Posting
from app.domain.inventory.trace import LayerTrace
from app.domain.money import Money, currency_exponent

COGS_FORMAT_VERSION = 1
_PERCENT_STEP = Decimal("0.01")
_HUNDRED = Decimal(100)


class CogsLayer(TypedDict):
    receiptId: str | None
    quantity: int
    unitCost: str


class CogsLine(TypedDict):
    lineId: str
    sku: str
    quantity: int
    cogs: str
    layers: list[CogsLayer]


class CogsDocument(TypedDict):
    """The ``ops.cogs`` private-metadata value (DESIGN.md), before ``json.dumps``."""

    v: int
    method: str
    currency: str
    revenue: str
    cogs: str
    grossMargin: str
    marginPct: str | None
    lines: list[CogsLine]


@dataclass(frozen=True, slots=True)
class SaleLine:
    """An order line as sold: ``revenue`` is its net sales (after discounts and refunds).

    Issues and customer returns of the line carry ``line_id`` as their ``reference``.
    """

    line_id: str
    sku: str
    revenue: Decimal


def returnable_layers(issue: Posting, later: Iterable[Posting]) -> tuple[LayerTake, ...]:
    """What a customer return of ``issue`` should come back at (the return move's ``cost_of``):
    the issue's layers, with units it took beyond stock replaced by the receipts that later
    covered them, raised by the landed costs later booked on their receipts in the issue's pool
    (which sent that much more to COGS for them), less the units earlier returns of it already
    brought back. ``later`` are postings booked after the issue, in ledger order."""
    trace = LayerTrace()
    trace.add(issue.layers)
    issue_id = issue.move.id
    pool = (issue.move.sku, issue.move.warehouse)
    for posting in later:
        move = posting.move
        for correction in posting.corrections:
            if correction.move_id == issue_id:
                trace.correct(correction)
        if move.kind is MoveKind.CUSTOMER_RETURN and move.related_move_id == issue_id:
            trace.add(posting.layers, -1)
        elif (
            move.kind is MoveKind.LANDED_COST
            and move.receipt_id
            and (move.sku, move.warehouse) == pool
            # One dated before the issue (booked late) was already in the units' cost when they left.
            and sort_key(move) > sort_key(issue.move)
        ):
            trace.add_landed_cost(move.receipt_id, landed_cost_increment(move))
    return trace.layers()


def _money_text(amount: Decimal, currency: str) -> str:
    quantized = Money(amount, currency).quantized().amount
    return str(quantized if quantized else abs(quantized))  # never '-0.00'


def unit_cost_text(unit_cost: Decimal, currency: str) -> str:
    """Six places at most, the currency's places at least: ``10.00``, ``11.333333``."""
    cost = unit_cost.quantize(UNIT_COST_STEP, ROUND_HALF_UP).normalize()
    places = currency_exponent(currency)
    exponent = cost.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if -exponent < places:
        cost = cost.quantize(Decimal(1).scaleb(-places))
    return format(cost, "f")


def cogs_summary(
    lines: Sequence[SaleLine],
    postings: Iterable[Posting],
    *,
    currency: str,
    method: Method | None = None,
) -> CogsDocument:
    """The ``ops.cogs`` document for an order.

    ``postings`` are, in ledger order, the order's issue and customer-return postings (matched
    to lines by the move's ``reference``), any postings carrying negative-stock corrections of
    those issues (their cost replaces the provisional cost in the line's COGS and layer trace),
    and landed costs booked on the receipts of units a line has out (their share of those units
    is the line's COGS too, and a return brings it back). Line COGS are rounded half up to the
    currency; the order's COGS is their sum; ``marginPct`` has two places and is ``None`` when
    revenue is zero. ``method`` defaults to the method of the latest matched posting.
    """
    # Per line, its own postings and the landed costs, in ledger order.
    by_line: dict[str, list[Posting]] = {line.line_id: [] for line in lines}
    corrections: dict[str, list[Correction]] = {}
    chosen_method = method
    for posting in postings:
        move = posting.move
        if move.kind in (MoveKind.ISSUE, MoveKind.CUSTOMER_RETURN) and move.reference in by_line:
            if move.currency != currency:
                raise ValueError(f"posting of move {move.id} is in {move.currency}, not {currency}")
            by_line[move.reference].append(posting)
            if method is None:
                chosen_method = posting.method
        elif move.kind is MoveKind.LANDED_COST and move.currency == currency:
            for line_postings in by_line.values():
                line_postings.append(posting)
        for correction in posting.corrections:
            if correction.kind is MoveKind.ISSUE:
                corrections.setdefault(correction.move_id, []).append(correction)
    if chosen_method is None:
        raise ValueError("no issue or return of these lines: pass the method explicitly")

    document_lines: list[CogsLine] = []
    revenue_total = cogs_total = ZERO
    for line in lines:
        # One trace per pool: a landed cost raises only the units that came from its pool.
        traces: dict[tuple[str, str], LayerTrace] = {}
        quantity = 0
        cogs = ZERO
        for posting in by_line[line.line_id]:
            move = posting.move
            trace = traces.setdefault((move.sku, move.warehouse), LayerTrace())
            if move.kind is MoveKind.LANDED_COST:
                assert move.receipt_id is not None  # Move.__post_init__ requires it
                cogs += trace.add_landed_cost(move.receipt_id, landed_cost_increment(move))
                continue
            if move.kind is MoveKind.ISSUE:
                trace.add(posting.layers)
                for correction in corrections.get(move.id, ()):
                    trace.correct(correction)
                    cogs += correction.amount
            else:
                trace.add(posting.layers, -1)
            quantity -= posting.quantity
            cogs += posting.cogs
        merged = LayerTrace()
        for trace in traces.values():
            merged.add(trace.layers())
        line_cogs = Money(cogs, currency).quantized().amount
        revenue_total += line.revenue
        cogs_total += line_cogs
        document_lines.append(
            {
                "lineId": line.line_id,
                "sku": line.sku,
                "quantity": quantity,
                "cogs": _money_text(line_cogs, currency),
                "layers": [
                    {
                        "receiptId": take.receipt_id,
                        "quantity": take.quantity,
                        "unitCost": unit_cost_text(take.unit_cost, currency),
                    }
                    for take in merged.layers()
                ],
            }
        )
    revenue = Money(revenue_total, currency).quantized().amount
    margin = revenue - cogs_total
    margin_pct = None if not revenue else str((margin / revenue * _HUNDRED).quantize(_PERCENT_STEP, ROUND_HALF_UP))
    return {
        "v": COGS_FORMAT_VERSION,
        "method": chosen_method.value,
        "currency": currency,
        "revenue": _money_text(revenue, currency),
        "cogs": _money_text(cogs_total, currency),
        "grossMargin": _money_text(margin, currency),
        "marginPct": margin_pct,
        "lines": document_lines,
    }
