"""Choosing the carrier service for one level: the cheapest fully loaded rate that keeps the promise.

The merchant's rules are tried in order and the first whose conditions all hold applies: it may
allow only some carriers or exclude some, prefer the fastest over the cheapest, and set what the
shopper pays (a fixed price, or free above an order value). Then candidates arriving after the
promised date are dropped and the cheapest of the rest wins, ties going to the earlier latest
delivery and then to the preferred carrier. When nothing at the level keeps the promise, the next
faster level is tried; when neither it nor a faster one does, the earliest-arriving service is
chosen and ``meets_promise`` says whether it still arrives in time. Every candidate's fate and
the rule that applied are recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from app.domain.money import Money
from app.domain.shipping.model import DeliveryWindow, InvalidSetting, Level
from app.domain.shipping.rates import Quote, normalise_postal_code


class RuleError(InvalidSetting):
    """A merchant rule that cannot be applied as written; ``field`` names the offending field."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A priced service with its computed delivery window; a lower ``preference`` is the preferred carrier."""

    quote: Quote
    window: DeliveryWindow
    preference: int
    guaranteed: bool = False

    @property
    def label(self) -> str:
        return f"{self.quote.carrier} {self.quote.service}"


@dataclass(frozen=True, slots=True)
class ShipmentFacts:
    """What rules' conditions look at; weight in kg, order value in the rates' currency."""

    country: str
    postal_code: str
    weight_kg: Decimal
    order_value: Decimal
    channel: str
    product_types: frozenset[str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "postal_code", normalise_postal_code(self.postal_code))


def _check_range(field: str, low: Decimal | None, high: Decimal | None) -> None:
    for bound in (low, high):
        if bound is not None and (not bound.is_finite() or bound < 0):
            raise RuleError(field, f"bounds must be zero or more, got {bound}")
    if low is not None and high is not None and high < low:
        raise RuleError(field, f"ends ({high}) below where it starts ({low})")


