from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.builders import body_of, order_payload
from tests.fakes.saleor_signer import SaleorSigner

Send = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def send(client: httpx.AsyncClient, signer: SaleorSigner) -> Send:
    """POST a delivery as Saleor does: raw bytes, signed, with Saleor's headers."""

    async def deliver(
        event: str = "ORDER_CREATED",
        body: bytes | None = None,
        *,
        signed_by: SaleorSigner | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        drop: tuple[str, ...] = (),
    ) -> httpx.Response:
        raw = body if body is not None else body_of(order_payload())
        sent = {
            "content-type": "application/json",
            "saleor-event": event.lower(),
            "saleor-domain": "shop.test",
            "saleor-api-url": "https://shop.test/graphql/",
            "saleor-signature": signature if signature is not None else (signed_by or signer).sign(raw),
            "user-agent": "Saleor/3.24",
            **(headers or {}),
        }
        for name in drop:
            sent.pop(name)
        path = "/api/webhooks/" + event.lower().replace("_", "-")
        return await client.post(path, content=raw, headers=sent)

    return deliver
