"""What the fake Saleor answers and the files the receipts tests send (shared by the API and CLI tests)."""

from __future__ import annotations

from typing import Any

EAST_ID = "V2FyZWhvdXNlOjE="
WAREHOUSES = {
    "data": {
        "warehouses": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "edges": [{"node": {"id": EAST_ID, "slug": "east", "name": "East"}}],
        }
    }
}
HEADER = "sku,warehouse,quantity,unit_cost,currency,received_at,reference\r\n"
FILE = HEADER + "MUG-1,east,10,4.25,USD,2026-11-20,PO-1\r\nMUG-2,east,4,1.50,USD,2026-11-21,PO-2\r\n"


def warehouse_stocks(body: dict[str, Any]) -> dict[str, Any]:
    """East holds 6 of MUG-1 (cost price 3.50 USD in default-channel) and 6 of MUG-2 (no cost price)."""
    priced = {
        "quantity": 6,
        "productVariant": {
            "id": "UHJvZHVjdFZhcmlhbnQ6MQ==",
            "sku": "MUG-1",
            "product": {"productType": {"name": "Mugs"}},
            "channelListings": [
                {"channel": {"slug": "default-channel"}, "costPrice": {"amount": 3.5, "currency": "USD"}}
            ],
        },
    }
    unpriced = {
        "quantity": 6,
        "productVariant": {
            "id": "UHJvZHVjdFZhcmlhbnQ6Mg==",
            "sku": "MUG-2",
            "product": {"productType": {"name": "Mugs"}},
            "channelListings": [],
        },
    }
    edges = [{"node": priced}, {"node": unpriced}] if body["variables"]["id"] == EAST_ID else []
    page = {"pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": edges}
    return {"data": {"warehouse": {"stocks": page}}}
