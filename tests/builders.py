"""Keyword-only builders with defaults for payloads and domain objects."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
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
        "lines": [order_line_payload(unit_price=total, currency=currency)],
        **order_overrides,
    }
    return {
        "__typename": typename,
        "issuedAt": issued_at,
        "version": "3.24.0-a.0",
        "issuingPrincipal": None,
        "order": order,
    }


def order_line_payload(
    *,
    line_id: str = "T3JkZXJMaW5lOjE=",
    sku: str | None = "SKU-1",
    variant_id: str | None = "UHJvZHVjdFZhcmlhbnQ6MQ==",
    quantity: int = 1,
    unit_price: str = "129.90",
    unit_price_net: str | None = None,
    currency: str = "USD",
    **line_overrides: Any,
) -> dict[str, Any]:
    """An order line as OrderSummary selects it; ``variant=variant_payload(...)`` adds its variant."""
    unit = {"gross": {"amount": float(unit_price), "currency": currency}}
    if unit_price_net is not None:
        unit["net"] = {"amount": float(unit_price_net), "currency": currency}
    return {
        "id": line_id,
        "productSku": sku,
        "productVariantId": variant_id,
        "quantity": quantity,
        "unitPrice": unit,
        **line_overrides,
    }


def variant_payload(
    *,
    variant_id: str = "UHJvZHVjdFZhcmlhbnQ6MQ==",
    sku: str | None = "SKU-1",
    product_type: str | None = "Coffee",
    cost_prices: dict[str, str] | None = None,
    currency: str = "USD",
) -> dict[str, Any]:
    """A line's variant; ``cost_prices`` maps a channel slug to the variant's cost price there."""
    return {
        "id": variant_id,
        "sku": sku,
        "product": {"productType": {"name": product_type} if product_type is not None else None},
        "channelListings": [
            {"channel": {"slug": channel}, "costPrice": {"amount": float(amount), "currency": currency}}
            for channel, amount in (cost_prices or {}).items()
        ],
    }


def fulfillment_payload(
    *,
    fulfillment_id: str = "RnVsZmlsbG1lbnQ6MQ==",
    status: str = "FULFILLED",
    created: str = "2026-11-26T15:00:00+00:00",
    warehouse_id: str | None = "V2FyZWhvdXNlOjE=",
    warehouse_slug: str = "main-warehouse",
    lines: Sequence[tuple[str, str, int]] = (("RnVsZmlsbG1lbnRMaW5lOjE=", "T3JkZXJMaW5lOjE=", 1),),
) -> dict[str, Any]:
    """A fulfilment from one warehouse; ``lines`` are (fulfilment line ID, order line ID, quantity)."""
    return {
        "id": fulfillment_id,
        "status": status,
        "created": created,
        "warehouse": {"id": warehouse_id, "slug": warehouse_slug} if warehouse_id is not None else None,
        "lines": [
            {"id": line_id, "quantity": quantity, "orderLine": {"id": order_line_id}}
            for line_id, order_line_id, quantity in lines
        ],
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
        net_total=Decimal("64.90"),
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
