"""Stock moves other than receipts and sales, as a purchasing system or ERP sends them: count gains
and write-offs, transfers between warehouses, returns to the supplier and landed costs, checked
field by field and turned into moves of the cost ledger.

Pure: no I/O and no clock. Checking takes two steps. ``MoveChecker.check`` reads one item against
the store (its warehouses, time zone and ``now``), with the rules receipts are read by;
``plan_moves`` then checks the items against what the ledger holds (``LedgerFacts``: the pools'
currencies and the receipts the items name) and gives each item its moves. A move's id is a digest
of what its item says, so a retried request books nothing twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal

from app.domain.inventory import (
    LandedCostTarget,
    Move,
    MoveKind,
    SplitBasis,
    allocate_landed_cost,
    landed_cost_moves,
)
from app.domain.money import currency_exponent
from app.services.input_problems import InputProblem, shown
from app.services.ports import PoolKey, WarehouseRef

# The rules a receipt's fields are read by, shared so that a warehouse, a cost or a date is read
# the same way whichever endpoint it arrives through.
from app.services.receipt_import import (
    FUTURE_TOLERANCE,
    ISO_CURRENCIES,
    MAX_TEXT,
    FieldError,
    ReceiptChecker,
    Refuse,
    parse_quantity,
    parse_unit_cost,
    read_instant,
)

# The fields of each kind of item besides ``kind`` (unit_cost, unit_credit and reference may be left out).
FIELDS: dict[str, tuple[str, ...]] = {
    "adjustment": ("sku", "warehouse", "quantity", "unit_cost", "at", "reason"),
    "transfer": ("sku", "from_warehouse", "to_warehouse", "quantity", "at", "reference"),
    "return_to_supplier": ("receipt", "sku", "warehouse", "quantity", "unit_credit", "at", "reference"),
    "landed_cost": ("amount", "currency", "basis", "receipts", "at", "reference"),
}
CHARGE_FIELDS = ("receipt", "weight")
MAX_CHARGED_RECEIPTS = 1_000  # per landed cost
_BASES = ", ".join(basis.value for basis in SplitBasis)

# ``read_instant`` words its check of the future for goods arriving; moves get their own, so the
# date is read here with no upper bound.
_UNBOUNDED = datetime.max.replace(tzinfo=UTC) - FUTURE_TOLERANCE
_ZERO_UNITS = re.compile(r"-?0+")


# What an item asks for, its warehouses resolved to Saleor IDs and its time in UTC. Every field
# goes into the moves' ids (see ``_move_id``): adding one changes the ids of items already booked.


@dataclass(frozen=True, slots=True)
class Adjustment:
    sku: str
    warehouse_id: str
    quantity: int  # a count gain, or a write-off when negative
    unit_cost: Decimal | None  # of a gain; by default the pool's last known cost or average
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Transfer:
    sku: str
    source_id: str
    destination_id: str
    quantity: int
    at: datetime
    reference: str


@dataclass(frozen=True, slots=True)
class SupplierReturn:
    receipt: str  # the receipt's move id, or its reference
    sku: str
    warehouse_id: str
    quantity: int
    unit_credit: Decimal | None  # the supplier's credit per unit, when known
    at: datetime
    reference: str


@dataclass(frozen=True, slots=True)
class Charge:
    """One receipt a landed cost goes to: its move id or reference, and its weight."""

    receipt: str
    weight: Decimal | None


@dataclass(frozen=True, slots=True)
class LandedCost:
    amount: Decimal  # negative for a credit
    currency: str
    basis: SplitBasis
    receipts: tuple[Charge, ...]
    at: datetime
    reference: str


MoveRequest = Adjustment | Transfer | SupplierReturn | LandedCost


@dataclass(frozen=True, slots=True)
class LedgerFacts:
    """What ``plan_moves`` needs to know of the ledger (``wanted`` says what to look up)."""

    currencies: Mapping[PoolKey, str]  # of the pools asked for that the ledger holds
    receipts: Collection[Move]  # the receipts whose id or reference an item names


@dataclass(frozen=True, slots=True)
class PlannedItem:
    """An item's moves, ready to book."""

    index: int
    moves: tuple[Move, ...]
    # A transfer's in-leg carries the layers its out-leg took, so it is built from the out-leg's
    # posting once that is booked; only its id is known before.
    in_leg_id: str | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        in_leg = () if self.in_leg_id is None else (self.in_leg_id,)
        return (*(move.id for move in self.moves), *in_leg)


