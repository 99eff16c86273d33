"""An order webhook as received, kept so later capabilities can work from it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.ids import SaleorApiUrl, SaleorId


@dataclass(frozen=True, slots=True)
class ReceivedOrderEvent:
    saleor_api_url: SaleorApiUrl
    event: str
    order_id: SaleorId
    order_number: str | None
    issued_at: datetime
    saleor_version: str | None
    received_at: datetime
    payload: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SaleorError:
    """One error Saleor put in a webhook body, where it arose (``event.order.payments.0.metadata``)."""

    message: str
    path: tuple[str | int, ...] = ()

    @property
    def where(self) -> str:
        return ".".join(str(part) for part in self.path)


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    """A verified webhook Saleor could not render: its body carries ``errors`` in place of the data.

    There is no order to name it by (Saleor nulled it), so a delivery is one body of one event:
    a retry repeats the body byte for byte.
    """

    saleor_api_url: SaleorApiUrl
    event: str
    issued_at: datetime | None
    errors: tuple[SaleorError, ...]
    received_at: datetime
    payload: str = field(repr=False)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.payload.encode()).hexdigest()
