"""Macros: a support team's saved replies, written once and filled in with a ticket's own data.

A macro's body names variables as ``{{ order.number }}``; ``MACRO_VARIABLES`` lists every one a macro
may use. ``MacroValues`` holds what a ticket knows of them: a variable the ticket has no value for (an
order not yet shipped has no tracking link) is known but empty, and applying a macro that needs it is
refused with that reason rather than sending a blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NewType

from app.domain.support.model import as_utc

MacroId = NewType("MacroId", str)
NAME_LIMIT = 120
BODY_LIMIT = 20_000

# Every variable a macro may name, by object, with what it is.
MACRO_VARIABLES: Mapping[str, Mapping[str, str]] = {
    "order": {
        "number": "the order's number in Saleor",
        "tracking_number": "the tracking number of its latest fulfilment",
        "tracking_url": "the tracking link of its latest fulfilment",
    },
    "customer": {"name": "the customer's name", "email": "the customer's e-mail address"},
    "ticket": {"number": "the ticket's number", "subject": "the ticket's subject"},
    "agent": {"name": "the staff user applying the macro, as Saleor names them (their e-mail)"},
}
# A value for each variable, to check a macro when it is saved.
SAMPLE_VALUES: Mapping[str, Mapping[str, str]] = {
    "order": {"number": "1042", "tracking_number": "1Z999AA10123456784", "tracking_url": "https://track.example/1Z999"},
    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "ticket": {"number": "17", "subject": "Where is my parcel?"},
    "agent": {"name": "support@shop.example"},
}

# Each object's values; None is a variable this ticket has no value for.
MacroValues = Mapping[str, Mapping[str, str | None]]


class MacroRefused(ValueError):
    """A macro that cannot be saved or applied; the reason names what is wrong and nothing changes."""


@dataclass(frozen=True, slots=True)
class Macro:
    id: MacroId
    name: str
    body: str
    updated_by: str
    updated_at: datetime


def macro(macro_id: MacroId, *, name: str, body: str, by: str, now: datetime) -> Macro:
    """A macro with its name and body checked for size; its variables are checked by rendering it."""
    name, body = name.strip(), body.strip()
    if not name:
        raise MacroRefused("A macro needs a name.")
    if len(name) > NAME_LIMIT:
        raise MacroRefused(f"A macro's name has at most {NAME_LIMIT} characters, not {len(name)}.")
    if not body:
        raise MacroRefused("A macro needs a body: the reply it writes.")
    if len(body) > BODY_LIMIT:
        raise MacroRefused(f"A macro's body has at most {BODY_LIMIT} characters, not {len(body)}.")
    return Macro(macro_id, name, body, by, as_utc("now", now))


def tracking_url(tracking_number: str | None) -> str | None:
    """A tracking number that is itself a link is the link (Saleor's dashboard shows it so)."""
    if tracking_number and tracking_number.startswith(("https://", "http://")):
        return tracking_number
    return None


@dataclass(frozen=True, slots=True)
class MacroOrder:
    """What the app has heard of an order (its latest webhook body still kept)."""

    number: str
    customer_name: str | None
    customer_email: str | None
    tracking_number: str | None


def macro_values(
    *, ticket_number: str, subject: str, requester: str, agent: str, order: MacroOrder | None
) -> MacroValues:
    """A ticket's values for every variable: its first order's, its requester's when the order names nobody."""
    return {
        "order": {
            "number": None if order is None else order.number,
            "tracking_number": None if order is None else order.tracking_number,
            "tracking_url": None if order is None else tracking_url(order.tracking_number),
        },
        "customer": {
            "name": None if order is None else order.customer_name,
            "email": (order.customer_email if order is not None else None) or requester,
        },
        "ticket": {"number": ticket_number, "subject": subject},
        "agent": {"name": agent},
    }