class _Fields:
    """One item's (or one charged receipt's) fields, read as text, and what is wrong with them."""

    def __init__(
        self,
        item: Mapping[object, object],
        allowed: Sequence[str],
        noun: str,
        *,
        prefix: str = "",
        errors: list[FieldError] | None = None,
    ) -> None:
        self._item = item
        self._prefix = prefix
        self._texts: dict[str, str] = {}
        self.errors: list[FieldError] = [] if errors is None else errors
        for name in item:
            if name not in allowed:
                message = f"is not a field of {noun} (its fields are {', '.join(allowed)})"
                self.errors.append(FieldError(f"{prefix}{name}", "", message))

    def refuse(self, name: str, message: str) -> None:
        self.errors.append(FieldError(self._prefix + name, shown(self._texts.get(name, "")), message))

    def renamed(self, name: str) -> Refuse:
        """A ``Refuse`` for the receipt readers, which name their own column, that reports under ``name``."""
        return lambda _column, message: self.refuse(name, message)

    def raw(self, name: str) -> object:
        return self._item.get(name)

    def text(self, name: str, *, required: bool = True) -> str | None:
        """The field as text, stripped (numbers as written, never through a float); ``None`` when
        it is missing, blank or not text."""
        value = self._item.get(name)
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal | None):
            self._texts[name] = str(value)
            self.refuse(name, "must be a string or a number")
            return None
        if isinstance(value, Decimal):
            self._texts[name] = format(value, "f") if value.is_finite() else str(value)
        else:
            self._texts[name] = "" if value is None else str(value)
        text = self._texts[name].strip()
        if not text:
            if required:
                self.refuse(name, "is required")
            return None
        if len(text) > MAX_TEXT:
            self.refuse(name, f"is longer than {MAX_TEXT} characters")
            return None
        return text

    def decimal(self, name: str, *, required: bool = False, signed: bool = False) -> Decimal | None:
        """A plain decimal read as a receipt's unit cost is (up to six places); ``signed`` admits a minus."""
        text = self.text(name, required=required)
        if text is None:
            return None
        negative = signed and text.startswith("-")
        number = parse_unit_cost(text[1:] if negative else text, self.renamed(name))
        return -number if negative and number is not None else number

    def quantity(self, *, signed: bool) -> int | None:
        """Whole units, read as a receipt's are; ``signed`` admits a negative count (never zero)."""
        text = self.text("quantity")
        if text is None:
            return None
        if signed and _ZERO_UNITS.fullmatch(text):
            self.refuse("quantity", "must not be 0: a count gain is positive, a write-off negative")
            return None
        negative = text.startswith("-")
        if negative and not signed:
            self.refuse("quantity", "must be positive: the kind of move gives the direction")
            return None
        units = parse_quantity(text[1:] if negative else text, self.refuse)
        return -units if negative and units is not None else units


