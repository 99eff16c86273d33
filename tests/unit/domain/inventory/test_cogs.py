import json
from decimal import Decimal

import pytest

from app.domain.inventory import Method, MoveKind, SaleLine, cogs_summary, replay, returnable_layers
from tests.unit.domain.inventory.builders import (
    OTHER_WAREHOUSE,
    issue,
    make_move,
    odoo_example,
    pool,
    receipt,
    run,
    take,
)

D = Decimal


def _return(*, id: str, quantity: int, of: str, cost_of: object, day: int, line: str = "line-1"):
    return make_move(
        MoveKind.CUSTOMER_RETURN,
        id=id,
        quantity=quantity,
        day=day,
        cost_of=cost_of,  # type: ignore[arg-type]
        related_move_id=of,
        reference=line,
    )


class TestCogsSummary:
    def test_writes_the_ops_cogs_shape_for_the_worked_example(self) -> None:
        _, postings = run(odoo_example())
        document = cogs_summary([SaleLine("line-1", "SKU-1", D("200"))], postings, currency="USD")
        assert document == {
            "v": 1,
            "method": "fifo",
            "currency": "USD",
            "revenue": "200.00",
            "cogs": "112.00",
            "grossMargin": "88.00",
            "marginPct": "44.00",
            "lines": [
                {
                    "lineId": "line-1",
                    "sku": "SKU-1",
                    "quantity": 10,
                    "cogs": "112.00",
                    "layers": [
                        {"receiptId": "R1", "quantity": 8, "unitCost": "10.00"},
                        {"receiptId": "R2", "quantity": 2, "unitCost": "16.00"},
                    ],
                }
            ],
        }
        assert json.loads(json.dumps(document)) == document

    def test_avco_lines_show_the_average_with_six_places_at_most(self) -> None:
        moves = [
            receipt(id="R1", quantity=1, unit_cost="10", day=1),
            receipt(id="R2", quantity=2, unit_cost="12", day=2),
            issue(id="I1", quantity=1, day=3, reference="line-1"),
        ]
        _, postings = run(moves, Method.AVCO)
        document = cogs_summary([SaleLine("line-1", "SKU-1", D("20"))], postings, currency="USD")
        assert document["method"] == "avco"
        assert document["cogs"] == "11.33"
        assert document["lines"][0]["layers"] == [{"receiptId": "R1", "quantity": 1, "unitCost": "11.333333"}]

    def test_a_later_correction_replaces_the_provisional_cost_on_the_line(self) -> None:
        moves = [
            receipt(id="R1", quantity=3, unit_cost="10", day=1),
            issue(id="I1", quantity=5, day=2, reference="line-1"),
            receipt(id="R2", quantity=4, unit_cost="12", day=3),
        ]
        _, postings = run(moves)
        before = cogs_summary([SaleLine("line-1", "SKU-1", D("100"))], postings[:2], currency="USD")
        after = cogs_summary([SaleLine("line-1", "SKU-1", D("100"))], postings, currency="USD")
        assert before["cogs"] == "50.00"
        assert before["lines"][0]["layers"][-1] == {"receiptId": None, "quantity": 2, "unitCost": "10.00"}
        assert after["cogs"] == "54.00"
        assert after["lines"][0]["layers"] == [
            {"receiptId": "R1", "quantity": 3, "unitCost": "10.00"},
            {"receiptId": "R2", "quantity": 2, "unitCost": "12.00"},
        ]

    def test_a_return_lowers_the_line_s_quantity_cogs_and_layers(self) -> None:
        _, booked = run(odoo_example())
        moves = [*odoo_example(), _return(id="C1", quantity=3, of="I1", cost_of=booked[2].layers, day=5)]
        _, postings = run(moves)
        document = cogs_summary([SaleLine("line-1", "SKU-1", D("140"))], postings, currency="USD")
        line = document["lines"][0]
        assert (line["quantity"], line["cogs"]) == (7, "70.00")
        assert line["layers"] == [{"receiptId": "R1", "quantity": 7, "unitCost": "10.00"}]
        assert document["marginPct"] == "50.00"

    def test_lines_without_postings_are_listed_with_nothing_issued(self) -> None:
        _, postings = run(odoo_example())
        document = cogs_summary(
            [SaleLine("line-1", "SKU-1", D("200")), SaleLine("line-2", "SKU-2", D("0"))], postings, currency="USD"
        )
        assert document["lines"][1] == {"lineId": "line-2", "sku": "SKU-2", "quantity": 0, "cogs": "0.00", "layers": []}

    @pytest.mark.parametrize(
        ("revenue", "margin", "pct"),
        [
            pytest.param("0", "-112.00", None, id="no-revenue"),
            pytest.param("100", "-12.00", "-12.00", id="loss"),
            pytest.param("300", "188.00", "62.67", id="half-up"),
        ],
    )
    def test_margin_is_revenue_less_cogs_over_revenue(self, revenue: str, margin: str, pct: str | None) -> None:
        _, postings = run(odoo_example())
        document = cogs_summary([SaleLine("line-1", "SKU-1", D(revenue))], postings, currency="USD")
        assert (document["grossMargin"], document["marginPct"]) == (margin, pct)

    def test_rounds_to_the_currency_and_never_writes_negative_zero(self) -> None:
        moves = [receipt(id="R1", quantity=3, unit_cost="0.001", day=1), issue(id="I1", quantity=1, reference="l")]
        _, postings = run(moves, Method.AVCO)
        document = cogs_summary([SaleLine("l", "SKU-1", D("-0.001"))], postings, currency="USD")
        assert (document["revenue"], document["cogs"]) == ("0.00", "0.00")

    @pytest.mark.parametrize(
        ("currency", "cogs", "unit_cost"),
        [
            pytest.param("JPY", "112", "10", id="no-minor-unit"),
            pytest.param("KWD", "112.000", "10.000", id="three-places"),
        ],
    )
    def test_uses_the_currency_s_places(self, currency: str, cogs: str, unit_cost: str) -> None:
        moves = [
            receipt(id="R1", quantity=8, unit_cost="10", day=1, currency=currency),
            receipt(id="R2", quantity=4, unit_cost="16", day=2, currency=currency),
            issue(id="I1", quantity=10, day=3, reference="line-1", currency=currency),
        ]
        _, postings = run(moves, currency=currency)
        document = cogs_summary([SaleLine("line-1", "SKU-1", D(200))], postings, currency=currency)
        assert document["cogs"] == cogs
        assert document["lines"][0]["layers"][0]["unitCost"] == unit_cost

    def test_an_explicit_method_wins_and_corrections_of_other_moves_are_ignored(self) -> None:
        moves = [
            make_move(MoveKind.ADJUSTMENT_OUT, id="W1", quantity=1, day=1),
            issue(id="I1", quantity=1, day=2, reference="line-1"),
            receipt(id="R1", quantity=2, unit_cost="5", day=3),
        ]
        _, postings = run(moves)
        assert [c.move_id for c in postings[-1].corrections] == ["W1", "I1"]
        document = cogs_summary([SaleLine("line-1", "SKU-1", D(10))], postings, currency="USD", method=Method.AVCO)
        assert (document["method"], document["cogs"]) == ("avco", "5.00")

    def test_method_can_be_given_and_must_be_when_nothing_was_issued(self) -> None:
        document = cogs_summary([SaleLine("line-1", "SKU-1", D(1))], [], currency="USD", method=Method.LIFO)
        assert document["method"] == "lifo"
        with pytest.raises(ValueError, match="pass the method"):
            cogs_summary([SaleLine("line-1", "SKU-1", D(1))], [], currency="USD")

    @pytest.mark.parametrize("method", [pytest.param(method, id=method.value) for method in Method])
    def test_a_landed_cost_on_units_a_line_has_out_is_its_cost_and_a_return_brings_it_back(
        self, method: Method
    ) -> None:
        moves = [
            receipt(id="R1", quantity=10, unit_cost="10", day=1),
            issue(id="I1", quantity=4, day=2, reference="line-1"),
            make_move(MoveKind.LANDED_COST, id="L1", quantity=10, day=3, receipt_id="R1", amount="20"),
            # Freight of another warehouse's receipt of the same id is not this line's.
            make_move(
                MoveKind.LANDED_COST, id="L2", quantity=1, day=3, receipt_id="R1", amount="9", warehouse=OTHER_WAREHOUSE
            ),
        ]
        _, postings = run([*moves[:3]], method)
        elsewhere = [receipt(id="R1", quantity=1, unit_cost="1", warehouse=OTHER_WAREHOUSE), moves[3]]
        landed_elsewhere = replay(elsewhere, pool(warehouse=OTHER_WAREHOUSE))[1][-1]
        line = SaleLine("line-1", "SKU-1", D(100))
        shipped = cogs_summary([line], [*postings, landed_elsewhere], currency="USD")["lines"][0]
        assert (shipped["cogs"], shipped["layers"]) == (
            "48.00",
            [{"receiptId": "R1", "quantity": 4, "unitCost": "12.00"}],
        )

        back = _return(id="C1", quantity=2, of="I1", cost_of=returnable_layers(postings[1], postings[2:]), day=4)
        _, postings = run([*moves[:3], back], method)
        kept = cogs_summary([line], postings, currency="USD")["lines"][0]
        assert (kept["quantity"], kept["cogs"], kept["layers"]) == (
            2,
            "24.00",
            [{"receiptId": "R1", "quantity": 2, "unitCost": "12.00"}],
        )

    def test_refuses_postings_in_another_currency(self) -> None:
        _, postings = run(odoo_example())
        with pytest.raises(ValueError, match="not EUR"):
            cogs_summary([SaleLine("line-1", "SKU-1", D(1))], postings, currency="EUR")


