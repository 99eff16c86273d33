"""Pure builders of the Carrier accounts page's context: no I/O, unit-tested without HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel import Locale

from app.dashboard.view_models import local_time
from app.services.shipping.carriers import shown_credential
from app.services.shipping.model import CarrierAccount, CarrierSpec, ConnectionCheck


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    carrier: str
    label: str
    credentials: tuple[tuple[str, str], ...]  # (field label, what may be shown of it)
    service_levels: str
    mode: str
    connected: str
    check: ConnectionCheck | None


def account_rows(
    accounts: Sequence[CarrierAccount],
    specs: Sequence[CarrierSpec],
    checks: Mapping[int, ConnectionCheck],
    zone: ZoneInfo,
    locale: Locale,
) -> list[AccountRow]:
    by_name = {spec.name: spec for spec in specs}
    rows = []
    for account in accounts:
        spec = by_name.get(account.carrier)
        shown = tuple(
            (field.label, shown_credential(field, account.credentials[field.name]))
            for field in (spec.fields if spec else ())
            if field.name in account.credentials
        )
        rows.append(
            AccountRow(
                id=account.id,
                carrier=spec.title if spec else account.carrier,
                label=account.label,
                credentials=shown,
                service_levels=", ".join(f"{service} → {level}" for service, level in account.service_levels.items()),
                mode="sandbox" if account.test_mode else "live",
                connected=local_time(account.created_at, zone, locale),
                check=checks.get(account.id),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class FormField:
    name: str  # the form's field name
    credential: str  # the credential's name, as refusals name it ("label" for the label)
    label: str
    secret: bool
    help: str


@dataclass(frozen=True, slots=True)
class ConnectForm:
    carrier: str
    title: str
    fields: tuple[FormField, ...]


def connect_forms(specs: Sequence[CarrierSpec], prefix: str) -> list[ConnectForm]:
    """One form per carrier: a label and the carrier's credential fields."""
    return [
        ConnectForm(
            spec.name,
            spec.title,
            (
                FormField("label", "label", "Label", False, f"How the account is named here, e.g. {spec.title} main."),
                *(
                    FormField(
                        prefix + field.name,
                        field.name,
                        field.label[:1].upper() + field.label[1:],
                        field.secret,
                        "Required." if field.required else "Optional.",
                    )
                    for field in spec.fields
                ),
            ),
        )
        for spec in specs
    ]
