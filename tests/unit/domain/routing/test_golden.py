"""The bench's seeded orders plan and explain exactly as they did before the planner was made faster.

The digest covers every plan's ``ops.routing`` (explanation included) and each shipment's source,
units, quote, fees and goods, for the first orders of each size ``bench.routing_plan`` times (exact
and heuristic searches). It was taken from the planner before its speed-ups (issue 13); a change that
moves any plan, cost or word of an explanation changes it. Update it only for a deliberate change of
what plans or explanations say.
"""

from __future__ import annotations

import hashlib
import json

from app.domain.routing.plan import Plan
from bench.routing_plan import seeded_runs

ORDERS_PER_SIZE = 60
DIGEST = "6e2a0aa4268f727d8e18cfa02a3301362e53c494652a726d8ff7ea6a00afcd5c"


def _outcomes() -> list[dict[str, object]]:
    outcomes = []
    for run in seeded_runs(13, ORDERS_PER_SIZE):
        for order in run.orders:
            result = run.plan(order)
            outcome = result.to_metadata()
            if isinstance(result, Plan):
                outcome["search"] = result.search.value
                outcome["shipments"] = [
                    [
                        shipment.source.id,
                        [[units.line.id, units.quantity] for units in shipment.units],
                        str(shipment.quote.shipping.amount),
                        shipment.quote.arrives.isoformat(),
                        shipment.quote.detail,
                        str(shipment.fees.amount),
                        str(shipment.goods.amount),
                    ]
                    for shipment in result.shipments
                ]
            outcomes.append(outcome)
    return outcomes


def test_the_bench_orders_plan_and_explain_as_before() -> None:
    text = json.dumps(_outcomes(), sort_keys=True, ensure_ascii=False)
    assert hashlib.sha256(text.encode()).hexdigest() == DIGEST
