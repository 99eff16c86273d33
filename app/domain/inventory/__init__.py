"""Inventory cost valuation: an append-only ledger of moves per SKU and warehouse, valued
under FIFO, LIFO or weighted average (AVCO), with COGS, margin and stock value.

The functional core only: no I/O and no clock. The service layer persists moves, postings
and pool snapshots, and calls ``apply_move`` once per new move (the hot path) or ``replay``
from the pool just before a backdated move. docs/valuation.md describes the model.
"""

from app.domain.inventory.cogs import (
    COGS_FORMAT_VERSION,
    CogsDocument,
    CogsLayer,
    CogsLine,
    SaleLine,
    cogs_summary,
    returnable_layers,
    unit_cost_text,
)
from app.domain.inventory.landed_cost import (
    LandedCostShare,
    LandedCostTarget,
    SplitBasis,
    allocate_landed_cost,
    landed_cost_moves,
)
from app.domain.inventory.method import LIFO_NOTICE, CostingPolicy, Method
from app.domain.inventory.move import PHASE, STOCKING_KINDS, InvalidMove, LayerTake, Move, MoveKind, sort_key
from app.domain.inventory.pool import (
    UNIT_COST_PLACES,
    CostPool,
    Layer,
    Shortfall,
    empty_pool,
    next_unit_cost,
    unit_cost_of,
)
from app.domain.inventory.posting import Correction, Posting
from app.domain.inventory.report import (
    MethodComparison,
    Period,
    PeriodMargin,
    StockValue,
    ValuePoint,
    cogs_by_period,
    compare_methods,
    margin_pct,
    move_history,
    next_period,
    period_start,
    periods,
    post_ledger,
    value_as_of,
    value_over_time,
)
from app.domain.inventory.trace import LayerTrace
from app.domain.inventory.valuation import (
    apply_move,
    apply_transfer,
    post_linked,
    replay,
    revalue,
    transfer_in_move,
)

__all__ = [
    "COGS_FORMAT_VERSION",
    "LIFO_NOTICE",
    "PHASE",
    "UNIT_COST_PLACES",
    "CogsDocument",
    "CogsLayer",
    "CogsLine",
    "Correction",
    "CostPool",
    "CostingPolicy",
    "InvalidMove",
    "LandedCostShare",
    "LandedCostTarget",
    "Layer",
    "LayerTake",
    "LayerTrace",
    "MethodComparison",
    "Method",
    "Move",
    "MoveKind",
    "STOCKING_KINDS",
    "Period",
    "PeriodMargin",
    "Posting",
    "SaleLine",
    "Shortfall",
    "SplitBasis",
    "StockValue",
    "ValuePoint",
    "allocate_landed_cost",
    "apply_move",
    "apply_transfer",
    "cogs_by_period",
    "cogs_summary",
    "compare_methods",
    "empty_pool",
    "landed_cost_moves",
    "margin_pct",
    "move_history",
    "next_unit_cost",
    "next_period",
    "period_start",
    "periods",
    "post_ledger",
    "post_linked",
    "replay",
    "returnable_layers",
    "revalue",
    "sort_key",
    "transfer_in_move",
    "unit_cost_of",
    "unit_cost_text",
    "value_as_of",
    "value_over_time",
]
