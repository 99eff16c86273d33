"""Live rates through Karrio with each carrier's recorded answers served at Karrio's HTTP boundary:
what every carrier's answer becomes, and that a slow or failing carrier is a problem, not an error."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.error
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.db.repositories.shipping_carriers import SqlCarrierAccounts
from app.domain.ids import saleor_api_url
from app.domain.installation import Installation
from app.domain.shipping.parcels import Dimensions, Parcel
from app.domain.shipping.rates import Quote
from app.integrations.karrio.client import KarrioCalls, KarrioCarrierQuotes
from app.runtime import Runtime
from app.security import SecretCipher
from app.services.ports import CarrierConnector, CarrierQuotes
from app.services.shipping.model import NewCarrierAccount, Place, RateRequest
from tests.fakes.carriers import InMemoryCarrierAccounts, RecordedCarrierHttp

SHOP = saleor_api_url("https://shop.test/graphql/")
THURSDAY_NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

NEW_YORK = Place("US", "10001", "New York", "NY", "350 5th Ave")
LOS_ANGELES = Place("US", "90001", "Los Angeles", "CA", "1600 E 103rd St")
TORONTO = Place("CA", "M5V3L9", "Toronto", "ON", "290 Bremner Blvd")
OTTAWA = Place("CA", "K1A0B1", "Ottawa", "ON", "111 Wellington St")
VANCOUVER = Place("CA", "V6B1A1", "Vancouver", "BC", "800 Griffiths Way")
PARCEL = Parcel(None, (), Decimal("2"), Dimensions(Decimal(30), Decimal(20), Decimal(15)), "one box")

CREDENTIALS = {
    "ups": {"client_id": "ups-client", "client_secret": "ups-secret", "account_number": "A1B2C3"},
    "fedex": {"api_key": "fedex-key", "secret_key": "fedex-secret", "account_number": "510087020"},
    "usps": {"client_id": "usps-client", "client_secret": "usps-secret"},
    "dhl_express": {"site_id": "dhl-site", "password": "dhl-password", "account_number": "950000002"},
    "canadapost": {"username": "cp-user", "password": "cp-password", "customer_number": "2004381"},
    "easypost": {"api_key": "EZTK-test"},
}


class _Clock:
    def now(self) -> datetime:
        return THURSDAY_NOON


def _request(origin: Place = NEW_YORK, destination: Place = LOS_ANGELES, currency: str = "USD") -> RateRequest:
    return RateRequest("W-EAST", origin, destination, True, (PARCEL,), currency)


@pytest.fixture
async def calls() -> AsyncIterator[KarrioCalls]:
    pool = KarrioCalls(max_workers=4)
    yield pool
    pool.close()


@pytest.fixture
def accounts() -> InMemoryCarrierAccounts:
    return InMemoryCarrierAccounts()


async def _connect(accounts: InMemoryCarrierAccounts, carrier: str, label: str | None = None) -> None:
    account = NewCarrierAccount(carrier, label or f"{carrier} main", CREDENTIALS[carrier], test_mode=True)
    await accounts.add(SHOP, account, THURSDAY_NOON)


def _summary(quote: Quote) -> tuple[object, ...]:
    charges = tuple((kind.value, str(money.amount)) for kind, money in quote.charges)
    transit = (quote.transit.days_min, quote.transit.days_max)
    return (
        quote.carrier,
        quote.service,
        quote.level.value,
        str(quote.total.amount),
        charges,
        transit,
        quote.guaranteed,
    )


class TestEachCarrier:
    async def test_ups_signs_in_then_shops_every_service(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        carrier_http.on("/security/v1/oauth/token", "ups_token.json")
        carrier_http.on("/api/rating/", "ups_rate.json")
        await _connect(accounts, "ups")
        live = await KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, _request(), within_seconds=5)
        assert [_summary(q) for q in live.quotes] == [
            (
                "ups",
                "ups_ground",
                "standard",
                "18.64",
                (("base", "12.30"), ("fuel", "2.09"), ("residential", "4.25")),
                (3, 3),
                False,
            ),
            (
                "ups",
                "ups_2nd_day_air",
                "expedited",
                "41.87",
                (("base", "31.45"), ("fuel", "6.17"), ("residential", "4.25")),
                (2, 2),
                True,
            ),
        ]
        assert live.problems == ()
        token, rate = carrier_http.seen
        assert token.url == "https://wwwcie.ups.com/security/v1/oauth/token"
        assert rate.url.startswith("https://wwwcie.ups.com/api/rating/")
        assert "/Shop" in rate.url
        assert rate.headers["Authorization"] == "Bearer eyJraWQiOiJ1cHMtdGVzdCJ9.recorded"
        shipment = json.loads(rate.body)["RateRequest"]["Shipment"]
        assert shipment["ShipTo"]["Address"]["PostalCode"] == "90001"
        weight = shipment["Package"][0]["PackageWeight"]
        assert (weight["UnitOfMeasurement"]["Code"], weight["Weight"]) == ("LBS", "4.41")  # 2 kg, as UPS US weighs

    async def test_fedex_transit_counts_business_days_to_the_commit_date(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        carrier_http.on("/oauth/token", "fedex_token.json")
        carrier_http.on("/rate/v1/rates/quotes", "fedex_rate.json")
        await _connect(accounts, "fedex")
        live = await KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, _request(), within_seconds=5)
        assert [_summary(q) for q in live.quotes] == [
            (
                "fedex",
                "fedex_ground",
                "standard",
                "19.86",
                (("base", "13.10"), ("fuel", "2.46"), ("residential", "4.30")),
                (3, 3),
                False,
            ),
            (
                "fedex",
                "fedex_standard_overnight",
                "overnight",
                "97.20",
                (("base", "78.40"), ("fuel", "14.50"), ("residential", "4.30")),
                (1, 1),
                True,
            ),
        ]
        assert live.problems == ()  # FedEx's "virtual response" note is not a failure
        rate_request = json.loads(carrier_http.seen[-1].body)
        assert rate_request["requestedShipment"]["shipDateStamp"] == "2026-12-03"
        assert rate_request["accountNumber"] == {"value": "510087020"}

    async def test_usps_without_a_commitment_is_left_out_and_a_guaranteed_date_is_kept(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        carrier_http.on("/oauth2/v3/token", "usps_token.json")
        carrier_http.on("/shipments/v3/options/search", "usps_rate.json")
        await _connect(accounts, "usps", "USPS eVS")
        live = await KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, _request(), within_seconds=5)
        assert [_summary(q) for q in live.quotes] == [
            ("usps", "usps_ground_advantage", "standard", "11.92", (("base", "11.92"),), (5, 5), False),
            ("usps", "usps_priority_mail_express", "overnight", "68.35", (("base", "68.35"),), (1, 1), True),
        ]
        assert live.problems == (
            "USPS (USPS eVS): usps usps_priority_mail came without a transit time, so it cannot keep a promise: "
            "left out",
        )

    async def test_dhl_express_prices_an_international_parcel_with_its_surcharges(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        carrier_http.on("/XMLShippingServlet", "dhl_express_quote.xml")
        await _connect(accounts, "dhl_express")
        request = _request(destination=TORONTO)
        live = await KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, request, within_seconds=5)
        assert [_summary(q) for q in live.quotes] == [
            (
                "dhl_express",
                "dhl_express_worldwide_nondoc",
                "expedited",
                "125.34",
                (("base", "74.20"), ("fuel", "21.14"), ("remote_area", "30.00")),
                (4, 4),
                True,
            ),
        ]
        assert b"<SiteID>dhl-site</SiteID>" in carrier_http.seen[0].body
        assert b"<CountryCode>CA</CountryCode>" in carrier_http.seen[0].body

    async def test_canada_post_totals_include_sales_tax(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        carrier_http.on("/rs/ship/price", "canadapost_price_quotes.xml")
        await _connect(accounts, "canadapost")
        request = _request(OTTAWA, VANCOUVER, "CAD")
        live = await KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, request, within_seconds=5)
        assert [_summary(q) for q in live.quotes] == [
            (
                "canadapost",
                "canadapost_expedited_parcel",
                "standard",
                "17.66",
                (("base", "14.27"), ("fuel", "1.10"), ("tax", "2.29")),
                (4, 4),
                False,
            ),
            (
                "canadapost",
                "canadapost_xpresspost",
                "expedited",
                "29.90",
                (("base", "24.50"), ("fuel", "1.96"), ("tax", "3.44")),
                (2, 2),
                True,
            ),
            (
                "canadapost",
                "canadapost_priority",
                "overnight",
                "47.35",
                (("base", "38.80"), ("fuel", "3.10"), ("tax", "5.45")),
                (1, 1),
                True,
            ),
        ]
        assert b"<customer-number>2004381</customer-number>" in carrier_http.seen[0].body

    async def test_easypost_rates_are_named_after_the_carrier_that_delivers(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        carrier_http.on("/v2/shipments", "easypost_shipment.json")
        await _connect(accounts, "easypost", "EasyPost")
        live = await KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, _request(), within_seconds=5)
        assert [_summary(q) for q in live.quotes] == [
            ("usps", "easypost_usps_ground_advantage", "standard", "9.86", (("base", "9.86"),), (4, 4), False),
            ("usps", "easypost_usps_express", "overnight", "61.20", (("base", "61.20"),), (1, 1), True),
        ]
        assert live.problems == (
            "EasyPost (EasyPost): usps easypost_usps_priority came without a transit time, so it cannot keep a "
            "promise: left out",
        )
        assert carrier_http.seen[0].headers["Authorization"].startswith("Basic ")

    async def test_a_quote_is_the_whole_shipment_from_the_requests_warehouse(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        carrier_http.on("/v2/shipments", "easypost_shipment.json")
        await _connect(accounts, "easypost")
        live = await KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, _request(), within_seconds=5)
        quote = live.quotes[0]
        assert (quote.warehouse_id, quote.zone, quote.billable_weight_kg) == ("W-EAST", "live", Decimal("2"))
        assert quote.delivery_weekdays == frozenset({0, 1, 2, 3, 4, 5})  # USPS delivers on Saturdays
        assert sum((money.amount for _, money in quote.charges), Decimal(0)) == quote.total.amount


class TestSlowAndFailingCarriers:
    async def test_a_carrier_past_the_deadline_is_a_problem_and_the_others_still_answer(
        self,
        accounts: InMemoryCarrierAccounts,
        calls: KarrioCalls,
        carrier_http: RecordedCarrierHttp,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        carrier_http.on("/security/v1/oauth/token", "ups_token.json", hold_seconds=30)
        carrier_http.on("/v2/shipments", "easypost_shipment.json")
        await _connect(accounts, "ups", "UPS main")
        await _connect(accounts, "easypost", "EasyPost")
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="app.integrations.karrio.client"):
            live = await KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, _request(), within_seconds=0.5)
        assert time.monotonic() - started < 3  # the deadline, not the slow carrier, ends the wait
        assert {q.carrier for q in live.quotes} == {"usps"}
        assert "UPS (UPS main) did not answer within 0.5 s" in live.problems
        [record] = caplog.records
        assert (
            record.getMessage()
            == "Live rates from UPS (UPS main) did not answer within 0.5 s; the rate tables answer for it"
        )
        assert record.__dict__["carrier"] == "ups"

    async def test_the_event_loop_keeps_running_while_a_carrier_is_slow(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        carrier_http.on("/v2/shipments", "easypost_shipment.json", hold_seconds=30)
        await _connect(accounts, "easypost")
        asking = asyncio.create_task(
            KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, _request(), within_seconds=30)
        )
        assert await asyncio.to_thread(carrier_http.holding.wait, 10)
        # The carrier is held on its thread; this coroutine still runs, and the quotes still wait for it.
        await asyncio.sleep(0.05)
        assert not asking.done()
        carrier_http.released.set()
        live = await asking
        assert {q.carrier for q in live.quotes} == {"usps"}

    async def test_a_carrier_refusing_the_credentials_is_a_problem_with_its_message(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        refusal = {
            "errors": [{"code": "NOT.AUTHORIZED.ERROR", "message": "The given client credentials were not valid."}]
        }
        carrier_http.on("/oauth/token", body=json.dumps(refusal).encode(), status=401)
        carrier_http.on("/v2/shipments", "easypost_shipment.json")
        await _connect(accounts, "fedex", "FedEx")
        await _connect(accounts, "easypost", "EasyPost")
        live = await KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, _request(), within_seconds=5)
        assert {q.carrier for q in live.quotes} == {"usps"}
        [failure] = [p for p in live.problems if p.startswith("FedEx")]
        assert "The given client credentials were not valid." in failure

    async def test_an_unreachable_carrier_is_a_problem(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        carrier_http.on("/XMLShippingServlet", error=urllib.error.URLError("Connection refused"))
        await _connect(accounts, "dhl_express", "DHL")
        live = await KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, _request(), within_seconds=5)
        assert live.quotes == ()
        [failure] = live.problems
        assert failure.startswith("DHL Express (DHL) ")
        assert "Connection refused" in failure

    async def test_a_store_without_accounts_asks_no_carrier(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        live = await KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, _request(), within_seconds=5)
        assert (live.quotes, live.problems, carrier_http.seen) == ((), (), [])

    async def test_an_inactive_account_is_not_asked(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        await _connect(accounts, "easypost")
        accounts.deactivate(SHOP, 1)
        live = await KarrioCarrierQuotes(accounts, calls, _Clock()).quotes(SHOP, _request(), within_seconds=5)
        assert (live.quotes, carrier_http.seen) == ((), [])

    async def test_credentials_that_no_longer_decrypt_are_a_problem_not_an_error(
        self, runtime: Runtime, installation: Installation, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        async with runtime.sessions.begin() as session:
            await SqlCarrierAccounts(session, runtime.cipher).add(
                SHOP, NewCarrierAccount("easypost", "EasyPost", CREDENTIALS["easypost"], True), THURSDAY_NOON
            )
        async with runtime.sessions() as session:
            stored = SqlCarrierAccounts(session, SecretCipher("another-secret-key"))
            live = await KarrioCarrierQuotes(stored, calls, _Clock()).quotes(SHOP, _request(), within_seconds=5)
        assert live.quotes == ()
        assert live.problems == (
            "the carrier accounts' credentials do not decrypt with APP_SECRET_KEY: connect them again",
        )
        assert carrier_http.seen == []


class TestConnectionCheck:
    async def test_answers_ok_with_what_the_carrier_quoted(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        carrier_http.on("/security/v1/oauth/token", "ups_token.json")
        carrier_http.on("/api/rating/", "ups_rate.json")
        await _connect(accounts, "ups")
        [account] = await accounts.accounts(SHOP)
        check = await KarrioCarrierQuotes(accounts, calls, _Clock()).check(account, within_seconds=5)
        assert check.ok
        assert check.message == "Connected: 2 rates for a 1 kg parcel from New York to Los Angeles."

    async def test_answers_the_carriers_message_when_it_refuses(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        refusal = {"response": {"errors": [{"code": "250003", "message": "Invalid Access License number"}]}}
        carrier_http.on("/security/v1/oauth/token", body=json.dumps(refusal).encode(), status=401)
        await _connect(accounts, "ups")
        [account] = await accounts.accounts(SHOP)
        check = await KarrioCarrierQuotes(accounts, calls, _Clock()).check(account, within_seconds=5)
        assert not check.ok
        assert check.message.startswith("UPS answered: ")
        assert "Invalid Access License number" in check.message

    async def test_answers_that_the_carrier_was_too_slow(
        self, accounts: InMemoryCarrierAccounts, calls: KarrioCalls, carrier_http: RecordedCarrierHttp
    ) -> None:
        carrier_http.on("/v2/shipments", "easypost_shipment.json", hold_seconds=30)
        await _connect(accounts, "easypost")
        [account] = await accounts.accounts(SHOP)
        check = await KarrioCarrierQuotes(accounts, calls, _Clock()).check(account, within_seconds=0.3)
        assert (check.ok, check.message) == (False, "EasyPost did not answer within 0.3 s.")


def test_the_client_serves_both_carrier_ports(accounts: InMemoryCarrierAccounts, calls: KarrioCalls) -> None:
    """mypy checks the assignments: the client is what checkout and the page depend on."""
    client = KarrioCarrierQuotes(accounts, calls, _Clock())
    quotes: CarrierQuotes = client
    connector: CarrierConnector = client
    assert quotes is client
    assert [spec.name for spec in connector.carriers()] == [
        "ups",
        "fedex",
        "usps",
        "dhl_express",
        "canadapost",
        "easypost",
    ]
