"""Rate tables: zones, weight brackets, dimensional weight, surcharges and validation."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from app.domain.money import Money
from app.domain.shipping.model import Level
from app.domain.shipping.parcels import Dimensions
from app.domain.shipping.promise import Transit
from app.domain.shipping.rates import (
    Area,
    ChargeKind,
    Destination,
    NoRate,
    PostalRange,
    Quote,
    RateTable,
    RateTableError,
    Service,
    Surcharges,
    WeightBracket,
    Zone,
    billable_weight_kg,
    price_shipment,
    quote_all,
)
from tests.unit.domain.shipping.builders import (
    brackets,
    dims,
    make_parcel,
    make_service,
    make_table,
    make_zone,
)

D = Decimal
HOME = Destination("US", "10001", residential=False)


def quoted(result: Quote | NoRate) -> Quote:
    assert isinstance(result, Quote), result
    return result


def charge(quote: Quote, kind: ChargeKind) -> Decimal | None:
    return next((money.amount for found, money in quote.charges if found is kind), None)


def price(weight_kg: str, *, service: Service | None = None, destination: Destination = HOME) -> Quote | NoRate:
    service = service or make_service()
    return price_shipment(make_table(service), service, destination, [make_parcel(weight_kg=weight_kg)])


class TestWeightBrackets:
    @pytest.mark.parametrize(
        ("weight_kg", "expected"),
        [
            pytest.param("0.2", "5.00", id="light"),
            pytest.param("1", "5.00", id="first-bracket-upper-edge-included"),
            pytest.param("1.001", "9.00", id="just-above-first-edge"),
            pytest.param("5", "9.00", id="second-edge"),
            pytest.param("10", "14.00", id="last-edge"),
        ],
    )
    def test_a_parcel_pays_the_first_bracket_its_weight_does_not_exceed(self, weight_kg: str, expected: str) -> None:
        assert quoted(price(weight_kg)).total == Money(D(expected), "USD")

    @pytest.mark.parametrize(
        ("weight_kg", "expected"),
        [
            pytest.param("10.2", "15.25", id="a-started-kg"),
            pytest.param("12", "16.50", id="two-whole-kg"),
            pytest.param("12.01", "17.75", id="third-started-kg"),
        ],
    )
    def test_beyond_the_last_bracket_each_started_kg_is_added(self, weight_kg: str, expected: str) -> None:
        assert quoted(price(weight_kg)).total.amount == D(expected)

    def test_a_zone_without_a_per_kg_price_gives_no_rate_above_its_last_bracket(self) -> None:
        service = make_service(zones=[make_zone(per_kg_beyond=None)])

        result = price("10.5", service=service)

        assert isinstance(result, NoRate)
        assert "10.5 kg" in result.reason
        assert "10 kg" in result.reason


class TestDimensionalWeight:
    def test_a_bulky_light_parcel_bills_its_dimensional_weight(self) -> None:
        parcel = make_parcel(weight_kg="2", dimensions=dims(50, 40, 30))  # 60,000 cm³ / 5000 = 12 kg

        assert billable_weight_kg(parcel, D(5000)) == D(12)

    def test_a_dense_parcel_bills_its_actual_weight(self) -> None:
        parcel = make_parcel(weight_kg="15", dimensions=dims(50, 40, 30))

        assert billable_weight_kg(parcel, D(5000)) == D(15)

    def test_the_divisor_is_the_carriers(self) -> None:
        ups = make_service("UPS")
        dhl = make_service("DHL")
        table = make_table(ups, dhl, divisors={"UPS": D(5000), "DHL": D(6000)})
        bulky = [make_parcel(weight_kg="2", dimensions=dims(50, 40, 30))]

        assert quoted(price_shipment(table, ups, HOME, bulky)).billable_weight_kg == D(12)
        assert quoted(price_shipment(table, dhl, HOME, bulky)).billable_weight_kg == D(10)
        assert quoted(price_shipment(table, ups, HOME, bulky)).total.amount == D("16.50")
        assert quoted(price_shipment(table, dhl, HOME, bulky)).total.amount == D("14.00")

    def test_a_carrier_without_a_divisor_bills_actual_weight(self) -> None:
        service = make_service()
        bulky = [make_parcel(weight_kg="2", dimensions=dims(50, 40, 30))]

        quote = quoted(price_shipment(make_table(service), service, HOME, bulky))

        assert quote.billable_weight_kg == D(2)


class TestSurcharges:
    def test_fuel_is_a_percentage_of_the_base_rounded_half_up_to_the_cent(self) -> None:
        service = make_service(surcharges=Surcharges(fuel_pct=D("12.5")))

        quote = quoted(price("3", service=service))  # base 9.00, fuel 1.125

        assert charge(quote, ChargeKind.BASE) == D("9.00")
        assert charge(quote, ChargeKind.FUEL) == D("1.13")
        assert quote.total.amount == D("10.13")

    def test_residential_is_added_only_for_a_residential_address(self) -> None:
        service = make_service(surcharges=Surcharges(residential=D("4.10")))
        home = Destination("US", "10001", residential=True)

        assert charge(quoted(price("1", service=service, destination=home)), ChargeKind.RESIDENTIAL) == D("4.10")
        assert charge(quoted(price("1", service=service)), ChargeKind.RESIDENTIAL) is None

    @pytest.mark.parametrize(
        ("postal_code", "remote"),
        [
            pytest.param("99501", True, id="prefix"),
            pytest.param("96701", True, id="range-start"),
            pytest.param("96898", True, id="range-end"),
            pytest.param("96899", False, id="past-range"),
            pytest.param("10001", False, id="mainland"),
        ],
    )
    def test_remote_areas_are_matched_by_postal_prefix_or_range(self, postal_code: str, remote: bool) -> None:
        remote_areas = (Area("US", ("995",), (PostalRange("96701", "96898"),)),)
        service = make_service(surcharges=Surcharges(remote_area=D("3.50"), remote_areas=remote_areas))

        quote = quoted(price("1", service=service, destination=Destination("US", postal_code, residential=False)))

        assert charge(quote, ChargeKind.REMOTE_AREA) == (D("3.50") if remote else None)

    @pytest.mark.parametrize(
        ("dimensions", "oversize"),
        [
            pytest.param(dims(120, 30, 20), False, id="longest-side-at-limit"),
            pytest.param(dims("120.1", 30, 20), True, id="longest-side-over"),
            pytest.param(dims(100, 50, 50), False, id="girth-at-limit"),  # 100 + 2 × 100 = 300
            pytest.param(dims(100, 50, "50.5"), True, id="girth-over"),
            pytest.param(dims(30, 100, 20), False, id="turned-parcel-measured-by-its-longest-side"),
        ],
    )
    def test_oversize_applies_when_a_side_or_length_plus_girth_exceeds_its_limit(
        self, dimensions: Dimensions, oversize: bool
    ) -> None:
        surcharges = Surcharges(oversize=D("25"), oversize_longest_side_cm=D(120), oversize_length_plus_girth_cm=D(300))
        service = make_service(surcharges=surcharges)
        parcel = make_parcel(weight_kg="1", dimensions=dimensions)

        quote = quoted(price_shipment(make_table(service), service, HOME, [parcel]))

        assert charge(quote, ChargeKind.OVERSIZE) == (D("25.00") if oversize else None)

    def test_surcharges_are_billed_per_parcel_and_the_breakdown_adds_up_to_the_total(self) -> None:
        surcharges = Surcharges(
            fuel_pct=D("10"), residential=D("4.10"), oversize=D("25"), oversize_longest_side_cm=D(100)
        )
        service = make_service(surcharges=surcharges)
        parcels = [make_parcel(weight_kg="1"), make_parcel(weight_kg="3", dimensions=dims(110, 20, 20))]
        home = Destination("US", "10001", residential=True)

        quote = quoted(price_shipment(make_table(service), service, home, parcels))

        assert dict(quote.charges) == {
            ChargeKind.BASE: Money(D("14.00"), "USD"),
            ChargeKind.FUEL: Money(D("1.40"), "USD"),
            ChargeKind.RESIDENTIAL: Money(D("8.20"), "USD"),
            ChargeKind.OVERSIZE: Money(D("25.00"), "USD"),
        }
        assert quote.total == Money(D("48.60"), "USD")
        assert quote.billable_weight_kg == D(4)

    def test_amounts_are_rounded_to_the_currencys_minor_unit(self) -> None:
        zone = make_zone(bracket_prices=[("5", "1210")])
        service = make_service(zones=[zone], surcharges=Surcharges(fuel_pct=D("7.3")))

        quote = quoted(price_shipment(make_table(service, currency="JPY"), service, HOME, [make_parcel()]))

        assert charge(quote, ChargeKind.FUEL) == D("88")  # 88.33 yen
        assert quote.total == Money(D("1298"), "JPY")


class TestZones:
    def test_the_first_zone_covering_the_destination_prices_it(self) -> None:
        near = make_zone("near", areas=[Area("US", ("100", "101"))], bracket_prices=[("5", "6.00")], transit=(1, 2))
        rest = make_zone("rest", areas=[Area("US")], bracket_prices=[("5", "11.00")], transit=(4, 6))
        service = make_service(zones=[near, rest])

        near_quote = quoted(price("2", service=service))
        far_quote = quoted(price("2", service=service, destination=Destination("US", "94103", residential=False)))

        assert (near_quote.zone, near_quote.total.amount, near_quote.transit) == ("near", D("6.00"), Transit(1, 2))
        assert (far_quote.zone, far_quote.total.amount, far_quote.transit) == ("rest", D("11.00"), Transit(4, 6))

    @pytest.mark.parametrize(
        ("postal_code", "covered"),
        [
            pytest.param("EH1 1YZ", True, id="range-start-with-space"),
            pytest.param("eh99 9zz", True, id="lower-case"),
            pytest.param("EH", False, id="shorter-than-the-bounds"),
            pytest.param("G1 1AA", False, id="outside"),
            pytest.param("AB10 1AA", True, id="prefix"),
        ],
    )
    def test_postal_ranges_and_prefixes_ignore_spaces_and_case(self, postal_code: str, covered: bool) -> None:
        scotland = make_zone("scotland", areas=[Area("GB", ("ab",), (PostalRange("EH1", "EH9"),))])
        service = make_service(zones=[scotland])

        result = price("1", service=service, destination=Destination("GB", postal_code, residential=False))

        assert isinstance(result, Quote) is covered

    def test_an_unknown_destination_gets_no_rate_and_says_why(self) -> None:
        result = price("1", destination=Destination("CA", "M5V 2T6", residential=False))

        assert result == NoRate("UPS", "Ground", "no zone covers CA M5V 2T6")

    def test_nothing_to_ship_gets_no_rate(self) -> None:
        service = make_service()

        assert isinstance(price_shipment(make_table(service), service, HOME, []), NoRate)

    def test_quote_all_prices_every_service_of_the_table(self) -> None:
        ground = make_service("UPS", "Ground")
        canada_only = make_service(
            "CanadaPost", "Expedited", level=Level.EXPEDITED, zones=[make_zone(areas=[Area("CA")])]
        )
        table = make_table(ground, canada_only)

        results = quote_all(table, HOME, [make_parcel()])

        assert [type(result) for result in results] == [Quote, NoRate]
        assert "UPS Ground to zone US: 5.00 USD" in quoted(results[0]).explain()


class TestValidation:
    @pytest.mark.parametrize(
        ("build", "field"),
        [
            pytest.param(lambda: WeightBracket(D(0), D(5)), "up_to_kg", id="bracket-zero-weight"),
            pytest.param(lambda: WeightBracket(D(1), D(-5)), "price", id="bracket-negative-price"),
            pytest.param(lambda: WeightBracket(D("NaN"), D(5)), "up_to_kg", id="bracket-nan"),
            pytest.param(lambda: Area("us"), "country", id="country-lower-case"),
            pytest.param(lambda: Area("USA"), "country", id="country-three-letters"),
            pytest.param(lambda: Area("US", (" ",)), "postal_prefixes", id="empty-prefix"),
            pytest.param(lambda: PostalRange("100", "2000"), "postal_ranges", id="range-lengths-differ"),
            pytest.param(lambda: PostalRange("200", "100"), "postal_ranges", id="range-reversed"),
            pytest.param(lambda: make_zone(areas=[]), "areas", id="zone-without-areas"),
            pytest.param(lambda: make_zone(bracket_prices=[]), "brackets", id="zone-without-brackets"),
            pytest.param(lambda: make_zone(bracket_prices=[("5", "9"), ("5", "10")]), "up_to_kg", id="brackets-flat"),
            pytest.param(lambda: make_zone(bracket_prices=[("5", "9"), ("2", "4")]), "up_to_kg", id="brackets-fall"),
            pytest.param(lambda: make_zone(per_kg_beyond="-1"), "per_kg_beyond", id="per-kg-negative"),
            pytest.param(lambda: Zone(" ", (Area("US"),), brackets(("1", "1")), Transit(1, 1)), "zone", id="zone-name"),
            pytest.param(lambda: Surcharges(fuel_pct=D(-1)), "fuel_pct", id="fuel-negative"),
            pytest.param(lambda: Surcharges(residential=D(-1)), "residential", id="residential-negative"),
            pytest.param(lambda: Surcharges(remote_area=D(-1)), "remote_area", id="remote-negative"),
            pytest.param(lambda: Surcharges(oversize=D(-1)), "oversize", id="oversize-negative"),
            pytest.param(
                lambda: Surcharges(oversize_longest_side_cm=D(0)), "oversize_longest_side_cm", id="oversize-side-zero"
            ),
            pytest.param(
                lambda: Surcharges(oversize_length_plus_girth_cm=D(0)),
                "oversize_length_plus_girth_cm",
                id="oversize-girth-zero",
            ),
            pytest.param(lambda: make_service(carrier=""), "carrier", id="no-carrier"),
            pytest.param(lambda: make_service(service=" "), "service", id="no-service"),
            pytest.param(lambda: make_service(zones=[]), "zones", id="no-zones"),
            pytest.param(
                lambda: Service("UPS", "Ground", Level.STANDARD, (make_zone(),), delivery_weekdays=frozenset({7})),
                "delivery_weekdays",
                id="weekday-out-of-range",
            ),
            pytest.param(
                lambda: Service("UPS", "Ground", Level.STANDARD, (make_zone(),), delivery_weekdays=frozenset()),
                "delivery_weekdays",
                id="no-delivery-days",
            ),
            pytest.param(lambda: RateTable(" ", "USD", ()), "warehouse", id="no-warehouse"),
            pytest.param(lambda: make_table(currency="usd"), "currency", id="currency-lower-case"),
            pytest.param(lambda: make_table(divisors={"UPS": D(0)}), "dim_divisor[UPS]", id="divisor-zero"),
            pytest.param(lambda: make_table(make_service(), make_service()), "service", id="duplicate-service"),
        ],
    )
    def test_a_bad_entry_is_refused_naming_its_field(self, build: Callable[[], object], field: str) -> None:
        with pytest.raises(RateTableError) as refused:
            build()

        assert refused.value.field == field
        assert str(refused.value).startswith(f"{field}: ")
