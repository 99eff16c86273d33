"""``BatchingGraphQLClient``: calls made side by side share requests, and each gets its own outcome."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from graphql import FieldNode, OperationDefinitionNode, parse

from app.domain.ids import SaleorApiUrl, SaleorId
from app.errors import SaleorGraphQLError, SaleorMutationError, SaleorUnauthorizedError, SaleorUnavailableError
from app.graphql.client import MOST_FIELDS_PER_REQUEST, GqlSaleorGateway, SaleorClientFactory, requests_of
from app.graphql.documents import load
from tests.builders import SHOP_API_URL

Answer = Callable[[dict[str, Any]], httpx.Response]


def _order(number: int) -> SaleorId:
    return SaleorId(f"order-{number}")


def _root_keys(query: str) -> list[str]:
    (operation,) = [d for d in parse(query).definitions if isinstance(d, OperationDefinitionNode)]
    return [(f.alias or f.name).value for f in operation.selection_set.selections if isinstance(f, FieldNode)]


def every_field_ok(body: dict[str, Any]) -> httpx.Response:
    """Saleor taking every mutation of the document."""
    return httpx.Response(200, json={"data": {key: {"errors": []} for key in _root_keys(body["query"])}})


def mutations_ok_and_no_notes(body: dict[str, Any]) -> httpx.Response:
    """Every mutation's fields without errors; every order's notes (a query) none yet."""
    if body["query"].startswith("mutation"):
        return every_field_ok(body)
    return httpx.Response(200, json={"data": {key: {"events": []} for key in _root_keys(body["query"])}})


class Saleor:
    """Records each request's body and answers it with ``answer``."""

    def __init__(self, answer: Answer = every_field_ok) -> None:
        self.answer = answer
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        return self.answer(body)


@pytest.fixture
def saleor() -> Saleor:
    return Saleor()


@pytest.fixture
def revoked() -> list[SaleorApiUrl]:
    return []


@pytest.fixture
def gateway_at_once(saleor: Saleor, revoked: list[SaleorApiUrl]) -> Callable[[int], GqlSaleorGateway]:
    async def on_unauthorized(url: SaleorApiUrl) -> None:
        revoked.append(url)

    factory = SaleorClientFactory(
        httpx.AsyncClient(transport=httpx.MockTransport(saleor)),
        timeout_seconds=1,
        max_attempts=1,
        backoff_seconds=0,
        on_unauthorized=on_unauthorized,
    )
    return lambda at_once: factory.batching_gateway(
        SHOP_API_URL, "app-token", in_flight=asyncio.Semaphore(at_once), at_once=at_once
    )


async def _notes(gateway: GqlSaleorGateway, *numbers: int) -> list[BaseException | None]:
    """Each order's note added side by side; what each call raised."""
    return await asyncio.gather(
        *(gateway.add_order_note(_order(n), f"note {n}") for n in numbers), return_exceptions=True
    )


async def test_calls_made_side_by_side_go_in_one_request_each_answered(
    saleor: Saleor, gateway_at_once: Callable[[int], GqlSaleorGateway]
) -> None:
    assert await _notes(gateway_at_once(1), 1, 2, 3) == [None, None, None]

    (body,) = saleor.bodies
    assert body["operationName"] == "OrderNoteAdd_OrderNoteAdd_OrderNoteAdd"
    assert _root_keys(body["query"]) == ["p0_orderNoteAdd", "p1_orderNoteAdd", "p2_orderNoteAdd"]
    assert body["variables"] == {
        **{f"p{i}_order": f"order-{i + 1}" for i in range(3)},
        **{f"p{i}_message": f"note {i + 1}" for i in range(3)},
    }


async def test_a_call_alone_is_sent_as_without_batching(
    saleor: Saleor, gateway_at_once: Callable[[int], GqlSaleorGateway]
) -> None:
    await _notes(gateway_at_once(1), 1)

    assert saleor.bodies == [
        {
            "query": load("mutations", "order_note_add").source,
            "operationName": "OrderNoteAdd",
            "variables": {"order": "order-1", "message": "note 1"},
        }
    ]


