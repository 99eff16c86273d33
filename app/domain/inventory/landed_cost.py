"""Landed costs (freight, duty, insurance) split across the receipts they belong to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from app.domain.inventory.move import Move, MoveKind
from app.domain.money import currency_exponent


class SplitBasis(StrEnum):
    QUANTITY = "quantity"
    VALUE = "value"
    WEIGHT = "weight"


@dataclass(frozen=True, slots=True)
class LandedCostTarget:
    """One receipt (in one pool) a landed cost covers: its quantity, value and total weight."""

    receipt_id: str
    sku: str
    warehouse: str
    quantity: int
    value: Decimal
    weight: Decimal = Decimal(0)

    def basis(self, basis: SplitBasis) -> Decimal:
        if basis is SplitBasis.QUANTITY:
            return Decimal(self.quantity)
        if basis is SplitBasis.VALUE:
            return self.value
        return self.weight


@dataclass(frozen=True, slots=True)
class LandedCostShare:
    target: LandedCostTarget
    amount: Decimal


def allocate_landed_cost(
    amount: Decimal, currency: str, targets: Sequence[LandedCostTarget], basis: SplitBasis
) -> tuple[LandedCostShare, ...]:
    """Split ``amount`` in proportion to each target's quantity, value or weight.

    Shares are in the currency's minor unit and add up to ``amount`` exactly: each target
    gets its proportional share rounded toward zero, and the cents left over go one by one to
    the largest remainders (earlier targets first on ties). A negative amount (a credit on a
    freight bill) is split the same way.
    """
    if not targets:
        raise ValueError("a landed cost needs at least one receipt to go to")
    step = Decimal(1).scaleb(-currency_exponent(currency))
    if amount != amount.quantize(step):
        raise ValueError(f"{amount} has more places than {currency} allows")
    weights = [target.basis(basis) for target in targets]
    if any(weight < 0 for weight in weights):
        raise ValueError(f"a {basis} to split by is negative")
    total = sum(weights, Decimal(0))
    if not total:
        raise ValueError(f"the receipts have no {basis} to split by")
    sign = -1 if amount < 0 else 1
    exact = [abs(amount) * weight / total for weight in weights]
    shares = [share.quantize(step, ROUND_FLOOR) for share in exact]
    left = int((abs(amount) - sum(shares, Decimal(0))) / step)
    by_remainder = sorted(range(len(targets)), key=lambda index: (-(exact[index] - shares[index]), index))
    for index in by_remainder[:left]:
        shares[index] += step
    return tuple(LandedCostShare(target, sign * share) for target, share in zip(targets, shares, strict=True))


def landed_cost_moves(
    shares: Sequence[LandedCostShare],
    *,
    voucher_id: str,
    at: datetime,
    currency: str,
    reference: str = "",
    seq: int = 0,
) -> tuple[Move, ...]:
    """One ``LANDED_COST`` move per share, ids ``<voucher_id>:<n>``."""
    return tuple(
        Move(
            id=f"{voucher_id}:{number}",
            kind=MoveKind.LANDED_COST,
            sku=share.target.sku,
            warehouse=share.target.warehouse,
            at=at,
            quantity=share.target.quantity,
            currency=currency,
            amount=share.amount,
            receipt_id=share.target.receipt_id,
            reference=reference or voucher_id,
            seq=seq,
        )
        for number, share in enumerate(shares, start=1)
    )
