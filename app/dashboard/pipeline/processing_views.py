"""The Order processing page in words a merchant reads: what is waiting, being retried or failed,
and why. Pure builders of template context, unit-tested without HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, format_time

from app.dashboard.view_models import EVENT_LABELS, local_time
from app.domain.pipeline.backlog import BacklogCounts, BacklogItem, Progress
from app.services.pipeline import EffectKind
from app.services.support.mail import TICKET_KEY

EFFECT_LABELS = {
    EffectKind.FRAUD_DECISION: "Fraud decision (metadata and note)",
    EffectKind.COGS: "Cost of goods (metadata and note)",
    EffectKind.SHIPPING: "Shipping (metadata and note)",
    EffectKind.CONFIRM: "Confirm the order",
    EffectKind.CANCEL: "Cancel the order",
    EffectKind.NOTE: "Order note",
    EffectKind.SUPPORT_REPLY: "Support reply (e-mail)",
    EffectKind.PURCHASE_ORDER: "Purchase order (e-mail to a partner)",
    EffectKind.CANCEL_HAND_OFF: "Hand-off cancel (to the partner)",
    EffectKind.CANCEL_PURCHASE_ORDER: "Purchase order cancel (e-mail to a partner)",
    EffectKind.SUPPORT_NOTICE: "Support notice to the assignee (e-mail)",
}
# A Saleor error is stored as "<exception>: <operation>: <message>" (app.errors.SaleorApiError).
_SALEOR_ERROR = re.compile(r"(Saleor\w*Error): [^:\s]+: (.*)", re.DOTALL)
# The page counts attempts itself; each dispatcher attempt is one call to Saleor.
_AFTER_ATTEMPTS = re.compile(r" after \d+ attempts?$")
_SALEOR_LEADS = {
    "SaleorMutationError": "Saleor refused the change: ",
    "SaleorGraphQLError": "Saleor answered with an error: ",
}
_OTHER_LEADS = {"ValidationError": "The order in this webhook could not be read"}
# Errors whose message says it all, after a lead in plain words (support replies, purchase orders).
_MESSAGE_LEADS = {"MailNotSent": "Not e-mailed: "}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def reason(error: str | None) -> tuple[str, str | None]:
    """Why an attempt failed, in plain words, and the stored error in full when the words shorten it."""
    if not error:
        return "", None
    if saleor := _SALEOR_ERROR.fullmatch(error):
        name, message = saleor.groups()
        text = _SALEOR_LEADS.get(name, "") + _AFTER_ATTEMPTS.sub("", message)
    else:
        name, _, message = error.partition(": ")
        text = _MESSAGE_LEADS[name] + message if name in _MESSAGE_LEADS else _OTHER_LEADS.get(name, error)
    text = text[:1].upper() + text[1:]
    return text, None if text == error else error


def _clock(moment: datetime, now: datetime, zone: ZoneInfo, locale: Locale) -> str:
    """A time later today as its time of day; any other as date and time."""
    if moment.astimezone(zone).date() == now.astimezone(zone).date():
        return format_time(moment, format="short", tzinfo=zone, locale=locale)
    return format_datetime(moment, format="short", tzinfo=zone, locale=locale)


@dataclass(frozen=True, slots=True)
class BacklogRow:
    id: int
    label: str
    order_id: str
    order_number: str | None
    progress: str  # waiting, retrying, sending, failed
    status: str  # "Retrying"
    status_detail: str  # "(tried 2 times, next at 2:05 PM)"
    reason: str  # empty when nothing failed yet
    detail: str | None  # the stored error, when ``reason`` says it in other words
    since: str
    can_retry: bool

    @property
    def state(self) -> str:
        return f"{self.status} {self.status_detail}"

    @property
    def ticket_id(self) -> str | None:
        """The support ticket an effect belongs to instead of an order (a reply's e-mail)."""
        return self.order_id.removeprefix(TICKET_KEY) if self.order_id.startswith(TICKET_KEY) else None


def _status(item: BacklogItem, waiting: str, now: datetime, zone: ZoneInfo, locale: Locale) -> tuple[str, str]:
    match item.progress:
        case Progress.WAITING:
            return "Waiting", waiting
        case Progress.RETRYING:
            due = item.next_attempt_at
            when = "due now" if due <= now else f"next at {_clock(due, now, zone, locale)}"
            return "Retrying", f"(tried {_plural(item.attempts, 'time')}, {when})"
        case Progress.SENDING:
            return "Being sent", f"(attempt {item.attempts})"
        case _:
            return "Failed", f"after {_plural(item.attempts, 'attempt')}"


def _rows(
    items: list[BacklogItem], labels: dict[str, str], waiting: str, now: datetime, zone: ZoneInfo, locale: Locale
) -> list[BacklogRow]:
    rows = []
    for item in items:
        status, status_detail = _status(item, waiting, now, zone, locale)
        text, detail = reason(item.last_error)
        rows.append(
            BacklogRow(
                id=item.id,
                label=labels.get(item.what, item.what),
                order_id=item.order_id,
                order_number=item.order_number,
                progress=item.progress.value,
                status=status,
                status_detail=status_detail,
                reason=text,
                detail=detail,
                since=local_time(item.since, zone, locale),
                # One being sent is in a dispatcher's hands; one waiting is due already.
                can_retry=item.progress in (Progress.RETRYING, Progress.FAILED),
            )
        )
    return rows


def delivery_rows(items: list[BacklogItem], now: datetime, zone: ZoneInfo, locale: Locale) -> list[BacklogRow]:
    return _rows(items, EVENT_LABELS, "to be processed", now, zone, locale)


def effect_rows(items: list[BacklogItem], now: datetime, zone: ZoneInfo, locale: Locale) -> list[BacklogRow]:
    return _rows(items, EFFECT_LABELS, "to be sent to Saleor", now, zone, locale)


def delivery_stats(counts: BacklogCounts) -> list[tuple[str, int]]:
    return [
        ("Waiting", counts.waiting),
        ("Retrying", counts.retrying),
        ("Failed", counts.failed),
        ("Processed in the last 24 hours", counts.done),
    ]


def effect_stats(counts: BacklogCounts) -> list[tuple[str, int]]:
    return [
        ("Waiting", counts.waiting),
        ("Retrying", counts.retrying),
        ("Being sent", counts.sending),
        ("Failed", counts.failed),
        ("Delivered in the last 24 hours", counts.done),
    ]


@dataclass(frozen=True, slots=True)
class BacklogNotice:
    level: str  # error (something failed: a person must act) or warning (the app is still trying)
    text: str


def backlog_notice(deliveries: BacklogCounts, effects: BacklogCounts) -> BacklogNotice | None:
    """What the home page says of the pipeline: failures first, since only a person can clear them."""
    failed = [
        _plural(deliveries.failed, "webhook") + " could not be processed" if deliveries.failed else "",
        _plural(effects.failed, "change") + " did not reach Saleor" if effects.failed else "",
    ]
    if any(failed):
        return BacklogNotice("error", "Failed: " + " and ".join(part for part in failed if part) + ".")
    retrying = deliveries.retrying + effects.retrying
    if retrying:
        return BacklogNotice("warning", f"{_plural(retrying, 'item')} failed at first and will be tried again.")
    return None
