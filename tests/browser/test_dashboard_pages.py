"""The app's pages inside the dashboard harness, as a staff user sees them."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

import pytest
from playwright.sync_api import FrameLocator, Page, Route, expect

from tests.browser.conftest import ARTIFACTS, Servers, screenshot


def open_page(page: Page, servers: Servers, path: str, **query: str) -> FrameLocator:
    page.goto(f"{servers.harness_url}/?{urlencode({'page': path, **query})}")
    frame = page.frame_locator("iframe#app")
    expect(frame.locator("#fragment")).to_have_attribute("aria-busy", "false", timeout=10_000)
    return frame


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_home_shows_the_installation_in_either_theme(page: Page, servers: Servers, theme: str) -> None:
    frame = open_page(page, servers, "/dashboard", theme=theme)
    expect(frame.locator("[data-testid=store]")).to_have_text(f"{servers.harness_url}/graphql/")
    expect(frame.locator("html")).to_have_attribute("data-theme", theme)
    expect(frame.get_by_role("link", name="#1042")).to_be_visible()
    background = frame.locator("body").evaluate("body => getComputedStyle(body).backgroundColor")
    assert background == ("rgb(22, 23, 25)" if theme == "dark" else "rgb(255, 255, 255)")
    screenshot(page, f"home-{theme}")


def widget_fits_its_content(page: Page, frame: FrameLocator) -> bool:
    """Whether the widget's height comes to its content's within 5 s (each resize is a message away)."""
    for _ in range(50):
        content = frame.locator("main").evaluate("main => Math.ceil(main.getBoundingClientRect().bottom)")
        if page.locator("iframe#app").evaluate("frame => frame.clientHeight") == content:
            return True
        page.wait_for_timeout(100)
    return False


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_order_card_shows_that_orders_events(page: Page, servers: Servers, theme: str) -> None:
    frame = open_page(page, servers, "/dashboard/order", theme=theme, orderId=servers.order_id)
    expect(frame.locator(".timeline-label")).to_have_text(["Order created"])
    # The card asked the dashboard to fit the widget to its content (the harness starts it at 240px),
    # and again when the content rewrapped without the scrollbar it had at 240px.
    expect(page.locator("iframe#app")).to_have_attribute("style", re.compile(r"height: \d+px"))
    assert widget_fits_its_content(page, frame)
    screenshot(page, f"order-card-{theme}")
    page.locator("iframe#app").screenshot(path=str(ARTIFACTS / f"order-card-{theme}-widget.png"))


def test_the_theme_follows_the_dashboard(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard", theme="light")
    page.get_by_role("button", name="Switch theme").click()
    expect(frame.locator("html")).to_have_attribute("data-theme", "dark")


def test_a_link_to_an_order_asks_the_dashboard_to_open_it(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard")
    frame.get_by_role("link", name="#1042").click()
    expect(page.locator("#redirects li")).to_have_text([f"/orders/{servers.order_id}"])


@pytest.mark.parametrize(
    ("kind", "shown"),
    [
        pytest.param("expired", "expired", id="expired"),
        pytest.param("foreign", "could not verify", id="foreign-key"),
    ],
)
def test_a_bad_token_shows_a_clear_message_and_no_data(page: Page, servers: Servers, kind: str, shown: str) -> None:
    frame = open_page(page, servers, "/dashboard", token=kind)
    expect(frame.locator("[data-error]")).to_contain_text(shown)
    expect(frame.locator("[data-testid=store]")).to_have_count(0)
    assert servers.harness_url not in frame.locator("body").inner_text()
    screenshot(page, f"token-{kind}")


def test_a_user_without_the_permission_cannot_change_settings(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard/settings", permissions="MANAGE_ORDERS")
    expect(frame.get_by_label("Store time zone")).to_be_disabled()
    expect(frame.get_by_text("Changing these needs the MANAGE_APPS permission.")).to_be_visible()
    expect(frame.get_by_role("button", name="Save general settings")).to_have_count(0)


def test_settings_save_and_reload(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard/settings")
    frame.get_by_label("Store time zone").fill("Europe/Warsaw")
    frame.get_by_role("button", name="Save general settings").click()
    expect(frame.locator("[data-saved]")).to_have_text("General settings saved.")
    expect(page.locator("#notifications li[data-status=success]")).to_have_count(1)
    screenshot(page, "settings-saved")
    frame = open_page(page, servers, "/dashboard/settings")
    expect(frame.get_by_label("Store time zone")).to_have_value("Europe/Warsaw")
    expect(frame.get_by_role("cell", name="staff@shop.test").first).to_be_visible()


def test_invalid_settings_show_field_errors_and_change_nothing(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard/settings")
    before = frame.get_by_label("Store time zone").input_value()
    frame.get_by_label("Store time zone").fill("Mars/Olympus_Mons")
    frame.get_by_role("button", name="Save general settings").click()
    expect(frame.locator(".field-error")).to_contain_text("is not a time zone name")
    expect(frame.get_by_label("Store time zone")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#notifications li[data-status=error]")).to_have_count(1)
    screenshot(page, "settings-invalid")
    frame = open_page(page, servers, "/dashboard/settings")
    expect(frame.get_by_label("Store time zone")).to_have_value(before)


def test_the_review_queue_shows_a_held_order_with_its_facts(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard/reviews")
    review = frame.locator(f'[data-review="{servers.order_id}"]')
    expect(review.get_by_role("link", name="Order #1042")).to_be_visible()
    expect(review.locator(".fact-negative").first).to_be_visible()
    expect(review.get_by_role("button", name="Approve")).to_be_visible()
    screenshot(page, "review-queue")


def test_order_processing_shows_a_failed_change_with_its_reason_and_a_retry_button(
    page: Page, servers: Servers
) -> None:
    frame = open_page(page, servers, "/dashboard/pipeline")
    failed = frame.locator('[data-backlog="effects"] tr[data-progress="failed"]')
    expect(failed).to_contain_text("Confirm the order")
    expect(failed).to_contain_text("Failed after 1 attempt")
    expect(failed).to_contain_text("Saleor refused the change: -: Cannot confirm this order (INVALID)")
    expect(failed.get_by_role("button", name=re.compile("^Retry"))).to_be_visible()
    screenshot(page, "order-processing")


def test_home_announces_a_failed_change_and_leads_to_order_processing(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard")
    expect(frame.locator("[data-backlog]")).to_contain_text("1 change did not reach Saleor")
    frame.get_by_role("link", name="Review and retry").click()
    expect(frame.locator('[data-backlog="effects"]')).to_be_visible()
    expect(frame.get_by_role("link", name="Processing", exact=True)).to_have_attribute("aria-current", "page")


def test_a_list_entry_that_is_not_valid_is_refused_with_the_reason(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard/reviews")
    frame.get_by_label("Kind").select_option("ip")
    frame.get_by_label("Value").fill("300.1.2.3")
    frame.get_by_role("button", name="Add").click()
    expect(frame.locator("[data-list-error]")).to_be_visible()
    expect(frame.get_by_role("cell", name="300.1.2.3")).to_have_count(0)


@pytest.mark.parametrize(
    ("button", "sent"),
    [
        pytest.param("Approve", {"decision": "approve"}, id="approve"),
        pytest.param("Reject", {"decision": "reject", "reason": "refunded_as_fraud"}, id="reject"),
    ],
)
def test_a_decision_sends_the_clicked_button_and_never_rejects_as_approved(
    page: Page, servers: Servers, button: str, sent: dict[str, str]
) -> None:
    posted: list[dict[str, str]] = []

    def capture(route: Route) -> None:
        posted.append(dict(parse_qsl(route.request.post_data or "")))
        route.fulfill(status=200, content_type="text/html", body="<p>Decided.</p>")

    frame = open_page(page, servers, "/dashboard/reviews")
    review = frame.locator(f'[data-review="{servers.order_id}"]')
    expect(review.get_by_label("Reason for rejecting")).not_to_have_value("approved")
    page.route("**/api/dashboard/reviews/**", capture)
    review.get_by_role("button", name=button).click()
    expect(frame.get_by_text("Decided.")).to_be_visible()
    assert posted[0].items() >= sent.items()


def test_a_warehouse_s_shipping_calendar_is_set_up_in_its_form(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard/shipping", permissions="MANAGE_SHIPPING")
    frame.get_by_role("link", name="Warehouses").click()
    # The harness's Saleor does not know the app's token, so the warehouse is set up by its ID.
    frame.get_by_label("Saleor warehouse ID").fill("V2FyZWhvdXNlOjE=")
    frame.get_by_role("button", name="Set up").click()
    frame.get_by_label("Name", exact=True).fill("Brooklyn")
    frame.get_by_label("Country").fill("US")
    frame.get_by_label("Time zone").select_option("America/New_York")
    frame.get_by_label("Saturday is a working day").check()
    frame.get_by_label("Saturday's cut-off").fill("11:30")
    frame.get_by_label("Handling days, at least").fill("3")
    frame.get_by_label("Handling days, at most").fill("1")
    frame.get_by_role("button", name="Save the warehouse").click()
    expect(frame.locator("[data-field-error=handling_days_max]")).to_contain_text("below the minimum")
    expect(page.locator("#notifications li[data-status=error]")).to_have_count(1)
    expect(frame.get_by_label("Saturday's cut-off")).to_have_value("11:30")  # what was typed stays
    frame.get_by_label("Handling days, at most").fill("4")
    frame.get_by_role("button", name="Save the warehouse").click()
    expect(frame.locator("[data-message]")).to_have_text("Warehouse Brooklyn saved.")
    expect(frame.locator("tr[data-warehouse]")).to_contain_text("ships Mon, Tue, Wed, Thu, Fri, Sat; handling 3–4")
    screenshot(page, "shipping-warehouse-saved")


def test_boxes_are_rows_added_and_removed_in_place(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard/shipping", permissions="MANAGE_SHIPPING")
    frame.get_by_role("link", name="Boxes & sizes").click()
    boxes = frame.locator("#box-rows tr")
    expect(boxes).to_have_count(1)  # the spare row
    frame.get_by_role("button", name="Add a row").first.click()
    expect(boxes).to_have_count(2)
    for row, values in enumerate((("S", "20", "15", "10", "5"), ("XL", "80", "60", "60", "30"))):
        for column, value in enumerate(values):
            boxes.nth(row).locator("input").nth(column).fill(value)
    frame.get_by_role("button", name="Add a row").first.click()
    boxes.nth(1).get_by_role("button", name="Remove").click()
    frame.get_by_role("button", name="Save boxes and sizes").click()
    expect(frame.locator("[data-message]")).to_have_text("Boxes (1) and product type sizes (0) saved.")
    expect(frame.locator('#box-rows input[name="box_name"]').first).to_have_value("S")
