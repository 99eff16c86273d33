"""An order webhook as received, kept so later capabilities can work from it."""

from __future__ import annotations

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
