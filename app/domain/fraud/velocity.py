"""Velocity: the domain says what to count (probes); the service counts; the domain judges.

A probe is (dimension, normalised value, window). The service answers, per probe, how many
*other* orders it has seen with that value within the window before this one. A limit of
``max_orders`` allows that many orders in the window, this one included, so it is exceeded
when ``other orders + 1 > max_orders``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.domain.fraud.model import History, OrderFacts, VelocityDimension, VelocityProbe
from app.domain.fraud.normalise import canonical_address, card_key, normalise_email
from app.domain.fraud.policy import FraudPolicy, VelocityLimit
from app.domain.fraud.signals import OrderSignals, customer_ip, distinct_cards, payment_card

DEFAULT_WINDOW_HOURS = 24


def velocity_values(facts: OrderFacts, policy: FraudPolicy) -> dict[VelocityDimension, tuple[str, ...]]:
    """The order's normalised values per dimension (a dimension the order lacks is left out)."""
    values: dict[VelocityDimension, tuple[str, ...]] = {}
    email = normalise_email(facts.email)
    if email:
        values[VelocityDimension.EMAIL] = (email,)
    cards = distinct_cards([payment_card(payment, policy) for payment in facts.payments])
    keys = tuple(card_key(card.bin, card.last4) for card in cards if card.bin and card.last4)
    if keys:
        values[VelocityDimension.CARD] = keys
    ip = customer_ip(facts, policy)
    if ip is not None:
        values[VelocityDimension.IP] = (ip,)
    address = canonical_address(facts.shipping) if facts.shipping else None
    if address:
        values[VelocityDimension.SHIPPING_ADDRESS] = (address,)
    return values


def signal_values(signals: OrderSignals) -> dict[VelocityDimension, tuple[str, ...]]:
    """``velocity_values`` read from already derived signals (same result, no recomputation)."""
    values: dict[VelocityDimension, tuple[str, ...]] = {}
    if signals.email:
        values[VelocityDimension.EMAIL] = (signals.email,)
    if signals.card_keys:
        values[VelocityDimension.CARD] = signals.card_keys
    if signals.ip:
        values[VelocityDimension.IP] = (signals.ip,)
    if signals.shipping_address_key:
        values[VelocityDimension.SHIPPING_ADDRESS] = (signals.shipping_address_key,)
    return values


def probes_for(
    values: Mapping[VelocityDimension, Sequence[str]], windows: Iterable[tuple[VelocityDimension, int]]
) -> tuple[VelocityProbe, ...]:
    """One probe per (dimension, window) and value the order has, without repeats, in order."""
    probes: dict[VelocityProbe, None] = {}
    for dimension, hours in windows:
        for value in values.get(dimension, ()):
            probes[VelocityProbe(dimension, value, hours)] = None
    return tuple(probes)


def other_orders(
    history: History, dimension: VelocityDimension, values: Sequence[str], window_hours: int
) -> int | None:
    """The largest count over the values (several cards); ``None`` when the order has no value."""
    if not values:
        return None
    counts: Mapping[VelocityProbe, int] = history.velocity
    if not counts:
        return 0
    most = 0
    for value in values:
        most = max(most, counts.get(VelocityProbe(dimension, value, window_hours), 0))
    return most


@dataclass(frozen=True, slots=True)
class VelocityBreach:
    limit: VelocityLimit
    orders: int  # in the window, this one included


def judge_velocity(
    values: Mapping[VelocityDimension, Sequence[str]], history: History, policy: FraudPolicy
) -> dict[VelocityDimension, VelocityBreach]:
    """Per dimension, the first policy limit exceeded (in policy order), with the count."""
    breaches: dict[VelocityDimension, VelocityBreach] = {}
    counts = history.velocity
    # The usual case: nothing counted comes near the tightest limit, so no limit can be exceeded.
    if not counts or max(counts.values()) + 1 <= policy.derived.tightest_velocity_limit:
        return breaches
    # Keyed by plain tuples: a probe's own hash and equality run dataclass code on every lookup.
    plain = {(probe.dimension, probe.value, probe.window_hours): count for probe, count in counts.items()}
    for limit in policy.velocity:
        dimension = limit.dimension
        order_values = values.get(dimension, ())
        if dimension in breaches or not order_values:
            continue
        others = max(max(0, plain.get((dimension, value, limit.window_hours), 0)) for value in order_values)
        if others + 1 > limit.max_orders:
            breaches[dimension] = VelocityBreach(limit, others + 1)
    return breaches