def _within(value: Decimal, low: Decimal | None, high: Decimal | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


@dataclass(frozen=True, slots=True)
class Conditions:
    """All given conditions must hold; an empty set or None is no condition. Ranges include both ends."""

    countries: frozenset[str] = frozenset()
    postal_prefixes: tuple[str, ...] = ()
    min_weight_kg: Decimal | None = None
    max_weight_kg: Decimal | None = None
    min_order_value: Decimal | None = None
    max_order_value: Decimal | None = None
    channels: frozenset[str] = frozenset()
    product_types: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _check_range("weight_kg", self.min_weight_kg, self.max_weight_kg)
        _check_range("order_value", self.min_order_value, self.max_order_value)
        prefixes = tuple(normalise_postal_code(prefix) for prefix in self.postal_prefixes)
        if not all(prefixes):
            raise RuleError("postal_prefixes", "an empty prefix matches every address; leave it out")
        object.__setattr__(self, "postal_prefixes", prefixes)

    def hold_for(self, facts: ShipmentFacts) -> bool:
        return (
            (not self.countries or facts.country in self.countries)
            and (not self.postal_prefixes or facts.postal_code.startswith(self.postal_prefixes))
            and _within(facts.weight_kg, self.min_weight_kg, self.max_weight_kg)
            and _within(facts.order_value, self.min_order_value, self.max_order_value)
            and (not self.channels or facts.channel in self.channels)
            and (not self.product_types or bool(self.product_types & facts.product_types))
        )


class Strategy(StrEnum):
    CHEAPEST = "cheapest"
    FASTEST = "fastest"


@dataclass(frozen=True, slots=True)
class Actions:
    """What a matching rule does. ``fixed_price`` and ``free_above`` set what the shopper pays, not the carrier cost."""

    only_carriers: frozenset[str] = frozenset()
    excluded_carriers: frozenset[str] = frozenset()
    strategy: Strategy = Strategy.CHEAPEST
    fixed_price: Decimal | None = None
    free_above: Decimal | None = None

    def __post_init__(self) -> None:
        if self.only_carriers & self.excluded_carriers:
            both = ", ".join(sorted(self.only_carriers & self.excluded_carriers))
            raise RuleError("excluded_carriers", f"{both} both allowed only and excluded")
        for name, value in (("fixed_price", self.fixed_price), ("free_above", self.free_above)):
            if value is not None and (not value.is_finite() or value < 0):
                raise RuleError(name, f"must be zero or more, got {value}")

    def allows(self, carrier: str) -> bool:
        return (not self.only_carriers or carrier in self.only_carriers) and carrier not in self.excluded_carriers

    def refuses(self, carrier: str) -> str | None:
        if self.allows(carrier):
            return None
        if carrier in self.excluded_carriers:
            return f"{carrier} excluded"
        return f"only {', '.join(sorted(self.only_carriers))} allowed"


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    conditions: Conditions
    actions: Actions

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise RuleError("name", "a rule needs a name to be explained by")


NO_RULE = Rule("default: cheapest that keeps the promise", Conditions(), Actions())


@dataclass(frozen=True, slots=True)
class Verdict:
    candidate: Candidate
    kept: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Selection:
    """The decision for one level. ``chosen`` is None when no candidate survives the rule.

    ``kept_at`` is the level whose service keeps the promise (this one or a faster one), None when
    the earliest arrival was taken instead. ``shopper_price`` is set only when the rule fixes it (a
    fixed price, or zero above the free threshold); otherwise the pricing policy decides what the
    shopper pays. The explanations are derived from the decision when asked for, so that choosing
    stays cheap at checkout.
    """

    level: Level
    promised_by: date
    rule: Rule
    candidates: tuple[Candidate, ...]
    chosen: Candidate | None
    kept_at: Level | None
    shopper_price: Money | None

    @property
    def meets_promise(self) -> bool:
        return self.chosen is not None and self.chosen.window.latest <= self.promised_by

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        """Each candidate, in the order given, kept or dropped and why."""
        return tuple(self._verdict(candidate) for candidate in self.candidates)

    def _verdict(self, candidate: Candidate) -> Verdict:
        refusal = self.rule.actions.refuses(candidate.quote.carrier)
        if refusal is not None:
            return Verdict(candidate, False, f"rule {self.rule.name!r}: {refusal}")
        if candidate is self.chosen:
            return Verdict(
                candidate, True, f"chosen at {candidate.quote.total.amount}, arrives by {candidate.window.latest}"
            )
        if candidate.window.latest > self.promised_by:
            return Verdict(
                candidate, False, f"arrives by {candidate.window.latest}, after the promised {self.promised_by}"
            )
        if candidate.quote.level is not self.level:
            return Verdict(candidate, False, f"{candidate.quote.level} service, not needed")
        preferred = self.chosen.label if self.chosen else "another"
        return Verdict(candidate, False, f"keeps the promise, but {preferred} was preferred")

    @property
    def summary(self) -> str:
        head = f"{self.level} by {self.promised_by}"
        if self.chosen is None:
            return f"{head}: no service left after rule {self.rule.name!r}"
        if self.kept_at is None:
            how = f"no {self.level} or faster service keeps the promise: the earliest to arrive"
        else:
            how = f"{self.rule.actions.strategy} that keeps the promise"
            if self.kept_at is not self.level:
                how += f", from the faster {self.kept_at} level since no {self.level} service keeps it"
        return f"{head}: {self.chosen.label} ({how}; rule {self.rule.name!r})"

    def ops_shipment(self, source: str) -> dict[str, object] | None:
        """The entry for DESIGN.md's ``ops.shipping`` shipments, or None when nothing was chosen."""
        if self.chosen is None:
            return None
        quote = self.chosen.quote
        return {
            "source": source,
            "carrier": quote.carrier,
            "service": quote.service,
            "level": self.level.value,
            "amount": str(quote.total.amount),
            "currency": quote.total.currency,
            "estimatedDelivery": self.chosen.window.latest.isoformat(),
            "promisedBy": self.promised_by.isoformat(),
            "meetsPromise": self.meets_promise,
        }


def _cheapest_key(candidate: Candidate) -> tuple[Decimal, date, int]:
    return candidate.quote.total.amount, candidate.window.latest, candidate.preference


def _fastest_key(candidate: Candidate) -> tuple[date, Decimal, int]:
    return candidate.window.latest, candidate.quote.total.amount, candidate.preference


_THIS_AND_FASTER = {
    Level.STANDARD: (Level.STANDARD, Level.EXPEDITED, Level.OVERNIGHT),
    Level.EXPEDITED: (Level.EXPEDITED, Level.OVERNIGHT),
    Level.OVERNIGHT: (Level.OVERNIGHT,),
}


def select(
    level: Level,
    promised_by: date,
    candidates: Sequence[Candidate],
    facts: ShipmentFacts,
    rules: Sequence[Rule],
) -> Selection:
    """Chooses the service for ``level`` among ``candidates`` of every level (faster ones are the fallback)."""
    rule = next((rule for rule in rules if rule.conditions.hold_for(facts)), NO_RULE)
    actions = rule.actions
    allowed = [candidate for candidate in candidates if actions.allows(candidate.quote.carrier)]
    key = _fastest_key if actions.strategy is Strategy.FASTEST else _cheapest_key
    chosen: Candidate | None = None
    kept_at: Level | None = None
    for tried in _THIS_AND_FASTER[level]:
        keeping = [c for c in allowed if c.quote.level is tried and c.window.latest <= promised_by]
        if keeping:
            chosen, kept_at = min(keeping, key=key), tried
            break
    if chosen is None and allowed:
        chosen = min(allowed, key=_fastest_key)
    return Selection(
        level, promised_by, rule, tuple(candidates), chosen, kept_at, _shopper_price(actions, chosen, facts)
    )


def _shopper_price(actions: Actions, chosen: Candidate | None, facts: ShipmentFacts) -> Money | None:
    if chosen is None:
        return None
    currency = chosen.quote.total.currency
    if actions.free_above is not None and facts.order_value >= actions.free_above:
        return Money(Decimal(0), currency).quantized()
    if actions.fixed_price is not None:
        return Money(actions.fixed_price, currency).quantized()
    return None
