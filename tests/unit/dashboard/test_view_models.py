from datetime import timedelta
from zoneinfo import ZoneInfo

from app.dashboard.view_models import change_rows, event_rows, failed_delivery_rows, home_context, parse_locale
from app.domain.ids import SaleorId
from app.domain.order_event import FailedDelivery, ReceivedOrderEvent, SaleorError
from app.services.ports import SettingsChange
from tests.builders import NOW, SHOP_API_URL, make_installation

WARSAW = ZoneInfo("Europe/Warsaw")


def _event(event: str = "order_created") -> ReceivedOrderEvent:
    return ReceivedOrderEvent(
        saleor_api_url=SHOP_API_URL,
        event=event,
        order_id=SaleorId("T3JkZXI6MQ=="),
        order_number="1001",
        issued_at=NOW,
        saleor_version=None,
        received_at=NOW,
        payload="{}",
    )


class TestParseLocale:
    def test_reads_the_dashboards_locale_codes(self) -> None:
        assert str(parse_locale("pt-BR")) == "pt_BR"
        assert str(parse_locale("pl")) == "pl"

    def test_falls_back_to_english(self) -> None:
        assert str(parse_locale("xx-nonsense")) == "en"
        assert str(parse_locale(None)) == "en"


class TestEventRows:
    def test_shows_times_in_the_store_zone_and_locale(self) -> None:
        (row,) = event_rows([_event()], WARSAW, parse_locale("en"))
        assert row.label == "Order created"
        assert "1:00:00" in row.at  # 12:00 UTC is 13:00 in Warsaw in November
        (polish,) = event_rows([_event()], WARSAW, parse_locale("pl"))
        assert "13:00:00" in polish.at


class TestHomeContext:
    def test_counts_every_known_event_even_when_none_arrived(self) -> None:
        context = home_context(
            make_installation(jwks="{}", revoked_at=NOW + timedelta(hours=1)),
            [_event()],
            {"order_created": 3},
            WARSAW,
            parse_locale("en"),
        )
        assert context["last_day"] == [
            ("Order created", 3),
            ("Order paid", 0),
            ("Order fully paid", 0),
            ("Order updated", 0),
            ("Fulfilment created", 0),
            ("Fulfilment approved", 0),
            ("Fulfilment cancelled", 0),
            ("Order fulfilled", 0),
        ]
        assert context["installation"]["revoked"] is True  # type: ignore[index]


class TestChangeRows:
    def test_lists_only_the_fields_that_changed(self) -> None:
        change = SettingsChange(
            section="general",
            changed_at=NOW,
            changed_by="ann@shop.test",
            before='{"a": 1, "timezone": "UTC"}',
            after='{"a": 1, "timezone": "Europe/Warsaw"}',
        )
        (row,) = change_rows([change], {"general": "General"}, WARSAW, parse_locale("en"))
        assert (row.by, row.section) == ("ann@shop.test", "General")
        assert row.changes == [("timezone", '"UTC"', '"Europe/Warsaw"')]


class TestFailedDeliveryRows:
    def test_each_error_with_saleors_message_and_path_at_the_time_saleor_issued_it(self) -> None:
        failed = FailedDelivery(
            saleor_api_url=SHOP_API_URL,
            event="order_fully_paid",
            issued_at=NOW,
            errors=(
                SaleorError("To access this path, …: HANDLE_PAYMENTS", ("event", "order", "payments", 0, "metadata")),
            ),
            received_at=NOW + timedelta(hours=2),
            payload="{}",
        )
        (row,) = failed_delivery_rows([failed], WARSAW, parse_locale("en"))
        assert row.label == "Order fully paid"
        assert "1:00:00" in row.at
        assert row.errors == [("To access this path, …: HANDLE_PAYMENTS", "event.order.payments.0.metadata")]

    def test_without_an_issued_at_it_is_when_the_app_received_it(self) -> None:
        failed = FailedDelivery(SHOP_API_URL, "order_updated", None, (SaleorError("x"),), NOW, "{}")
        (row,) = failed_delivery_rows([failed], WARSAW, parse_locale("en"))
        assert "1:00:00" in row.at
        assert row.errors == [("x", "")]
