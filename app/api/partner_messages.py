"""What the app posts to a partner's endpoint (``app.services.routing.hand_offs``), for the OpenAPI
document's ``webhooks``: a hand-off, and the cancel of one. Both are signed like the partner's
callbacks (``X-Ops-Timestamp``, ``X-Ops-Signature``) with the partner's secret, and told apart by
``type``. A partner answers 2xx once it has the message; 5xx, 408 or 429 make the app try again
later, any other answer makes it stop and show the failure to the merchant.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class HandOffLine(_Message):
    line_id: str = Field(alias="lineId", description="The Saleor order line; callbacks name it")
    sku: str
    quantity: int = Field(ge=1)


class HandOffMessage(_Message):
    """A shipment for the partner to send: accept or reject it, then confirm what ships, at
    ``/api/routing/hand-offs/{handOffId}/…``."""

    type: Literal["hand_off"]
    hand_off_id: str = Field(alias="handOffId", description="The reference every callback about it names")
    order_id: str = Field(alias="orderId")
    order_number: str = Field(alias="orderNumber")
    warehouse_id: str = Field(alias="warehouseId", description="The Saleor warehouse that stands for the partner")
    ship_to: dict[str, str] = Field(alias="shipTo", description="The shipping address, as Saleor keeps its fields")
    lines: list[HandOffLine]


class HandOffCancelMessage(_Message):
    """The hand-off is cancelled: ship none of ``lines`` (its units not confirmed as shipped yet).
    Callbacks about it are refused from now on, a shipment confirmation included."""

    type: Literal["hand_off.cancel"]
    hand_off_id: str = Field(alias="handOffId")
    order_id: str = Field(alias="orderId")
    reason: str = Field(description="Why: the order was cancelled, fraud, no answer in time, re-routed by hand")
    lines: list[HandOffLine]


MESSAGES: tuple[type[BaseModel], ...] = (HandOffMessage, HandOffCancelMessage)


def webhooks() -> dict[str, Any]:
    """The OpenAPI ``webhooks`` entry of each message, its body a reference to its schema."""
    return {
        name: {
            "post": {
                "summary": (model.__doc__ or "").split("\n", 1)[0],
                "description": " ".join((model.__doc__ or "").split()),
                "tags": ["partner messages"],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
                },
                "responses": {"200": {"description": "Taken; any 2xx will do"}},
            }
        }
        for name, model in (("handOff", HandOffMessage), ("handOffCancel", HandOffCancelMessage))
    }