class TestReturnableLayers:
    def test_an_issue_s_layers_as_corrected_less_what_came_back_already(self) -> None:
        moves = [
            receipt(id="R1", quantity=3, unit_cost="10", day=1),
            issue(id="I1", quantity=5, day=2, reference="line-1"),
            receipt(id="R2", quantity=4, unit_cost="12", day=3),
        ]
        _, postings = run(moves)
        sold = postings[1]
        assert returnable_layers(sold, postings[2:]) == (take("R1", 3, "10"), take("R2", 2, "12"))
        first_return = _return(id="C1", quantity=2, of="I1", cost_of=returnable_layers(sold, postings[2:]), day=4)
        _, with_return = run([*moves, first_return])
        assert list(with_return[-1].layers) == [take("R2", 2, "12")]
        assert returnable_layers(sold, with_return[2:]) == (take("R1", 3, "10"),)

    def test_ignores_corrections_and_returns_of_other_issues(self) -> None:
        moves = [
            issue(id="I1", quantity=1, day=1),
            issue(id="I2", quantity=1, day=2),
            receipt(id="R1", quantity=2, unit_cost="5", day=3),
            _return(id="C1", quantity=1, of="I2", cost_of=[take("R1", 1, "5")], day=4),
        ]
        _, postings = run(moves)
        assert returnable_layers(postings[0], postings[1:]) == (take("R1", 1, "5"),)
