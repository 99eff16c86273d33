"""An order to route and a store's sources: an in-house warehouse, a 3PL and a dropship supplier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.money import Money
from app.domain.routing.model import OriginQuote, PickPackFees, SourceKind
from app.domain.shipping.model import Level
from app.services.routing.model import HandOffMethod, Partner, RoutingSetup, SupplierOffer
from app.services.routing.planning import LineToRoute, OrderToRoute
from app.services.shipping.model import CartLine, OrderShipment, Place, PlacedOrder

ORDER = "T3JkZXI6MQ=="
NOW = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
PROMISED = date(2026, 12, 8)
EAST = SaleorId("WH-east")
WEST = SaleorId("WH-west")
ACME = SaleorId("WH-acme")


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


WEST_3PL = Partner(
    "p-west",
    "West",
    SourceKind.THIRD_PARTY,
    WEST,
    HandOffMethod.WEBHOOK,
    "https://west.example/orders",
    timedelta(hours=4),
    fees=PickPackFees(usd("1.00"), usd("0.50")),
)
ACME_SUPPLIER = Partner(
    "p-acme", "Acme", SourceKind.DROPSHIP, ACME, HandOffMethod.WEBHOOK, "https://acme.example/po", timedelta(days=1)
)


def setup(*partners: Partner, mug_offer: int = 100) -> RoutingSetup:
    return RoutingSetup(
        partners=partners or (WEST_3PL, ACME_SUPPLIER),
        offers={"p-acme": {"MUG": SupplierOffer("MUG", usd("3.00"), 1, mug_offer)}},
    )


def line(line_id: str, sku: str, quantity: int) -> LineToRoute:
    return LineToRoute(line_id, sku, CartLine(f"variant-{sku}", sku, "Drinkware", quantity, Decimal(1), Decimal(10)))


def order_to_route(stock: Mapping[SaleorId, Mapping[str, int]] | None = None, *lines: LineToRoute) -> OrderToRoute:
    placed = PlacedOrder("default", "USD", Place("US", "10001"), Level.EXPEDITED, NOW, ())
    return OrderToRoute(
        ORDER,
        placed,
        lines or (line("L1", "MUG", 2), line("L2", "TEE", 1)),
        stock if stock is not None else {EAST: {"MUG": 0, "TEE": 5}, WEST: {"MUG": 10, "TEE": 10}},
        {EAST: "East DC", WEST: "West 3PL"},
    )


@dataclass
class FakeOriginQuotes:
    """Per origin, a price per shipment plus one per line and an arrival date; what was asked."""

    prices: dict[str, str] = field(default_factory=lambda: {EAST: "5.00", WEST: "6.00", ACME: "4.00"})
    arrives: dict[str, date] = field(default_factory=dict)
    promise: date | None = PROMISED
    asked: list[tuple[str, tuple[str, ...], datetime]] = field(default_factory=list)

    async def promised_by(self, saleor_api_url: SaleorApiUrl, order: PlacedOrder) -> date | None:
        return self.promise

    async def quote(
        self,
        saleor_api_url: SaleorApiUrl,
        order: PlacedOrder,
        shipment: OrderShipment,
        leaves_at: datetime,
        promised_by: date,
    ) -> OriginQuote | None:
        self.asked.append((shipment.warehouse_id, tuple(line.sku or "" for line in shipment.lines), leaves_at))
        price = self.prices.get(shipment.warehouse_id)
        if price is None:
            return None
        amount = Money(Decimal(price) + len(shipment.lines), "USD")
        arrives = self.arrives.get(shipment.warehouse_id, promised_by - timedelta(days=1))
        return OriginQuote(amount, arrives, "UPS Ground")
