"""Signals: small pure functions that read one thing about an order.

Each returns a plain value (a ``CheckResult``, a bool, a number, ``None`` for "cannot tell");
``derive_signals`` runs them once per order into ``OrderSignals``, which the facts, the lists and
the rules all read. Nothing here raises on missing or malformed input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from disposable_email_domains import blocklist

from app.domain.fraud.model import (
    AddressFacts,
    CardFacts,
    CheckEvidence,
    CheckResult,
    History,
    OrderFacts,
    PaymentInput,
    ShippingLevel,
    Stage,
)
from app.domain.fraud.normalise import (
    ascii_fold,
    canonical_address,
    card_key,
    domain_suffixes,
    email_domain,
    normalise_bin,
    normalise_country,
    normalise_email,
    normalise_ip,
    normalise_last4,
    normalise_postal_code,
    street_key,
)
from app.domain.fraud.policy import FraudPolicy

# Worst first: a mismatch anywhere outweighs a match elsewhere; "unavailable" says least.
_CHECK_RANK = {
    CheckResult.UNAVAILABLE: 0,
    CheckResult.MATCH: 1,
    CheckResult.PARTIAL: 2,
    CheckResult.MISMATCH: 3,
}
_LETTERS = re.compile(r"[a-z]+")
_DISPOSABLE: frozenset[str] = frozenset(blocklist)
EVIDENCE_CACHE_SIZE = 1024
_NO_CARD = CardFacts()


_NO_RESULT = CheckEvidence(CheckResult.UNAVAILABLE, "no result in the payment data")


# -- payment checks -----------------------------------------------------------------------------


def _first_value(metadata: Mapping[str, str], keys: Sequence[str]) -> tuple[str, str] | None:
    for key in keys:
        value = metadata.get(key)
        if value and isinstance(value, str) and (value := value.strip()):
            return key, value
    return None


def _meta_value(metadata: Mapping[str, str], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = metadata.get(key)
        if value and isinstance(value, str) and (value := value.strip()):
            return value
    return None


def read_letter_code(code: str, codes: Mapping[str, CheckResult]) -> CheckResult:
    """A card-network letter (case and spaces ignored) → result; an unknown letter is unavailable."""
    return codes.get(code.strip().upper(), CheckResult.UNAVAILABLE)


def read_check_word(word: str, words: Mapping[str, CheckResult]) -> CheckResult:
    """A PSP check word (Stripe's ``pass``/``fail``/``unavailable``/``unchecked``) → result."""
    return words.get(word.strip().lower(), CheckResult.UNAVAILABLE)


def combine_address_checks(street: CheckResult | None, postal: CheckResult | None) -> CheckResult | None:
    """Stripe's two address checks as one AVS result.

    Both match → match; one matches → partial; otherwise any mismatch → mismatch; else
    unavailable; neither present → ``None``.
    """
    present = [result for result in (street, postal) if result is not None]
    if not present:
        return None
    matches = present.count(CheckResult.MATCH)
    if matches == 2:
        return CheckResult.MATCH
    if matches == 1:
        return CheckResult.PARTIAL
    if CheckResult.MISMATCH in present:
        return CheckResult.MISMATCH
    return CheckResult.UNAVAILABLE


def _evidence(
    policy: FraudPolicy, key: tuple[str, ...], make: Callable[[], CheckEvidence | None]
) -> CheckEvidence | None:
    """Evidence is immutable and the raw values repeat (a handful of letters and words), so each
    policy keeps what it read, by (check, keys and raw values found)."""
    cache = policy.derived.evidence
    if key in cache:
        return cache[key]
    evidence = make()
    if len(cache) < EVIDENCE_CACHE_SIZE:
        cache[key] = evidence
    return evidence


def payment_avs(payment: PaymentInput, policy: FraudPolicy) -> CheckEvidence | None:
    """The AVS result of one payment: a letter code first, else Stripe's address checks."""
    derived = policy.derived
    letter = _first_value(payment.metadata, policy.avs_keys)
    if letter is not None:
        name, raw = letter
        return _evidence(
            policy,
            ("avs", name, raw),
            lambda: CheckEvidence(read_letter_code(raw, derived.avs_codes), f"{name}={raw}"),
        )
    street = _first_value(payment.metadata, policy.avs_street_check_keys)
    postal = _first_value(payment.metadata, policy.avs_postal_check_keys)
    if street is None and postal is None:
        return None

    def make() -> CheckEvidence | None:
        combined = combine_address_checks(
            None if street is None else read_check_word(street[1], derived.check_words),
            None if postal is None else read_check_word(postal[1], derived.check_words),
        )
        source = ", ".join(f"{item[0]}={item[1]}" for item in (street, postal) if item is not None)
        return None if combined is None else CheckEvidence(combined, source)

    return _evidence(policy, ("avs-words", *(street or ("", "")), *(postal or ("", ""))), make)


def payment_cvv(payment: PaymentInput, policy: FraudPolicy) -> CheckEvidence | None:
    """The CVV result of one payment: a letter code first, else Stripe's ``cvc_check``."""
    derived = policy.derived
    letter = _first_value(payment.metadata, policy.cvv_keys)
    if letter is not None:
        name, raw = letter
        return _evidence(
            policy,
            ("cvv", name, raw),
            lambda: CheckEvidence(read_letter_code(raw, derived.cvv_codes), f"{name}={raw}"),
        )
    word = _first_value(payment.metadata, policy.cvv_check_keys)
    if word is None:
        return None
    name, raw = word
    return _evidence(
        policy,
        ("cvv-word", name, raw),
        lambda: CheckEvidence(read_check_word(raw, derived.check_words), f"{name}={raw}"),
    )


def worst_check(evidence: Sequence[CheckEvidence]) -> CheckEvidence | None:
    """The most telling result over all payments: mismatch > partial > match > unavailable."""
    worst: CheckEvidence | None = None
    for item in evidence:
        if worst is None or _CHECK_RANK[item.result] > _CHECK_RANK[worst.result]:
            worst = item
    return worst


def order_checks(
    payments: Sequence[PaymentInput], policy: FraudPolicy
) -> tuple[CheckEvidence | None, CheckEvidence | None]:
    """The order's (AVS, CVV) results in one pass; ``(None, None)`` when there are no payments."""
    if not payments:
        return None, None
    if len(payments) == 1:  # the usual case
        payment = payments[0]
        return payment_avs(payment, policy) or _NO_RESULT, payment_cvv(payment, policy) or _NO_RESULT
    return order_check(payments, policy, cvv=False), order_check(payments, policy, cvv=True)


def order_check(payments: Sequence[PaymentInput], policy: FraudPolicy, *, cvv: bool) -> CheckEvidence | None:
    """The order's AVS (or CVV) result; ``None`` when there are no payments at all."""
    if not payments:
        return None
    read = payment_cvv if cvv else payment_avs
    found = [item for payment in payments if (item := read(payment, policy)) is not None]
    if len(found) == 1:
        return found[0]
    return worst_check(found) or _NO_RESULT


def _int_or_none(raw: str | None) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    return int(text) if text.isdigit() and len(text) <= 4 else None


def payment_card(payment: PaymentInput, policy: FraudPolicy) -> CardFacts:
    """The payment's card, Saleor's fields first, gaps filled from the payment's metadata."""
    given = payment.card or _NO_CARD
    metadata = payment.metadata
    month = given.exp_month
    if month is None:
        month = _int_or_none(_meta_value(metadata, policy.card_exp_month_keys))
    year = given.exp_year
    if year is None:
        year = _int_or_none(_meta_value(metadata, policy.card_exp_year_keys))
    if year is not None and year < 100:
        year += 2000
    brand = given.brand or _meta_value(metadata, policy.card_brand_keys)
    return CardFacts(
        brand.strip().lower() if brand else None,
        normalise_bin(given.bin or _meta_value(metadata, policy.card_bin_keys)),
        normalise_last4(given.last4 or _meta_value(metadata, policy.card_last4_keys)),
        month if month is not None and 1 <= month <= 12 else None,
        year,
        normalise_country(given.country or _meta_value(metadata, policy.card_country_keys)),
    )


def card_expired(card: CardFacts, now: datetime) -> bool:
    """True when the expiry month lies before the order's month (a card is valid through its month)."""
    if card.exp_year is None or card.exp_month is None:
        return False
    return (card.exp_year, card.exp_month) < (now.year, now.month)


def distinct_cards(cards: Sequence[CardFacts]) -> tuple[CardFacts, ...]:
    """Cards told apart by BIN and last 4 (or last 4 alone); cards with neither are dropped."""
    seen: dict[tuple[str, str], CardFacts] = {}
    for card in cards:
        if card.last4 is None:
            continue
        seen.setdefault(((card.bin or "")[:6], card.last4), card)
    return tuple(seen.values())


def customer_ip(facts: OrderFacts, policy: FraudPolicy) -> str | None:
    """The order's customer IP (compressed text), else one a payment app left in a payment's metadata."""
    if facts.customer_ip and (address := normalise_ip(facts.customer_ip)) is not None:
        return address
    for payment in facts.payments:
        found = _meta_value(payment.metadata, policy.ip_keys)
        if found is not None and (address := normalise_ip(found)) is not None:
            return address
    return None


def ip_country(facts: OrderFacts, policy: FraudPolicy) -> str | None:
    """The IP's country (GeoIP by the service, else a payment app's metadata)."""
    if country := normalise_country(facts.customer_ip_country):
        return country
    for payment in facts.payments:
        if country := normalise_country(_meta_value(payment.metadata, policy.ip_country_keys)):
            return country
    return None


# -- addresses ----------------------------------------------------------------------------------


class AddressComparison(StrEnum):
    MATCH = "match"  # same country, region and postal code
    DIFFER = "differ"  # same country, another region or postal code
    COUNTRY_MISMATCH = "country_mismatch"


def compare_billing_shipping(billing: AddressFacts, shipping: AddressFacts) -> AddressComparison:
    """How billing and shipping relate: the same place, the same country, or different countries."""
    if (normalise_country(billing.country) or "") != (normalise_country(shipping.country) or ""):
        return AddressComparison.COUNTRY_MISMATCH
    same_region = billing.country_area.strip().lower() == shipping.country_area.strip().lower()
    same_postal = normalise_postal_code(billing.postal_code) == normalise_postal_code(shipping.postal_code)
    return AddressComparison.MATCH if same_region and same_postal else AddressComparison.DIFFER


def is_reshipper(address: AddressFacts, policy: FraudPolicy) -> bool:
    """True when the address is at a listed reshipper: same country and postal code (when the
    listed one has one) and the listed street words appear in order in the street, so a
    customer's suite number after the forwarder's street still matches."""
    signatures = policy.derived.reshippers
    if not signatures:
        return False
    country = normalise_country(address.country) or ""
    postal = normalise_postal_code(address.postal_code)
    street = f" {street_key(address.street)} "
    for sig in signatures:
        if sig.country == country and (not sig.postal_code or sig.postal_code == postal) and sig.street in street:
            return True
    return False


# -- customer -----------------------------------------------------------------------------------


@lru_cache(maxsize=16384)
def is_disposable_domain(domain: str) -> bool:
    """The domain, or a parent of it, is a disposable-mail service (disposable-email-domains)."""
    return any(suffix in _DISPOSABLE for suffix in domain_suffixes(domain))


@lru_cache(maxsize=16384)
def email_matches_name(email: str, first_name: str, last_name: str) -> bool | None:
    """Does the email's local part carry the customer's name? ``None`` when there is no name.

    A name part of 3+ letters found in the local part matches ("jsmith", "smith.j",
    "john_1987"); so do initial + surname and name + initial for short names ("jli", "lij").
    """
    first = "".join(_LETTERS.findall(ascii_fold(first_name)))
    last = "".join(_LETTERS.findall(ascii_fold(last_name)))
    if not first and not last:
        return None
    local = "".join(_LETTERS.findall(email.partition("@")[0].partition("+")[0]))
    if not local:
        return False
    for part in (first, last):
        if len(part) >= 3 and part in local:
            return True
    if first and last:
        combos = (first[0] + last, last + first[0], first + last[0], last[0] + first, first + last)
        return any(combo in local for combo in combos)
    return (first or last) == local


def account_age_hours(joined_at: datetime | None, now: datetime) -> float | None:
    """Hours from account creation to ``now`` (never negative); ``None`` for a guest.

    A naive ``joined_at`` is read as UTC.
    """
    if joined_at is None:
        return None
    if joined_at.tzinfo is None:
        joined_at = joined_at.replace(tzinfo=UTC)
    return max(0.0, (now - joined_at).total_seconds() / 3600)


# -- order --------------------------------------------------------------------------------------


def shipping_level(method_name: str | None, policy: FraudPolicy) -> ShippingLevel:
    """Standard, expedited or overnight, from keywords in the method's name (overnight first)."""
    if not method_name:
        return ShippingLevel.STANDARD
    derived = policy.derived
    return _level(method_name, derived.overnight_keywords, derived.expedited_keywords)


@lru_cache(maxsize=1024)
def _level(method_name: str, overnight: tuple[str, ...], expedited: tuple[str, ...]) -> ShippingLevel:
    name = method_name.lower()
    if any(word in name for word in overnight):
        return ShippingLevel.OVERNIGHT
    if any(word in name for word in expedited):
        return ShippingLevel.EXPEDITED
    return ShippingLevel.STANDARD


def store_history_sufficient(history: History, policy: FraudPolicy) -> bool:
    median = history.store_median_total
    return history.store_order_count >= policy.min_store_orders and median is not None and median > 0


def high_value_threshold(history: History, policy: FraudPolicy) -> Decimal | None:
    """The total at which an order counts as high-value: a multiple of the store's median,
    else the merchant's fixed fallback, else ``None`` (cannot judge)."""
    if store_history_sufficient(history, policy):
        assert history.store_median_total is not None
        return history.store_median_total * policy.high_value_multiple
    return policy.high_value_order_total


def high_value_unit_threshold(history: History, policy: FraudPolicy) -> Decimal | None:
    """The unit price of a high-value item: the merchant's setting, else the store's median order."""
    if policy.high_value_unit_price is not None:
        return policy.high_value_unit_price
    if store_history_sufficient(history, policy):
        return history.store_median_total
    return None


def above_customer_history(total: Decimal, history: History, policy: FraudPolicy) -> bool:
    """A returning customer spends more than ``customer_value_multiple`` times their average."""
    average = history.customer_average_total
    if history.customer_order_count < 1 or average is None or average <= 0:
        return False
    return total > average * policy.customer_value_multiple


# -- everything at once -------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class OrderSignals:
    """Every signal of one order, computed once; ``None`` = not known for this order.

    A working value of one assessment, never stored or shared: not frozen, because building a
    frozen 30-field dataclass costs a tenth of an assessment (bench/fraud.py).
    """

    stage: Stage
    channel: str
    currency: str
    total: Decimal
    shipping_amount: Decimal
    item_count: int
    email: str | None
    email_domain: str | None
    disposable_email: bool
    customer_id: str | None
    is_guest: bool
    customer_order_count: int
    account_age_hours: float | None
    billing_country: str | None
    shipping_country: str | None
    billing_vs_shipping: AddressComparison | None
    reshipper: bool
    shipping_address_key: str | None
    shipping_level: ShippingLevel
    shipping_method: str | None
    ip: str | None  # compressed form
    ip_country: str | None
    cards: tuple[CardFacts, ...]
    card_keys: tuple[str, ...]  # "BIN:last4" for cards with both
    avs: CheckEvidence | None  # None = no payments
    cvv: CheckEvidence | None
    email_name_match: bool | None

    @property
    def first_order(self) -> bool:
        return self.customer_order_count == 0

    @property
    def card_countries(self) -> tuple[str, ...]:
        return tuple([card.country for card in self.cards if card.country])

    @property
    def countries(self) -> tuple[str, ...]:
        """Every country of the order, once each: billing, shipping, IP, then card countries."""
        found: list[str] = []
        for country in (self.billing_country, self.shipping_country, self.ip_country):
            if country and country not in found:
                found.append(country)
        for card in self.cards:
            if card.country and card.country not in found:
                found.append(card.country)
        return tuple(found)

    @property
    def reference_country(self) -> str | None:
        """The country the card and IP are compared with: billing, else shipping."""
        return self.billing_country or self.shipping_country


def derive_signals(
    facts: OrderFacts, history: History, policy: FraudPolicy, *, stage: Stage, now: datetime
) -> OrderSignals:
    email = normalise_email(facts.email)
    domain = email_domain(email) if email else None
    cards = distinct_cards([payment_card(payment, policy) for payment in facts.payments])
    billing, shipping = facts.billing, facts.shipping
    billing_country = normalise_country(billing.country) if billing else None
    shipping_country = normalise_country(shipping.country) if shipping else None
    name_source = billing if billing and (billing.first_name or billing.last_name) else shipping
    avs, cvv = order_checks(facts.payments, policy)
    # Positional, in field order (a keyword call costs a tenth of this function; the field-by-field
    # test in tests/unit/domain/fraud/test_signals.py pins the order).
    return OrderSignals(
        stage,
        facts.channel,
        facts.currency,
        facts.total,
        facts.shipping_amount,
        sum([line.quantity for line in facts.lines if line.quantity > 0]),  # item_count
        email,
        domain,
        is_disposable_domain(domain) if domain else False,
        facts.customer_id or None,
        not facts.customer_id,  # is_guest
        max(0, history.customer_order_count),
        account_age_hours(facts.customer_joined_at, now) if facts.customer_id else None,
        billing_country,
        shipping_country,
        compare_billing_shipping(billing, shipping) if billing and shipping else None,
        is_reshipper(shipping, policy) if shipping else False,
        canonical_address(shipping) if shipping else None,
        shipping_level(facts.shipping_method, policy),
        facts.shipping_method,
        customer_ip(facts, policy),
        ip_country(facts, policy),
        cards,
        tuple([card_key(c.bin, c.last4) for c in cards if c.bin and c.last4]),
        avs,
        cvv,
        email_matches_name(email, name_source.first_name, name_source.last_name) if email and name_source else None,
    )
