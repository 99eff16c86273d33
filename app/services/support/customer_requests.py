"""A customer writes about an order from the storefront: the form or the public API.

The customer names the order by its number and gives the e-mail they ordered with; Saleor is asked
for the order and the pair must match. When it does not (no such order, another e-mail, an order
placed without one), the answer is the same ``OrderNotMatched``, so the endpoint tells nobody which
order numbers exist or whose they are.

Every matching request opens a new ticket on the web-form channel, with the order linked and the
customer's Saleor id when the order has one. It does not thread into an open ticket of the same
requester and order: the ticket store has no such lookup (``TicketStore``), and a customer's answers
to a ticket thread by e-mail (``mail``), so a second form request is a second question.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.domain.ids import SaleorApiUrl
from app.domain.support.model import Channel
from app.domain.support.ticket import Requester, Ticket, open_ticket
from app.services.input_problems import InputProblem
from app.services.ports import Clock, OrderLookup, SettingsStore, SlaTicketStore
from app.services.support.desk import add_ticket

MAX_EMAIL_CHARS = 254  # RFC 5321's longest path
MAX_ORDER_NUMBER_DIGITS = 18
MAX_SUBJECT_CHARS = 200
MAX_MESSAGE_CHARS = 10_000


@dataclass(frozen=True, slots=True)
class CustomerRequest:
    order_number: str
    email: str
    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class RequestOpened:
    ticket: Ticket


@dataclass(frozen=True, slots=True)
class OrderNotMatched:
    """No order of this number was placed with this e-mail (which of the two is never said)."""


def _check_number(number: str) -> str | None:
    digits = number.removeprefix("#")
    if not digits:
        return "the order number is required"
    if not (digits.isascii() and digits.isdigit()):
        return "an order number is digits, as in the order confirmation"
    if len(digits) > MAX_ORDER_NUMBER_DIGITS:
        return f"an order number has at most {MAX_ORDER_NUMBER_DIGITS} digits"
    return None


def _check_email(email: str) -> str | None:
    if not email:
        return "the e-mail address is required"
    if len(email) > MAX_EMAIL_CHARS:
        return f"an e-mail address has at most {MAX_EMAIL_CHARS} characters"
    try:
        Requester(email)
    except ValueError:
        return "this is not an e-mail address"
    return None


def _check_subject(subject: str) -> str | None:
    return f"a subject has at most {MAX_SUBJECT_CHARS} characters" if len(subject) > MAX_SUBJECT_CHARS else None


def _check_message(message: str) -> str | None:
    if not message:
        return "write what the request is about"
    if len(message) > MAX_MESSAGE_CHARS:
        return f"a message has at most {MAX_MESSAGE_CHARS} characters"
    return None


_CHECKS = {"order_number": _check_number, "email": _check_email, "subject": _check_subject, "message": _check_message}


def read_customer_request(fields: Mapping[str, object]) -> CustomerRequest | tuple[InputProblem, ...]:
    """The request in ``fields`` (a form or a JSON object; the subject may be left out), or every problem."""
    problems = [
        InputProblem(None, name, "", f"is not a field; send {', '.join(_CHECKS)}")
        for name in sorted(set(fields) - set(_CHECKS))
    ]
    values: dict[str, str] = {}
    for name, check in _CHECKS.items():
        value = fields.get(name, "")
        if not isinstance(value, str):
            problems.append(InputProblem(None, name, "", "must be text"))
            continue
        values[name] = value.strip()
        reason = check(values[name])
        if reason is not None:
            problems.append(InputProblem(None, name, values[name][:40], reason))
    if problems:
        return tuple(problems)
    return CustomerRequest(
        values["order_number"].removeprefix("#"), values["email"], values["subject"], values["message"]
    )


def _same_address(email: str) -> str:
    return email.strip().casefold()


async def open_customer_request(
    saleor_api_url: SaleorApiUrl,
    request: CustomerRequest,
    *,
    orders: OrderLookup,
    tickets: SlaTicketStore,
    settings: SettingsStore,
    clock: Clock,
) -> RequestOpened | OrderNotMatched:
    now = clock.now()
    order = await orders.order_by_number(request.order_number)
    if order is None or order.email is None or _same_address(order.email) != _same_address(request.email):
        return OrderNotMatched()
    ticket = open_ticket(
        await tickets.next_id(saleor_api_url),
        requester=Requester(order.email, order.customer_id),
        subject=request.subject or f"Order {order.number}",
        description=request.message,
        channel=Channel.WEB_FORM,
        now=now,
        order_ids=(order.order_id,),
    )
    await add_ticket(tickets, settings, saleor_api_url, ticket, now)
    return RequestOpened(ticket)