async def test_up_to_at_once_requests_share_the_calls(
    saleor: Saleor, gateway_at_once: Callable[[int], GqlSaleorGateway]
) -> None:
    await _notes(gateway_at_once(2), 1, 2, 3, 4, 5)
    assert [len(_root_keys(body["query"])) for body in saleor.bodies] == [3, 2]

    saleor.bodies.clear()
    await _notes(gateway_at_once(8), 1, 2, 3)
    assert [body["operationName"] for body in saleor.bodies] == ["OrderNoteAdd"] * 3  # as many as may be in flight


def test_a_request_carries_no_more_root_fields_than_the_cap_unless_one_part_has_more() -> None:
    fields = {"small": 1, "big": MOST_FIELDS_PER_REQUEST + 5}
    parts = ["small"] * 10 + ["big", "small"]

    requests = requests_of(parts, 1, fields.__getitem__)

    assert requests == [["small"] * 4, ["small"] * 4, ["small"] * 2, ["big"], ["small"]]


def test_fraud_decisions_go_in_requests_of_their_own_within_saleors_mutation_limit() -> None:
    """Saleor (3.20.118 on) refuses a document of more than 4 mutations (GRAPHQL_MUTATION_COUNT_LIMIT),
    counting a skipped ``@include`` field too: a fraud decision's 3 share a request with one more at most."""
    fields = {
        "decision": load("mutations", "fraud_decision").root_fields,
        "note": load("mutations", "order_note_add").root_fields,
    }

    requests = requests_of(["decision", "decision", "note", "note"], 1, fields.__getitem__)

    assert requests == [["decision"], ["decision", "note"], ["note"]]


async def _decisions(gateway: GqlSaleorGateway, *releases: bool) -> list[BaseException | None]:
    """A fraud decision per order side by side, order i released if ``releases[i]``; what each call raised."""
    return await asyncio.gather(
        *(
            gateway.record_fraud_decision(_order(n), {"ops.fraud": "{}"}, f"decided {n}", confirm=release)
            for n, release in enumerate(releases, start=1)
        ),
        return_exceptions=True,
    )


async def test_decisions_that_release_nothing_go_two_to_a_request_without_the_skipped_release(
    saleor: Saleor, gateway_at_once: Callable[[int], GqlSaleorGateway]
) -> None:
    assert await _decisions(gateway_at_once(1), False, False, True, False) == [None] * 4

    # Saleor would count each skipped orderConfirm: taken out, two decisions are its 4 mutations.
    assert [_root_keys(body["query"]) for body in saleor.bodies] == [
        ["p0_updatePrivateMetadata", "p0_orderNoteAdd", "p1_updatePrivateMetadata", "p1_orderNoteAdd"],
        ["updatePrivateMetadata", "orderNoteAdd", "orderConfirm"],  # the release alone, as written
        ["updatePrivateMetadata", "orderNoteAdd", "orderConfirm"],
    ]
    first, released, last = saleor.bodies
    assert "confirm" not in first["query"]
    assert first["variables"] == {
        "p0_order": "order-1",
        "p0_metadata": [{"key": "ops.fraud", "value": "{}"}],
        "p0_note": "decided 1",
        "p1_order": "order-2",
        "p1_metadata": [{"key": "ops.fraud", "value": "{}"}],
        "p1_note": "decided 2",
    }
    assert (released["variables"]["order"], released["variables"]["confirm"]) == ("order-3", True)
    assert (last["variables"]["order"], last["variables"]["confirm"]) == ("order-4", False)


async def test_mutations_and_queries_go_in_requests_of_their_own(
    saleor: Saleor, gateway_at_once: Callable[[int], GqlSaleorGateway]
) -> None:
    saleor.answer = mutations_ok_and_no_notes
    gateway = gateway_at_once(1)
    await asyncio.gather(
        gateway.order_notes(_order(1)), gateway.add_order_note(_order(2), "n"), gateway.order_notes(_order(3))
    )
    assert sorted(body["operationName"] for body in saleor.bodies) == ["OrderNoteAdd", "OrderNotes_OrderNotes"]


async def test_a_later_step_batches_with_the_calls_at_the_same_step(
    saleor: Saleor, gateway_at_once: Callable[[int], GqlSaleorGateway]
) -> None:
    saleor.answer = mutations_ok_and_no_notes
    gateway = gateway_at_once(1)

    async def look_then_write(number: int) -> None:
        await gateway.order_notes(_order(number))
        await gateway.add_order_note(_order(number), "n")

    await asyncio.gather(look_then_write(1), look_then_write(2))
    assert [body["operationName"] for body in saleor.bodies] == ["OrderNotes_OrderNotes", "OrderNoteAdd_OrderNoteAdd"]


