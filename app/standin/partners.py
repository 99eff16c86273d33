"""The store's fulfilment partners, played: two 3PLs and a dropship supplier beside the stand-in.

Each is a Saleor warehouse of the store (with stock rows where Saleor keeps its stock, so that
``orderFulfill`` from it works as in Saleor) and a service that receives the hand-offs an app posts
to ``/partners/<slug>/hand-offs``. A partner checks the hand-off as a real one would, against the
secret the app gave it: ``X-Ops-Timestamp`` (Unix seconds, within 5 minutes of its clock) and
``X-Ops-Signature`` (hex HMAC-SHA256 of ``f"{timestamp}.{body}"``), answering 401 otherwise. It takes
a good one at once (202) and answers later, as people and pick-up waves do, through the app's
callback API, signed the same way with the same secret:

- ShipHero (``shiphero-3pl``, Columbus) accepts within minutes and ships in its next pick-up wave;
- Red Stag (``red-stag-3pl``, Groveport) sometimes rejects (seeded), and otherwise ships the next
  day: it works through yesterday's hand-offs in the morning;
- Grindworks (``grindworks-supply``, Round Rock), a dropship supplier of grinders,
  publishes a feed of offers (``feed_csv``) and ships once its handling days have passed, now and
  then a day later than its feed says.

Answers wait in a queue by time: ``next_due`` says when the next one is due, ``answer_due`` sends
those due by then. Everything is deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import random
import string
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.standin.day import Catalogue
from app.standin.state import Address, Store, Warehouse

Clock = Callable[[], datetime]
FRESH_FOR = timedelta(minutes=5)
_WAVES = (time(16, 0), time(22, 0))  # ShipHero's pick-up waves, UTC (as the day's)
_MORNING = time(15, 0)  # Red Stag's and the supplier's daily pick-up, UTC (10:00 in the Midwest)
_RED_STAG_STOCK = {"COF-ETH-340": 40, "COF-COL-340": 40, "COF-ESP-1KG": 20, "BRW-KETL-1L": 12, "BRW-FILT-100": 60}
_REJECTIONS = (
    "short on the shelf: the cycle count was wrong",
    "the bin is on a quality hold",
    "the order missed today's carrier cut-off and our backlog is full",
)


@dataclass(frozen=True, slots=True)
class Offer:
    """A line of the supplier's feed (``sku,unit_price,currency,handling_days,stock``)."""

    sku: str
    unit_price: str
    handling_days: int
    stock: int


@dataclass(frozen=True, slots=True)
class HandOffReceived:
    id: str
    order_number: str
    lines: tuple[tuple[str, str, int], ...]  # order line ID, SKU, quantity
    received_at: datetime


@dataclass(order=True, frozen=True, slots=True)
class _Answer:
    at: datetime
    sequence: int
    partner: SimulatedPartner = field(compare=False)
    hand_off: HandOffReceived = field(compare=False)
    action: str = field(compare=False)  # accept, reject or shipments
    body: Mapping[str, Any] = field(compare=False)


@dataclass(eq=False)
class SimulatedPartner:
    """One partner: its warehouse in Saleor, how it behaves, and what it did."""

    name: str
    kind: str  # "3pl" or "dropship", as the app's sources page names them
    warehouse: Warehouse
    rejects: float = 0.0  # the share of hand-offs it rejects
    next_day: bool = False  # ships the day after it accepts, at its morning pick-up
    offers: tuple[Offer, ...] = ()  # a supplier's feed; it ships after the offer's handling days
    carrier: str = "UPS"
    secret: str = ""  # given by the app when the merchant adds the partner
    received: list[HandOffReceived] = field(default_factory=list)
    answered: Counter[str] = field(default_factory=Counter)  # what the app took: accept, reject, shipments
    tracking_numbers: list[str] = field(default_factory=list)  # of the shipments the app took
    refused: list[str] = field(default_factory=list)  # answers the app refused, with its reason
    cancelled: list[str] = field(default_factory=list)  # hand-offs the app cancelled before they shipped

    @property
    def slug(self) -> str:
        return self.warehouse.slug

    def feed_csv(self) -> str:
        rows = [f"{o.sku},{o.unit_price},USD,{o.handling_days},{o.stock}" for o in self.offers]
        return "\n".join(["sku,unit_price,currency,handling_days,stock", *rows]) + "\n"

    def signature_problem(self, timestamp: str, body: str, given: str, now: datetime) -> str | None:
        try:
            sent = datetime.fromtimestamp(int(timestamp), now.tzinfo)
        except (ValueError, OverflowError, OSError):
            return "X-Ops-Timestamp must be Unix seconds"
        if abs(now - sent) > FRESH_FOR:
            return "X-Ops-Timestamp is stale"
        if not self.secret or not hmac.compare_digest(_sign(self.secret, timestamp, body), given.strip().lower()):
            return "X-Ops-Signature does not match the body"
        return None


