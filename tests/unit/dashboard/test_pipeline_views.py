from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.dashboard.pipeline.processing_views import backlog_notice, delivery_rows, effect_rows, reason
from app.dashboard.view_models import parse_locale
from app.domain.ids import SaleorId
from app.domain.pipeline.backlog import BacklogCounts, BacklogItem
from tests.builders import NOW

WARSAW = ZoneInfo("Europe/Warsaw")
EN = parse_locale("en")


def _item(**overrides: object) -> BacklogItem:
    fields: dict[str, object] = {
        "id": 7,
        "what": "fraud_decision",
        "order_id": SaleorId("T3JkZXI6MQ=="),
        "order_number": "1001",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "last_error": None,
        "since": NOW,
        **overrides,
    }
    return BacklogItem(**fields)  # type: ignore[arg-type]


class TestReason:
    @pytest.mark.parametrize(
        ("stored", "shown"),
        [
            pytest.param(
                "SaleorUnavailableError: FraudDecision: Saleor answered 503 after 1 attempts",
                "Saleor answered 503",
                id="unavailable",
            ),
            pytest.param(
                "SaleorUnavailableError: RecordCogs: ConnectTimeout calling Saleor after 1 attempts",
                "ConnectTimeout calling Saleor",
                id="timeout",
            ),
            pytest.param(
                "SaleorMutationError: OrderConfirm: -: Cannot confirm (INVALID)",
                "Saleor refused the change: -: Cannot confirm (INVALID)",
                id="refused",
            ),
            pytest.param(
                "SaleorUnauthorizedError: confirm: the app is no longer installed in this store",
                "The app is no longer installed in this store",
                id="uninstalled",
            ),
            pytest.param(
                "MailNotSent: purchase orders go out through the store's SMTP server, and none is set",
                "Not e-mailed: purchase orders go out through the store's SMTP server, and none is set",
                id="not-e-mailed",
            ),
            pytest.param(
                "ValidationError: 1 validation error for OrderEventPayload\norder\n  Field required",
                "The order in this webhook could not be read",
                id="unreadable",
            ),
        ],
    )
    def test_says_in_plain_words_what_went_wrong_and_keeps_the_error_for_details(self, stored: str, shown: str) -> None:
        assert reason(stored) == (shown, stored)

    def test_an_error_it_does_not_know_is_shown_as_stored(self) -> None:
        assert reason("KeyError: 'lines'") == ("KeyError: 'lines'", None)

    def test_nothing_failed_says_nothing(self) -> None:
        assert reason(None) == ("", None)


class TestRows:
    def test_a_waiting_delivery_is_waiting_to_be_processed(self) -> None:
        (row,) = delivery_rows([_item(what="order_created")], NOW, WARSAW, EN)
        assert (row.label, row.state, row.reason, row.can_retry) == (
            "Order created",
            "Waiting to be processed",
            "",
            False,
        )

    def test_a_retrying_effect_says_how_often_it_was_tried_and_when_next_in_the_store_zone(self) -> None:
        item = _item(attempts=3, next_attempt_at=NOW + timedelta(minutes=5), last_error="SaleorUnavailableError: X: y")
        (row,) = effect_rows([item], NOW, WARSAW, EN)
        assert row.label == "Fraud decision (metadata and note)"
        assert row.state == "Retrying (tried 3 times, next at 1:05\u202fPM)"  # 12:05 UTC is 13:05 in Warsaw
        assert row.can_retry

    def test_a_support_reply_names_its_ticket_instead_of_an_order(self) -> None:
        item = _item(what="support_reply", order_id=SaleorId("ticket:1042"), order_number=None, attempts=1)
        (row,) = effect_rows([item], NOW, WARSAW, EN)
        assert (row.label, row.ticket_id) == ("Support reply (e-mail)", "1042")
        (order_effect,) = effect_rows([_item()], NOW, WARSAW, EN)
        assert order_effect.ticket_id is None

    def test_a_retry_on_another_day_gives_the_date(self) -> None:
        item = _item(attempts=1, next_attempt_at=NOW + timedelta(hours=12))
        (row,) = effect_rows([item], NOW, WARSAW, EN)
        assert "11/27/26" in row.state

    def test_a_retry_due_already_says_so(self) -> None:
        (row,) = effect_rows([_item(attempts=1, next_attempt_at=NOW)], NOW, WARSAW, EN)
        assert row.state == "Retrying (tried 1 time, due now)"

    def test_an_effect_being_sent_cannot_be_retried(self) -> None:
        (row,) = effect_rows([_item(status="sending", attempts=2)], NOW, WARSAW, EN)
        assert (row.state, row.can_retry) == ("Being sent (attempt 2)", False)

    def test_a_failed_one_can_be_retried(self) -> None:
        (row,) = effect_rows([_item(status="failed", attempts=9, what="cogs")], NOW, WARSAW, EN)
        assert (row.label, row.state, row.can_retry) == (
            "Cost of goods (metadata and note)",
            "Failed after 9 attempts",
            True,
        )
        assert row.since == "Nov 26, 2026, 1:00:00\u202fPM"


class TestBacklogNotice:
    def test_failures_come_first_and_say_what_failed(self) -> None:
        notice = backlog_notice(BacklogCounts(failed=2, retrying=5), BacklogCounts(failed=1))
        assert notice is not None
        assert (notice.level, notice.text) == (
            "error",
            "Failed: 2 webhooks could not be processed and 1 change did not reach Saleor.",
        )

    def test_retrying_alone_is_a_warning(self) -> None:
        notice = backlog_notice(BacklogCounts(retrying=1, waiting=4), BacklogCounts(retrying=2, sending=1))
        assert notice is not None
        assert (notice.level, notice.text) == ("warning", "3 items failed at first and will be tried again.")

    def test_waiting_alone_is_no_news(self) -> None:
        assert backlog_notice(BacklogCounts(waiting=3), BacklogCounts(waiting=1, sending=2, done=9)) is None
