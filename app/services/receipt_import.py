"""Goods received, as merchants and purchasing systems write them down: CSV rows, form fields and
JSON items checked field by field and turned into ``RECEIPT`` moves of the cost ledger.

Pure: no I/O and no clock. The store's warehouses, time zone and ``now`` come in as values, the
CSV as an iterable of text lines, so a file of any size is checked one row at a time.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import re
import sys
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from babel.numbers import list_currencies

from app.domain.inventory import Move, MoveKind
from app.services.input_problems import InputProblem, header_problems, shown
from app.services.ports import WarehouseRef

COLUMNS = ("sku", "warehouse", "quantity", "unit_cost", "currency", "received_at", "reference")
OPTIONAL_COLUMNS = frozenset({"reference"})
REQUIRED_COLUMNS = tuple(column for column in COLUMNS if column not in OPTIONAL_COLUMNS)

MAX_TEXT = 255  # Saleor's limit for a SKU; enough for any PO number
MAX_QUANTITY = 1_000_000_000
MAX_UNIT_COST = Decimal("1e14")  # the ledger keeps 14 integer digits and 6 places
COST_PLACES = 6
# A purchasing system's clock may run a little ahead of ours.
FUTURE_TOLERANCE = timedelta(minutes=15)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
ISO_CURRENCIES = frozenset(list_currencies())

# Records a field's error: the column and what is wrong with its value.
Refuse = Callable[[str, str], None]

_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")


@dataclass(frozen=True, slots=True)
class FieldError:
    column: str
    value: str
    message: str


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One checked receipt: its warehouse resolved to the Saleor ID and its time in UTC."""

    sku: str
    warehouse_id: str
    quantity: int
    unit_cost: Decimal
    currency: str
    received_at: datetime
    reference: str
    digest: bytes  # of the fields above: the move's id and the duplicate check

    @property
    def move_id(self) -> str:
        return "receipt:" + self.digest.hex()

    @property
    def fingerprint(self) -> int:
        """A signed 64-bit number, to be kept compactly in an ``array("q")``."""
        return int.from_bytes(self.digest[:8], "big", signed=True)

    @property
    def pool(self) -> tuple[str, str]:
        return self.sku, self.warehouse_id

    @property
    def value(self) -> Decimal:
        return self.quantity * self.unit_cost

    def move(self) -> Move:
        return Move(
            id=self.move_id,
            kind=MoveKind.RECEIPT,
            sku=self.sku,
            warehouse=self.warehouse_id,
            at=self.received_at,
            quantity=self.quantity,
            currency=self.currency,
            unit_cost=self.unit_cost,
            reference=self.reference,
        )


def receipt_digest(
    sku: str, warehouse_id: str, quantity: int, unit_cost: Decimal, currency: str, at: datetime, reference: str
) -> bytes:
    """The same receipt always gets the same id, however it was written (``10.5`` or ``10.50``, a
    slug or the warehouse ID, any time zone), so importing it again books nothing twice."""
    cost = format(unit_cost.normalize(), "f")
    canonical = "\x1f".join((sku, warehouse_id, str(quantity), cost, currency, at.isoformat(), reference))
    return hashlib.blake2b(canonical.encode(), digest_size=16).digest()


