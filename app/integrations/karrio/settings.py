"""The carriers the app connects through Karrio and the credentials each needs, read from Karrio's own
connection settings classes so that a field Karrio adds or drops shows up here."""

from __future__ import annotations

from collections.abc import Mapping

import attr
from karrio.mappers.canadapost.settings import Settings as CanadaPostSettings
from karrio.mappers.dhl_express.settings import Settings as DhlExpressSettings
from karrio.mappers.easypost.settings import Settings as EasyPostSettings
from karrio.mappers.fedex.settings import Settings as FedExSettings
from karrio.mappers.ups.settings import Settings as UpsSettings
from karrio.mappers.usps.settings import Settings as UspsSettings

from app.services.shipping.model import CarrierSpec, CredentialField

SETTINGS_CLASSES: Mapping[str, tuple[str, type]] = {
    "ups": ("UPS", UpsSettings),
    "fedex": ("FedEx", FedExSettings),
    "usps": ("USPS", UspsSettings),
    "dhl_express": ("DHL Express", DhlExpressSettings),
    "canadapost": ("Canada Post", CanadaPostSettings),
    "easypost": ("EasyPost", EasyPostSettings),
}
# Karrio's own bookkeeping and the test flag (a column of the account), not credentials.
_NOT_CREDENTIALS = frozenset({"id", "carrier_id", "test_mode", "metadata", "config", "account_country_code"})
# Fields only labels, tracking or manifests use: rating never reads them.
_NOT_FOR_RATES: Mapping[str, frozenset[str]] = {
    "fedex": frozenset({"track_api_key", "track_secret_key"}),
    "usps": frozenset({"account_type", "manifest_MID", "CRID", "MID"}),
    "canadapost": frozenset({"language"}),
}
# Fields Karrio leaves optional that the carrier's rate API still needs.
_NEEDED_FOR_RATES: Mapping[str, frozenset[str]] = {
    "fedex": frozenset({"api_key", "secret_key", "account_number"}),
    "canadapost": frozenset({"customer_number"}),
}
_SECRET_WORDS = ("password", "secret", "api_key")
_WORDS = {"id": "ID", "api": "API"}


def _label(name: str) -> str:
    words = [_WORDS.get(word.lower(), word.lower()) for word in name.split("_")]
    return " ".join(words)


def credential_fields(carrier: str, settings_class: type) -> tuple[CredentialField, ...]:
    skipped = _NOT_CREDENTIALS | _NOT_FOR_RATES.get(carrier, frozenset())
    needed = _NEEDED_FOR_RATES.get(carrier, frozenset())
    return tuple(
        CredentialField(
            name=field.name,
            label=_label(field.name),
            required=field.default is attr.NOTHING or field.name in needed,
            secret=bool(field.metadata.get("sensitive")) or any(word in field.name for word in _SECRET_WORDS),
        )
        for field in attr.fields(settings_class)
        if field.name not in skipped
    )


def carrier_specs() -> tuple[CarrierSpec, ...]:
    return tuple(
        CarrierSpec(name, title, credential_fields(name, settings_class))
        for name, (title, settings_class) in SETTINGS_CLASSES.items()
    )