async def test_a_mutation_refused_fails_its_own_call_only(
    saleor: Saleor, gateway_at_once: Callable[[int], GqlSaleorGateway]
) -> None:
    refused = {"errors": [{"field": "order", "message": "Couldn't resolve to a node", "code": "NOT_FOUND"}]}
    saleor.answer = lambda body: httpx.Response(
        200, json={"data": {"p0_orderNoteAdd": {"errors": []}, "p1_orderNoteAdd": refused, "p2_orderNoteAdd": {}}}
    )
    first, second, third = await _notes(gateway_at_once(1), 1, 2, 3)

    assert first is None
    assert third is None
    assert isinstance(second, SaleorMutationError)
    assert [error.code for error in second.errors] == ["NOT_FOUND"]
    assert second.operation == "OrderNoteAdd"


async def test_a_refusal_whose_code_saleor_cannot_show_fails_its_own_call_as_a_refusal(
    saleor: Saleor, gateway_at_once: Callable[[int], GqlSaleorGateway]
) -> None:
    refused = {"errors": [{"field": "id", "message": "Couldn't resolve to a node: order-2", "code": None}]}
    saleor.answer = lambda body: httpx.Response(
        200,
        json={
            "data": {"p0_orderNoteAdd": {"errors": []}, "p1_orderNoteAdd": refused},
            "errors": [
                {
                    "message": 'Expected a value of type "OrderNoteAddErrorCode" but received: not_found',
                    "path": ["p1_orderNoteAdd", "errors", 0, "code"],
                }
            ],
        },
    )
    first, second = await _notes(gateway_at_once(1), 1, 2)

    assert first is None
    assert isinstance(second, SaleorMutationError)
    assert [(error.field, error.code) for error in second.errors] == [("id", None)]


async def test_a_graphql_error_with_a_path_fails_the_call_owning_that_field(
    saleor: Saleor, gateway_at_once: Callable[[int], GqlSaleorGateway]
) -> None:
    saleor.answer = lambda body: httpx.Response(
        200,
        json={
            "data": {"p0_orderNoteAdd": {"errors": []}, "p1_orderNoteAdd": None},
            "errors": [{"message": "Internal Server Error", "path": ["p1_orderNoteAdd"]}],
        },
    )
    first, second = await _notes(gateway_at_once(1), 1, 2)

    assert first is None
    assert isinstance(second, SaleorGraphQLError)
    assert [error.message for error in second.errors] == ["Internal Server Error"]


async def test_a_graphql_error_without_a_path_fails_every_call(
    saleor: Saleor, gateway_at_once: Callable[[int], GqlSaleorGateway]
) -> None:
    saleor.answer = lambda body: httpx.Response(400, json={"errors": [{"message": "The query exceeds its cost"}]})

    outcomes = await _notes(gateway_at_once(1), 1, 2)

    assert [type(outcome) for outcome in outcomes] == [SaleorGraphQLError, SaleorGraphQLError]


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        pytest.param(httpx.Response(503), SaleorUnavailableError, id="down"),
        pytest.param(httpx.Response(429, headers={"retry-after": "30"}), SaleorUnavailableError, id="busy"),
        pytest.param(httpx.Response(401), SaleorUnauthorizedError, id="token-refused"),
    ],
)
async def test_saleor_not_answering_fails_every_call_of_the_request_as_it_would_fail_one(
    saleor: Saleor,
    gateway_at_once: Callable[[int], GqlSaleorGateway],
    revoked: list[SaleorApiUrl],
    answer: httpx.Response,
    raised: type[Exception],
) -> None:
    saleor.answer = lambda body: answer

    outcomes = await _notes(gateway_at_once(1), 1, 2, 3)

    assert [type(outcome) for outcome in outcomes] == [raised] * 3
    if answer.status_code == 429:
        assert all(isinstance(o, SaleorUnavailableError) and o.retry_after == 30 for o in outcomes)
    assert revoked == ([SHOP_API_URL] if answer.status_code == 401 else [])  # told once, not once per call