class ReceiptChecker:
    """Checks one receipt's fields against the store: its warehouses, its time zone and the clock."""

    def __init__(self, warehouses: Iterable[WarehouseRef], zone: tzinfo, now: datetime) -> None:
        self._warehouses: dict[str, str] = {}
        self._slugs: list[str] = []
        for warehouse in warehouses:
            self._warehouses[warehouse.id] = warehouse.id
            self._warehouses.setdefault(warehouse.slug.lower(), warehouse.id)
            self._slugs.append(warehouse.slug)
        self._zone = zone
        self._latest = now + FUTURE_TOLERANCE
        self._times: dict[str, datetime | str] = {}  # a file repeats its few dates on every row

    def check(self, values: Mapping[str, str]) -> ReceiptLine | list[FieldError]:
        """``values`` by column name (missing or blank optional columns are fine)."""
        errors: list[FieldError] = []

        def refuse(column: str, message: str) -> None:
            errors.append(FieldError(column, shown(values.get(column, "")), message))

        sku = values.get("sku", "").strip()
        if not sku:
            refuse("sku", "is required")
        elif len(sku) > MAX_TEXT:
            refuse("sku", f"is longer than {MAX_TEXT} characters")
        warehouse_id = self.warehouse_id(values.get("warehouse", ""), refuse)
        quantity = parse_quantity(values.get("quantity", ""), refuse)
        unit_cost = parse_unit_cost(values.get("unit_cost", ""), refuse)
        currency = sys.intern(values.get("currency", "").strip().upper())
        if not currency:
            refuse("currency", "is required")
        elif currency not in ISO_CURRENCIES:
            refuse("currency", "is not an ISO 4217 currency code such as USD or EUR")
        at = self._received_at(values.get("received_at", ""), refuse)
        reference = values.get("reference", "").strip()
        if len(reference) > MAX_TEXT:
            refuse("reference", f"is longer than {MAX_TEXT} characters")
        # Each of these is None only when its error was recorded.
        if errors or warehouse_id is None or quantity is None or unit_cost is None or at is None:
            return errors
        digest = receipt_digest(sku, warehouse_id, quantity, unit_cost, currency, at, reference)
        return ReceiptLine(sku, warehouse_id, quantity, unit_cost, currency, at, reference, digest)

    def warehouse_id(self, raw: str, refuse: Refuse) -> str | None:
        value = raw.strip()
        if not value:
            refuse("warehouse", "is required")
            return None
        found = self._warehouses.get(value) or self._warehouses.get(value.lower())
        if found is None:
            known = ", ".join(self._slugs[:5]) + (", …" if len(self._slugs) > 5 else "")
            hint = f" (slugs: {known})" if known else "; the store has no warehouses"
            refuse("warehouse", f"is not a warehouse of this store: use its slug or ID{hint}")
        return found

    def _received_at(self, raw: str, refuse: Refuse) -> datetime | None:
        value = raw.strip()
        if not value:
            refuse("received_at", "is required")
            return None
        result = self._times.get(value)
        if result is None:
            result = _moment(value, self._zone, self._latest)
            if len(self._times) > 10_000:
                self._times.clear()
            self._times[value] = result
        if isinstance(result, str):
            refuse("received_at", result)
            return None
        return result


def _number_hint(value: str) -> str | None:
    if "," in value and "." in value:
        return "must be written without thousands separators (1234.50, not 1,234.50)"
    if "," in value:
        return "must use a dot as the decimal separator (12.50, not 12,50)"
    return None


def parse_quantity(raw: str, refuse: Refuse) -> int | None:
    value = raw.strip()
    if not value:
        refuse("quantity", "is required")
        return None
    if _WHOLE.fullmatch(value):
        quantity = int(value)
        if quantity == 0:
            refuse("quantity", "must be at least 1")
        elif quantity > MAX_QUANTITY:
            refuse("quantity", f"is more than {MAX_QUANTITY:,} units")
        else:
            return quantity
        return None
    if value.startswith("-") and _DECIMAL.fullmatch(value[1:]):
        refuse("quantity", "must be positive: a receipt brings stock in")
    elif _DECIMAL.fullmatch(value):
        refuse("quantity", "must be a whole number of units")
    elif "," in value and _WHOLE.fullmatch(value.replace(",", "")):
        refuse("quantity", "must be written without thousands separators (1000, not 1,000)")
    else:
        refuse("quantity", "is not a whole number")
    return None


def parse_unit_cost(raw: str, refuse: Refuse) -> Decimal | None:
    value = raw.strip()
    if not value:
        refuse("unit_cost", "is required")
        return None
    if not _DECIMAL.fullmatch(value):
        if value.startswith("-") and _DECIMAL.fullmatch(value[1:]):
            refuse("unit_cost", "must not be negative")
        else:
            refuse("unit_cost", _number_hint(value) or "is not a number (write it like 12.50, without a currency)")
        return None
    try:
        cost = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        refuse("unit_cost", "is not a number")
        return None
    if cost >= MAX_UNIT_COST:
        refuse("unit_cost", f"is too large (at most {MAX_UNIT_COST:,.0f})")
        return None
    exponent = cost.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > COST_PLACES:
        refuse("unit_cost", f"has more than {COST_PLACES} decimal places")
        return None
    return cost


