from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.domain.fraud import (
    AddressFacts,
    CardFacts,
    CheckResult,
    FraudPolicy,
    History,
    PaymentInput,
    ShippingLevel,
    Stage,
)
from app.domain.fraud.model import CheckEvidence
from app.domain.fraud.signals import (
    AddressComparison,
    above_customer_history,
    account_age_hours,
    card_expired,
    combine_address_checks,
    compare_billing_shipping,
    customer_ip,
    derive_signals,
    distinct_cards,
    email_matches_name,
    high_value_threshold,
    high_value_unit_threshold,
    ip_country,
    is_disposable_domain,
    is_reshipper,
    order_check,
    payment_avs,
    payment_card,
    payment_cvv,
    read_check_word,
    read_letter_code,
    shipping_level,
    store_history_sufficient,
    worst_check,
)
from tests.unit.domain.fraud.builders import NOW, make_address, make_guest_order, make_history, make_order, make_payment

M, P, X, U = CheckResult.MATCH, CheckResult.PARTIAL, CheckResult.MISMATCH, CheckResult.UNAVAILABLE
POLICY = FraudPolicy()


def meta(**values: str) -> PaymentInput:
    return PaymentInput(metadata=values)


class TestAvsLetters:
    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            pytest.param("Y", M, id="Y-street-and-zip5"),
            pytest.param("X", M, id="X-street-and-zip9"),
            pytest.param("D", M, id="D-international-match"),
            pytest.param("F", M, id="F-uk-match"),
            pytest.param("M", M, id="M-international-match"),
            pytest.param("A", P, id="A-street-only"),
            pytest.param("B", P, id="B-street-postal-unverified"),
            pytest.param("P", P, id="P-postal-street-unverified"),
            pytest.param("W", P, id="W-zip9-only"),
            pytest.param("Z", P, id="Z-zip5-only"),
            pytest.param("N", X, id="N-no-match"),
            pytest.param("U", U, id="U-unavailable"),
            pytest.param("R", U, id="R-retry"),
            pytest.param("S", U, id="S-not-supported"),
            pytest.param("G", U, id="G-non-us-issuer"),
            pytest.param("E", U, id="E-error"),
            pytest.param("C", U, id="C-incompatible-formats"),
            pytest.param("I", U, id="I-not-verified"),
        ],
    )
    def test_each_network_letter_maps_to_its_result(self, code: str, expected: CheckResult) -> None:
        assert payment_avs(meta(avs_result=code), POLICY) == CheckEvidence(expected, f"avs_result={code}")

    @pytest.mark.parametrize("code", [pytest.param(" y ", id="padded-lower"), pytest.param("y", id="lower")])
    def test_letters_are_read_without_case_or_padding(self, code: str) -> None:
        assert read_letter_code(code, POLICY.derived.avs_codes) is M

    @pytest.mark.parametrize("code", [pytest.param("Q", id="unknown-letter"), pytest.param("YY", id="two-letters")])
    def test_unknown_codes_are_unavailable(self, code: str) -> None:
        assert payment_avs(meta(avs_result=code), POLICY) == CheckEvidence(U, f"avs_result={code}")

    def test_missing_keys_give_no_evidence(self) -> None:
        assert payment_avs(meta(other="Y"), POLICY) is None

    def test_blank_value_counts_as_missing(self) -> None:
        assert payment_avs(meta(avs_result="  "), POLICY) is None

    def test_letter_code_wins_over_stripe_words(self) -> None:
        payment = meta(avs_result="N", address_line1_check="pass", address_postal_code_check="pass")
        assert payment_avs(payment, POLICY) == CheckEvidence(X, "avs_result=N")

    def test_keys_and_letters_are_configurable(self) -> None:
        policy = FraudPolicy(avs_keys=("psp_avs", "avs"), avs_codes={"q": M})
        assert payment_avs(meta(avs="Q"), policy) == CheckEvidence(M, "avs=Q")
        assert payment_avs(meta(psp_avs="Y", avs="Q"), policy) == CheckEvidence(U, "psp_avs=Y")


