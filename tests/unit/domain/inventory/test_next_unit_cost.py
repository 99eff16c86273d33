from decimal import Decimal

import pytest

from app.domain.inventory import Method, empty_pool, next_unit_cost
from tests.unit.domain.inventory.builders import issue, receipt, run


@pytest.mark.parametrize(
    ("method", "expected"),
    [(Method.FIFO, "10"), (Method.LIFO, "16"), (Method.AVCO, "12")],
)
def test_the_next_unit_costs_what_the_method_would_take(method: Method, expected: str) -> None:
    moves = [receipt(id="R1", quantity=8, unit_cost="10"), receipt(id="R2", quantity=4, unit_cost="16", day=1)]
    pool, _ = run(moves, method)
    assert next_unit_cost(pool) == Decimal(expected)


def test_an_empty_pool_offers_its_last_known_cost() -> None:
    assert next_unit_cost(empty_pool("SKU", "W", "USD", unit_cost=Decimal("9"))) == Decimal("9")
    pool, _ = run([receipt(id="R1", quantity=2, unit_cost="7"), issue(id="I1", quantity=2, day=1)], Method.FIFO)
    assert next_unit_cost(pool) == Decimal("7")
