"""What the benchmarks report about their timings."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

Number = TypeVar("Number", int, float)


def percentile(values: Sequence[Number], p: float) -> Number:
    """The nearest-rank ``p``-th percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def pin_to_cpu(cpu: int | None) -> str:
    """Keep a single-threaded benchmark on one core (the first allowed unless named), so rounds compare;
    says where it runs."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    chosen = cpu if cpu is not None else min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {chosen})
    return f"pinned to CPU {chosen}"