class TestCvvLetters:
    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            pytest.param("M", M, id="M-match"),
            pytest.param("N", X, id="N-no-match"),
            pytest.param("P", U, id="P-not-processed"),
            pytest.param("S", U, id="S-should-be-present"),
            pytest.param("U", U, id="U-issuer-not-certified"),
            pytest.param("Z", U, id="unknown-letter"),
        ],
    )
    def test_each_network_letter_maps_to_its_result(self, code: str, expected: CheckResult) -> None:
        assert payment_cvv(meta(cvv_result=code), POLICY) == CheckEvidence(expected, f"cvv_result={code}")

    @pytest.mark.parametrize(
        ("word", "expected"),
        [
            pytest.param("pass", M, id="pass"),
            pytest.param("fail", X, id="fail"),
            pytest.param("unavailable", U, id="unavailable"),
            pytest.param("unchecked", U, id="unchecked"),
            pytest.param("PASS", M, id="upper-case"),
            pytest.param("maybe", U, id="unknown-word"),
        ],
    )
    def test_stripe_cvc_check_words(self, word: str, expected: CheckResult) -> None:
        assert payment_cvv(meta(cvc_check=word), POLICY) == CheckEvidence(expected, f"cvc_check={word}")

    def test_missing_keys_give_no_evidence(self) -> None:
        assert payment_cvv(meta(avs_result="Y"), POLICY) is None

    def test_check_words_are_configurable(self) -> None:
        policy = FraudPolicy(cvv_check_keys=("cvc",), check_words={"ok": M, "bad": X})
        assert payment_cvv(meta(cvc="OK"), policy) == CheckEvidence(M, "cvc=OK")
        assert payment_cvv(meta(cvc_check="pass"), policy) is None


class TestStripeAddressChecks:
    @pytest.mark.parametrize(
        ("street", "postal", "expected"),
        [
            pytest.param("pass", "pass", M, id="both-pass"),
            pytest.param("pass", "fail", P, id="street-only"),
            pytest.param("fail", "pass", P, id="postal-only"),
            pytest.param("unchecked", "pass", P, id="postal-pass-street-unchecked"),
            pytest.param("fail", "fail", X, id="both-fail"),
            pytest.param("fail", "unavailable", X, id="fail-and-unavailable"),
            pytest.param("unavailable", "unchecked", U, id="neither-checked"),
        ],
    )
    def test_two_checks_become_one_avs_result(self, street: str, postal: str, expected: CheckResult) -> None:
        payment = meta(address_line1_check=street, address_postal_code_check=postal)
        evidence = payment_avs(payment, POLICY)
        assert evidence == CheckEvidence(expected, f"address_line1_check={street}, address_postal_code_check={postal}")

    def test_one_check_alone_still_counts(self) -> None:
        assert payment_avs(meta(address_postal_code_check="pass"), POLICY) == CheckEvidence(
            P, "address_postal_code_check=pass"
        )

    @pytest.mark.parametrize(
        ("street", "postal", "expected"),
        [
            pytest.param(None, None, None, id="nothing"),
            pytest.param(M, None, P, id="one-match"),
            pytest.param(X, None, X, id="one-mismatch"),
            pytest.param(U, None, U, id="one-unavailable"),
        ],
    )
    def test_combine(
        self, street: CheckResult | None, postal: CheckResult | None, expected: CheckResult | None
    ) -> None:
        assert combine_address_checks(street, postal) is expected

    def test_read_check_word_defaults_to_unavailable(self) -> None:
        assert read_check_word("???", POLICY.derived.check_words) is U


