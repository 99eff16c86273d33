from datetime import date
from decimal import Decimal

import pytest

from app.dashboard.inventory.report_views import (
    CHART_HEIGHT,
    file_name,
    layers_text,
    money,
    money_text,
    percent,
    period_label,
    unit_cost,
    value_chart,
)
from app.dashboard.view_models import parse_locale
from app.domain.inventory import LayerTake, Period, ValuePoint, unit_cost_text

EN, PL = parse_locale("en"), parse_locale("pl")


class TestAmounts:
    @pytest.mark.parametrize(
        ("amount", "currency", "text"),
        [
            pytest.param("112", "USD", "112.00", id="usd"),
            pytest.param("0.125", "USD", "0.13", id="half-up"),
            pytest.param("-0.004", "USD", "0.00", id="never-minus-zero"),
            pytest.param("-0.00", "USD", "0.00", id="minus-zero-given"),
            pytest.param("111.5", "JPY", "112", id="jpy"),
            pytest.param("1.2345", "KWD", "1.235", id="kwd"),
        ],
    )
    def test_csv_amounts_are_rounded_half_up_to_the_currency(self, amount: str, currency: str, text: str) -> None:
        assert money_text(Decimal(amount), currency) == text

    def test_page_amounts_follow_the_locale(self) -> None:
        assert money(Decimal("1234.5"), "USD", EN) == "$1,234.50"
        assert money(Decimal("-0.001"), "EUR", PL) == "0,00\xa0€"

    def test_unit_costs_keep_six_places_at_most_and_the_currencys_at_least(self) -> None:
        assert unit_cost_text(Decimal("10"), "USD") == "10.00"
        assert unit_cost_text(Decimal("11.3333333"), "USD") == "11.333333"
        assert unit_cost_text(Decimal("10"), "JPY") == "10"

    def test_a_unit_cost_on_a_page_shows_its_currency_like_the_value_beside_it(self) -> None:
        assert unit_cost(Decimal("1234.5"), "USD", PL) == "1\xa0234,50\xa0USD"
        assert unit_cost(Decimal("11.3333333"), "USD", EN) == "$11.333333"
        assert unit_cost(Decimal("10.000000"), "USD", EN) == "$10.00"
        assert unit_cost(Decimal("10"), "JPY", EN) == "¥10"

    def test_margin_percent_has_two_places_or_a_dash(self) -> None:
        assert percent(Decimal("44.00"), EN) == "44.00%"
        assert percent(None, EN) == "–"


class TestLabels:
    @pytest.mark.parametrize(
        ("period", "label"),
        [
            pytest.param(Period.DAY, "Nov 2, 2026", id="day"),
            pytest.param(Period.WEEK, "Week of Nov 2, 2026", id="week"),
            pytest.param(Period.MONTH, "Nov 2026", id="month"),
            pytest.param(Period.QUARTER, "Q4 2026", id="quarter"),
            pytest.param(Period.YEAR, "2026", id="year"),
        ],
    )
    def test_periods_are_named_for_people(self, period: Period, label: str) -> None:
        assert period_label(date(2026, 11, 2), period, EN) == label

    def test_layers_say_where_the_units_came_from(self) -> None:
        takes = [LayerTake("R1", 2, Decimal("10")), LayerTake(None, 1, Decimal("9.5"))]
        assert layers_text(takes, "USD") == "2 from R1 @ 10.00; 1 beyond stock @ 9.50"

    def test_file_names_are_safe_in_a_header(self) -> None:
        assert file_name("moves", 'SKU "1"/2', "") == "moves-SKU_1_2.csv"


class TestValueChart:
    def points(self, *values: str) -> list[ValuePoint]:
        return [ValuePoint(date(2026, month, 1), 1, Decimal(value)) for month, value in enumerate(values, start=1)]

    def test_draws_one_vertex_per_period_inside_the_picture(self) -> None:
        chart = value_chart(self.points("80", "144", "32", "44"), "USD", Period.MONTH, EN)
        vertices = [tuple(map(float, pair.split(","))) for pair in chart.line.split()]
        assert len(vertices) == len(chart.markers) == 4
        assert all(chart.left <= x <= chart.right and 0 <= y <= CHART_HEIGHT for x, y in vertices)
        assert vertices[1][1] < vertices[0][1] < vertices[3][1] < vertices[2][1]  # higher value, higher up
        assert [mark.label for mark in chart.y_labels] == ["$0.00", "$48.00", "$96.00", "$144.00"]
        assert chart.summary.endswith("$80.00 to $44.00, lowest $32.00, highest $144.00.")

    def test_labels_at_most_six_periods_the_outer_ones_leaning_inwards(self) -> None:
        chart = value_chart(self.points(*["1"] * 12), "USD", Period.MONTH, EN)
        assert [mark.label for mark in chart.x_labels] == [
            "Jan 2026",
            "Mar 2026",
            "May 2026",
            "Aug 2026",
            "Oct 2026",
            "Dec 2026",
        ]
        assert [mark.anchor for mark in chart.x_labels] == ["start", "middle", "middle", "middle", "middle", "end"]

    def test_a_single_flat_period_still_draws(self) -> None:
        chart = value_chart(self.points("0"), "USD", Period.MONTH, EN)
        assert chart.line == f"{(chart.left + chart.right) / 2},{chart.baseline}"
        assert [mark.anchor for mark in chart.x_labels] == ["middle"]
