"""Valuation of a million moves: the incremental API under FIFO, LIFO and AVCO.

A seeded generator plays a year of a store with K SKUs in two warehouses: sales (issues of
1-3 units, the bulk), receipts when stock runs low (sized back up to a target, at the SKU's
cost +/- 10 %), late receipts that let sales run stock negative for a while (corrected when
the receipt lands), customer returns (at the cost they left with, as the service loads it
from the issue's posting), supplier returns from the latest receipt, count gains and
write-offs, transfers between the warehouses and landed costs on recent receipts.

Each method values the same history with ``apply_move`` (and ``apply_transfer`` for
transfers), one move at a time onto the pool's current state, as the service will: no
replay, nothing kept per move. Moves are generated in chunks outside the timed section, so
the seconds are valuation only (wall and CPU); each chunk is valued R times from the same
(immutable) pools and the fastest run counts, which filters out other processes on a shared
machine (the single-run total is shown too); the chunk itself is frozen out of the garbage
collector's generations, as the service never holds thousands of moves. Each method runs in its own process, whose
peak RSS is reported; a second, untimed pass sizes the pools at each quarter of the history
(they track open layers, not history) and finds the most open layers any pool held.

    .venv/bin/python -m bench.valuation [--moves N] [--skus K] [--seed S] [--chunk C] [--repeat R] [--no-memory]

Target: at most 3 s per method for 1,000,000 moves over 1,000 SKUs. Exits non-zero only
when something crashes, never because a target is missed.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import itertools
import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.domain.inventory import (
    CostPool,
    LayerTake,
    Method,
    Move,
    MoveKind,
    apply_move,
    apply_transfer,
    empty_pool,
)

WAREHOUSES = ("WH-EAST", "WH-WEST")
CURRENCY = "USD"
START = datetime(2025, 1, 1, tzinfo=UTC)
STEP = timedelta(seconds=31)  # a million moves span about a year
TARGET_SECONDS = 3.0
TRANSFER_OUT = MoveKind.TRANSFER_OUT  # a module constant: an enum attribute costs ~80 ns per lookup
CENT = Decimal("0.01")


@dataclass
class SimulatedPool:
    """What the generator knows of a pool (not the valuation): stock, receipts, orders due."""

    base_cost: Decimal
    stock: int = 0
    receipt_due_in: int = -1  # moves of this pool until the ordered receipt lands; -1: none ordered
    last_receipt: tuple[str, int, Decimal] | None = None
    recent_issues: list[str] = field(default_factory=list)


class History:
    """Deterministic moves for a seed; the same sequence every time it is iterated."""

    def __init__(self, moves: int, skus: int, seed: int) -> None:
        self.moves, self.skus, self.seed = moves, skus, seed

    def chunks(self, size: int) -> Iterator[list[Move]]:
        rng = random.Random(self.seed)
        pools = {
            (f"SKU-{number:05d}", warehouse): SimulatedPool(Decimal(rng.randint(100, 20_000)) / 100)
            for number in range(self.skus)
            for warehouse in WAREHOUSES
        }
        keys = list(pools)
        weights = [0.7 if warehouse == WAREHOUSES[0] else 0.3 for _, warehouse in keys]
        cumulative = list(itertools.accumulate(weights))
        chunk: list[Move] = []
        for number in range(self.moves):
            key = rng.choices(keys, cum_weights=cumulative)[0]
            chunk.append(self._next(rng, number, key, pools[key], pools))
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _next(
        self,
        rng: random.Random,
        number: int,
        key: tuple[str, str],
        pool: SimulatedPool,
        pools: dict[tuple[str, str], SimulatedPool],
    ) -> Move:
        sku, warehouse = key
        at = START + number * STEP
        move_id = f"M{number}"

        def move(kind: MoveKind, quantity: int, **fields: object) -> Move:
            return Move(
                id=move_id,
                kind=kind,
                sku=sku,
                warehouse=warehouse,
                at=at,
                quantity=quantity,
                currency=CURRENCY,
                seq=number,
                **fields,  # type: ignore[arg-type]
            )

        if pool.receipt_due_in > 0:
            pool.receipt_due_in -= 1
        if pool.receipt_due_in == 0:
            pool.receipt_due_in = -1
            quantity = max(rng.randint(20, 80) - pool.stock, 10)
            cost = (pool.base_cost * Decimal(rng.uniform(0.9, 1.1))).quantize(CENT)
            pool.stock += quantity
            pool.last_receipt = (move_id, quantity, cost)
            return move(MoveKind.RECEIPT, quantity, unit_cost=cost, reference=f"PO-{number}")
        if pool.stock < 15 and pool.receipt_due_in < 0:
            # Usually the supplier delivers within a few sales; one time in ten it is late enough
            # for sales to run the stock negative until the receipt arrives.
            pool.receipt_due_in = rng.randint(12, 40) if rng.random() < 0.1 else rng.randint(1, 4)
        roll = rng.random()
        receipt = pool.last_receipt
        if roll < 0.015 and pool.recent_issues and receipt is not None:
            issue_id = pool.recent_issues.pop()
            pool.stock += 1
            taken = (LayerTake(receipt[0], 1, receipt[2]),)
            return move(MoveKind.CUSTOMER_RETURN, 1, cost_of=taken, related_move_id=issue_id, reference=issue_id)
        if roll < 0.018 and receipt is not None and pool.stock > 5:
            pool.stock -= 2
            return move(MoveKind.RETURN_TO_SUPPLIER, 2, receipt_id=receipt[0], unit_cost=receipt[2])
        if roll < 0.022:
            pool.stock += 1
            return move(MoveKind.ADJUSTMENT_IN, 1)
        if roll < 0.028 and pool.stock > 0:
            pool.stock -= 1
            return move(MoveKind.ADJUSTMENT_OUT, 1, reference="write-off")
        if roll < 0.031 and pool.stock > 30:
            other = WAREHOUSES[1] if warehouse == WAREHOUSES[0] else WAREHOUSES[0]
            quantity = rng.randint(5, 20)
            pool.stock -= quantity
            pools[sku, other].stock += quantity
            return move(MoveKind.TRANSFER_OUT, quantity, counterpart_warehouse=other)
        if roll < 0.033 and receipt is not None:
            amount = (receipt[2] * receipt[1] * Decimal(rng.uniform(0.02, 0.12))).quantize(CENT)
            return move(MoveKind.LANDED_COST, receipt[1], receipt_id=receipt[0], amount=amount)
        quantity = 1 if rng.random() < 0.7 else rng.randint(2, 3)
        pool.stock -= quantity
        pool.recent_issues.append(move_id)
        del pool.recent_issues[:-20]
        return move(MoveKind.ISSUE, quantity, reference=f"line-{number}")


@dataclass
class Run:
    method: Method
    moves: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    first_wall: float = 0.0
    value: Decimal = Decimal(0)
    cogs: Decimal = Decimal(0)
    corrections: int = 0
    max_open: int = 0
    state: list[tuple[int, int]] = field(default_factory=list)  # (open layers, bytes) at each quarter
    max_rss_kib: int = 0


def value_chunk(pools: dict[tuple[str, str], CostPool], chunk: list[Move], method: Method) -> tuple[Decimal, int]:
    """The timed loop: each move applied to its pool's current state, as the service does.
    Returns the chunk's COGS and the number of negative-stock corrections."""
    cogs = Decimal(0)
    corrections = 0
    for move in chunk:
        key = (move.sku, move.warehouse)
        pool = pools.get(key) or empty_pool(move.sku, move.warehouse, CURRENCY, method)
        if move.kind is TRANSFER_OUT:
            other = (move.sku, move.counterpart_warehouse or "")
            destination = pools.get(other) or empty_pool(move.sku, other[1], CURRENCY, method)
            pool, pools[other], posting, _ = apply_transfer(pool, destination, move, in_move_id=move.id + "-in")
        else:
            pool, posting = apply_move(pool, move)
        pools[key] = pool
        cogs += posting.cogs
        if posting.corrections:
            corrections += len(posting.corrections)
    return cogs, corrections