class TestOrderCheck:
    def test_no_payments_means_no_result(self) -> None:
        assert order_check((), POLICY, cvv=False) is None

    def test_payments_without_any_check_are_unavailable(self) -> None:
        assert order_check((meta(),), POLICY, cvv=True) == CheckEvidence(U, "no result in the payment data")

    def test_the_worst_payment_decides(self) -> None:
        payments = (meta(avs_result="Y"), meta(avs_result="N"), meta(avs_result="A"))
        assert order_check(payments, POLICY, cvv=False) == CheckEvidence(X, "avs_result=N")

    @pytest.mark.parametrize(
        ("results", "expected"),
        [
            pytest.param([U, M], M, id="match-beats-unavailable"),
            pytest.param([M, P], P, id="partial-beats-match"),
            pytest.param([P, X, M], X, id="mismatch-beats-all"),
            pytest.param([], None, id="empty"),
        ],
    )
    def test_worst_check_ranks(self, results: list[CheckResult], expected: CheckResult | None) -> None:
        worst = worst_check([CheckEvidence(result, "") for result in results])
        assert (worst.result if worst else None) is expected


class TestPaymentCard:
    def test_saleor_fields_win_over_metadata(self) -> None:
        payment = make_payment(metadata={"card_bin": "555555", "card_last4": "1111"})
        card = payment_card(payment, POLICY)
        assert (card.bin, card.last4, card.brand) == ("424242", "4242", "visa")

    def test_metadata_fills_what_saleor_lacks(self) -> None:
        payment = PaymentInput(
            metadata={
                "card_brand": "Mastercard",
                "card_bin": "555555",
                "card_last4": "**** 1111",
                "card_country": "gb",
                "card_exp_month": "03",
                "card_exp_year": "27",
            },
            card=CardFacts(brand=None),
        )
        assert payment_card(payment, POLICY) == CardFacts("mastercard", "555555", "1111", 3, 2027, "GB")

    @pytest.mark.parametrize(
        "metadata",
        [
            pytest.param({"card_bin": "12", "card_last4": "12", "card_exp_month": "13"}, id="too-short-and-bad-month"),
            pytest.param({"card_exp_month": "x", "card_exp_year": "20266"}, id="not-numbers"),
            pytest.param({}, id="nothing"),
        ],
    )
    def test_unreadable_values_are_dropped(self, metadata: dict[str, str]) -> None:
        card = payment_card(PaymentInput(metadata=metadata), POLICY)
        assert (card.bin, card.last4, card.exp_month, card.exp_year) == (None, None, None, None)

    @pytest.mark.parametrize(
        ("month", "year", "expired"),
        [
            pytest.param(10, 2026, True, id="last-month"),
            pytest.param(11, 2026, False, id="this-month-is-still-valid"),
            pytest.param(1, 2027, False, id="next-year"),
            pytest.param(None, 2020, False, id="unknown-month"),
        ],
    )
    def test_card_expired(self, month: int | None, year: int, expired: bool) -> None:
        assert card_expired(CardFacts(exp_month=month, exp_year=year), NOW) is expired

    def test_distinct_cards_by_bin_and_last4(self) -> None:
        cards = [
            CardFacts(bin="42424242", last4="4242"),
            CardFacts(bin="424242", last4="4242"),
            CardFacts(bin="555555", last4="4242"),
            CardFacts(last4="1111"),
            CardFacts(bin="411111"),
        ]
        assert [(c.bin, c.last4) for c in distinct_cards(cards)] == [
            ("42424242", "4242"),
            ("555555", "4242"),
            (None, "1111"),
        ]


