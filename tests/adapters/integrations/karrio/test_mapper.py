"""Golden conversions between our shipping shapes and Karrio's models, without any carrier."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from karrio.core import models as karrio

from app.domain.money import Money
from app.domain.shipping.model import Level
from app.domain.shipping.parcels import Dimensions, Parcel
from app.domain.shipping.promise import Transit
from app.domain.shipping.rates import ChargeKind, Quote
from app.integrations.karrio import mapper
from app.services.shipping.model import CarrierAccount, Place, RateRequest

THURSDAY = date(2026, 12, 3)
PARCEL = Parcel(None, (), Decimal("1.234"), Dimensions(Decimal("30.04"), Decimal(20), Decimal("15.5")), "one box")
REQUEST = RateRequest(
    "W-EAST",
    Place("US", "10001", "New York", "NY", "350 5th Ave"),
    Place("US", "90001", "Los Angeles", "", ""),
    True,
    (PARCEL, PARCEL),
    "USD",
)


def _account(carrier: str = "ups", **levels: Level) -> CarrierAccount:
    return CarrierAccount(1, carrier, "Main", {}, True, True, datetime(2026, 12, 1, tzinfo=UTC), levels)


def _rate(service: str = "ups_ground", total: float = 18.64, **fields: object) -> karrio.RateDetails:
    values: dict[str, object] = {"currency": "USD", "transit_days": 3, "extra_charges": [], **fields}
    return karrio.RateDetails(carrier_name="ups", carrier_id="ups", service=service, total_charge=total, **values)


def _charge(name: str, amount: float, currency: str = "USD") -> karrio.ChargeDetails:
    return karrio.ChargeDetails(name=name, amount=amount, currency=currency)


class TestRateRequest:
    def test_sends_kilograms_and_centimetres_rounded_up_with_the_ship_date(self) -> None:
        request = mapper.karrio_rate_request(REQUEST, THURSDAY)
        assert (request.shipper.country_code, request.shipper.postal_code, request.shipper.state_code) == (
            "US",
            "10001",
            "NY",
        )
        assert (request.recipient.postal_code, request.recipient.state_code, request.recipient.residential) == (
            "90001",
            None,  # no area given: none sent rather than an empty one
            True,
        )
        first = request.parcels[0]
        assert (first.weight, first.weight_unit, first.dimension_unit) == (1.24, "KG", "CM")
        assert (first.length, first.width, first.height) == (30.1, 20.0, 15.5)
        assert len(request.parcels) == 2
        assert request.options == {"shipment_date": "2026-12-03", "currency": "USD"}
        assert request.services == []  # every service, so that each level finds its cheapest

    def test_a_business_address_goes_with_its_company_and_not_as_residential(self) -> None:
        office = replace(REQUEST.destination, company_name="Acme Corp")
        request = mapper.karrio_rate_request(replace(REQUEST, destination=office, residential=False), THURSDAY)
        assert (request.recipient.company_name, request.recipient.residential) == ("Acme Corp", False)
        assert mapper.karrio_rate_request(REQUEST, THURSDAY).recipient.company_name is None


class TestQuote:
    def test_golden_quote_with_its_surcharges(self) -> None:
        rate = _rate(
            extra_charges=[
                _charge("BASE CHARGE", 12.3),
                _charge("FUEL SURCHARGE", 2.09),
                _charge("RESIDENTIAL ADDRESS", 4.25),
            ]
        )
        assert mapper.to_quote(_account(), REQUEST, rate, THURSDAY) == Quote(
            warehouse_id="W-EAST",
            carrier="ups",
            service="ups_ground",
            level=Level.STANDARD,
            zone="live",
            total=Money(Decimal("18.64"), "USD"),
            charges=(
                (ChargeKind.BASE, Money(Decimal("12.30"), "USD")),
                (ChargeKind.FUEL, Money(Decimal("2.09"), "USD")),
                (ChargeKind.RESIDENTIAL, Money(Decimal("4.25"), "USD")),
            ),
            billable_weight_kg=Decimal("2.468"),
            transit=Transit(3, 3),
            delivery_weekdays=frozenset({0, 1, 2, 3, 4}),
            guaranteed=False,
        )

    def test_karrio_floats_arrive_as_their_decimal_not_their_binary_value(self) -> None:
        quote = mapper.to_quote(_account(), REQUEST, _rate(total=0.1), THURSDAY)
        assert isinstance(quote, Quote)
        assert quote.total.amount == Decimal("0.10")

    @pytest.mark.parametrize(
        ("name", "kind"),
        [
            pytest.param("Fuel Surcharge", ChargeKind.FUEL, id="fuel"),
            pytest.param("RESIDENTIAL ADDRESS", ChargeKind.RESIDENTIAL, id="residential"),
            pytest.param("REMOTE AREA DELIVERY", ChargeKind.REMOTE_AREA, id="remote"),
            pytest.param("DELIVERY AREA", ChargeKind.REMOTE_AREA, id="delivery-area"),
            pytest.param("Extended Area Surcharge", ChargeKind.REMOTE_AREA, id="extended-area"),
            pytest.param("LARGE PACKAGE", ChargeKind.OVERSIZE, id="large-package"),
            pytest.param("ADDITIONAL HANDLING", ChargeKind.OVERSIZE, id="additional-handling"),
            pytest.param("HST", ChargeKind.TAX, id="hst"),
            pytest.param("Taxes", ChargeKind.TAX, id="taxes"),
            pytest.param("Base charge", ChargeKind.BASE, id="base"),
            pytest.param("SIGNATURE REQUIRED", ChargeKind.SURCHARGE, id="other"),
            pytest.param("Postage", ChargeKind.SURCHARGE, id="post-is-not-pst"),
        ],
    )
    def test_charge_names_map_onto_kinds(self, name: str, kind: ChargeKind) -> None:
        assert mapper.charge_kind(name) is kind

    def test_discounts_and_unnamed_parts_stay_in_the_base_so_the_charges_add_up(self) -> None:
        charges = [_charge("Base charge", 14.27), _charge("Automation discount", -0.37), _charge("Fuel surcharge", 1.1)]
        total = Money(Decimal("15.00"), "CAD")
        itemised = mapper.itemise(total, [_charge(c.name, c.amount, "CAD") for c in charges])
        assert itemised == (
            (ChargeKind.BASE, Money(Decimal("13.90"), "CAD")),
            (ChargeKind.FUEL, Money(Decimal("1.10"), "CAD")),
        )

    def test_charges_in_another_currency_are_not_itemised(self) -> None:
        itemised = mapper.itemise(Money(Decimal("10.00"), "USD"), [_charge("Fuel", 2.0, "EUR")])
        assert itemised == ((ChargeKind.BASE, Money(Decimal("10.00"), "USD")),)

    def test_itemisation_above_the_total_leaves_the_total_as_the_base(self) -> None:
        itemised = mapper.itemise(Money(Decimal("10.00"), "USD"), [_charge("Fuel", 8.0), _charge("Residential", 4.0)])
        assert itemised == ((ChargeKind.BASE, Money(Decimal("10.00"), "USD")),)

    def test_the_accounts_override_sets_the_level_and_keeps_the_guarantee(self) -> None:
        account = _account(ups_2nd_day_air=Level.OVERNIGHT, ups_worldwide_saver=Level.EXPEDITED)
        air = mapper.to_quote(account, REQUEST, _rate("ups_2nd_day_air"), THURSDAY)
        saver = mapper.to_quote(account, REQUEST, _rate("ups_worldwide_saver"), THURSDAY)
        assert isinstance(air, Quote)
        assert isinstance(saver, Quote)
        assert (air.level, air.guaranteed) == (Level.OVERNIGHT, True)
        assert saver.level is Level.EXPEDITED

    def test_a_service_without_a_level_is_left_out_with_the_reason(self) -> None:
        outcome = mapper.to_quote(_account(), REQUEST, _rate("ups_access_point_economy_eu"), THURSDAY)
        assert outcome == "ups ups_access_point_economy_eu has no service level: give it one on the Main account"

    def test_a_rate_in_another_currency_is_left_out(self) -> None:
        outcome = mapper.to_quote(_account(), REQUEST, _rate(currency="CAD"), THURSDAY)
        assert outcome == "ups ups_ground was quoted in CAD, the checkout is in USD"

    def test_a_rate_without_a_price_is_left_out(self) -> None:
        assert mapper.to_quote(_account(), REQUEST, _rate(total=0.0), THURSDAY) == "ups ups_ground came without a price"


class TestTransit:
    def test_unknown_transit_stays_unknown_never_zero_days(self) -> None:
        outcome = mapper.to_quote(_account(), REQUEST, _rate(transit_days=None), THURSDAY)
        assert outcome == "ups ups_ground came without a transit time, so it cannot keep a promise: left out"

    def test_same_day_is_zero_days_when_the_carrier_says_so(self) -> None:
        assert mapper.transit_of(_rate(transit_days=0), THURSDAY, mapper.delivery_weekdays("ups")) == Transit(0, 0)

    def test_an_estimated_date_counts_the_carriers_delivery_days_after_the_ship_date(self) -> None:
        rate = _rate(transit_days=None, estimated_delivery="2026-12-08")  # Thursday → Tuesday
        assert mapper.transit_of(rate, THURSDAY, mapper.delivery_weekdays("ups")) == Transit(3, 3)
        assert mapper.transit_of(rate, THURSDAY, mapper.delivery_weekdays("usps")) == Transit(4, 4)

    def test_an_estimated_date_before_the_ship_date_is_no_transit(self) -> None:
        rate = _rate(transit_days=None, estimated_delivery="2026-12-01")
        assert mapper.transit_of(rate, THURSDAY, mapper.delivery_weekdays("ups")) is None


class TestAggregators:
    def test_an_easypost_rate_is_the_delivering_carriers_with_karrios_service_name(self) -> None:
        rate = karrio.RateDetails(
            carrier_name="easypost",
            carrier_id="easypost",
            service="GroundAdvantage",
            currency="USD",
            total_charge=9.86,
            transit_days=4,
            meta={"rate_provider": "usps"},
        )
        quote = mapper.to_quote(_account("easypost"), REQUEST, rate, THURSDAY)
        assert isinstance(quote, Quote)
        assert (quote.carrier, quote.service, quote.level) == ("usps", "easypost_usps_ground_advantage", Level.STANDARD)
        assert quote.delivery_weekdays == frozenset({0, 1, 2, 3, 4, 5})

    def test_usps_guarantee_from_the_answer_counts(self) -> None:
        rate = _rate("usps_priority_mail", meta={"usps_guaranteed_delivery": True})
        quote = mapper.to_quote(_account("usps"), REQUEST, rate, THURSDAY)
        assert isinstance(quote, Quote)
        assert quote.guaranteed


class TestMessages:
    def test_only_errors_are_failures(self) -> None:
        messages = [
            karrio.Message(carrier_name="fedex", carrier_id="fedex", message="Virtual response", level="info"),
            karrio.Message(carrier_name="fedex", carrier_id="fedex", message="Rates may vary", level="warning"),
            karrio.Message(carrier_name="fedex", carrier_id="fedex", message="Bad account", code="ACCOUNT.INVALID"),
        ]
        assert mapper.carrier_errors(messages) == ["ACCOUNT.INVALID: Bad account"]
