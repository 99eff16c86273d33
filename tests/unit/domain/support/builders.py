from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time

from app.domain.support.hours import BusinessHours
from app.domain.support.model import Channel, Priority
from app.domain.support.ticket import Requester, Ticket, TicketId, open_ticket

NINE_TO_FIVE = ((time(9), time(17)),)
WEEKDAYS_9_17 = dict.fromkeys(range(5), NINE_TO_FIVE)


def make_hours(
    time_zone: str = "America/New_York",
    country: str | None = "US",
    weekly: Mapping[int, tuple[tuple[time, time], ...]] | None = None,
) -> BusinessHours:
    return BusinessHours(time_zone, WEEKDAYS_9_17 if weekly is None else weekly, country)


def make_ticket(
    *,
    at: datetime = datetime(2026, 10, 5, 14, tzinfo=UTC),
    channel: Channel = Channel.EMAIL,
    priority: Priority = Priority.NORMAL,
    tags: tuple[str, ...] = (),
) -> Ticket:
    return open_ticket(
        TicketId("T-1"),
        requester=Requester("ana@example.com"),
        subject="Where is my parcel?",
        description="It has not arrived.",
        channel=channel,
        now=at,
        priority=priority,
        tags=tags,
    )
