"""Watching what Saleor shows after the app had its say. Saleor's Celery worker delivers webhooks
asynchronously, so every expectation is polled up to a deadline, never slept for."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from tests.real_saleor.app_process import InstalledOps
from tests.real_saleor.installation import failed_deliveries
from tests.real_saleor.saleor_api import StaffSaleor
from tests.real_saleor.store import MarkAsPaidStrategy, OrderView, Store, configure_channel, read_order

DELIVERY_SECONDS = 45.0  # a webhook's way through Saleor's worker (one, shared by every app), the app, and back
SETTLE_SECONDS = 5.0  # how long a state must hold to count as kept
POLL_SECONDS = 0.5
DASHBOARD_SECONDS = 10.0


class Merchant:
    """The staff user's view of the store, with the app installed."""

    def __init__(self, saleor: StaffSaleor, store: Store, ops: InstalledOps) -> None:
        self.saleor, self.store, self.ops = saleor, store, ops
        self.started = datetime.now(UTC)

    def configure(self, *, confirm_automatically: bool, mark_as_paid: MarkAsPaidStrategy) -> None:
        configure_channel(
            self.saleor, self.store, confirm_automatically=confirm_automatically, mark_as_paid=mark_as_paid
        )

    def order(self, order_id: str) -> OrderView:
        return read_order(self.saleor, order_id)

    def review_queue(self) -> str:
        """The app's Fraud review page as the staff user sees it in the dashboard: its fragment, fetched with
        the token Saleor gives the dashboard for the app (``App.accessToken``)."""
        token = self.saleor.query("query T($id: ID!) { app(id: $id) { accessToken } }", id=self.ops.app_id)["app"][
            "accessToken"
        ]
        response = httpx.get(
            f"{self.ops.process.url}/api/dashboard/fragments/reviews",
            headers={"authorization-bearer": token, "saleor-api-url": self.ops.api_url},
            timeout=DASHBOARD_SECONDS,
        )
        assert response.status_code == 200, f"{response.status_code} {response.text[:300]}"
        return response.text

    def wait_until(
        self, order_id: str, expected: str, holds: Callable[[OrderView], bool], seconds: float = DELIVERY_SECONDS
    ) -> OrderView:
        """The order once ``holds`` is true of it; fails with what Saleor and the app show otherwise."""
        deadline = time.monotonic() + seconds
        while True:
            view = self.order(order_id)
            if holds(view):
                return view
            if time.monotonic() > deadline:
                raise AssertionError(self._explain(f"expected within {seconds:.0f} s: {expected}", view))
            time.sleep(POLL_SECONDS)

    def keeps(
        self, order_id: str, expected: str, holds: Callable[[OrderView], bool], seconds: float = SETTLE_SECONDS
    ) -> OrderView:
        """The order after ``holds`` stayed true of it for ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            view = self.order(order_id)
            if not holds(view):
                raise AssertionError(self._explain(f"expected to stay so: {expected}", view))
            if time.monotonic() > deadline:
                return view
            time.sleep(POLL_SECONDS)

    def wait_handled(self, order_id: str, event: str, since: datetime, seconds: float = DELIVERY_SECONDS) -> None:
        """Wait until the app has handled an ``event`` (e.g. ``ORDER_UPDATED``) of the order issued at or after
        ``since``: the app has processed it and delivered its effects."""
        deadline = time.monotonic() + seconds
        while True:
            recorded = self.ops.process.recorded_events(order_id)
            if any(r.event == event.lower() and r.issued_at >= since for r in recorded):
                return
            if time.monotonic() > deadline:
                got = ", ".join(f"{r.event} {r.issued_at.isoformat()}" for r in recorded) or "nothing"
                raise AssertionError(
                    self._explain(
                        f"expected within {seconds:.0f} s: the app handles {event} issued after {since.isoformat()};"
                        f" it recorded {got}",
                        self.order(order_id),
                    )
                )
            time.sleep(POLL_SECONDS)

    def _explain(self, expected: str, view: OrderView) -> str:
        return (
            f"{expected}\n"
            f"Saleor shows: {view.summary()}\n"
            f"Saleor's failed deliveries to the app (of this order, or since the test began):\n"
            f"{failed_deliveries(self.saleor, self.ops.app_id, view.id, self.started)}\n"
            f"The app's log about this order:\n{self.ops.process.log_lines_about(view.id)}"
        )