class TestCustomerIp:
    def test_order_ip_first(self) -> None:
        order = make_order(customer_ip="203.0.113.7", payments=(meta(customer_ip="198.51.100.1"),))
        assert customer_ip(order, POLICY) == "203.0.113.7"

    def test_falls_back_to_payment_metadata(self) -> None:
        order = make_order(customer_ip="not-an-ip", payments=(meta(), meta(customer_ip="198.51.100.1")))
        assert customer_ip(order, POLICY) == "198.51.100.1"

    def test_ipv4_mapped_ipv6_is_read_as_ipv4(self) -> None:
        assert customer_ip(make_order(customer_ip="::ffff:203.0.113.7"), POLICY) == "203.0.113.7"

    def test_none_when_nothing_readable(self) -> None:
        assert customer_ip(make_order(customer_ip=None, payments=(meta(customer_ip="x"),)), POLICY) is None

    def test_ip_country_from_service_then_metadata(self) -> None:
        assert ip_country(make_order(customer_ip_country="de"), POLICY) == "DE"
        order = make_order(customer_ip_country=None, payments=(meta(ip_country="bad"), meta(ip_country="ng")))
        assert ip_country(order, POLICY) == "NG"
        assert ip_country(make_order(customer_ip_country=None, payments=()), POLICY) is None


class TestBillingVersusShipping:
    @pytest.mark.parametrize(
        ("shipping", "expected"),
        [
            pytest.param(make_address(), AddressComparison.MATCH, id="same"),
            pytest.param(make_address(postal_code="94 103", country_area="ca"), AddressComparison.MATCH, id="spacing"),
            pytest.param(make_address(postal_code="94105"), AddressComparison.DIFFER, id="other-postal-code"),
            pytest.param(make_address(country_area="NY", postal_code="10001"), AddressComparison.DIFFER, id="region"),
            pytest.param(make_address(country="GB"), AddressComparison.COUNTRY_MISMATCH, id="other-country"),
        ],
    )
    def test_compare(self, shipping: AddressFacts, expected: AddressComparison) -> None:
        assert compare_billing_shipping(make_address(), shipping) is expected


class TestReshipper:
    POLICY = FraudPolicy(
        reshipper_addresses=(
            make_address(street="7855 NW 37th St", postal_code="33166", country="US"),
            make_address(street="Unit 4, Heathrow Cargo Centre", postal_code="", country="GB"),
        )
    )

    @pytest.mark.parametrize(
        "address",
        [
            pytest.param(make_address(street="7855 NW 37th St, Suite 1-12345", postal_code="33166"), id="with-suite"),
            pytest.param(make_address(street="7855 N.W. 37th Street #12345", postal_code="33166"), id="spelled-out"),
            pytest.param(
                make_address(street="unit 4 heathrow cargo centre", country="GB", postal_code="TW6 2JS"), id="gb"
            ),
        ],
    )
    def test_matches_listed_forwarders(self, address: AddressFacts) -> None:
        assert is_reshipper(address, self.POLICY)

    @pytest.mark.parametrize(
        "address",
        [
            pytest.param(make_address(street="7855 NW 37th St", postal_code="33167"), id="other-postal-code"),
            pytest.param(make_address(street="17855 NW 37th St", postal_code="33166"), id="other-number"),
            pytest.param(make_address(street="7855 NW 37th St", postal_code="33166", country="CA"), id="other-country"),
        ],
    )
    def test_does_not_match_other_addresses(self, address: AddressFacts) -> None:
        assert not is_reshipper(address, self.POLICY)

    def test_no_list_no_match(self) -> None:
        assert not is_reshipper(make_address(), FraudPolicy())


