"""Connecting carrier accounts: bad input is refused with the field at fault and nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.ids import saleor_api_url
from app.domain.shipping.model import Level
from app.services.shipping.carriers import (
    CarrierRefused,
    check_connection,
    connect_carrier,
    disconnect_carrier,
    read_service_levels,
    shown_credential,
)
from app.services.shipping.model import CarrierAccount, CarrierSpec, ConnectionCheck, CredentialField
from tests.fakes.carriers import FakeCarrierConnector, InMemoryCarrierAccounts

SHOP = saleor_api_url("https://shop.test/graphql/")
NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
UPS = CarrierSpec(
    "ups",
    "UPS",
    (
        CredentialField("client_id", "client ID", required=True, secret=False),
        CredentialField("client_secret", "client secret", required=True, secret=True),
        CredentialField("account_number", "account number", required=False, secret=False),
    ),
)
OK = ConnectionCheck(True, "Connected.")


@pytest.fixture
def accounts() -> InMemoryCarrierAccounts:
    return InMemoryCarrierAccounts()


@pytest.fixture
def connector() -> FakeCarrierConnector:
    return FakeCarrierConnector((UPS,), OK)


async def _connect(
    accounts: InMemoryCarrierAccounts,
    connector: FakeCarrierConnector,
    *,
    carrier: str = "ups",
    label: str = "UPS main",
    **credentials: str,
) -> CarrierAccount | CarrierRefused:
    return await connect_carrier(
        accounts,
        connector,
        SHOP,
        carrier=carrier,
        label=label,
        credentials=credentials or {"client_id": "id", "client_secret": "secret"},
        test_mode=True,
        service_levels={"ups_ground": Level.STANDARD},
        now=NOW,
    )


class TestConnect:
    async def test_stores_the_carriers_fields_trimmed_and_drops_others(
        self, accounts: InMemoryCarrierAccounts, connector: FakeCarrierConnector
    ) -> None:
        account = await _connect(accounts, connector, client_id=" id ", client_secret="secret", extra="x")
        assert isinstance(account, CarrierAccount)
        assert account.credentials == {"client_id": "id", "client_secret": "secret"}
        assert (account.carrier, account.label, account.test_mode, account.created_at) == ("ups", "UPS main", True, NOW)
        assert account.service_levels == {"ups_ground": Level.STANDARD}

    async def test_a_missing_required_credential_is_refused_by_its_field(
        self, accounts: InMemoryCarrierAccounts, connector: FakeCarrierConnector
    ) -> None:
        refused = await _connect(accounts, connector, client_id="id", client_secret="  ")
        assert refused == CarrierRefused("client_secret", "UPS needs the client secret")
        assert accounts.stored == {}

    async def test_an_unknown_carrier_is_refused(
        self, accounts: InMemoryCarrierAccounts, connector: FakeCarrierConnector
    ) -> None:
        refused = await _connect(accounts, connector, carrier="pigeon")
        assert refused == CarrierRefused("carrier", "'pigeon' is not a carrier the app connects (ups)")
        assert accounts.stored == {}

    async def test_an_empty_label_is_the_carriers_title_and_a_long_one_is_refused(
        self, accounts: InMemoryCarrierAccounts, connector: FakeCarrierConnector
    ) -> None:
        named = await _connect(accounts, connector, label="  ")
        assert isinstance(named, CarrierAccount)
        assert named.label == "UPS"
        assert await _connect(accounts, connector, label="x" * 101) == CarrierRefused(
            "label", "a label has at most 100 characters"
        )

    async def test_a_credential_too_long_is_refused(
        self, accounts: InMemoryCarrierAccounts, connector: FakeCarrierConnector
    ) -> None:
        refused = await _connect(accounts, connector, client_id="i" * 1001, client_secret="s")
        assert refused == CarrierRefused("client_id", "the client ID is longer than 1000 characters")


class TestServiceLevels:
    def test_reads_pairs_separated_by_commas_or_lines(self) -> None:
        assert read_service_levels("ups_ground=standard,\n ups_3_day_select = Expedited") == {
            "ups_ground": Level.STANDARD,
            "ups_3_day_select": Level.EXPEDITED,
        }
        assert read_service_levels("  ") == {}

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            pytest.param("ups_ground", "'ups_ground' is not service=level", id="no-equals"),
            pytest.param("=standard", "'=standard' is not service=level", id="no-service"),
            pytest.param(
                "ups_ground=fast", "'fast' for ups_ground is not a level (standard, expedited, overnight)", id="level"
            ),
        ],
    )
    def test_refuses_what_is_not_a_pair_or_not_a_level(self, text: str, reason: str) -> None:
        assert read_service_levels(text) == CarrierRefused("service_levels", reason)


class TestDisconnectAndCheck:
    async def test_disconnect_removes_only_an_existing_account(
        self, accounts: InMemoryCarrierAccounts, connector: FakeCarrierConnector
    ) -> None:
        account = await _connect(accounts, connector)
        assert isinstance(account, CarrierAccount)
        assert await disconnect_carrier(accounts, SHOP, account.id)
        assert not await disconnect_carrier(accounts, SHOP, account.id)

    async def test_check_asks_the_connector_within_the_time_given(
        self, accounts: InMemoryCarrierAccounts, connector: FakeCarrierConnector
    ) -> None:
        account = await _connect(accounts, connector)
        assert isinstance(account, CarrierAccount)
        assert await check_connection(accounts, connector, SHOP, account.id, within_seconds=7) == OK
        assert connector.checked == [(account, 7)]
        assert await check_connection(accounts, connector, SHOP, 999, within_seconds=7) is None


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        pytest.param(UPS.fields[1], "a-long-secret-value", "set", id="secret"),
        pytest.param(UPS.fields[2], "A1B2C3D4", "…C3D4", id="account-number-tail"),
        pytest.param(UPS.fields[2], "A1B2", "set", id="short-value-not-shown"),
    ],
)
def test_credentials_are_never_shown_in_full(field: CredentialField, value: str, shown: str) -> None:
    assert shown_credential(field, value) == shown
