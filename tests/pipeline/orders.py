"""Orders as Saleor tells the app about them: each one created, paid, then shipped from one warehouse.

Shared by the pipeline's tests and ``bench.pipeline_retry_storm``: every order leads to two fraud
assessments (created, paid), one ledger issue and three notes in Saleor.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tests.builders import NOW, body_of, fulfillment_payload, order_line_payload, order_payload, variant_payload

WAREHOUSE = "V2FyZWhvdXNlOjE="
STAGES = ("created", "paid")  # the fraud assessments each order gets
NOTES_PER_ORDER = 3  # two fraud decisions and the cost of goods


@dataclass(frozen=True, slots=True)
class Delivery:
    event: str  # as Saleor names it, e.g. ORDER_CREATED
    order_id: str
    issued_at: datetime
    body: bytes

    @property
    def path(self) -> str:
        return "/api/webhooks/" + self.event.lower().replace("_", "-")


def order_id(number: int) -> str:
    return base64.b64encode(f"Order:{number}".encode()).decode()


def order_deliveries(number: int, *, at: datetime = NOW) -> list[Delivery]:
    """The order's ORDER_CREATED, ORDER_FULLY_PAID and FULFILLMENT_CREATED, in issuedAt order."""
    line = base64.b64encode(f"OrderLine:{number}".encode()).decode()
    fields: dict[str, Any] = {
        "order_id": order_id(number),
        "number": str(number),
        "userEmail": f"customer{number % 50}@example.com",  # a shop's customers come back
        "lines": [
            order_line_payload(
                line_id=line,
                quantity=2,
                unit_price="24.60",
                unit_price_net="20.00",
                variant=variant_payload(cost_prices={"default-channel": "9"}),
            )
        ],
    }

    def delivery(event: str, typename: str, after: timedelta, **order: Any) -> Delivery:
        issued = at + after
        payload = order_payload(typename=typename, issued_at=issued.isoformat(), **fields, **order)
        if "fulfillments" in order:  # the fulfilment the event is about, beside the order
            payload["fulfillment"] = order["fulfillments"][0]
        return Delivery(event, order_id(number), issued, body_of(payload))

    paid = [
        {
            "id": base64.b64encode(f"TransactionItem:{number}".encode()).decode(),
            "pspReference": f"ch_{number}",
            "chargedAmount": {"amount": 49.2, "currency": "USD"},
            "metadata": [],
        }
    ]
    shipped = fulfillment_payload(
        fulfillment_id=base64.b64encode(f"Fulfillment:{number}".encode()).decode(),
        created=(at + timedelta(hours=3)).isoformat(),
        warehouse_id=WAREHOUSE,
        lines=[(base64.b64encode(f"FulfillmentLine:{number}".encode()).decode(), line, 2)],
    )
    return [
        delivery("ORDER_CREATED", "OrderCreated", timedelta(0)),
        delivery("ORDER_FULLY_PAID", "OrderFullyPaid", timedelta(minutes=5), transactions=paid),
        delivery(
            "FULFILLMENT_CREATED",
            "FulfillmentCreated",
            timedelta(hours=3),
            transactions=paid,
            status="FULFILLED",
            fulfillments=[shipped],
        ),
    ]
