from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WebhookDefinition:
    """One Saleor event, named the same way in every layer (STYLE.md convention 2).

    ``ORDER_CREATED`` → header ``order_created``, route ``/api/webhooks/order-created``,
    payload ``__typename`` ``OrderCreated``; manifest.json names its ``subscriptions/order_created.graphql``.
    """

    event: str

    @property
    def header_value(self) -> str:
        return self.event.lower()

    @property
    def path(self) -> str:
        return "/api/webhooks/" + self.event.lower().replace("_", "-")

    @property
    def typename(self) -> str:
        return "".join(part.capitalize() for part in self.event.split("_"))
