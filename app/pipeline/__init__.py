"""The order pipeline: workers hand each stored delivery to the capabilities subscribed to its event,
and a dispatcher delivers the effects their decisions left (``worker``). A capability joins by
adding its module here and its ``Subscription`` to ``SUBSCRIPTIONS``; no route changes.
"""

from __future__ import annotations

from app.pipeline import fraud, inventory, names, routing, shipping, support
from app.pipeline.processing import Subscription

SUBSCRIPTIONS: tuple[Subscription, ...] = (
    names.subscription,
    fraud.on_creation,
    fraud.on_payment,
    inventory.subscription,
    routing.on_order,  # after fraud, before shipping: DESIGN.md's order path
    shipping.on_order,  # after fraud: it reads the assessment fraud just made
    shipping.on_fulfilment,
    support.on_order,  # after fraud: it follows the review fraud opens or closes
    support.on_fulfilment,  # after shipping: it reads the promise shipping re-checked
    support.on_costing,  # after inventory: it reads what costing booked beyond stock
)