class TestCustomerSignals:
    @pytest.mark.parametrize(
        ("domain", "disposable"),
        [
            pytest.param("mailinator.com", True, id="listed"),
            pytest.param("eu.mailinator.com", True, id="subdomain-of-listed"),
            pytest.param("example.com", False, id="ordinary"),
            pytest.param("gmail.com", False, id="free-but-real"),
        ],
    )
    def test_disposable_domains(self, domain: str, disposable: bool) -> None:
        assert is_disposable_domain(domain) is disposable

    @pytest.mark.parametrize(
        ("email", "first", "last", "expected"),
        [
            pytest.param("john.smith@example.com", "John", "Smith", True, id="full-name"),
            pytest.param("jsmith99@example.com", "John", "Smith", True, id="initial-surname"),
            pytest.param("smithj@example.com", "John", "Smith", True, id="surname-initial"),
            pytest.param("jli@example.com", "Jo", "Li", True, id="short-names-combined"),
            pytest.param("jose.garcia@example.com", "José", "García", True, id="accents"),
            pytest.param("li@example.com", "", "Li", True, id="short-single-name-exact"),
            pytest.param("deals4821@example.com", "Maria", "Lopez", False, id="unrelated"),
            pytest.param("1234@example.com", "Maria", "Lopez", False, id="digits-only"),
            pytest.param("x@example.com", "", "", None, id="no-name"),
        ],
    )
    def test_email_matches_name(self, email: str, first: str, last: str, expected: bool | None) -> None:
        assert email_matches_name(email, first, last) is expected

    @pytest.mark.parametrize(
        ("joined", "hours"),
        [
            pytest.param(NOW - timedelta(hours=5), 5.0, id="five-hours"),
            pytest.param(NOW + timedelta(hours=1), 0.0, id="clock-skew-is-zero"),
            pytest.param(datetime(2026, 11, 26, 10, 0), 2.0, id="naive-read-as-utc"),  # noqa: DTZ001
            pytest.param(None, None, id="guest"),
        ],
    )
    def test_account_age_hours(self, joined: datetime | None, hours: float | None) -> None:
        assert account_age_hours(joined, NOW) == hours


class TestShippingLevel:
    @pytest.mark.parametrize(
        ("name", "level"),
        [
            pytest.param("Standard (UPS Ground)", ShippingLevel.STANDARD, id="ground"),
            pytest.param("Express (2-day)", ShippingLevel.EXPEDITED, id="express"),
            pytest.param("USPS Priority Mail", ShippingLevel.EXPEDITED, id="priority"),
            pytest.param("Overnight (FedEx Priority)", ShippingLevel.OVERNIGHT, id="overnight-beats-priority"),
            pytest.param("DHL Next Day", ShippingLevel.OVERNIGHT, id="next-day"),
            pytest.param(None, ShippingLevel.STANDARD, id="no-method"),
        ],
    )
    def test_level_from_name(self, name: str | None, level: ShippingLevel) -> None:
        assert shipping_level(name, POLICY) is level

    def test_keywords_are_configurable(self) -> None:
        policy = FraudPolicy(overnight_keywords=("Blitz",), expedited_keywords=("Schnell",))
        assert shipping_level("DHL Blitz", policy) is ShippingLevel.OVERNIGHT
        assert shipping_level("schnellversand", policy) is ShippingLevel.EXPEDITED
        assert shipping_level("Overnight", policy) is ShippingLevel.STANDARD


class TestOrderValue:
    def test_high_value_is_a_multiple_of_the_store_median(self) -> None:
        assert high_value_threshold(make_history(), POLICY) == Decimal("150.00")

    @pytest.mark.parametrize(
        "history",
        [
            pytest.param(make_history(store_order_count=19), id="too-few-orders"),
            pytest.param(make_history(store_median_total=None), id="no-median"),
            pytest.param(make_history(store_median_total=Decimal(0)), id="zero-median"),
        ],
    )
    def test_thin_history_falls_back_to_the_fixed_amount(self, history: History) -> None:
        assert not store_history_sufficient(history, POLICY)
        assert high_value_threshold(history, POLICY) is None
        fixed = FraudPolicy(high_value_order_total=Decimal("400"))
        assert high_value_threshold(history, fixed) == Decimal("400")

    def test_unit_threshold_prefers_the_merchant_setting(self) -> None:
        assert high_value_unit_threshold(make_history(), FraudPolicy(high_value_unit_price=Decimal("99"))) == 99
        assert high_value_unit_threshold(make_history(), POLICY) == Decimal("50.00")
        assert high_value_unit_threshold(make_history(store_order_count=0), POLICY) is None

    @pytest.mark.parametrize(
        ("total", "history", "above"),
        [
            pytest.param("165", make_history(), False, id="exactly-3x-is-not-above"),
            pytest.param("165.01", make_history(), True, id="above-3x"),
            pytest.param("900", make_history(customer_order_count=0), False, id="first-order"),
            pytest.param("900", make_history(customer_average_total=None), False, id="no-average"),
        ],
    )
    def test_above_customer_history(self, total: str, history: History, above: bool) -> None:
        assert above_customer_history(Decimal(total), history, POLICY) is above