class MoveChecker:
    """Checks one item's fields against the store: its warehouses, its time zone and the clock."""

    def __init__(self, warehouses: Iterable[WarehouseRef], zone: tzinfo, now: datetime) -> None:
        self._receipt_rules = ReceiptChecker(warehouses, zone, now)
        self._zone = zone
        self._latest = now + FUTURE_TOLERANCE
        self._readers: dict[str, Callable[[_Fields], MoveRequest | None]] = {
            "adjustment": self._adjustment,
            "transfer": self._transfer,
            "return_to_supplier": self._supplier_return,
            "landed_cost": self._landed_cost,
        }

    def check(self, item: object) -> MoveRequest | list[FieldError]:
        if not isinstance(item, Mapping):
            return [FieldError("", "", "must be an object with the move's kind and fields")]
        kind = item.get("kind")
        if not isinstance(kind, str) or kind not in FIELDS:
            message = "is required" if kind is None else f"must be one of {', '.join(FIELDS)}"
            return [FieldError("kind", shown(str(kind or "")), message)]
        fields = _Fields(item, ("kind", *FIELDS[kind]), f"a {kind} move")
        request = self._readers[kind](fields)
        return fields.errors if request is None or fields.errors else request

    def warehouse_id(self, fields: _Fields, name: str) -> str | None:
        text = fields.text(name)
        return None if text is None else self._receipt_rules.warehouse_id(text, fields.renamed(name))

    def _at(self, fields: _Fields) -> datetime | None:
        text = fields.text("at")
        if text is None:
            return None
        moment = read_instant(text, self._zone, _UNBOUNDED)
        if isinstance(moment, str):
            fields.refuse("at", moment)
            return None
        if moment > self._latest:
            fields.refuse("at", "is in the future: book a move once it has happened")
            return None
        return moment

    def _adjustment(self, fields: _Fields) -> Adjustment | None:
        sku = fields.text("sku")
        warehouse_id = self.warehouse_id(fields, "warehouse")
        quantity = fields.quantity(signed=True)
        unit_cost = fields.decimal("unit_cost")
        if unit_cost is not None and quantity is not None and quantity < 0:
            fields.refuse("unit_cost", "is for a count gain only: a write-off leaves at the ledger's cost")
        at = self._at(fields)
        reason = fields.text("reason")
        if sku is None or warehouse_id is None or quantity is None or at is None or reason is None:
            return None
        return Adjustment(sku, warehouse_id, quantity, unit_cost, at, reason)

    def _transfer(self, fields: _Fields) -> Transfer | None:
        sku = fields.text("sku")
        source_id = self.warehouse_id(fields, "from_warehouse")
        destination_id = self.warehouse_id(fields, "to_warehouse")
        if source_id is not None and source_id == destination_id:
            fields.refuse("to_warehouse", "is the warehouse the goods leave from")
        quantity = fields.quantity(signed=False)
        at = self._at(fields)
        reference = fields.text("reference", required=False) or ""
        if sku is None or source_id is None or destination_id is None or quantity is None or at is None:
            return None
        return Transfer(sku, source_id, destination_id, quantity, at, reference)

    def _supplier_return(self, fields: _Fields) -> SupplierReturn | None:
        receipt = fields.text("receipt")
        sku = fields.text("sku")
        warehouse_id = self.warehouse_id(fields, "warehouse")
        quantity = fields.quantity(signed=False)
        unit_credit = fields.decimal("unit_credit")
        at = self._at(fields)
        reference = fields.text("reference", required=False) or ""
        if receipt is None or sku is None or warehouse_id is None or quantity is None or at is None:
            return None
        return SupplierReturn(receipt, sku, warehouse_id, quantity, unit_credit, at, reference)

    def _landed_cost(self, fields: _Fields) -> LandedCost | None:
        amount = fields.decimal("amount", required=True, signed=True)
        if amount is not None and not amount:
            fields.refuse("amount", "must not be 0")
        currency = (fields.text("currency") or "").upper()
        if currency and currency not in ISO_CURRENCIES:
            fields.refuse("currency", "is not an ISO 4217 currency code such as USD or EUR")
        elif currency and amount is not None:
            places = currency_exponent(currency)
            if amount != amount.quantize(Decimal(1).scaleb(-places)):
                fields.refuse("amount", f"has more decimal places than {currency} has ({places})")
        basis_text = fields.text("basis")
        basis = next((basis for basis in SplitBasis if basis.value == basis_text), None)
        if basis_text is not None and basis is None:
            fields.refuse("basis", f"must be one of {_BASES}")
        charges = _charges(fields, basis)
        at = self._at(fields)
        reference = fields.text("reference", required=False) or ""
        if amount is None or not currency or basis is None or charges is None or at is None:
            return None
        return LandedCost(amount, currency, basis, charges, at, reference)


