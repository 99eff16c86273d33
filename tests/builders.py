"""Keyword-only builders with defaults for payloads and domain objects."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.domain.fraud import AddressFacts, LineFacts, OrderFacts
from app.domain.ids import AppId, SaleorApiUrl
from app.domain.installation import Installation

SHOP_API_URL = SaleorApiUrl("https://shop.test/graphql/")
APP_ID = AppId("QXBwOjE=")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def make_installation(
    *,
    saleor_api_url: SaleorApiUrl = SHOP_API_URL,
    app_id: AppId = APP_ID,
    token: str = "app-token-1",
    jwks: str,
    at: datetime = NOW,
    **overrides: Any,
) -> Installation:
    return Installation(
        saleor_api_url=saleor_api_url,
        app_id=app_id,
        token=token,
        jwks=jwks,
        installed_at=at,
        updated_at=at,
        **overrides,
    )


def order_payload(
    *,
    typename: str = "OrderCreated",
    order_id: str = "T3JkZXI6MQ==",
    number: str = "1001",
    issued_at: str = "2026-11-26T12:00:00+00:00",
    total: str = "129.90",
    currency: str = "USD",
    **order_overrides: Any,
) -> dict[str, Any]:
    order = {
        "id": order_id,
        "number": number,
        "status": "UNCONFIRMED",
        "created": "2026-11-26T11:59:58+00:00",
        "userEmail": "buyer@example.com",
        "channel": {"slug": "default-channel", "currencyCode": currency},
        "user": None,
        "total": {"gross": {"amount": float(total), "currency": currency}},
        "lines": [
            {
                "id": "T3JkZXJMaW5lOjE=",
                "productSku": "SKU-1",
                "productVariantId": "UHJvZHVjdFZhcmlhbnQ6MQ==",
                "quantity": 1,
                "unitPrice": {"gross": {"amount": float(total), "currency": currency}},
            }
        ],
        **order_overrides,
    }
    return {
        "__typename": typename,
        "issuedAt": issued_at,
        "version": "3.24.0-a.0",
        "issuingPrincipal": None,
        "order": order,
    }


def body_of(payload: dict[str, Any]) -> bytes:
    """Compact bytes, as Saleor serialises; tests sign exactly these bytes."""
    return json.dumps(payload, separators=(",", ":")).encode()


def make_order_facts(**overrides: Any) -> OrderFacts:
    """An ordinary order from a returning US customer, paid by a card that passed AVS and CVV."""
    facts = OrderFacts(
        order_id="T3JkZXI6MQ==",
        channel="default-channel",
        currency="USD",
        total=Decimal("64.90"),
        shipping_amount=Decimal("6.95"),
        lines=(LineFacts(sku="MUG-BLUE", quantity=2, unit_price=Decimal("28.98"), unit_cost=Decimal("9.40")),),
        email="ada@example.com",
        customer_id="VXNlcjox",
        customer_joined_at=NOW - timedelta(days=400),
        billing=AddressFacts(country="US", country_area="TX", postal_code="78701", city="Austin", street="1 Main St"),
        shipping=AddressFacts(country="US", country_area="TX", postal_code="78701", city="Austin", street="1 Main St"),
        shipping_method="Standard",
        payments=(),
        customer_ip="198.51.100.7",
    )
    return dataclasses.replace(facts, **overrides)
