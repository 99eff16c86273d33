from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class WebhookDefinition:
    """One Saleor event, named the same way in every layer (STYLE.md convention 2).

    ``ORDER_CREATED`` → header ``order_created``, route ``/api/webhooks/order-created``,
    payload ``__typename`` ``OrderCreated``; manifest.json names its ``subscriptions/order_created.graphql``.
    The names are derived once: every delivery reads them.
    """

    event: str
    header_value: str = field(init=False)
    path: str = field(init=False)
    typename: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "header_value", self.event.lower())
        object.__setattr__(self, "path", "/api/webhooks/" + self.event.lower().replace("_", "-"))
        object.__setattr__(self, "typename", "".join(part.capitalize() for part in self.event.split("_")))