def read_instant(value: str, zone: tzinfo, now: datetime) -> datetime | str:
    """A date or time typed by a person, read as ``received_at`` is: the instant, or what is wrong."""
    return _moment(value.strip(), zone, now + FUTURE_TOLERANCE)


def _moment(value: str, zone: tzinfo, latest: datetime) -> datetime | str:
    """The instant in UTC, or why the text is not one. A date is midnight in the store's zone, and
    so is read a time without an offset."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=zone)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return "is not an ISO 8601 date or time (2026-11-20, 2026-11-20T14:30 or 2026-11-20T14:30:00+01:00)"
    if moment < EARLIEST:
        return "is before 1970: check the year"
    if moment > latest:
        return "is in the future: book a receipt when the goods have arrived"
    return moment


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One row of the file: the line it starts on, and either the receipt or what is wrong with it."""

    row: int
    line: ReceiptLine | None
    errors: tuple[InputProblem, ...] = ()


@dataclass(frozen=True, slots=True)
class FileProblem:
    """The file as a whole cannot be read on (bad header, not UTF-8, broken quoting): the last item."""

    errors: tuple[InputProblem, ...]


class FirstRows:
    """The row each fingerprint was first seen on, in about 20 bytes a row (a dict would take ~120).

    Recent fingerprints sit in a small dict; every ``RUN`` of them is sorted into two arrays
    (fingerprints, rows), and runs of equal length are merged as a binary counter carries, so a
    million rows make a handful of runs. A bitmap answers "never seen" for most new fingerprints
    without searching the runs at all.
    """

    RUN = 1 << 16
    BITS = 1 << 25  # 4 MiB; at a million rows three in a hundred new fingerprints need a search

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS // 8)
        self._recent: dict[int, int] = {}
        self._runs: list[tuple[array[int], array[int]]] = []

    def first(self, fingerprint: int, row: int) -> int:
        """The row ``fingerprint`` was first seen on; ``row`` (now remembered) when it is new."""
        bit = fingerprint & (self.BITS - 1)
        byte, mask = bit >> 3, 1 << (bit & 7)
        if self._bits[byte] & mask:
            found = self._recent.get(fingerprint)
            if found is not None:
                return found
            for keys, rows in self._runs:
                at = bisect_left(keys, fingerprint)
                if at < len(keys) and keys[at] == fingerprint:
                    return rows[at]
        else:
            self._bits[byte] |= mask
        self._recent[fingerprint] = row
        if len(self._recent) == self.RUN:
            self._seal()
        return row

    def _seal(self) -> None:
        pairs = sorted(self._recent.items())
        self._recent = {}
        run = (array("q", [key for key, _ in pairs]), array("q", [row for _, row in pairs]))
        del pairs
        while self._runs and len(self._runs[-1][0]) <= len(run[0]):
            older = self._runs.pop()
            keys, rows = array("q"), array("q")
            for key, row in heapq.merge(zip(*older, strict=True), zip(*run, strict=True)):
                keys.append(key)
                rows.append(row)
            run = (keys, rows)
        self._runs.append(run)


class BatchChecks:
    """What only a whole file or request can show: the same receipt twice, and one SKU in one
    warehouse in two currencies (a pool is valued in one currency).

    Memory grows with the rows by about 20 bytes each (see ``FirstRows``), never with their text.
    """

    def __init__(self, noun: str = "row") -> None:
        self._noun = noun
        self._first = FirstRows()
        # By the pool's hash, with the currency and the row that set it.
        self._currencies: dict[int, tuple[str, int]] = {}

    def admit(self, line: ReceiptLine, row: int) -> InputProblem | None:
        first = self._first.first(line.fingerprint, row)
        if first != row:
            return InputProblem(
                row,
                None,
                "",
                f"repeats {self._noun} {first}: same SKU, warehouse, quantity, cost, currency, date and "
                "reference. Give each line its own reference, or add the quantities up",
            )
        currency, since = self._currencies.setdefault(hash(line.pool), (line.currency, row))
        if currency != line.currency:
            return InputProblem(
                row,
                "currency",
                line.currency,
                f"differs from {currency} on {self._noun} {since} for SKU {line.sku} in the same warehouse: "
                "a SKU's stock in one warehouse is valued in one currency",
            )
        return None


