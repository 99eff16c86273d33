"""The Carrier accounts page's rows and forms, built without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel import Locale

from app.dashboard.shipping.carrier_views import account_rows, connect_forms
from app.domain.shipping.model import Level
from app.services.shipping.model import CarrierAccount, CarrierSpec, ConnectionCheck, CredentialField

DHL = CarrierSpec(
    "dhl_express",
    "DHL Express",
    (
        CredentialField("site_id", "site ID", required=True, secret=False),
        CredentialField("password", "password", required=True, secret=True),
        CredentialField("account_number", "account number", required=False, secret=False),
    ),
)
ACCOUNT = CarrierAccount(
    7,
    "dhl_express",
    "DHL export",
    {"site_id": "mysite123", "password": "hunter2-long"},
    False,
    True,
    datetime(2026, 12, 3, 17, 0, tzinfo=UTC),
    {"dhl_express_worldwide_nondoc": Level.STANDARD},
)


def test_a_row_shows_no_secret_and_only_the_tail_of_other_credentials() -> None:
    check = ConnectionCheck(True, "Connected.")
    [row] = account_rows([ACCOUNT], [DHL], {7: check}, ZoneInfo("Europe/Berlin"), Locale.parse("en"))
    assert row.credentials == (("site ID", "…e123"), ("password", "set"))
    assert (row.carrier, row.label, row.mode, row.check) == ("DHL Express", "DHL export", "live", check)
    assert row.service_levels == "dhl_express_worldwide_nondoc → standard"
    assert row.connected == "Dec 3, 2026, 6:00:00\u202fPM"


def test_a_connect_form_has_a_label_then_the_carriers_fields() -> None:
    [form] = connect_forms([DHL], "credential_")
    assert [(f.name, f.credential, f.label, f.secret, f.help) for f in form.fields] == [
        ("label", "label", "Label", False, "How the account is named here, e.g. DHL Express main."),
        ("credential_site_id", "site_id", "Site ID", False, "Required."),
        ("credential_password", "password", "Password", True, "Required."),
        ("credential_account_number", "account_number", "Account number", False, "Optional."),
    ]
