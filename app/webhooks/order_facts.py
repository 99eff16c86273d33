"""What fraud scoring needs to know of an order, read from the verified webhook payload."""

from __future__ import annotations

from decimal import Decimal

from app.domain.fraud import AddressFacts, CardFacts, LineFacts, OrderFacts, PaymentInput
from app.webhooks.payloads import AddressPayload, OrderPayload, PaymentPayload, TransactionPayload


def _address(address: AddressPayload | None) -> AddressFacts | None:
    if address is None:
        return None
    street = ", ".join(part for part in (address.street_address_1, address.street_address_2) if part)
    return AddressFacts(
        country=address.country.code,
        country_area=address.country_area,
        postal_code=address.postal_code,
        city=address.city,
        street=street,
        first_name=address.first_name,
        last_name=address.last_name,
    )


def _holds_money(transaction: TransactionPayload) -> bool:
    """Authorized or charged: a payment the customer made, not one that is pending or failed."""
    amounts = (transaction.authorized_amount, transaction.charged_amount)
    return any(amount is not None and amount.amount > 0 for amount in amounts)


def _legacy_payment(payment: PaymentPayload) -> PaymentInput:
    """Saleor's card fields only: a Payment's metadata needs HANDLE_PAYMENTS, which the app does not ask for."""
    card = payment.credit_card
    return PaymentInput(
        metadata={},
        gateway=payment.gateway or None,
        card=None
        if card is None
        else CardFacts(
            brand=card.brand or None,
            bin=card.first_digits,
            last4=card.last_digits or None,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        ),
    )


def order_facts(order: OrderPayload) -> OrderFacts:
    """Scores on what exists: a guest, a draft without payments, digital goods without an address.

    ``payments`` holds what the customer paid with: transactions that hold an authorization or a
    charge, and legacy payments (checkout plugins, or "Mark as paid" with the payment flow).
    """
    payments = [
        PaymentInput(metadata={i.key: i.value for i in t.metadata}) for t in order.transactions if _holds_money(t)
    ]
    payments += [_legacy_payment(p) for p in order.payments]
    customer_ip = next((p.customer_ip_address for p in order.payments if p.customer_ip_address), None)
    return OrderFacts(
        order_id=order.id,
        channel=order.channel.slug,
        currency=order.total.gross.currency,
        total=order.total.gross.amount,
        # Payloads recorded before the subscription selected ``net`` carry only the gross total.
        net_total=(order.total.net or order.total.gross).amount,
        shipping_amount=order.shipping_price.gross.amount if order.shipping_price else Decimal(0),
        lines=tuple(
            LineFacts(
                sku=line.product_sku,
                quantity=line.quantity,
                unit_price=line.unit_price.gross.amount,
                unit_cost=line.cost_price_in(order.channel.slug),
            )
            for line in order.lines
        ),
        email=order.user_email or (order.user.email if order.user else None),
        customer_id=order.user.id if order.user else None,
        customer_joined_at=order.user.date_joined if order.user else None,
        billing=_address(order.billing_address),
        shipping=_address(order.shipping_address),
        shipping_method=order.shipping_method_name,
        payments=tuple(payments),
        customer_ip=customer_ip,
    )
