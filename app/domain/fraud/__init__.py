"""Fraud scoring, the pure core: facts with sentiment, a 0-100 score, lists, ordered rules, a decision.

Pure and synchronous: no I/O (Google's address data and the disposable-domain list ship inside
their packages and are cached after first use), no clock (``now`` is a parameter). The service
fills ``OrderFacts`` and ``History`` (counting what ``velocity_probes`` asks for), calls
``assess_order_risk`` and writes ``RiskAssessment.to_metadata()`` to ``ops.fraud``.
The model and the decision order are documented in docs/fraud-scoring.md.
"""

from app.domain.fraud.facts import FACTS, FactSpec
from app.domain.fraud.lists import ListIndex, ListIndexes, build_list_indexes, parse_list_entry
from app.domain.fraud.model import (
    AddressFacts,
    CardFacts,
    CheckResult,
    Decision,
    FraudPolicyInvalid,
    History,
    LineFacts,
    ListEntry,
    ListEntryInvalid,
    ListKind,
    OrderFacts,
    PaymentInput,
    Reason,
    RiskAssessment,
    RulesInvalid,
    Sentiment,
    ShippingLevel,
    Stage,
    VelocityDimension,
    VelocityProbe,
)
from app.domain.fraud.policy import (
    DEFAULT_AVS_CODES,
    DEFAULT_CHECK_WORDS,
    DEFAULT_CVV_CODES,
    DEFAULT_VELOCITY,
    LONGEST_WINDOW_HOURS,
    FraudPolicy,
    VelocityLimit,
)
from app.domain.fraud.rules import (
    ATTRIBUTES,
    Condition,
    ListRef,
    Operator,
    Rule,
    dump_rules,
    parse_rules,
    rule_velocity_windows,
)
from app.domain.fraud.scoring import (
    assess_order_risk,
    probability_from_score,
    threshold_decision,
    velocity_probes,
)

__all__ = [
    "ATTRIBUTES",
    "DEFAULT_AVS_CODES",
    "DEFAULT_CHECK_WORDS",
    "DEFAULT_CVV_CODES",
    "DEFAULT_VELOCITY",
    "FACTS",
    "LONGEST_WINDOW_HOURS",
    "AddressFacts",
    "CardFacts",
    "CheckResult",
    "Condition",
    "Decision",
    "FactSpec",
    "FraudPolicy",
    "FraudPolicyInvalid",
    "History",
    "LineFacts",
    "ListEntry",
    "ListEntryInvalid",
    "ListIndex",
    "ListIndexes",
    "ListKind",
    "ListRef",
    "Operator",
    "OrderFacts",
    "PaymentInput",
    "Reason",
    "RiskAssessment",
    "Rule",
    "RulesInvalid",
    "Sentiment",
    "ShippingLevel",
    "Stage",
    "VelocityDimension",
    "VelocityLimit",
    "VelocityProbe",
    "assess_order_risk",
    "build_list_indexes",
    "dump_rules",
    "parse_list_entry",
    "parse_rules",
    "probability_from_score",
    "rule_velocity_windows",
    "threshold_decision",
    "velocity_probes",
]