def _charges(fields: _Fields, basis: SplitBasis | None) -> tuple[Charge, ...] | None:
    """The receipts a landed cost goes to: ``[{"receipt": …, "weight": …}, …]``."""
    listed = fields.raw("receipts")
    if listed is None:
        fields.refuse("receipts", "is required")
        return None
    if not isinstance(listed, list):
        fields.refuse("receipts", 'must be a list of {"receipt": …} objects')
        return None
    if not listed or len(listed) > MAX_CHARGED_RECEIPTS:
        fields.refuse("receipts", f"must name between 1 and {MAX_CHARGED_RECEIPTS:,} receipts")
        return None
    charges: list[Charge] = []
    for number, entry in enumerate(listed):
        prefix = f"receipts[{number}]."
        if not isinstance(entry, Mapping):
            fields.errors.append(FieldError(prefix[:-1], "", 'must be an object such as {"receipt": "PO-17"}'))
            continue
        charge = _Fields(entry, CHARGE_FIELDS, "a landed cost's receipt", prefix=prefix, errors=fields.errors)
        receipt = charge.text("receipt")
        weight = charge.decimal("weight")
        if basis is SplitBasis.WEIGHT and charge.raw("weight") is None:
            charge.refuse("weight", "is required when the basis is weight")
        elif weight is not None and basis is not None and basis is not SplitBasis.WEIGHT:
            charge.refuse("weight", "is used only when the basis is weight")
        elif weight is not None and not weight:
            charge.refuse("weight", "must be more than 0")
        if receipt is not None:
            charges.append(Charge(receipt, weight))
    return tuple(charges) if len(charges) == len(listed) else None


def wanted(requests: Iterable[MoveRequest]) -> tuple[set[PoolKey], set[str]]:
    """The pools whose currency, and the receipts (by id or reference), ``plan_moves`` needs."""
    pools: set[PoolKey] = set()
    receipts: set[str] = set()
    for request in requests:
        if isinstance(request, Adjustment):
            pools.add((request.sku, request.warehouse_id))
        elif isinstance(request, Transfer):
            pools.update({(request.sku, request.source_id), (request.sku, request.destination_id)})
        elif isinstance(request, SupplierReturn):
            receipts.add(request.receipt)
        else:
            receipts.update(charge.receipt for charge in request.receipts)
    return pools, receipts


def plan_moves(
    requests: Sequence[tuple[int, MoveRequest]], facts: LedgerFacts
) -> tuple[list[PlannedItem], list[InputProblem]]:
    """Each item's moves, and what the ledger says is wrong with the items (by item index)."""
    planner = _Planner(facts, [request for _, request in requests])
    planned: list[PlannedItem] = []
    first_with: dict[str, int] = {}
    for index, request in requests:
        item = planner.plan(index, request)
        if item is None:
            continue
        first = first_with.setdefault(item.ids[0], index)
        if first != index:
            message = (
                f"repeats item {first}: the same move twice would be booked once. Tell them apart by their "
                "reference (an adjustment by its reason), or add them up"
            )
            planner.errors.append(InputProblem(index, None, "", message))
        else:
            planned.append(item)
    return planned, planner.errors