def time_method(history: History, method: Method, chunk_size: int, repeat: int) -> Run:
    """Each chunk is valued ``repeat`` times from the same pools (they are immutable, so a copy
    of the dict is a true snapshot) and the fastest counts: the usual best-of-N that filters
    out other processes on a shared machine. ``first_wall`` is the single-run total."""
    run = Run(method)
    pools: dict[tuple[str, str], CostPool] = {}
    for chunk in history.chunks(chunk_size):
        # The chunk of input moves is an artefact of the bench (the service holds one move per
        # request): keep the cyclic garbage collector from re-scanning it on every collection.
        gc.freeze()
        walls, cpus = [], []
        for _ in range(repeat):
            attempt = dict(pools)
            wall, cpu = time.perf_counter(), time.process_time()
            cogs, corrections = value_chunk(attempt, chunk, method)
            cpus.append(time.process_time() - cpu)
            walls.append(time.perf_counter() - wall)
        pools = attempt
        run.cogs += cogs
        run.corrections += corrections
        run.first_wall += walls[0]
        run.wall += min(walls)
        run.cpu += min(cpus)
        run.moves += len(chunk)
    run.value = sum((pool.value for pool in pools.values()), Decimal(0))
    return run


def measure_state(history: History, method: Method, chunk_size: int, run: Run) -> None:
    """Untimed second pass: the pools' size at each quarter and the most open layers in a pool."""
    pools: dict[tuple[str, str], CostPool] = {}
    quarters = {history.moves * part // 4 for part in (1, 2, 3, 4)}
    seen = 0
    for chunk in history.chunks(chunk_size):
        for move in chunk:
            key = (move.sku, move.warehouse)
            pool = pools.get(key) or empty_pool(move.sku, move.warehouse, CURRENCY, method)
            if move.kind is MoveKind.TRANSFER_OUT:
                other = (move.sku, move.counterpart_warehouse or "")
                destination = pools.get(other) or empty_pool(move.sku, other[1], CURRENCY, method)
                pool, destination, _, _ = apply_transfer(pool, destination, move, in_move_id=move.id + "-in")
                pools[other] = destination
                run.max_open = max(run.max_open, len(destination.layers) + len(destination.shortfalls))
            else:
                pool, _ = apply_move(pool, move)
            pools[key] = pool
            run.max_open = max(run.max_open, len(pool.layers) + len(pool.shortfalls))
            seen += 1
            if seen in quarters:
                run.state.append(state_size(pools))


def state_size(pools: dict[tuple[str, str], CostPool]) -> tuple[int, int]:
    """Open layers and shortfalls, and the bytes the pools hold (deep; shared objects once)."""
    seen: set[int] = set()
    size = 0
    entries = 0

    def add(thing: object) -> None:
        nonlocal size
        if id(thing) not in seen:
            seen.add(id(thing))
            size += sys.getsizeof(thing)

    for pool in pools.values():
        add(pool)
        for part in (pool.value, pool.unit_cost, pool.layers, pool.shortfalls):
            add(part)
        for entry in (*pool.layers, *pool.shortfalls):
            entries += 1
            add(entry)
            for field_value in entry:
                add(field_value)
    return entries, size


def child(args: argparse.Namespace) -> int:
    """One method in this process, so that its peak RSS is its own; prints one JSON line."""
    history = History(args.moves, args.skus, args.seed)
    method = Method(args.method)
    run = time_method(history, method, args.chunk, args.repeat)
    if not args.no_memory:
        measure_state(history, method, args.chunk, run)
    run.max_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    record = {**dataclasses.asdict(run), "method": method.value, "value": str(run.value), "cogs": str(run.cogs)}
    print(json.dumps(record))
    return 0


def run_in_child(args: argparse.Namespace, method: Method) -> Run:
    command = [sys.executable, "-m", "bench.valuation", "--method", method.value]
    command += [
        "--moves",
        str(args.moves),
        "--skus",
        str(args.skus),
        "--seed",
        str(args.seed),
        "--chunk",
        str(args.chunk),
    ]
    if args.no_memory:
        command.append("--no-memory")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    record = json.loads(output.strip().splitlines()[-1])
    return Run(
        method=method,
        moves=record["moves"],
        wall=record["wall"],
        cpu=record["cpu"],
        first_wall=record["first_wall"],
        value=Decimal(record["value"]),
        cogs=Decimal(record["cogs"]),
        corrections=record["corrections"],
        max_open=record["max_open"],
        state=[(entries, size) for entries, size in record["state"]],
        max_rss_kib=record["max_rss_kib"],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=1_000_000)
    parser.add_argument("--skus", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20_251_126)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5, help="time each chunk N times, keep the fastest")
    parser.add_argument("--no-memory", action="store_true", help="skip the untimed pass that sizes the pools")
    parser.add_argument("--method", choices=[method.value for method in Method], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.method:
        return child(args)
    history = History(args.moves, args.skus, args.seed)
    kinds: dict[MoveKind, int] = {}
    for chunk in history.chunks(args.chunk):
        for move in chunk:
            kinds[move.kind] = kinds.get(move.kind, 0) + 1
    mix = ", ".join(f"{kind} {count / args.moves:.1%}" for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1]))
    print(f"{args.moves:,} moves over {args.skus:,} SKUs x {len(WAREHOUSES)} warehouses, seed {args.seed}")
    print(f"  mix: {mix}")
    print(f"  each method in its own process; moves generated in chunks of {args.chunk:,} outside the timing;")
    print(f"  each chunk valued {args.repeat} times from the same pools, fastest kept (single run: 'once s')\n")
    runs = [run_in_child(args, method) for method in Method]
    print(
        f"  {'method':<7}{'wall s':>8}{'cpu s':>8}{'once s':>8}{'us/move':>9}"
        f"{'stock value':>17}{'COGS':>17}{'corrections':>13}"
    )
    for run in runs:
        verdict = "met" if run.wall <= TARGET_SECONDS else "MISSED"
        print(
            f"  {run.method.value:<7}{run.wall:>8.2f}{run.cpu:>8.2f}{run.first_wall:>8.2f}"
            f"{run.wall / run.moves * 1e6:>9.2f}"
            f"{run.value:>17,.2f}{run.cogs:>17,.2f}{run.corrections:>13,}   target <= {TARGET_SECONDS:.0f} s: {verdict}"
        )
    if args.no_memory:
        for run in runs:
            print(f"  {run.method.value:<7} max RSS {run.max_rss_kib / 1024:.0f} MiB")
        return 0
    print(f"\n  {'method':<7}{'max RSS':>9}{'max open':>10}   pool state after 1/4, 1/2, 3/4, all moves: ", end="")
    print("entries / bytes")
    for run in runs:
        quarters = "   ".join(f"{entries:,} / {size / 2**20:.2f} MiB" for entries, size in run.state)
        print(f"  {run.method.value:<7}{run.max_rss_kib / 1024:>5.0f} MiB{run.max_open:>10}   {quarters}")
    print("\n  max open: most layers + shortfalls one pool held after any move; entries: open layers and")
    print("  shortfalls over all pools; bytes: what the pools hold (deep). RSS includes one chunk of moves.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
