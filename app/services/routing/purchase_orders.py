"""E-mail purchase orders: a partner that takes orders by e-mail gets each shipment routed to it as a
plain-text purchase order with its lines attached as CSV, sent through the store's SMTP server (the one
Support · E-mail sets up) by the effects dispatcher, in the partner's own lane, retried with its backoff.

The order is kept with the hand-off as the effect's payload (``PurchaseOrder.to_payload``); the e-mail is
written when it is sent (``compose_purchase_order``), from the store's sender as set then and with the
app's public URL, through which the partner accepts, rejects and confirms shipments as any partner does.

A hand-off the order no longer needs is cancelled the same way, by e-mail in the same lane after its
purchase order (``PurchaseOrderCancel``, ``compose_purchase_order_cancel``): the lines it must no longer
ship, and why.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from app.domain.money import Money
from app.domain.routing.model import PickPackFees
from app.security import SecretCipher
from app.services.ports import MailNotSent, MailSender
from app.services.support.mail import SupportMailSettings, send_mail

CSV_COLUMNS = ("line_id", "sku", "name", "quantity", "unit_price", "currency", "amount")
CALLBACKS = "/api/routing/hand-offs"
NO_SMTP = "purchase orders go out through the store's SMTP server, and none is set (Support · E-mail)"
# The order the ship-to address is written in, one line per group (Saleor's address fields).
_ADDRESS_LINES = (
    ("firstName", "lastName"),
    ("companyName",),
    ("streetAddress1",),
    ("streetAddress2",),
    ("cityArea",),
    ("city", "countryArea", "postalCode"),
    ("country",),
)


@dataclass(frozen=True, slots=True)
class PurchaseOrderLine:
    """Units of one order line; ``unit_price`` is a supplier's by its feed, None for a 3PL (it ships the
    merchant's own stock and charges its pick-and-pack fees instead)."""

    line_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Money | None

    @property
    def amount(self) -> Money | None:
        return (
            None if self.unit_price is None else Money(self.unit_price.amount * self.quantity, self.unit_price.currency)
        )


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    """A hand-off as its partner reads it: the order, where to ship, what, and how long it has to answer."""

    hand_off_id: str
    order_number: str
    partner_name: str
    ship_to: Mapping[str, str]
    lines: tuple[PurchaseOrderLine, ...]
    answer_within: timedelta
    fees: PickPackFees | None = None  # a 3PL's

    def totals(self) -> tuple[Money, ...]:
        """What the lines come to, one sum per currency (a feed may price SKUs in several)."""
        sums: dict[str, Decimal] = {}
        for line in self.lines:
            if (amount := line.amount) is not None:
                sums[amount.currency] = sums.get(amount.currency, Decimal(0)) + amount.amount
        return tuple(Money(amount, currency) for currency, amount in sums.items())

    def to_payload(self) -> dict[str, Any]:
        def money(value: Money | None) -> dict[str, str] | None:
            return None if value is None else {"amount": str(value.amount), "currency": value.currency}

        return {
            "handOffId": self.hand_off_id,
            "orderNumber": self.order_number,
            "partnerName": self.partner_name,
            "shipTo": dict(self.ship_to),
            "lines": [
                {
                    "lineId": line.line_id,
                    "sku": line.sku,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unitPrice": money(line.unit_price),
                }
                for line in self.lines
            ],
            "answerWithinSeconds": int(self.answer_within.total_seconds()),
            "fees": None
            if self.fees is None
            else {"perOrder": money(self.fees.per_order), "perUnit": money(self.fees.per_unit)},
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> PurchaseOrder:
        def money(value: Mapping[str, str] | None) -> Money | None:
            return None if value is None else Money(Decimal(value["amount"]), value["currency"])

        fees = payload["fees"]
        per_order, per_unit = (None, None) if fees is None else (money(fees["perOrder"]), money(fees["perUnit"]))
        return cls(
            hand_off_id=payload["handOffId"],
            order_number=payload["orderNumber"],
            partner_name=payload["partnerName"],
            ship_to=dict(payload["shipTo"]),
            lines=tuple(
                PurchaseOrderLine(
                    line["lineId"], line["sku"], line["name"], int(line["quantity"]), money(line["unitPrice"])
                )
                for line in payload["lines"]
            ),
            answer_within=timedelta(seconds=int(payload["answerWithinSeconds"])),
            fees=None if per_order is None or per_unit is None else PickPackFees(per_order, per_unit),
        )


@dataclass(frozen=True, slots=True)
class PurchaseOrderCancel:
    """A purchase order cancelled: its units not shipped yet, which the partner must no longer ship."""

    hand_off_id: str
    order_number: str
    partner_name: str
    lines: tuple[PurchaseOrderLine, ...]  # unpriced: what not to ship
    reason: str

    def to_payload(self) -> dict[str, Any]:
        return {
            "handOffId": self.hand_off_id,
            "orderNumber": self.order_number,
            "partnerName": self.partner_name,
            "lines": [
                {"lineId": line.line_id, "sku": line.sku, "name": line.name, "quantity": line.quantity}
                for line in self.lines
            ],
            "reason": self.reason,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> PurchaseOrderCancel:
        return cls(
            hand_off_id=payload["handOffId"],
            order_number=payload["orderNumber"],
            partner_name=payload["partnerName"],
            lines=tuple(
                PurchaseOrderLine(line["lineId"], line["sku"], line["name"], int(line["quantity"]), None)
                for line in payload["lines"]
            ),
            reason=payload["reason"],
        )


def _money(value: Money) -> str:
    return f"{value.quantized().amount} {value.currency}"


def _price(value: Money) -> str:
    """A unit price as the feed set it (``3.125 USD``), never rounded: the amounts are."""
    return f"{value.amount} {value.currency}"


def _hours(window: timedelta) -> str:
    hours = int(window.total_seconds() // 3600)
    return f"{hours} hour{'' if hours == 1 else 's'}"


def address_lines(ship_to: Mapping[str, str]) -> list[str]:
    lines = [" ".join(ship_to[field] for field in group if ship_to.get(field)) for group in _ADDRESS_LINES]
    if ship_to.get("phone"):
        lines.append(f"Phone: {ship_to['phone']}")
    return [line for line in lines if line]


def attachment_name(order: PurchaseOrder) -> str:
    number = "".join(character for character in order.order_number if character.isalnum()) or order.hand_off_id
    return f"purchase-order-{number}.csv"


def purchase_order_csv(order: PurchaseOrder) -> str:
    """The lines as CSV: one row per order line, amounts unrounded (quantity times the unit price)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in order.lines:
        price, amount = line.unit_price, line.amount
        writer.writerow(
            (
                line.line_id,
                line.sku,
                line.name,
                line.quantity,
                "" if price is None else price.amount,
                "" if price is None else price.currency,
                "" if amount is None else amount.amount,
            )
        )
    return out.getvalue()


def purchase_order_text(order: PurchaseOrder, *, sender: str, public_url: str) -> str:
    """The e-mail's body: the order, where to ship it, its lines and totals, and how to answer."""
    units = sum(line.quantity for line in order.lines)
    base = f"{public_url.rstrip('/')}{CALLBACKS}/{order.hand_off_id}"
    text = [
        f"Purchase order for order #{order.order_number} from {sender}",
        f"To: {order.partner_name}",
        "",
        "Ship to:",
        *(f"  {line}" for line in address_lines(order.ship_to)),
        "",
        f"Lines (also attached as {attachment_name(order)}):",
    ]
    for line in order.lines:
        price = (
            ""
            if line.unit_price is None or line.amount is None
            else (f" at {_price(line.unit_price)} = {_money(line.amount)}")
        )
        text.append(f"  {line.sku}  {line.name}  x {line.quantity}{price}  (line {line.line_id})")
    text += ["", f"Total: {units} unit{'' if units == 1 else 's'}" + "".join(f", {_money(t)}" for t in order.totals())]
    if order.fees is not None:
        fee = order.fees.per_order.amount + order.fees.per_unit.amount * units
        text.append(
            f"Pick and pack as agreed: {_price(order.fees.per_order)} per order + {_price(order.fees.per_unit)} "
            f"per unit = {_money(Money(fee, order.fees.per_order.currency))}"
        )
    text += [
        "",
        "Answering this purchase order",
        f"Hand-off reference: {order.hand_off_id}",
        f"Accept or reject it within {_hours(order.answer_within)}; without an answer the order may be sent elsewhere.",
        "Answer, and confirm each shipment with its carrier and tracking number, through the partner API.",
        "Sign every request with the secret the merchant gave you: header X-Ops-Timestamp (Unix seconds)",
        'and header X-Ops-Signature, the hex HMAC-SHA256 of "<timestamp>.<body>" with that secret.',
        f"  Accept:   POST {base}/accept",
        f'  Reject:   POST {base}/reject      {{"reason": "..."}}',
        f"  Shipped:  POST {base}/shipments   "
        '{"shipmentId": "...", "carrier": "...", "trackingNumber": "...", "lines": [{"lineId": "...", "quantity": 1}]}',
        "The line ids are those above and in the CSV; a shipment may send part of the lines.",
        f"The API is described at {public_url.rstrip('/')}/api/openapi.json. For anything else, reply to this e-mail.",
    ]
    return "\n".join(text) + "\n"


def purchase_order_cancel_text(cancel: PurchaseOrderCancel, *, sender: str) -> str:
    """The cancel's body: which purchase order, the lines not to ship, and why."""
    units = sum(line.quantity for line in cancel.lines)
    text = [
        f"Purchase order for order #{cancel.order_number} from {sender}: CANCELLED",
        f"To: {cancel.partner_name}",
        f"Hand-off reference: {cancel.hand_off_id}",
        "",
        "Do not ship these lines of it:",
        *(f"  {line.sku}  {line.name}  x {line.quantity}  (line {line.line_id})" for line in cancel.lines),
        f"Total: {units} unit{'' if units == 1 else 's'} not to ship",
        "",
        f"Reason: {cancel.reason}",
        "",
        "Units of it you confirmed as shipped before this stand; a shipment confirmed from now on is refused.",
        "For anything else, reply to this e-mail.",
    ]
    return "\n".join(text) + "\n"


def _message(settings: SupportMailSettings, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((settings.from_name, settings.from_address))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.reply_domain)
    message.set_content(text)
    return message


def _sender(settings: SupportMailSettings) -> str:
    return settings.from_name or settings.from_address


def compose_purchase_order(
    order: PurchaseOrder, to: str, *, settings: SupportMailSettings, public_url: str
) -> EmailMessage:
    """The purchase order's e-mail from the store's sender, with the lines attached as CSV."""
    sender = _sender(settings)
    message = _message(
        settings,
        to,
        f"Purchase order for order #{order.order_number} from {sender}",
        purchase_order_text(order, sender=sender, public_url=public_url),
    )
    message.add_attachment(
        purchase_order_csv(order).encode(),
        maintype="text",
        subtype="csv",
        filename=attachment_name(order),
        params={"charset": "utf-8"},
    )
    return message


def compose_purchase_order_cancel(
    cancel: PurchaseOrderCancel, to: str, *, settings: SupportMailSettings
) -> EmailMessage:
    """The cancel's e-mail from the store's sender; its subject names the purchase order it cancels."""
    sender = _sender(settings)
    subject = f"CANCELLED: purchase order for order #{cancel.order_number} from {sender} (ref. {cancel.hand_off_id})"
    return _message(settings, to, subject, purchase_order_cancel_text(cancel, sender=sender))


async def _mail(
    to: str,
    compose: Callable[[SupportMailSettings], EmailMessage],
    configured: SupportMailSettings | None,
    *,
    sender: MailSender,
    cipher: SecretCipher,
) -> None:
    """Send through the store's SMTP server as it is set now; ``MailNotSent`` (retried) when it did not go
    out, the store having no server set among the reasons."""
    if configured is None:
        raise MailNotSent(NO_SMTP)
    await send_mail(compose(configured), configured, sender=sender, cipher=cipher)


async def deliver_purchase_order(
    payload: Mapping[str, Any],
    configured: SupportMailSettings | None,
    *,
    public_url: str,
    sender: MailSender,
    cipher: SecretCipher,
) -> str:
    """E-mail a kept purchase order (``_mail``)."""
    to, order = str(payload["to"]), PurchaseOrder.from_payload(payload["purchaseOrder"])
    await _mail(
        to,
        lambda settings: compose_purchase_order(order, to, settings=settings, public_url=public_url),
        configured,
        sender=sender,
        cipher=cipher,
    )
    return f"purchase order e-mailed to {to}"


async def deliver_purchase_order_cancel(
    payload: Mapping[str, Any], configured: SupportMailSettings | None, *, sender: MailSender, cipher: SecretCipher
) -> str:
    """E-mail a kept purchase order's cancel (``_mail``)."""
    to, cancel = str(payload["to"]), PurchaseOrderCancel.from_payload(payload["cancel"])
    await _mail(
        to,
        lambda settings: compose_purchase_order_cancel(cancel, to, settings=settings),
        configured,
        sender=sender,
        cipher=cipher,
    )
    return f"purchase order cancel e-mailed to {to}"
