"""Pydantic models of our subscription payloads, parsed from the verified bytes.

Money fields are ``Decimal`` and parsed straight from the JSON text, so ``0.1``
on the wire is ``Decimal("0.1")``, never a float on the way.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.domain.money import Money


class Payload(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)


class MoneyPayload(Payload):
    amount: Decimal
    currency: str

    def to_money(self) -> Money:
        return Money(self.amount, self.currency)


class TaxedMoneyPayload(Payload):
    gross: MoneyPayload


class ChannelPayload(Payload):
    slug: str
    currency_code: str = Field(alias="currencyCode")


class UserRef(Payload):
    id: str
    email: str | None = None


class OrderLinePayload(Payload):
    id: str
    product_sku: str | None = Field(default=None, alias="productSku")
    product_variant_id: str | None = Field(default=None, alias="productVariantId")
    quantity: int
    unit_price: TaxedMoneyPayload = Field(alias="unitPrice")


class OrderPayload(Payload):
    id: str
    number: str
    status: str
    created: AwareDatetime
    user_email: str | None = Field(default=None, alias="userEmail")
    channel: ChannelPayload
    user: UserRef | None = None
    total: TaxedMoneyPayload
    lines: list[OrderLinePayload]


class PrincipalRef(Payload):
    typename: str = Field(alias="__typename")
    id: str | None = None


class EventPayload(Payload):
    """The fields of Saleor's ``Event`` interface that our subscriptions select."""

    typename: str = Field(alias="__typename")
    issued_at: AwareDatetime = Field(alias="issuedAt")
    version: str | None = None


class OrderEventPayload(EventPayload):
    issuing_principal: PrincipalRef | None = Field(default=None, alias="issuingPrincipal")
    order: OrderPayload


class AppRef(Payload):
    id: str


class AppDeletedPayload(EventPayload):
    app: AppRef | None = None
