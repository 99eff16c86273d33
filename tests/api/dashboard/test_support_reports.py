"""Support → Reports: the tickets of a period per week, assignee or reason, with times in business hours and SLA
attainment, on the page and in its CSV file with the same figures; refused periods change nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.support import SqlTicketStore
from app.domain.installation import Installation
from app.domain.support.model import Channel
from app.domain.support.ticket import (
    AgentReplied,
    Assigned,
    Requester,
    Status,
    StatusSet,
    TicketEvent,
    open_ticket,
)
from app.runtime import Runtime
from app.services.support.desk import act, add_ticket
from tests.builders import SHOP_API_URL

pytestmark = pytest.mark.usefixtures("installation")
REPORTS = "/api/dashboard/fragments/support/reports"
CSV = "/api/dashboard/support/reports.csv"
HOUR = timedelta(hours=1)


async def _keep(runtime: Runtime, created: datetime, channel: Channel, *steps: tuple[timedelta, TicketEvent]) -> None:
    """A ticket opened and worked through the desk, which keeps its measures at every change."""
    async with runtime.sessions.begin() as session:
        store, settings = SqlTicketStore(session), SqlSettingsStore(session)
        ticket = open_ticket(
            await store.next_id(SHOP_API_URL),
            requester=Requester("ann@example.com"),
            subject="Where is my parcel?",
            description="It has been a week.",
            channel=channel,
            now=created,
        )
        assert await add_ticket(store, settings, SHOP_API_URL, ticket, created)
        for offset, event in steps:
            await act(store, settings, SHOP_API_URL, ticket.id, event, created + offset)


@pytest.fixture
async def tickets(runtime: Runtime, installation: Installation) -> None:
    """The default settings: UTC, 9-17 on weekdays, normal tickets answered within 8 and solved within 40 business
    hours. Now is Thursday 26 November 2026, 12:00 UTC."""
    # Week 48: answered in 2 hours and solved in 4 by ana.
    await _keep(
        runtime,
        datetime(2026, 11, 23, 9, tzinfo=UTC),
        Channel.EMAIL,
        (timedelta(0), Assigned("ana@shop.test")),
        (2 * HOUR, AgentReplied("ana@shop.test", "Here it is")),
        (4 * HOUR, StatusSet(Status.SOLVED)),
    )
    # Week 48: nobody answered since Wednesday 10:00, 10 business hours: the first reply is breached.
    await _keep(runtime, datetime(2026, 11, 25, 10, tzinfo=UTC), Channel.WEB_FORM)
    # Week 47: bo answered after 9 business hours (breached); unsolved past its 40 hours (breached).
    await _keep(
        runtime,
        datetime(2026, 11, 17, 9, tzinfo=UTC),
        Channel.EMAIL,
        (timedelta(0), Assigned("bo@shop.test")),
        (timedelta(hours=25), AgentReplied("bo@shop.test", "Sorry")),
    )
    # Before the period.
    await _keep(runtime, datetime(2026, 10, 1, 9, tzinfo=UTC), Channel.EMAIL)


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_reports_need_the_permission_to_manage_orders(client: httpx.AsyncClient, staff_headers) -> None:
    for path in (REPORTS, CSV):
        assert (await client.get(path, headers=staff_headers("MANAGE_PRODUCTS"))).status_code == 403


async def test_reports_are_a_tab_beside_the_inbox(client: httpx.AsyncClient, staff_headers) -> None:
    inbox = await client.get("/api/dashboard/fragments/support", headers=staff_headers())
    assert f'data-fragment="{REPORTS}">Reports</a>' in inbox.text
    assert 'data-fragment="/api/dashboard/fragments/support" aria-current="page">Inbox</a>' in inbox.text
    reports = await client.get(REPORTS, headers=staff_headers())
    assert f'data-fragment="{REPORTS}" aria-current="page">Reports</a>' in reports.text


async def test_an_empty_period_says_so(client: httpx.AsyncClient, staff_headers) -> None:
    page = await client.get(REPORTS, headers=staff_headers())
    assert page.status_code == 200
    assert "No ticket was created from 2026-11-02 to 2026-11-26" in page.text
    assert "data-download" not in page.text


@pytest.mark.usefixtures("tickets")
async def test_the_weekly_report_of_the_last_four_weeks_and_its_csv_have_the_same_figures(
    client: httpx.AsyncClient, staff_headers
) -> None:
    page = await client.get(REPORTS, headers=staff_headers())
    assert page.status_code == 200
    text = page.text
    assert 'value="2026-11-02"' in text
    assert 'value="2026-11-26"' in text
    assert "team's time zone, UTC" in text
    assert text.index('data-group="2026-W47') < text.index('data-group="2026-W48')
    week_48 = text[text.index('data-group="2026-W48') : text.index("</tr>", text.index('data-group="2026-W48'))]
    assert '<td class="num">2 h</td>' in week_48  # ana's first reply
    assert '<td class="num">4 h</td>' in week_48  # and resolution
    assert "50.0%" in week_48  # one first reply of two in time
    assert f'data-download="{CSV}?from=2026-11-02&amp;to=2026-11-26&amp;group=week"' in text

    rows = _csv(await client.get(CSV, params={"from": "2026-11-02", "to": "2026-11-26"}, headers=staff_headers()))
    assert [row["iso_week"] for row in rows] == ["2026-W47", "2026-W48", ""]
    week_47, week_48_row, total = rows
    expected_47 = {
        "week_start": "2026-11-16",
        "tickets": "1",
        "replied": "1",
        "first_reply_median_minutes": "540",
        "resolved": "0",
        "resolution_median_minutes": "",
        "first_reply_sla_pct": "0.0",
        "resolution_sla_pct": "0.0",
        "breached_tickets": "1",
    }
    assert {column: week_47[column] for column in expected_47} == expected_47
    assert week_48_row["first_reply_median_minutes"] == "120"
    assert week_48_row["resolution_median_minutes"] == "240"
    assert week_48_row["first_reply_sla_pct"] == "50.0"
    assert (week_48_row["first_reply_achieved"], week_48_row["first_reply_breached"]) == ("1", "1")
    assert week_48_row["resolution_sla_pct"] == "100.0"
    assert total["week_start"] == "total"
    assert total["tickets"] == "3"
    assert total["first_reply_sla_pct"] == "33.3"
    assert total["first_reply_p90_minutes"] == "498"  # 120 + 0.9 × (540 − 120)
    assert total["breached_tickets"] == "2"
    assert "8 h 18 min" in text  # the same p90 on the page


@pytest.mark.usefixtures("tickets")
async def test_per_assignee_and_per_reason(client: httpx.AsyncClient, staff_headers) -> None:
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    page = await client.get(REPORTS, params={**period, "group": "assignee"}, headers=staff_headers())
    assert page.status_code == 200
    assert page.text.index('data-group="ana@shop.test"') < page.text.index('data-group="bo@shop.test"')
    assert page.text.index('data-group="bo@shop.test"') < page.text.index('data-group="Unassigned"')
    rows = _csv(await client.get(CSV, params={**period, "group": "reason"}, headers=staff_headers()))
    assert [(row["reason"], row["tickets"]) for row in rows] == [("email", "2"), ("web_form", "1"), ("total", "3")]
    reply = await client.get(CSV, params={**period, "group": "reason"}, headers=staff_headers())
    assert 'filename="support-by-reason-2026-11-01-2026-11-30.csv"' in reply.headers["content-disposition"]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"from": "2026-11-10", "to": "2026-11-01"}, "before it starts"),
        ({"from": "2025-01-01", "to": "2026-11-01"}, "at most 366 days"),
        ({"from": "2026-11-10"}, "both the first and the last day"),
    ],
)
async def test_a_period_that_cannot_be_reported_is_refused_with_the_reason(
    client: httpx.AsyncClient, staff_headers, query: dict[str, str], reason: str
) -> None:
    page = await client.get(REPORTS, params=query, headers=staff_headers())
    assert page.status_code == 422
    assert reason in page.text
    refused = await client.get(CSV, params=query, headers=staff_headers())
    assert refused.status_code == 422
    assert reason in refused.json()["error"]["message"]


async def test_an_unknown_grouping_or_date_is_refused(client: httpx.AsyncClient, staff_headers) -> None:
    assert (await client.get(REPORTS, params={"group": "colour"}, headers=staff_headers())).status_code == 422
    assert (await client.get(CSV, params={"from": "2026-13-01", "to": "x"}, headers=staff_headers())).status_code == 422