class TestDeriveSignals:
    def test_reads_every_field_of_a_full_order(self) -> None:
        order = make_order(
            email="Maria.Lopez@Mailinator.com",
            billing=make_address(
                country="gb", country_area="", postal_code="N8 7NB", first_name="Maria", last_name="Lopez"
            ),
            shipping=make_address(street="7855 NW 37th St", postal_code="33166", country_area="FL"),
            shipping_method="Express (2-day)",
            customer_ip_country="NG",
            payments=(make_payment({"avs_result": "Z", "cvv_result": "N"}),),
        )
        policy = FraudPolicy(reshipper_addresses=(make_address(street="7855 NW 37th St", postal_code="33166"),))
        signals = derive_signals(order, make_history(), policy, stage=Stage.PAID, now=NOW)
        assert asdict(signals) == {
            "stage": Stage.PAID,
            "channel": "default-channel",
            "currency": "USD",
            "total": Decimal("60.00"),
            "shipping_amount": Decimal("10.00"),
            "item_count": 2,
            "email": "maria.lopez@mailinator.com",
            "email_domain": "mailinator.com",
            "disposable_email": True,
            "customer_id": "VXNlcjox",
            "is_guest": False,
            "customer_order_count": 2,
            "account_age_hours": (NOW - datetime(2025, 1, 1, tzinfo=UTC)).total_seconds() / 3600,
            "billing_country": "GB",
            "shipping_country": "US",
            "billing_vs_shipping": AddressComparison.COUNTRY_MISMATCH,
            "reshipper": True,
            "shipping_address_key": "US|33166|7855 nw 37th st",
            "shipping_level": ShippingLevel.EXPEDITED,
            "shipping_method": "Express (2-day)",
            "ip": "203.0.113.7",
            "ip_country": "NG",
            "cards": (
                {"brand": "visa", "bin": "424242", "last4": "4242", "exp_month": 12, "exp_year": 2028, "country": "US"},
            ),
            "card_keys": ("424242:4242",),
            "avs": {"result": P, "source": "avs_result=Z"},
            "cvv": {"result": X, "source": "cvv_result=N"},
            "email_name_match": True,
        }
        assert not signals.first_order
        assert signals.reference_country == "GB"
        assert signals.countries == ("GB", "US", "NG")

    def test_an_empty_order_reads_as_unknowns(self) -> None:
        order = make_guest_order(
            email="not an email",
            billing=None,
            shipping=None,
            shipping_method=None,
            payments=(),
            customer_ip=None,
            customer_ip_country=None,
            lines=(),
        )
        signals = derive_signals(order, make_history(customer_order_count=0), POLICY, stage=Stage.CREATED, now=NOW)
        assert (signals.email, signals.avs, signals.cvv, signals.ip, signals.cards) == (None, None, None, None, ())
        assert (signals.billing_country, signals.shipping_country, signals.billing_vs_shipping) == (None, None, None)
        assert signals.is_guest
        assert signals.first_order
        assert signals.account_age_hours is None
        assert signals.reference_country is None
        assert signals.email_name_match is None

    def test_name_comes_from_shipping_when_billing_has_none(self) -> None:
        order = make_order(billing=make_address(first_name="", last_name=""))
        signals = derive_signals(order, make_history(), POLICY, stage=Stage.PAID, now=NOW)
        assert signals.email_name_match is True

    def test_account_age_is_not_read_for_guests(self) -> None:
        order = make_order(customer_id=None, customer_joined_at=datetime(2020, 1, 1, tzinfo=UTC))
        assert derive_signals(order, make_history(), POLICY, stage=Stage.PAID, now=NOW).account_age_hours is None
