"""Past orders replayed: the plan routing would make now against the allocation Saleor made, both
priced alike (``planner.price_allocation``), and what they add up to over many orders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.domain.money import Money
from app.domain.routing.plan import Plan


def _money(amount: Money) -> str:
    quantized = amount.quantized()
    return f"{quantized.amount} {quantized.currency}"


def _placement(plan: Plan) -> dict[tuple[str, str], int]:
    """Units per (source id, line id)."""
    placed: dict[tuple[str, str], int] = {}
    for shipment in plan.shipments:
        for units in shipment.units:
            key = (shipment.source.id, units.line.id)
            placed[key] = placed.get(key, 0) + units.quantity
    return placed


def _where(plan: Plan) -> str:
    return ", ".join(
        f"{shipment.source.label} ships "
        + " + ".join(f"{units.line.sku} × {units.quantity}" for units in shipment.units)
        for shipment in plan.shipments
    )


def _shipments(count: int) -> str:
    return "1 shipment" if count == 1 else f"{count} shipments"


def _arrival(plan: Plan) -> str:
    kept = "keeps" if plan.meets_promise else "misses"
    return f"arrives by {plan.latest_arrival}, {kept} the promise of {plan.promised_by}"


@dataclass(frozen=True, slots=True)
class Replay:
    """One order: ``plan`` as routing plans it now, ``saleor`` as Saleor allocated it."""

    order_id: str
    number: str
    plan: Plan
    saleor: Plan

    @property
    def differs(self) -> bool:
        return _placement(self.plan) != _placement(self.saleor)

    def explanation(self) -> str:
        """What changes and why it is better (or, with a promise at stake, why it had to be)."""
        plan, saleor = self.plan, self.saleor
        reasons = []
        both_on_time = plan.meets_promise and saleor.meets_promise
        if not both_on_time and plan.latest_arrival != saleor.latest_arrival:
            reasons.append(f"plan {_arrival(plan)}; Saleor's allocation {_arrival(saleor)}")
        if len(plan.shipments) != len(saleor.shipments):
            reasons.append(f"{_shipments(len(plan.shipments))} instead of Saleor's {len(saleor.shipments)}")
        cost, difference = _money(plan.landed_cost), (saleor.landed_cost - plan.landed_cost).amount
        if difference:
            more_or_less = "less" if difference > 0 else "more"
            spread = _money(Money(abs(difference), plan.landed_cost.currency))
            reasons.append(f"landed cost {cost}, {spread} {more_or_less} than Saleor's")
        elif reasons:
            reasons.append(f"same landed cost, {cost}")
        else:
            reasons.append(f"same shipments and landed cost, {cost}: the merchant's priority decides")
        return "; ".join((*reasons, f"plan: {_where(plan)}", f"Saleor: {_where(saleor)}"))


@dataclass(frozen=True, slots=True)
class Costs:
    """Landed cost in one currency, plan against Saleor's, over the orders paid in it."""

    plan: Money
    saleor: Money


@dataclass(frozen=True, slots=True)
class Totals:
    orders: int
    plan_shipments: int
    saleor_shipments: int
    plan_promises_kept: int
    saleor_promises_kept: int
    differ: int
    costs: tuple[Costs, ...]  # one per currency, by currency


def totals(replays: Iterable[Replay]) -> Totals:
    orders = plan_shipments = saleor_shipments = plan_kept = saleor_kept = differ = 0
    costs: dict[str, Costs] = {}
    for replay in replays:
        orders += 1
        plan_shipments += len(replay.plan.shipments)
        saleor_shipments += len(replay.saleor.shipments)
        plan_kept += replay.plan.meets_promise
        saleor_kept += replay.saleor.meets_promise
        differ += replay.differs
        plan_cost, saleor_cost = replay.plan.landed_cost, replay.saleor.landed_cost
        kept = costs.get(plan_cost.currency)
        costs[plan_cost.currency] = (
            Costs(plan_cost, saleor_cost) if kept is None else Costs(kept.plan + plan_cost, kept.saleor + saleor_cost)
        )
    return Totals(
        orders,
        plan_shipments,
        saleor_shipments,
        plan_kept,
        saleor_kept,
        differ,
        tuple(costs[currency] for currency in sorted(costs)),
    )
