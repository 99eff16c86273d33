"""Keyword-only builders for fraud inputs: a quiet, returning, fully verified order by default."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.domain.fraud import (
    AddressFacts,
    CardFacts,
    History,
    LineFacts,
    OrderFacts,
    PaymentInput,
    VelocityProbe,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def make_address(**overrides: Any) -> AddressFacts:
    values: dict[str, Any] = {
        "country": "US",
        "country_area": "CA",
        "postal_code": "94103",
        "city": "San Francisco",
        "street": "1 Market St",
        "first_name": "John",
        "last_name": "Smith",
    }
    values.update(overrides)
    return AddressFacts(**values)


def make_payment(metadata: Mapping[str, str] | None = None, **overrides: Any) -> PaymentInput:
    values: dict[str, Any] = {
        "metadata": {"avs_result": "Y", "cvv_result": "M"} if metadata is None else dict(metadata),
        "gateway": "app.saleor.stripe",
        "card": CardFacts(brand="visa", bin="424242", last4="4242", exp_month=12, exp_year=2028, country="US"),
    }
    values.update(overrides)
    return PaymentInput(**values)


def make_line(**overrides: Any) -> LineFacts:
    values: dict[str, Any] = {
        "sku": "COF-ETH-340",
        "quantity": 2,
        "unit_price": Decimal("25.00"),
        "unit_cost": Decimal("10.00"),
    }
    values.update(overrides)
    return LineFacts(**values)


def make_order(**overrides: Any) -> OrderFacts:
    address = make_address()
    values: dict[str, Any] = {
        "order_id": "T3JkZXI6MQ==",
        "channel": "default-channel",
        "currency": "USD",
        "total": Decimal("60.00"),
        "shipping_amount": Decimal("10.00"),
        "lines": (make_line(),),
        "email": "john.smith@example.com",
        "customer_id": "VXNlcjox",
        "customer_joined_at": datetime(2025, 1, 1, tzinfo=UTC),
        "billing": address,
        "shipping": address,
        "shipping_method": "Standard (UPS Ground)",
        "payments": (make_payment(),),
        "customer_ip": "203.0.113.7",
        "customer_ip_country": "US",
    }
    values.update(overrides)
    values.setdefault("net_total", values["total"])  # untaxed unless a test says otherwise
    return OrderFacts(**values)


def make_guest_order(**overrides: Any) -> OrderFacts:
    values: dict[str, Any] = {"customer_id": None, "customer_joined_at": None}
    values.update(overrides)
    return make_order(**values)


def make_history(velocity: Mapping[VelocityProbe, int] | None = None, **overrides: Any) -> History:
    values: dict[str, Any] = {
        "store_order_count": 200,
        "store_median_total": Decimal("50.00"),
        "customer_order_count": 2,
        "customer_average_total": Decimal("55.00"),
        "velocity": {} if velocity is None else dict(velocity),
    }
    values.update(overrides)
    return History(**values)
