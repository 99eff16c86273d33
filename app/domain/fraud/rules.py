"""Merchant rules as data: a small JSON shape, validated with clear errors, evaluated first-match.

Shape (a list; every condition of a rule must hold)::

    [{"name": "Big first orders", "action": "review", "description": "optional",
      "when": [{"attribute": "order_total", "op": ">", "value": "500"},
               {"attribute": "first_order", "op": "=", "value": true}]},
     {"name": "Burner domains", "action": "block",
      "when": [{"attribute": "email_domain", "op": "in", "value": "@block"}]},
     {"name": "Card testing", "action": "block",
      "when": [{"attribute": "velocity_email", "op": ">", "value": 3, "window_hours": 1}]}]

A condition on a value the order does not have (no email, no payment yet) never holds, with
any operator. ``!=`` and ``not in`` are the exact negation of ``=`` and ``in`` otherwise. For
an attribute with several values (an order paid with two cards) ``=``, ``in`` and the
comparisons hold when any value satisfies them.
"""

from __future__ import annotations

import difflib
import ipaddress
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Literal, cast

from app.domain.fraud.address import country_known
from app.domain.fraud.lists import ListIndexes, parse_list_entry
from app.domain.fraud.model import (
    CheckResult,
    History,
    ListEntryInvalid,
    ListKind,
    RulesInvalid,
    ShippingLevel,
    Stage,
    VelocityDimension,
)
from app.domain.fraud.normalise import (
    IpNetwork,
    card_key,
    normalise_bin,
    normalise_country,
    normalise_domain,
    normalise_email,
    normalise_last4,
    parse_ip,
)
from app.domain.fraud.policy import LONGEST_WINDOW_HOURS, FraudPolicy
from app.domain.fraud.signals import AddressComparison, OrderSignals
from app.domain.fraud.velocity import DEFAULT_WINDOW_HOURS, other_orders

Action = Literal["allow", "block", "review"]
ACTIONS: tuple[Action, ...] = ("allow", "block", "review")
Scalar = int | Decimal | str | bool
_MAX_CONDITIONS = 20
_MAX_NAME = 100
_RULE_FIELDS = ("name", "action", "when", "description")
_CONDITION_FIELDS = ("attribute", "op", "value", "window_hours")