def _sign(secret: str, timestamp: str, body: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def add_partners(store: Store, catalogue: Catalogue) -> tuple[SimulatedPartner, ...]:
    """ShipHero (the seeded shop's 3PL warehouse), and Red Stag's and Grindworks' warehouses added to
    ``store``: Red Stag with stock rows of what it holds, Grindworks with none (a supplier's stock is its
    feed's; Saleor fulfils from it with ``allowStockToBeExceeded``)."""
    red_stag = store.add_warehouse(
        name="Red Stag 3PL",
        slug="red-stag-3pl",
        address=Address(
            company_name="Red Stag Fulfillment",
            street_address1="6055 Rickenbacker Pkwy",
            city="Groveport",
            postal_code="43125",
            country="US",
            country_area="OH",
        ),
        email="orders@redstag.example",
    )
    grindworks = store.add_warehouse(
        name="Grindworks Supply (dropship)",
        slug="grindworks-supply",
        address=Address(
            company_name="Grindworks Supply",
            street_address1="1100 N Mays St",
            city="Round Rock",
            postal_code="78664",
            country="US",
            country_area="TX",
        ),
        email="dropship@grindworks.example",
    )
    # Both are the channel's and ship to its zone, as a warehouse must for Saleor to list and allocate its stock.
    for warehouse in (red_stag, grindworks):
        store.assign_warehouse(catalogue.channel, warehouse)
        catalogue.shipping_zone.warehouse_pks.append(warehouse.pk)
    # Red Stag holds coffee beside the gear, so an order of both can leave in one parcel.
    for sku, quantity in _RED_STAG_STOCK.items():
        store.set_stock(red_stag, catalogue.item(sku).variant, quantity)
    return (
        SimulatedPartner("ShipHero", "3pl", catalogue.tpl),
        SimulatedPartner("Red Stag", "3pl", red_stag, rejects=0.4, next_day=True),
        SimulatedPartner(
            "Grindworks",
            "dropship",
            grindworks,
            offers=(
                Offer("MCH-HGRIND", "52.00", 0, 25),
                Offer("MCH-BGRIND", "188.00", 1, 10),
            ),
            carrier="USPS",
        ),
    )


class PartnerNetwork:
    """The partners' services: one ASGI app for their endpoints, and their answers queued by time."""

    def __init__(self, clock: Clock, *, seed: int) -> None:
        self.partners: dict[str, SimulatedPartner] = {}
        self.clock = clock
        self.seed = f"partners:{seed}"
        self._queue: list[_Answer] = []
        self._sequence = itertools.count()
        self.asgi = Starlette(routes=[Route("/partners/{slug}/hand-offs", self._receive, methods=["POST"])])

    def join(self, partners: tuple[SimulatedPartner, ...]) -> None:
        self.partners.update((partner.slug, partner) for partner in partners)

    def endpoint(self, base_url: str, partner: SimulatedPartner) -> str:
        return f"{base_url}/partners/{partner.slug}/hand-offs"

    def beside(self, site: ASGIApp) -> ASGIApp:
        """``site`` with the partners' endpoints under ``/partners/``, served on one port."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and str(scope["path"]).startswith("/partners/"):
                await self.asgi(scope, receive, send)
            else:
                await site(scope, receive, send)

        return app

    async def _receive(self, request: Request) -> Response:
        partner = self.partners.get(request.path_params["slug"])
        if partner is None:
            return JSONResponse({"detail": "no such partner"}, status_code=404)
        body = (await request.body()).decode()
        problem = partner.signature_problem(
            request.headers.get("X-Ops-Timestamp", ""), body, request.headers.get("X-Ops-Signature", ""), self.clock()
        )
        if problem is not None:
            return JSONResponse({"detail": problem}, status_code=401)
        try:
            sent = json.loads(body)
            if sent.get("type") == "hand_off.cancel":  # the app's cancel: what is not shipped yet stays
                return self._cancel(partner, str(sent["handOffId"]))
            hand_off = HandOffReceived(
                str(sent["handOffId"]),
                str(sent["orderNumber"]),
                tuple((str(line["lineId"]), str(line["sku"]), int(line["quantity"])) for line in sent["lines"]),
                self.clock(),
            )
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"detail": f"not a hand-off: {exc}"}, status_code=422)
        if all(known.id != hand_off.id for known in partner.received):  # a retry is taken once
            partner.received.append(hand_off)
            self._plan_answers(partner, hand_off)
        return JSONResponse({"received": hand_off.id}, status_code=202)

    def _cancel(self, partner: SimulatedPartner, hand_off_id: str) -> Response:
        """Drop the hand-off's answers still to come (its shipment too); one already sent stands."""
        if hand_off_id not in partner.cancelled:  # a retry is taken once
            partner.cancelled.append(hand_off_id)
            self._queue = [a for a in self._queue if not (a.partner is partner and a.hand_off.id == hand_off_id)]
            heapq.heapify(self._queue)
        return JSONResponse({"cancelled": hand_off_id}, status_code=202)

    def _plan_answers(self, partner: SimulatedPartner, hand_off: HandOffReceived) -> None:
        # Drawn per hand-off, not in the order they arrive (an app may send several at once).
        rng = random.Random(f"{self.seed}:{partner.slug}:{hand_off.order_number}:{sorted(hand_off.lines)}")
        now = hand_off.received_at
        answered = now + timedelta(minutes=rng.randint(5, 40))
        if rng.random() < partner.rejects:
            self._add(answered, partner, hand_off, "reject", {"reason": rng.choice(_REJECTIONS)})
            return
        self._add(answered, partner, hand_off, "accept", {})
        ships = self._ships_at(partner, hand_off, answered, rng)
        tracking = (
            "9400" + "".join(rng.choice(string.digits) for _ in range(18))
            if partner.carrier == "USPS"
            else "1Z" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
        )
        shipment = {
            "shipmentId": f"{partner.slug}-{hand_off.order_number}-{len(partner.received)}",
            "carrier": partner.carrier,
            "trackingNumber": tracking,
            "lines": [{"lineId": line, "quantity": quantity} for line, _, quantity in hand_off.lines],
        }
        self._add(ships, partner, hand_off, "shipments", shipment)

    def _ships_at(
        self, partner: SimulatedPartner, hand_off: HandOffReceived, accepted: datetime, rng: random.Random
    ) -> datetime:
        ready = accepted + timedelta(hours=1)
        if partner.offers:
            # Its slowest SKU's handling days, as its feed says; one parcel in four leaves a day late.
            skus = {sku for _, sku, _ in hand_off.lines}
            days = max((o.handling_days for o in partner.offers if o.sku in skus), default=1)
            days += rng.random() < 0.25
            at = _at(ready.date() + timedelta(days=days), _MORNING, ready)
            return at if at >= ready else at + timedelta(days=1)
        if partner.next_day:
            return _at(ready.date() + timedelta(days=1), _MORNING, ready)
        for day in (ready.date(), ready.date() + timedelta(days=1)):
            for wave in _WAVES:
                at = _at(day, wave, ready)
                if at >= ready:
                    return at
        raise AssertionError("tomorrow has waves")

    def _add(
        self, at: datetime, partner: SimulatedPartner, hand_off: HandOffReceived, action: str, body: Mapping[str, Any]
    ) -> None:
        heapq.heappush(self._queue, _Answer(at, next(self._sequence), partner, hand_off, action, body))

    def next_due(self) -> datetime | None:
        return self._queue[0].at if self._queue else None

    @property
    def waiting(self) -> int:
        """Answers still to come."""
        return len(self._queue)

    async def answer_due(self, http: httpx.AsyncClient, app_url: str, now: datetime) -> int:
        """Send every answer due by ``now`` (its own time having come), in time order; how many."""
        sent = 0
        while self._queue and self._queue[0].at <= now:
            answer = heapq.heappop(self._queue)
            body = json.dumps(dict(answer.body), separators=(",", ":"))
            timestamp = str(int(now.timestamp()))
            response = await http.post(
                f"{app_url}/api/routing/hand-offs/{answer.hand_off.id}/{answer.action}",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Ops-Timestamp": timestamp,
                    "X-Ops-Signature": _sign(answer.partner.secret, timestamp, body),
                },
            )
            if response.is_success:
                answer.partner.answered[answer.action] += 1
                if answer.action == "shipments":
                    answer.partner.tracking_numbers.append(str(answer.body["trackingNumber"]))
            else:
                answer.partner.refused.append(f"{answer.action} {answer.hand_off.id}: {response.text[:200]}")
            sent += 1
        return sent


def _at(day: date, moment: time, like: datetime) -> datetime:
    return datetime.combine(day, moment, like.tzinfo)
