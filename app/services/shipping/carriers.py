"""Connecting a store's carrier accounts for live rates: which carriers, what each needs, and a check
that the credentials work.

A connection is refused, and nothing stored, when the carrier is unknown or a required credential is
missing; the refusal names the field. Credentials are stored encrypted and never shown back in full.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.domain.ids import SaleorApiUrl
from app.domain.shipping.model import Level
from app.services.ports import CarrierAccounts, CarrierConnector
from app.services.shipping.model import CarrierAccount, CarrierSpec, ConnectionCheck, CredentialField, NewCarrierAccount

log = logging.getLogger(__name__)

LABEL_MAX = 100
CREDENTIAL_MAX = 1000
SHOWN_TAIL = 4  # characters of a non-secret credential (an account number) shown to tell accounts apart


@dataclass(frozen=True, slots=True)
class CarrierRefused:
    """Why a connection was not stored; ``field`` is the form field to point at."""

    field: str
    reason: str


def carrier_spec(connector: CarrierConnector, carrier: str) -> CarrierSpec | None:
    return next((spec for spec in connector.carriers() if spec.name == carrier), None)


def read_service_levels(text: str) -> dict[str, Level] | CarrierRefused:
    """``service=level`` pairs separated by commas or new lines, e.g. ``ups_3_day_select=expedited``."""
    levels: dict[str, Level] = {}
    for pair in text.replace("\n", ",").split(","):
        if not pair.strip():
            continue
        service, sep, level = (part.strip() for part in pair.partition("="))
        if not sep or not service:
            return CarrierRefused("service_levels", f"'{pair.strip()}' is not service=level")
        try:
            levels[service] = Level(level.lower())
        except ValueError:
            names = ", ".join(item.value for item in Level)
            return CarrierRefused("service_levels", f"'{level}' for {service} is not a level ({names})")
    return levels


def _check_credentials(spec: CarrierSpec, submitted: Mapping[str, str]) -> dict[str, str] | CarrierRefused:
    kept: dict[str, str] = {}
    for field in spec.fields:
        value = submitted.get(field.name, "").strip()
        if not value:
            if field.required:
                return CarrierRefused(field.name, f"{spec.title} needs the {field.label}")
            continue
        if len(value) > CREDENTIAL_MAX:
            return CarrierRefused(field.name, f"the {field.label} is longer than {CREDENTIAL_MAX} characters")
        kept[field.name] = value
    return kept


async def connect_carrier(
    accounts: CarrierAccounts,
    connector: CarrierConnector,
    url: SaleorApiUrl,
    *,
    carrier: str,
    label: str,
    credentials: Mapping[str, str],
    test_mode: bool,
    service_levels: Mapping[str, Level],
    now: datetime,
) -> CarrierAccount | CarrierRefused:
    """Store a carrier account; fields the carrier does not know are not kept."""
    spec = carrier_spec(connector, carrier)
    if spec is None:
        known = ", ".join(spec.name for spec in connector.carriers())
        return CarrierRefused("carrier", f"'{carrier}' is not a carrier the app connects ({known})")
    label = label.strip() or spec.title
    if len(label) > LABEL_MAX:
        return CarrierRefused("label", f"a label has at most {LABEL_MAX} characters")
    kept = _check_credentials(spec, credentials)
    if isinstance(kept, CarrierRefused):
        return kept
    account = await accounts.add(url, NewCarrierAccount(carrier, label, kept, test_mode, dict(service_levels)), now)
    log.info("Carrier account %s (%s) connected", account.id, carrier, extra={"saleor_api_url": url})
    return account


async def disconnect_carrier(accounts: CarrierAccounts, url: SaleorApiUrl, account_id: int) -> bool:
    removed = await accounts.remove(url, account_id)
    if removed:
        log.info("Carrier account %s disconnected", account_id, extra={"saleor_api_url": url})
    return removed


async def check_connection(
    accounts: CarrierAccounts,
    connector: CarrierConnector,
    url: SaleorApiUrl,
    account_id: int,
    *,
    within_seconds: float,
) -> ConnectionCheck | None:
    """A sample rate request through the account; None when the store has no such account."""
    account = await accounts.get(url, account_id)
    if account is None:
        return None
    return await connector.check(account, within_seconds=within_seconds)


def shown_credential(field: CredentialField, value: str) -> str:
    """A stored credential as pages may show it: secrets only as set, other values by their last characters."""
    if field.secret or len(value) <= SHOWN_TAIL:
        return "set"
    return "…" + value[-SHOWN_TAIL:]