class _Planner:
    def __init__(self, facts: LedgerFacts, requests: Sequence[MoveRequest]) -> None:
        self._by_id = {receipt.id: receipt for receipt in facts.receipts}
        self._by_reference: dict[str, list[Move]] = defaultdict(list)
        for receipt in sorted(facts.receipts, key=lambda receipt: (receipt.at, receipt.id)):
            self._by_reference[receipt.reference].append(receipt)
        self._currencies = dict(facts.currencies)
        # A pool that only transfers of this request open (one after another, in any item order)
        # is valued in the currency of the goods that arrive first in item order, so other items
        # may name it too.
        transfers = [request for request in requests if isinstance(request, Transfer)]
        opened = True
        while opened:
            opened = False
            for transfer in transfers:
                destination = (transfer.sku, transfer.destination_id)
                currency = self._currency_of(transfer)
                if currency is not None and destination not in self._currencies:
                    self._currencies[destination] = currency
                    opened = True
        self.errors: list[InputProblem] = []

    def plan(self, index: int, request: MoveRequest) -> PlannedItem | None:
        errors = len(self.errors)
        if isinstance(request, Adjustment):
            item = self._adjustment(index, request)
        elif isinstance(request, Transfer):
            item = self._transfer(index, request)
        elif isinstance(request, SupplierReturn):
            item = self._supplier_return(index, request)
        else:
            item = self._landed_cost(index, request)
        return item if len(self.errors) == errors else None

    def _refuse(self, index: int, field: str, value: str, message: str) -> None:
        self.errors.append(InputProblem(index, field, shown(value), message))

    def _adjustment(self, index: int, request: Adjustment) -> PlannedItem | None:
        currency = self._currencies.get((request.sku, request.warehouse_id))
        if currency is None:
            message = "has never had a cost in this warehouse: book a receipt of it before adjusting its stock"
            self._refuse(index, "sku", request.sku, message)
            return None
        move = Move(
            id=_move_id("adjustment", request),
            kind=MoveKind.ADJUSTMENT_IN if request.quantity > 0 else MoveKind.ADJUSTMENT_OUT,
            sku=request.sku,
            warehouse=request.warehouse_id,
            at=request.at,
            quantity=abs(request.quantity),
            currency=currency,
            unit_cost=request.unit_cost,
            reference=request.reason,
        )
        return PlannedItem(index, (move,))

    def _currency_of(self, transfer: Transfer) -> str | None:
        return self._currencies.get((transfer.sku, transfer.source_id))

    def _transfer(self, index: int, request: Transfer) -> PlannedItem | None:
        currency = self._currency_of(request)
        if currency is None:
            message = f"has never had SKU {request.sku} in the ledger: there is no cost to transfer"
            self._refuse(index, "from_warehouse", request.source_id, message)
            return None
        arriving = self._currencies[request.sku, request.destination_id]  # opened from a source if new
        if arriving != currency:
            message = (
                f"values SKU {request.sku} in {arriving} and the goods leave valued in {currency}: a transfer "
                "carries its cost, so both warehouses must value the SKU in one currency"
            )
            self._refuse(index, "to_warehouse", request.destination_id, message)
            return None
        out_leg = Move(
            id=_move_id("transfer", request),
            kind=MoveKind.TRANSFER_OUT,
            sku=request.sku,
            warehouse=request.source_id,
            at=request.at,
            quantity=request.quantity,
            currency=currency,
            counterpart_warehouse=request.destination_id,
            reference=request.reference,
        )
        return PlannedItem(index, (out_leg,), in_leg_id=f"{out_leg.id}:in")

    def _supplier_return(self, index: int, request: SupplierReturn) -> PlannedItem | None:
        receipt = self._receipt(index, "receipt", request.receipt, (request.sku, request.warehouse_id))
        if receipt is None:
            return None
        if request.quantity > receipt.quantity:
            message = f"is more than the {receipt.quantity} units receipt {request.receipt} brought in"
            self._refuse(index, "quantity", str(request.quantity), message)
        self._not_before(index, request.at, receipt, request.receipt)
        move = Move(
            id=_move_id("return_to_supplier", dataclasses.replace(request, receipt=receipt.id)),
            kind=MoveKind.RETURN_TO_SUPPLIER,
            sku=request.sku,
            warehouse=request.warehouse_id,
            at=request.at,
            quantity=request.quantity,
            currency=receipt.currency,
            unit_cost=request.unit_credit,
            receipt_id=receipt.id,
            reference=request.reference,
        )
        return PlannedItem(index, (move,))

    def _landed_cost(self, index: int, request: LandedCost) -> PlannedItem | None:
        targets: list[LandedCostTarget] = []
        charged: dict[str, int] = {}
        for number, charge in enumerate(request.receipts):
            field = f"receipts[{number}].receipt"
            receipt = self._receipt(index, field, charge.receipt)
            if receipt is None:
                continue
            if (first := charged.setdefault(receipt.id, number)) != number:
                self._refuse(index, field, charge.receipt, f"names the same receipt as receipts[{first}]")
            if receipt.currency != request.currency:
                message = (
                    f"differs from {receipt.currency}, the currency receipt {charge.receipt} is valued in: a "
                    "landed cost is booked in its receipts' currency"
                )
                self._refuse(index, "currency", request.currency, message)
            self._not_before(index, request.at, receipt, charge.receipt)
            assert receipt.unit_cost is not None  # a receipt always has one (Move checks it)
            value = receipt.quantity * receipt.unit_cost
            weight = charge.weight or Decimal(0)
            targets.append(
                LandedCostTarget(receipt.id, receipt.sku, receipt.warehouse, receipt.quantity, value, weight)
            )
        if len(targets) != len(request.receipts):
            return None
        try:
            shares = allocate_landed_cost(request.amount, request.currency, targets, request.basis)
        except ValueError as exc:  # nothing to split by: every receipt's value is zero
            self._refuse(index, "basis", request.basis.value, str(exc))
            return None
        resolved = tuple(
            Charge(target.receipt_id, charge.weight) for target, charge in zip(targets, request.receipts, strict=True)
        )
        voucher = _move_id("landed_cost", dataclasses.replace(request, receipts=resolved))
        moves = landed_cost_moves(
            shares, voucher_id=voucher, at=request.at, currency=request.currency, reference=request.reference
        )
        return PlannedItem(index, moves)

    def _receipt(self, index: int, field: str, name: str, pool: PoolKey | None = None) -> Move | None:
        """The receipt ``name`` is the id of, or else the one receipt (of ``pool``, when given) it
        is the reference of."""
        where = "" if pool is None else f" of SKU {pool[0]} in this warehouse"
        found = self._by_id.get(name)
        if found is None:
            named = [receipt for receipt in self._by_reference.get(name, ()) if pool in (None, _pool_of(receipt))]
            if len(named) == 1:
                return named[0]
            if named:
                ids = ", ".join(receipt.id for receipt in named[:3]) + (", …" if len(named) > 3 else "")
                message = f"is the reference of {len(named)} receipts{where}: name one by its id ({ids})"
            else:
                message = f"is neither the id nor the reference of a receipt{where}"
            self._refuse(index, field, name, message)
            return None
        if pool is not None and _pool_of(found) != pool:
            message = f"received SKU {found.sku} into warehouse {found.warehouse}, not SKU {pool[0]} into {pool[1]}"
            self._refuse(index, field, name, message)
            return None
        return found

    def _not_before(self, index: int, at: datetime, receipt: Move, name: str) -> None:
        if at < receipt.at:
            self._refuse(index, "at", at.isoformat(), f"is before receipt {name} came in ({receipt.at.isoformat()})")


def _pool_of(move: Move) -> PoolKey:
    return move.sku, move.warehouse


def _move_id(kind: str, request: MoveRequest) -> str:
    """``<kind>:<digest>`` of every field: the same item always gets the same id, however it was
    written (``10.5`` or ``10.50``, a slug or the warehouse ID, any time zone)."""
    canonical = "\x1f".join((kind, *(_canonical(value) for value in dataclasses.astuple(request))))
    return f"{kind}:{hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()}"


def _canonical(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + "\x1e".join(_canonical(part) for part in value) + ")"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)
