"""The dispatcher's shared requests against a real Saleor: effects sent in one turn of the event loop go
as one GraphQL document (``BatchingGraphQLClient``), and Saleor's answer is split back per effect."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any

import httpx
import pytest

from app.domain.ids import SaleorApiUrl, SaleorId
from app.errors import SaleorMutationError
from app.graphql.client import SaleorClientFactory
from tests.real_saleor.app_process import InstalledOps
from tests.real_saleor.saleor_api import StaffSaleor
from tests.real_saleor.store import Store, place_draft_order, read_order

pytestmark = pytest.mark.real_saleor

MARKER_KEY = "ops.e2e-batch"  # not ops.fraud: the installed app writes that itself for these orders


class SentRequests:
    """Every request the app's HTTP client sends, with Saleor's answer: an httpx event hook's record."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []

    async def on_request(self, request: httpx.Request) -> None:
        self.payloads.append(json.loads(request.content))

    async def on_response(self, response: httpx.Response) -> None:
        self.answers.append(json.loads(await response.aread()))


def app_token(saleor: StaffSaleor, app_id: str) -> str:
    """A token of the installed app of its own, as the app's installation holds one."""
    token: str = saleor.mutate(
        """mutation Token($input: AppTokenInput!) {
          appTokenCreate(input: $input) { authToken errors { field message code } } }""",
        "appTokenCreate",
        input={"app": app_id, "name": "e2e batched requests"},
    )["authToken"]
    return token


def missing_order_id() -> SaleorId:
    """An order ID as Saleor writes them (``Order:<uuid>``) that names no order."""
    return SaleorId(base64.b64encode(f"Order:{uuid.uuid4()}".encode()).decode())


async def test_effects_of_one_turn_share_requests_within_saleors_mutation_limit_and_a_missing_order_fails_alone(
    saleor: StaffSaleor, store: Store, ops: InstalledOps
) -> None:
    first, second, third = (SaleorId(place_draft_order(saleor, store, quantity=1)) for _ in range(3))
    missing = missing_order_id()
    markers = {order: uuid.uuid4().hex for order in (first, second, missing, third)}
    sent = SentRequests()
    async with httpx.AsyncClient(event_hooks={"request": [sent.on_request], "response": [sent.on_response]}) as http:
        factory = SaleorClientFactory(http, timeout_seconds=30.0, max_attempts=1, backoff_seconds=0.0)
        # As the dispatcher builds a store's gateway, with room for one request at a time: the calls share
        # requests as far as Saleor's 4 mutations a document allow. A fraud decision that releases nothing
        # is 2 of them once its skipped orderConfirm is taken out (Saleor would count it).
        gateway = factory.batching_gateway(
            SaleorApiUrl(ops.api_url),
            app_token(saleor, ops.app_id),
            in_flight=asyncio.Semaphore(1),
            at_once=1,
            max_attempts=1,
        )
        outcomes = await asyncio.gather(
            *(
                gateway.record_fraud_decision(order, {MARKER_KEY: markers[order]}, note(markers[order]), confirm=False)
                for order in (first, second)
            ),
            gateway.add_order_note(missing, note(markers[missing])),
            gateway.record_fraud_decision(third, {MARKER_KEY: markers[third]}, note(markers[third]), confirm=False),
            return_exceptions=True,
        )

    assert [payload["operationName"] for payload in sent.payloads] == [
        "FraudDecision_FraudDecision",
        "OrderNoteAdd_FraudDecision",
    ]
    assert not any("orderConfirm" in payload["query"] for payload in sent.payloads)
    # Saleor validated both documents and ran every part, within its query cost and mutation limits. Its
    # only errors are the missing order's: its payload's, whose code (get_node_or_error's "not_found")
    # OrderNoteAddErrorCode cannot show, so Saleor nulls it and adds a GraphQL error with its path.
    decisions, shared = sent.answers
    assert "errors" not in decisions, decisions
    assert [error["path"] for error in shared["errors"]] == [["p0_orderNoteAdd", "errors", 0, "code"]], shared
    assert shared["data"]["p0_orderNoteAdd"]["errors"] == [
        {"field": "id", "message": f"Couldn't resolve to a node: {missing}", "code": None}
    ], shared

    first_outcome, second_outcome, missing_outcome, third_outcome = outcomes
    assert (first_outcome, second_outcome, third_outcome) == (None, None, None), outcomes
    # Still Saleor's refusal, not an error to try again: the dispatcher fails such an effect at once.
    assert isinstance(missing_outcome, SaleorMutationError), outcomes
    assert missing_outcome.operation == "OrderNoteAdd"
    assert [(error.field, error.message, error.code) for error in missing_outcome.errors] == [
        ("id", f"Couldn't resolve to a node: {missing}", None)
    ]

    for order in (first, second, third):
        view = read_order(saleor, order)
        assert view.private_metadata.get(MARKER_KEY) == markers[order], view.summary()
        assert note(markers[order]) in view.notes(), view.summary()


def note(marker: str) -> str:
    return f"Saleor Ops e2e batch {marker}"