def read_receipt_csv(
    lines: Iterable[str], checker: ReceiptChecker, *, whole_file: bool = True
) -> Iterator[CsvRow | FileProblem]:
    """Check a receipts file row by row, in one pass over ``lines`` (text lines with their line
    endings, as from a file opened with ``newline=""``).

    The header names the columns (any order, any case); ``reference`` may be left out. Blank
    lines are skipped. A bad header stops the check: the rows cannot be read without it.
    ``whole_file=False`` leaves out the checks across rows (``BatchChecks``), for a second pass
    over a file already checked whole.
    """
    source = _NumberedLines(lines)
    reader = csv.reader(source, strict=True)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        yield _unreadable(source.number or 1, exc)
        return
    if header is None:
        yield FileProblem((InputProblem(None, None, "", "is empty: the first line must name the columns"),))
        return
    columns = [name.strip().lstrip("\ufeff").lower() for name in header]
    header_errors = _header_errors(columns)
    if header_errors:
        yield FileProblem(tuple(header_errors))
        return
    batch = BatchChecks() if whole_file else None
    start = source.number + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            yield _unreadable(start, exc)
            return
        row, start = start, source.number + 1
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(columns):
            trailing = fields[len(columns) :]
            missing = columns[len(fields) :]
            if any(value.strip() for value in trailing) or not set(missing) <= OPTIONAL_COLUMNS:
                message = f"has {len(fields)} values but the header has {len(columns)} columns"
                yield CsvRow(row, None, (InputProblem(row, None, "", message),))
                continue
        checked = checker.check(dict(zip(columns, fields, strict=False)))
        if isinstance(checked, list):
            yield CsvRow(row, None, tuple(InputProblem(row, e.column, e.value, e.message) for e in checked))
            continue
        problem = batch.admit(checked, row) if batch is not None else None
        yield CsvRow(row, checked) if problem is None else CsvRow(row, None, (problem,))


class _NumberedLines:
    """The lines, counting them: ``csv.reader.line_num`` cannot say where a row started."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.number = 0

    def __iter__(self) -> _NumberedLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.number += 1
        return line


def _unreadable(row: int, exc: Exception) -> FileProblem:
    if isinstance(exc, UnicodeDecodeError):
        message = f"is not UTF-8 text (near line {row}): save it as CSV UTF-8 and import it again"
        return FileProblem((InputProblem(None, None, "", message),))
    message = f"cannot be read as CSV ({exc}); nothing after it was checked"
    return FileProblem((InputProblem(row, None, "", message),))


def _header_errors(columns: list[str]) -> list[InputProblem]:
    return header_problems(columns, known=COLUMNS, required=REQUIRED_COLUMNS, what="a receipts file")


def json_fields(
    item: object, columns: tuple[str, ...] = COLUMNS, noun: str = "receipt"
) -> dict[str, str] | list[FieldError]:
    """An API item's fields (``columns``, of a ``noun``) as the text the checker reads: numbers as
    written, never via float."""
    if not isinstance(item, Mapping):
        return [FieldError("", "", f"must be an object with the {noun}'s fields")]
    errors = [FieldError(str(name), "", f"is not a field of a {noun}") for name in item if name not in columns]
    values: dict[str, str] = {}
    for name in columns:
        value = item.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            errors.append(FieldError(name, shown(str(value)), "must be a string or a number"))
        elif isinstance(value, Decimal):
            values[name] = format(value, "f") if value.is_finite() else str(value)
        else:
            values[name] = str(value)
    return errors or values
