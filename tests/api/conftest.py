from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from tests.builders import NOW, body_of, order_payload
from tests.fakes.fake_saleor import FakeSaleor
from tests.fakes.saleor_signer import SaleorSigner

Send = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def send(client: httpx.AsyncClient, app: FastAPI, signer: SaleorSigner, fake_saleor: FakeSaleor) -> Send:
    """POST a delivery as Saleor does: raw bytes, signed, with Saleor's headers; then let the worker
    process it and dispatch its effects (``process=False`` leaves it stored and waiting).

    ``fake_saleor`` answers the write-back the app makes.
    """

    async def deliver(
        event: str = "ORDER_CREATED",
        body: bytes | None = None,
        *,
        signed_by: SaleorSigner | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        drop: tuple[str, ...] = (),
        process: bool = True,
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
        response = await client.post(path, content=raw, headers=sent)
        if process:
            await app.state.worker.drain()
        return response

    return deliver


@pytest.fixture
def staff_headers(signer: SaleorSigner):
    """Headers an app page sends: the dashboard token of a staff user with these permissions."""

    def headers(*user_permissions: str) -> dict[str, str]:
        token = signer.dashboard_token(
            issued_at=NOW.timestamp(), user_permissions=list(user_permissions or ("MANAGE_ORDERS", "MANAGE_APPS"))
        )
        return {"authorization-bearer": token, "saleor-api-url": "https://shop.test/graphql/"}

    return headers