class Operator(StrEnum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not in"


class ValueType(StrEnum):
    INTEGER = "integer"
    NUMBER = "number"
    TEXT = "text"
    COUNTRY = "country"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    IP = "ip"


_ALL_OPS = tuple(Operator)
_SET_OPS = (Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN)
_OPS_BY_TYPE: Mapping[ValueType, tuple[Operator, ...]] = {
    ValueType.INTEGER: _ALL_OPS,
    ValueType.NUMBER: _ALL_OPS,
    ValueType.TEXT: _SET_OPS,
    ValueType.COUNTRY: _SET_OPS,
    ValueType.CHOICE: _SET_OPS,
    ValueType.IP: _SET_OPS,
    ValueType.BOOLEAN: (Operator.EQ, Operator.NE),
}


@dataclass(frozen=True, slots=True)
class ListRef:
    """``"@allow"`` or ``"@block"``: the merchant's list of the attribute's kind."""

    allow: bool

    def __str__(self) -> str:
        return "@allow" if self.allow else "@block"


ConditionValue = Scalar | frozenset[Scalar] | tuple[IpNetwork, ...] | ListRef


@dataclass(frozen=True, slots=True)
class Condition:
    attribute: str
    op: Operator
    value: ConditionValue
    window_hours: int | None = None  # velocity attributes only; None = the policy's longest window
    # The condition compiled into one function of the order's context, once, when it is made.
    test: Callable[[RuleContext], bool] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", _compile(self))


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    action: Action
    when: tuple[Condition, ...]
    description: str = ""


@dataclass(slots=True, eq=False)
class RuleContext:
    """What conditions read: the order's signals, its score and margin, history, lists.

    A working value of one assessment (not frozen: it memoises velocity counts in ``counted``).
    """

    signals: OrderSignals
    score: int
    margin: Decimal | None
    history: History
    policy: FraudPolicy
    lists: ListIndexes
    velocity_values: Mapping[VelocityDimension, tuple[str, ...]]
    counted: dict[tuple[VelocityDimension, int], int | None] = field(default_factory=dict)


Reader = Callable[[RuleContext, int | None], tuple[Scalar, ...]]


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    name: str
    type: ValueType
    read: Reader
    meaning: str
    list_kind: ListKind | None = None
    choices: tuple[str, ...] = ()
    normalise: Callable[[str], str | None] | None = None  # TEXT values; None = invalid
    example: str = ""
    velocity: VelocityDimension | None = None


def _one(value: Scalar | None) -> tuple[Scalar, ...]:
    return () if value is None else (value,)


def _lower(text: str) -> str | None:
    value = text.strip().lower()
    return value or None


def _exact(text: str) -> str | None:
    value = text.strip()
    return value or None


def _currency(text: str) -> str | None:
    value = text.strip().upper()
    return value if len(value) == 3 and value.isascii() and value.isalpha() else None


def _card(text: str) -> str | None:
    try:
        entry = parse_list_entry(ListKind.CARD.value, text, allow=False)
    except ListEntryInvalid:
        return None
    bin_, _, last4 = entry.value.partition(":")
    return card_key(bin_, last4)


def _bin6(text: str) -> str | None:
    value = normalise_bin(text)
    return value[:6] if value else None


def _last4(text: str) -> str | None:
    value = text.strip()
    return value if len(value) == 4 and normalise_last4(value) == value else None


def _velocity_reader(dimension: VelocityDimension) -> Reader:
    def read(ctx: RuleContext, window_hours: int | None) -> tuple[Scalar, ...]:
        hours = window_hours or ctx.policy.derived.velocity_windows.get(dimension, DEFAULT_WINDOW_HOURS)
        key = (dimension, hours)
        if key in ctx.counted:
            others = ctx.counted[key]
        else:
            others = other_orders(ctx.history, dimension, ctx.velocity_values.get(dimension, ()), hours)
            ctx.counted[key] = others
        return () if others is None else (others + 1,)

    return read


def _country_mismatch(ctx: RuleContext, _: int | None) -> tuple[Scalar, ...]:
    comparison = ctx.signals.billing_vs_shipping
    return () if comparison is None else (comparison is AddressComparison.COUNTRY_MISMATCH,)


def _account_age_days(ctx: RuleContext, _: int | None) -> tuple[Scalar, ...]:
    hours = ctx.signals.account_age_hours
    return () if hours is None else (int(hours // 24),)


def _reshipper(ctx: RuleContext, _: int | None) -> tuple[Scalar, ...]:
    return (ctx.signals.reshipper,) if ctx.signals.shipping_country is not None else ()


_T = ValueType
_SPECS: tuple[AttributeSpec, ...] = (
    AttributeSpec("score", _T.INTEGER, lambda c, _: (c.score,), "The order's risk score, 0-100.", example="70"),
    AttributeSpec(
        "order_total", _T.NUMBER, lambda c, _: (c.signals.total,), "Order total, order currency.", example='"500"'
    ),
    AttributeSpec(
        "shipping_amount", _T.NUMBER, lambda c, _: (c.signals.shipping_amount,), "Shipping charged.", example='"30"'
    ),
    AttributeSpec(
        "margin",
        _T.NUMBER,
        lambda c, _: _one(c.margin),
        "Total - cost of goods - fees (unknown costs: none).",
        example='"10"',
    ),
    AttributeSpec(
        "currency",
        _T.TEXT,
        lambda c, _: (c.signals.currency.upper(),),
        "ISO 4217 code.",
        normalise=_currency,
        example='"USD"',
    ),
    AttributeSpec(
        "channel",
        _T.TEXT,
        lambda c, _: (c.signals.channel.lower(),),
        "Channel slug.",
        normalise=_lower,
        example='"default-channel"',
    ),
    AttributeSpec(
        "item_count", _T.INTEGER, lambda c, _: (c.signals.item_count,), "Units over all lines.", example="10"
    ),
    AttributeSpec(
        "email",
        _T.TEXT,
        lambda c, _: _one(c.signals.email),
        "Customer email, lower-cased.",
        list_kind=ListKind.EMAIL,
        normalise=normalise_email,
        example='"a@example.com"',
    ),
    AttributeSpec(
        "email_domain",
        _T.TEXT,
        lambda c, _: _one(c.signals.email_domain),
        "The email's domain (lists also match parent domains).",
        list_kind=ListKind.EMAIL_DOMAIN,
        normalise=normalise_domain,
        example='"example.com"',
    ),
    AttributeSpec(
        "disposable_email",
        _T.BOOLEAN,
        lambda c, _: (c.signals.disposable_email,),
        "Disposable-mail domain.",
        example="true",
    ),
    AttributeSpec(
        "customer_id",
        _T.TEXT,
        lambda c, _: _one(c.signals.customer_id),
        "Saleor customer id (exact).",
        list_kind=ListKind.CUSTOMER,
        normalise=_exact,
        example='"VXNlcjox"',
    ),
    AttributeSpec("is_guest", _T.BOOLEAN, lambda c, _: (c.signals.is_guest,), "Guest checkout.", example="true"),
    AttributeSpec(
        "first_order", _T.BOOLEAN, lambda c, _: (c.signals.first_order,), "No earlier orders.", example="true"
    ),
    AttributeSpec(
        "customer_order_count",
        _T.INTEGER,
        lambda c, _: (c.signals.customer_order_count,),
        "Earlier orders of the customer.",
        example="0",
    ),
    AttributeSpec(
        "account_age_days", _T.INTEGER, _account_age_days, "Whole days since sign-up (guests: none).", example="1"
    ),
    AttributeSpec(
        "billing_country",
        _T.COUNTRY,
        lambda c, _: _one(c.signals.billing_country),
        "Billing country.",
        list_kind=ListKind.COUNTRY,
        example='"US"',
    ),
    AttributeSpec(
        "shipping_country",
        _T.COUNTRY,
        lambda c, _: _one(c.signals.shipping_country),
        "Shipping country.",
        list_kind=ListKind.COUNTRY,
        example='"US"',
    ),
    AttributeSpec(
        "ip_country",
        _T.COUNTRY,
        lambda c, _: _one(c.signals.ip_country),
        "The IP's country.",
        list_kind=ListKind.COUNTRY,
    ),
    AttributeSpec(
        "card_country",
        _T.COUNTRY,
        lambda c, _: c.signals.card_countries,
        "Card issuing country.",
        list_kind=ListKind.COUNTRY,
        example='"GB"',
    ),
    AttributeSpec(
        "billing_shipping_country_mismatch",
        _T.BOOLEAN,
        _country_mismatch,
        "Billing and shipping countries differ.",
        example="true",
    ),
    AttributeSpec("reshipper", _T.BOOLEAN, _reshipper, "Ships to a listed reshipper.", example="true"),
    AttributeSpec(
        "shipping_level",
        _T.CHOICE,
        lambda c, _: (c.signals.shipping_level.value,),
        "From the method's name.",
        choices=tuple(level.value for level in ShippingLevel),
        example='"overnight"',
    ),
    AttributeSpec(
        "shipping_method",
        _T.TEXT,
        lambda c, _: _one(c.signals.shipping_method.strip().lower() if c.signals.shipping_method else None),
        "Shipping method name, lower-cased.",
        normalise=_lower,
        example='"ups ground"',
    ),
    AttributeSpec(
        "ip",
        _T.IP,
        lambda c, _: _one(c.signals.ip),
        "Customer IP (in: addresses or CIDR networks).",
        list_kind=ListKind.IP,
        example='["203.0.113.0/24"]',
    ),
    AttributeSpec(
        "card",
        _T.TEXT,
        lambda c, _: c.signals.card_keys,
        "BIN:last4 of each card.",
        list_kind=ListKind.CARD,
        normalise=_card,
        example='"424242:4242"',
    ),
    AttributeSpec(
        "card_bin",
        _T.TEXT,
        lambda c, _: tuple(card.bin[:6] for card in c.signals.cards if card.bin),
        "First 6 digits of each card.",
        normalise=_bin6,
        example='"424242"',
    ),
    AttributeSpec(
        "card_last4",
        _T.TEXT,
        lambda c, _: tuple(card.last4 for card in c.signals.cards if card.last4),
        "Last 4 digits of each card.",
        normalise=_last4,
        example='"4242"',
    ),
    AttributeSpec(
        "card_brand",
        _T.TEXT,
        lambda c, _: tuple(card.brand for card in c.signals.cards if card.brand),
        "Card brand, lower-cased.",
        normalise=_lower,
        example='"visa"',
    ),
    AttributeSpec(
        "avs_result",
        _T.CHOICE,
        lambda c, _: _one(c.signals.avs.result.value if c.signals.avs else None),
        "Normalised AVS result (no payment: none).",
        choices=tuple(result.value for result in CheckResult),
        example='"mismatch"',
    ),
    AttributeSpec(
        "cvv_result",
        _T.CHOICE,
        lambda c, _: _one(c.signals.cvv.result.value if c.signals.cvv else None),
        "Normalised CVV result (no payment: none).",
        choices=tuple(result.value for result in CheckResult),
        example='"mismatch"',
    ),
    AttributeSpec(
        "stage",
        _T.CHOICE,
        lambda c, _: (c.signals.stage.value,),
        "created or paid.",
        choices=tuple(stage.value for stage in Stage),
        example='"paid"',
    ),
    *(
        AttributeSpec(
            f"velocity_{dimension.value}",
            _T.INTEGER,
            _velocity_reader(dimension),
            f"Orders with this {dimension.value.replace('_', ' ')} in the window, this one included.",
            velocity=dimension,
            example="3",
        )
        for dimension in VelocityDimension
    ),
)

ATTRIBUTES: Mapping[str, AttributeSpec] = {spec.name: spec for spec in _SPECS}


# -- parsing ------------------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _scalar(spec: AttributeSpec, raw: object, field: str) -> Scalar:
    kind = spec.type
    if kind is ValueType.INTEGER:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            return int(raw.strip())
        raise _Invalid(field, f"{spec.name} needs a whole number, got {raw!r}")
    if kind is ValueType.NUMBER:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return Decimal(raw)
        if isinstance(raw, float):
            raise _Invalid(field, f'{spec.name} needs an exact amount: write {raw!r} as a string, such as "{raw}"')
        if isinstance(raw, Decimal | str):
            try:
                number = Decimal(raw.strip() if isinstance(raw, str) else raw)
            except InvalidOperation:
                number = Decimal("NaN")
            if number.is_finite():
                return number
        raise _Invalid(field, f'{spec.name} needs a number such as "500.00", got {raw!r}')
    if kind is ValueType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        raise _Invalid(field, f"{spec.name} needs true or false, got {raw!r}")
    if not isinstance(raw, str):
        raise _Invalid(field, f"{spec.name} needs text, got {raw!r}")
    if kind is ValueType.CHOICE:
        value = raw.strip().lower()
        if value not in spec.choices:
            raise _Invalid(field, f"{spec.name} must be one of {', '.join(spec.choices)}, got {raw!r}")
        return value
    if kind is ValueType.COUNTRY:
        country = normalise_country(raw)
        if country is None or not country_known(country):
            raise _Invalid(field, f"{spec.name} needs an ISO 3166-1 two-letter country code such as US, got {raw!r}")
        return country
    if kind is ValueType.IP:
        address = parse_ip(raw)
        if address is None:
            raise _Invalid(field, f"{spec.name} needs an IP address such as 203.0.113.7, got {raw!r}")
        return address.compressed
    assert spec.normalise is not None
    text = spec.normalise(raw)
    if text is None:
        raise _Invalid(field, f"{spec.name} needs a value such as {spec.example}, got {raw!r}")
    return text


def _network(raw: object, field: str) -> IpNetwork:
    if isinstance(raw, str):
        address = parse_ip(raw)
        if address is not None:
            return ipaddress.ip_network(address)
        try:
            return ipaddress.ip_network(raw.strip(), strict=True)
        except ValueError:
            pass
    raise _Invalid(field, f"ip needs IP addresses or CIDR networks such as 203.0.113.0/24, got {raw!r}")


def _condition_value(spec: AttributeSpec, op: Operator, raw: object) -> ConditionValue:
    list_word = raw.strip().lower() if isinstance(raw, str) else None
    if list_word in ("@allow", "@block"):
        if op not in (Operator.IN, Operator.NOT_IN):
            raise _Invalid("value", f"lists are used with 'in' or 'not in', not {op.value!r}")
        if spec.list_kind is None:
            listed = ", ".join(s.name for s in _SPECS if s.list_kind is not None)
            raise _Invalid("value", f"{spec.name} has no list; lists exist for {listed}")
        return ListRef(allow=list_word == "@allow")
    if op in (Operator.IN, Operator.NOT_IN):
        if not isinstance(raw, list | tuple) or not raw:
            raise _Invalid("value", f"'{op.value}' needs a non-empty list of values, or @allow / @block")
        if spec.type is ValueType.IP:
            return tuple(_network(item, f"value[{i}]") for i, item in enumerate(raw, start=1))
        return frozenset(_scalar(spec, item, f"value[{i}]") for i, item in enumerate(raw, start=1))
    if isinstance(raw, list | tuple):
        raise _Invalid("value", f"'{op.value}' compares with one value; use 'in' for a list")
    return _scalar(spec, raw, "value")


def _parse_condition(raw: object) -> Condition:
    if not isinstance(raw, Mapping):
        raise _Invalid("", "must be an object with attribute, op and value")
    unknown = [key for key in raw if key not in _CONDITION_FIELDS]
    if unknown:
        raise _Invalid(str(unknown[0]), f"unknown field; a condition has {', '.join(_CONDITION_FIELDS)}")
    attribute = raw.get("attribute")
    if not isinstance(attribute, str) or not attribute.strip():
        raise _Invalid("attribute", "is required")
    spec = ATTRIBUTES.get(attribute.strip())
    if spec is None:
        close = difflib.get_close_matches(attribute.strip(), list(ATTRIBUTES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(ATTRIBUTES)}"
        raise _Invalid("attribute", f"unknown attribute {attribute!r}{hint}")
    op_raw = raw.get("op")
    if not isinstance(op_raw, str):
        raise _Invalid("op", f"is required: one of {', '.join(o.value for o in Operator)}")
    try:
        op = Operator(" ".join(op_raw.lower().split()))
    except ValueError:
        raise _Invalid(
            "op", f"unknown operator {op_raw!r}; expected one of {', '.join(o.value for o in Operator)}"
        ) from None
    allowed = _OPS_BY_TYPE[spec.type]
    if op not in allowed:
        raise _Invalid(
            "op",
            f"{op.value!r} does not apply to {spec.name} ({spec.type.value}); "
            f"use {', '.join(o.value for o in allowed)}",
        )
    if "value" not in raw:
        raise _Invalid("value", "is required")
    value = _condition_value(spec, op, raw["value"])
    window = raw.get("window_hours")
    if window is not None:
        if spec.velocity is None:
            raise _Invalid("window_hours", f"applies only to velocity attributes, not {spec.name}")
        if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= LONGEST_WINDOW_HOURS:
            raise _Invalid(
                "window_hours", f"must be a whole number of hours from 1 to {LONGEST_WINDOW_HOURS}, got {window!r}"
            )
    return Condition(spec.name, op, value, window)


def _rule_label(number: int, raw: object) -> str:
    name = raw.get("name") if isinstance(raw, Mapping) else None
    return f"rule {number} ({name.strip()!r})" if isinstance(name, str) and name.strip() else f"rule {number}"


def _parse_rule(number: int, raw: object, errors: list[str]) -> Rule | None:
    label = _rule_label(number, raw)
    if not isinstance(raw, Mapping):
        errors.append(f"{label}: must be an object with name, action and when")
        return None
    before = len(errors)
    for key in raw:
        if key not in _RULE_FIELDS:
            errors.append(f"{label}: {key}: unknown field; a rule has {', '.join(_RULE_FIELDS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(f"{label}: name: is required")
    elif len(name.strip()) > _MAX_NAME:
        errors.append(f"{label}: name: at most {_MAX_NAME} characters")
    action = raw.get("action")
    if action not in ACTIONS:
        errors.append(f"{label}: action: must be one of {', '.join(ACTIONS)}, got {action!r}")
    description = raw.get("description", "")
    if not isinstance(description, str):
        errors.append(f"{label}: description: must be text")
    when = raw.get("when")
    conditions: list[Condition] = []
    if not isinstance(when, list) or not when:
        errors.append(f"{label}: when: needs a list of at least one condition")
    elif len(when) > _MAX_CONDITIONS:
        errors.append(f"{label}: when: at most {_MAX_CONDITIONS} conditions")
    else:
        for index, item in enumerate(when, start=1):
            try:
                conditions.append(_parse_condition(item))
            except _Invalid as problem:
                where = f"when[{index}].{problem.field}" if problem.field else f"when[{index}]"
                errors.append(f"{label}: {where}: {problem.message}")
    if len(errors) > before:
        return None
    return Rule(
        name=cast(str, name).strip(),
        action=cast(Action, action),
        when=tuple(conditions),
        description=cast(str, description).strip(),
    )


def parse_rules(raw: object) -> tuple[Rule, ...]:
    """The merchant's rules in their order; ``RulesInvalid`` lists every problem at once."""
    if not isinstance(raw, list | tuple):
        raise RulesInvalid([f"rules must be a list of rules, got {type(raw).__name__}"])
    errors: list[str] = []
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(raw, start=1):
        rule = _parse_rule(number, item, errors)
        name = item.get("name") if isinstance(item, Mapping) else None
        if isinstance(name, str) and name.strip():
            key = name.strip().casefold()
            if key in seen:
                errors.append(f"{_rule_label(number, item)}: name: already used by rule {seen[key]}")
            else:
                seen[key] = number
        if rule is not None:
            rules.append(rule)
    if errors:
        raise RulesInvalid(errors)
    return tuple(rules)


def _dump_value(value: ConditionValue) -> object:
    if isinstance(value, ListRef):
        return str(value)
    if isinstance(value, tuple):
        return [network.compressed for network in value]
    if isinstance(value, frozenset):
        return [_dump_value(item) for item in sorted(value, key=str)]
    if isinstance(value, Decimal):
        return str(value)
    return value


def dump_rules(rules: Sequence[Rule]) -> list[dict[str, object]]:
    """The JSON shape ``parse_rules`` reads (round-trips), for storing and the settings form."""
    dumped: list[dict[str, object]] = []
    for rule in rules:
        conditions: list[dict[str, object]] = []
        for condition in rule.when:
            item: dict[str, object] = {
                "attribute": condition.attribute,
                "op": condition.op.value,
                "value": _dump_value(condition.value),
            }
            if condition.window_hours is not None:
                item["window_hours"] = condition.window_hours
            conditions.append(item)
        entry: dict[str, object] = {"name": rule.name, "action": rule.action, "when": conditions}
        if rule.description:
            entry["description"] = rule.description
        dumped.append(entry)
    return dumped


# -- evaluation ---------------------------------------------------------------------------------


Hit = Callable[[Scalar, RuleContext], bool]
_COMPARISONS: Mapping[Operator, Callable[[Any, Any], bool]] = {
    Operator.LT: operator.lt,
    Operator.LE: operator.le,
    Operator.GT: operator.gt,
    Operator.GE: operator.ge,
}


def _never(_: RuleContext) -> bool:
    return False


def _hit(spec: AttributeSpec, op: Operator, value: ConditionValue) -> Hit | None:
    """``=``, ``in`` or a comparison for one actual value (``!=``/``not in`` negate it later)."""
    if isinstance(value, ListRef):
        kind, allow = spec.list_kind, value.allow
        if kind is None:
            return None

        def listed(actual: Scalar, ctx: RuleContext) -> bool:
            return (ctx.lists.allow if allow else ctx.lists.block).has(kind, str(actual))

        return listed
    if op in (Operator.IN, Operator.NOT_IN):
        if isinstance(value, tuple):
            networks = value

            def in_networks(actual: Scalar, _: RuleContext) -> bool:
                address = parse_ip(str(actual))
                return address is not None and any(address in network for network in networks)

            return in_networks
        if isinstance(value, frozenset):
            members = value
            return lambda actual, _: actual in members
        return None
    if op in (Operator.EQ, Operator.NE):
        return lambda actual, _: actual == value
    compare = _COMPARISONS[op]

    def compared(actual: Scalar, _: RuleContext) -> bool:
        try:
            return compare(actual, value)
        except TypeError:  # a hand-built condition comparing a number with text
            return False

    return compared


def _compile(condition: Condition) -> Callable[[RuleContext], bool]:
    spec = ATTRIBUTES.get(condition.attribute)
    hit = None if spec is None else _hit(spec, condition.op, condition.value)
    if spec is None or hit is None:
        return _never
    read, window = spec.read, condition.window_hours
    negated = condition.op in (Operator.NE, Operator.NOT_IN)

    def test(ctx: RuleContext) -> bool:
        values = read(ctx, window)
        if not values:  # a value the order does not have never satisfies a condition
            return False
        for actual in values:
            if hit(actual, ctx):
                return not negated
        return negated

    return test


def condition_holds(condition: Condition, ctx: RuleContext) -> bool:
    return condition.test(ctx)


def first_match(rules: Sequence[Rule], action: Action, ctx: RuleContext) -> Rule | None:
    """The first rule of this action, in the merchant's order, whose conditions all hold."""
    for rule in rules:
        if rule.action != action:
            continue
        for condition in rule.when:
            if not condition.test(ctx):
                break
        else:
            return rule
    return None


def rule_velocity_windows(rules: Sequence[Rule], policy: FraudPolicy) -> tuple[tuple[VelocityDimension, int], ...]:
    """(dimension, window) pairs the rules read, so the service counts them too."""
    windows: dict[tuple[VelocityDimension, int], None] = {}
    for rule in rules:
        for condition in rule.when:
            spec = ATTRIBUTES.get(condition.attribute)
            if spec is not None and spec.velocity is not None:
                hours = condition.window_hours or policy.derived.velocity_windows.get(
                    spec.velocity, DEFAULT_WINDOW_HOURS
                )
                windows[(spec.velocity, hours)] = None
    return tuple(windows)
