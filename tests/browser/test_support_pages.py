"""Support on the order page and beside a ticket, in a real browser: parts loaded on their own (data-include)
and forms inside them redrawing only their part."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Servers, screenshot
from tests.browser.test_dashboard_pages import open_page


def test_a_ticket_opened_from_the_order_card_shows_the_orders_card_beside_it(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard/order", orderId=servers.order_id)
    tickets = frame.locator("[data-order-tickets]")
    expect(tickets).to_contain_text("No ticket is about this order.")
    frame.get_by_text("New ticket about this order").click()
    frame.get_by_label("Customer's e-mail").fill("ada@example.com")
    frame.get_by_label("Subject").fill("Called about the delivery day")
    frame.get_by_role("button", name="Open the ticket").click()
    expect(tickets.locator("[data-message]")).to_have_text("Ticket #1 opened.")
    expect(frame.locator(".timeline-label")).to_have_text(["Order created"])  # the rest of the card stays
    screenshot(page, "order-card-tickets")
    frame.get_by_role("link", name="in Support").click()  # the dashboard is asked to open the app's Support page
    expect(page.locator("#redirects li")).to_have_text([re.compile(r"^/apps/[^/]+/app/support\?ticket=1$")])

    frame.get_by_role("link", name="#1 · Called about the delivery day").click()
    expect(frame.locator("#ticket-title")).to_have_text("#1 · Called about the delivery day")
    card = frame.locator(f'[data-order-card="{servers.order_id}"]')
    expect(card.locator("#order-card-title")).to_have_text("Saleor Ops")
    expect(card.locator(".timeline-label")).to_have_text(["Order created"])
    # Saleor (the stand-in) took the staff user's dashboard token (a refused one would fail its permission check
    # first, "Invalid token…"); the browser fixture's order id is no id the stand-in can read.
    expect(frame.locator("[data-saleor-problem]")).to_contain_text("Saleor refused: Invalid ID")
    screenshot(page, "ticket-with-order-card")
