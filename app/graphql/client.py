"""GraphQL over the app's one shared ``httpx.AsyncClient``, with retries and typed errors.

Connections to each Saleor stay pooled in the process-wide client. A request carries its document's
source as loaded (printed once, not per request) and its variables; nothing is built per call that
can be built once. The dispatcher's calls go through ``BatchingGraphQLClient``: those made side by
side share a few requests.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from app.domain.ids import AppId, SaleorApiUrl, SaleorId
from app.domain.money import Money
from app.errors import (
    GraphQLErrorDetail,
    SaleorApiError,
    SaleorGraphQLError,
    SaleorMutationError,
    SaleorUnauthorizedError,
    SaleorUnavailableError,
)
from app.graphql.documents import Batch, Document, batch, load, load_repeating, without
from app.services.ports import (
    AppIdentity,
    ChannelRef,
    OrderContact,
    SaleorName,
    StockLevel,
    SupportOrder,
    WarehouseRef,
    variant_name,
)

log = logging.getLogger(__name__)

RevocationHook = Callable[[SaleorApiUrl], Awaitable[None]]
_P = TypeVar("_P")


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _SaleorTransport:
    def __init__(self, http: httpx.AsyncClient, url: SaleorApiUrl, token: str, timeout: float) -> None:
        self._http = http
        self._url = url
        self._token = token
        self._timeout = timeout

    async def execute(self, op: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Saleor's answer: a JSON object holding ``data`` or ``errors``."""
        try:
            response = await self._http.post(
                self._url,
                json=payload,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._timeout,
                follow_redirects=False,
            )
        except httpx.TransportError as exc:
            raise _Retryable(f"{exc.__class__.__name__} calling Saleor") from exc
        status = response.status_code
        if status == 401:
            raise SaleorUnauthorizedError("Saleor rejected the app token (401)", operation=op)
        if status == 429 or status >= 500:
            raise _Retryable(f"Saleor answered {status}", _retry_after(response))
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except ValueError as exc:
            raise SaleorApiError(f"Saleor answered {status} with a non-JSON body", operation=op) from exc
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            raise SaleorApiError(f"Saleor answered {status} without data or errors", operation=op)
        return body


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None


def _beyond_refusals(errors: list[Any] | None, data: Any) -> list[Any]:
    """The GraphQL errors that are not about a mutation's own refusal.

    A mutation refusing with a code its payload's enum cannot show (``orderNoteAdd`` on a deleted order:
    ``not_found``, which ``OrderNoteAddErrorCode`` lacks) comes back with its ``errors`` entries, their
    codes null, and a GraphQL error at ``[field, "errors", i, "code"]``. That is still Saleor's refusal,
    as final as any other, so it is left for ``mutate`` to raise as one; the rest are GraphQL errors.
    """
    return [
        error
        for error in errors or ()
        if not (
            isinstance(error, dict)
            and isinstance(path := error.get("path"), list)
            and len(path) > 2
            and path[1] == "errors"
            and isinstance(data, dict)
            and isinstance(payload := data.get(path[0]), dict)
            and payload.get("errors")
        )
    ]


def _details(errors: list[Any]) -> list[GraphQLErrorDetail]:
    details = []
    for error in errors:
        if not isinstance(error, dict):
            details.append(GraphQLErrorDetail(message=str(error)))
            continue
        # Mutation errors carry ``code`` themselves; GraphQL errors under ``extensions``.
        extensions = error.get("extensions") or {}
        code = error.get("code") or (extensions.get("exception") or {}).get("code") or extensions.get("code")
        details.append(GraphQLErrorDetail(message=str(error.get("message", "")), code=code, field=error.get("field")))
    return details


class SaleorGraphQLClient:
    """Sends named operations to one store with its app token."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        saleor_api_url: SaleorApiUrl,
        token: str,
        *,
        timeout_seconds: float,
        max_attempts: int,
        backoff_seconds: float,
        on_unauthorized: RevocationHook | None = None,
    ) -> None:
        self.saleor_api_url = saleor_api_url
        self._transport = _SaleorTransport(http, saleor_api_url, token, timeout_seconds)
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff_seconds
        self._on_unauthorized = on_unauthorized

    async def execute(self, document: Document, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The answer's ``data``; GraphQL errors raise ``SaleorGraphQLError``."""
        operation = document.operation_name
        body = await self._request(document, variables)
        data = body.get("data")
        errors = _beyond_refusals(body.get("errors"), data)
        if errors:
            raise SaleorGraphQLError(_details(errors), operation=operation)
        if not isinstance(data, dict):
            raise SaleorApiError("Saleor answered without data or errors", operation=operation)
        return data

    async def _request(self, document: Document, variables: dict[str, Any] | None) -> dict[str, Any]:
        """Saleor's whole answer, ``data`` and ``errors``; tried again while Saleor is down or busy."""
        operation = document.operation_name
        payload: dict[str, Any] = {"query": document.source, "operationName": operation}
        if variables is not None:
            payload["variables"] = variables
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await self._transport.execute(operation, payload)
            except _Retryable as exc:
                if attempt == self._max_attempts:
                    raise SaleorUnavailableError(
                        f"{exc} after {attempt} attempts", operation=operation, retry_after=exc.retry_after
                    ) from exc
                delay = exc.retry_after if exc.retry_after is not None else self._backoff * 2 ** (attempt - 1)
                log.warning(
                    "saleor call retried",
                    extra={"operation": operation, "attempt": attempt, "reason": str(exc), "delay": delay},
                )
                await asyncio.sleep(delay)
            except SaleorUnauthorizedError:
                if self._on_unauthorized is not None:
                    await self._on_unauthorized(self.saleor_api_url)
                raise
        raise AssertionError("unreachable: the loop returns or raises")

    async def mutate(self, document: Document, variables: dict[str, Any]) -> dict[str, Any]:
        """Run mutations and raise ``SaleorMutationError`` when any ``errors`` list is not empty."""
        data = await self.execute(document, variables)
        errors = [error for payload in data.values() for error in (payload or {}).get("errors") or []]
        if errors:
            raise SaleorMutationError(_details(errors), operation=document.operation_name)
        return data


# The most root fields (mutations) one document carries: Saleor (3.20.118 on) refuses a document of more
# than 4 mutations (GRAPHQL_MUTATION_COUNT_LIMIT), counting those ``@include`` skips. No write the app
# sends has more (``record_cogs`` splits an order's lines), and a batched request carries no more. In a
# batch the skipped fields are taken out, so two fraud decisions that release nothing (2 each) share a
# request; one that releases the order (3) shares with a one-field effect at most.
MOST_FIELDS_PER_REQUEST = 4


@dataclass(eq=False, slots=True)
class _Part:
    """One ``execute`` call waiting for its batch's answer: its document and variables as the call gave
    them (sent so when alone), and as they go in a batch: without the root fields ``@include``/``@skip``
    leave out, which Saleor would count against its limit all the same (``documents.without``)."""

    document: Document
    variables: dict[str, Any] | None
    answer: asyncio.Future[dict[str, Any]]
    batched: Document
    batched_variables: dict[str, Any]

    @classmethod
    def of(cls, document: Document, variables: dict[str, Any] | None, answer: asyncio.Future[dict[str, Any]]) -> _Part:
        given = variables or {}
        skipped = document.skipped_with(given)
        if not skipped or len(skipped) == document.root_fields:  # an operation must select something
            return cls(document, variables, answer, document, given)
        narrowed = without(document, skipped)
        defined = {definition.variable.name.value for definition in narrowed.operation.variable_definitions or ()}
        return cls(document, variables, answer, narrowed, {k: v for k, v in given.items() if k in defined})

    def resolve(self, data: dict[str, Any]) -> None:
        if not self.answer.done():  # its caller may have been cancelled meanwhile
            self.answer.set_result(data)

    def fail(self, exc: BaseException) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)


def requests_of(parts: Sequence[_P], at_once: int, fields: Callable[[_P], int]) -> list[list[_P]]:
    """``parts`` in requests, in order: up to ``at_once`` requests (each part alone while there are no more
    parts than that), ``ceil(len(parts) / at_once)`` parts in each, and no more than
    ``MOST_FIELDS_PER_REQUEST`` root fields in one (a part with more goes alone)."""
    per_request = -(-len(parts) // max(1, at_once))
    requests: list[list[_P]] = []
    carried = 0
    for part in parts:
        size = fields(part)
        if not requests or len(requests[-1]) == per_request or carried + size > MOST_FIELDS_PER_REQUEST:
            requests.append([])
            carried = 0
        requests[-1].append(part)
        carried += size
    return requests


class BatchingGraphQLClient(SaleorGraphQLClient):
    """A client whose calls made in one turn of the event loop go to Saleor together, DataLoader-style.

    Each ``execute`` waits for its part of an answer; the first of a turn schedules the sending for
    the end of the turn (``call_soon``). The calls then waiting go out as ``requests_of`` says, each
    request taking one of ``in_flight``'s places, with the mutations and the queries apart (one
    operation per document). A request of one call is sent as ``SaleorGraphQLClient`` sends it; a
    request of several carries their fields under ``documents.batch``'s aliases. Its answer is split
    back: each part gets its own fields, and the GraphQL errors whose path starts in them; an error
    without a path, or Saleor not answering (down, busy, the token refused), fails every part of it.
    """

    def __init__(self, *args: Any, in_flight: asyncio.Semaphore, at_once: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight = in_flight
        self._at_once = at_once
        self._waiting: list[_Part] = []
        self._sending: set[asyncio.Task[None]] = set()  # held here: the loop keeps only weak references

    async def execute(self, document: Document, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._send_waiting)
        part = _Part.of(document, variables, loop.create_future())
        self._waiting.append(part)
        return await part.answer

    def _send_waiting(self) -> None:
        parts, self._waiting = self._waiting, []
        for mutations in (True, False):
            alike = [part for part in parts if part.document.is_mutation is mutations]
            for request in requests_of(alike, self._at_once, lambda part: part.batched.root_fields):
                task = asyncio.get_running_loop().create_task(self._send(request))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)

    async def _send(self, parts: list[_Part]) -> None:
        try:
            async with self._in_flight:
                if len(parts) == 1:
                    (part,) = parts
                    try:
                        part.resolve(await super().execute(part.document, part.variables))
                    except Exception as exc:
                        part.fail(exc)
                    return
                combined = batch(tuple(part.batched for part in parts))
                variables = {
                    Batch.prefix(index) + name: value
                    for index, part in enumerate(parts)
                    for name, value in part.batched_variables.items()
                }
                try:
                    body = await self._request(combined.document, variables)
                except Exception as exc:
                    for part in parts:
                        part.fail(exc)
                    return
                _answer_parts(parts, combined, body)
        finally:
            for part in parts:  # cancelled: its callers must not wait for ever
                if not part.answer.done():
                    part.answer.cancel()


def _answer_parts(parts: list[_Part], combined: Batch, body: dict[str, Any]) -> None:
    errors: dict[int | None, list[Any]] = {}
    data = body.get("data")
    for error in _beyond_refusals(body.get("errors"), data):
        # The part whose root field the error's path starts at; None (every part's) without a path.
        path = error.get("path") if isinstance(error, dict) else None
        owner = combined.owners.get(path[0]) if isinstance(path, list) and path else None
        errors.setdefault(owner, []).append(error)
    for index, part in enumerate(parts):
        own = errors.get(None, []) + errors.get(index, [])
        operation = part.document.operation_name
        if own:
            part.fail(SaleorGraphQLError(_details(own), operation=operation))
        elif not isinstance(data, dict):
            part.fail(SaleorApiError("Saleor answered without data or errors", operation=operation))
        else:
            prefix = Batch.prefix(index)
            part.resolve({key: data[prefix + key] for key in combined.keys[index] if prefix + key in data})


def _metadata_input(items: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in items.items()]


def _lines_variables(lines: Sequence[tuple[SaleorId, dict[str, str]]]) -> dict[str, Any]:
    """The variables of ``load_repeating``'s ``line`` copies: copy i's line and its metadata."""
    variables: dict[str, Any] = {}
    for index, (line_id, items) in enumerate(lines):
        variables[f"line{index}"] = line_id
        variables[f"lineMetadata{index}"] = _metadata_input(items)
    return variables


def _money(raw: dict[str, Any]) -> Money:
    # Amounts arrive as Decimal, or as int when Saleor writes a whole number.
    return Money(Decimal(raw["amount"]), raw["currency"])


def _stock_level(node: dict[str, Any], warehouse: WarehouseRef) -> StockLevel:
    variant = node["productVariant"]
    product = variant.get("product") or {}
    product_type = (product.get("productType") or {}).get("name")
    return StockLevel(
        variant_id=variant["id"],
        sku=variant.get("sku") or None,
        product_type=product_type,
        warehouse_id=warehouse.id,
        quantity=node["quantity"],
        warehouse=SaleorName(warehouse.id, warehouse.name, warehouse.slug),
        variant=variant_name(variant["id"], product.get("name"), variant.get("name")),
        cost_prices={
            listing["channel"]["slug"]: _money(listing["costPrice"])
            for listing in variant.get("channelListings") or []
            if listing.get("costPrice") is not None
        },
    )


class GqlSaleorGateway:
    """What the services ask of one store's GraphQL API."""

    def __init__(self, client: SaleorGraphQLClient) -> None:
        self._client = client

    async def identify_app(self) -> AppIdentity:
        data = await self._client.execute(load("queries", "app_identity"))
        app = data.get("app") or {}
        if not app.get("id"):
            raise SaleorApiError("Saleor returned no app for this token", operation="AppIdentity")
        return AppIdentity(app_id=AppId(app["id"]), saleor_version=(data.get("shop") or {}).get("version"))

    async def update_private_metadata(self, object_id: SaleorId, items: dict[str, str]) -> None:
        await self._client.mutate(
            load("mutations", "update_private_metadata"), {"id": object_id, "input": _metadata_input(items)}
        )

    async def add_order_note(self, order_id: SaleorId, message: str) -> None:
        await self._client.mutate(load("mutations", "order_note_add"), {"order": order_id, "message": message})

    async def record_fraud_decision(
        self, order_id: SaleorId, metadata: dict[str, str], note: str, *, confirm: bool
    ) -> None:
        await self._client.mutate(
            load("mutations", "fraud_decision"),
            {
                "order": order_id,
                "metadata": _metadata_input(metadata),
                "note": note,
                "confirm": confirm,
            },
        )

    async def order_notes(self, order_id: SaleorId) -> set[str]:
        data = await self._client.execute(load("queries", "order_notes"), {"id": order_id})
        events = (data.get("order") or {}).get("events") or []
        return {event["message"] for event in events if event.get("type") == "NOTE_ADDED" and event.get("message")}

    async def order_by_number(self, number: str) -> OrderContact | None:
        data = await self._client.execute(load("queries", "order_by_number"), {"number": number})
        edges = (data.get("orders") or {}).get("edges") or []
        if not edges:
            return None
        order = edges[0]["node"]
        return OrderContact(
            order_id=SaleorId(order["id"]),
            number=order["number"],
            email=order.get("userEmail") or None,
            customer_id=SaleorId(order["user"]["id"]) if order.get("user") else None,
        )

    async def tracking_numbers(self, order_id: SaleorId) -> set[tuple[str, str]]:
        data = await self._client.execute(load("queries", "order_tracking_numbers"), {"id": order_id})
        fulfillments = (data.get("order") or {}).get("fulfillments") or []
        return {
            (f["warehouse"]["id"], f["trackingNumber"])
            for f in fulfillments
            if f.get("warehouse") and f.get("trackingNumber")
        }

    async def support_order(self, order_id: SaleorId) -> SupportOrder | None:
        order = (await self._client.execute(load("queries", "support_order"), {"id": order_id})).get("order")
        if not order:
            return None
        person = order.get("user") or order.get("billingAddress") or {}
        name = " ".join(part for part in (person.get("firstName"), person.get("lastName")) if part)
        fulfillments = order.get("fulfillments") or []
        latest: dict[str, Any] = max(fulfillments, key=lambda f: str(f.get("created") or ""), default={})
        charged = [
            (t["id"], _money(t["chargedAmount"])) for t in order.get("transactions") or [] if t.get("chargedAmount")
        ]
        most = max(charged, key=lambda pair: pair[1].amount, default=None)
        if most is not None and most[1].amount <= 0:
            most = None
        return SupportOrder(
            order_id=SaleorId(order["id"]),
            number=order["number"],
            status=order["status"],
            customer_name=name or None,
            customer_email=order.get("userEmail") or None,
            tracking_number=latest.get("trackingNumber") or None,
            goods_out=any(f.get("status") != "CANCELED" for f in fulfillments),
            refund_transaction=None if most is None else most[0],
            charged=None if most is None else most[1],
        )

    async def grant_refund(self, order_id: SaleorId, transaction_id: str, amount: Money, reason: str) -> None:
        await self._client.mutate(
            load("mutations", "order_grant_refund"),
            {"order": order_id, "transaction": transaction_id, "amount": str(amount.amount), "reason": reason},
        )

    async def fulfill_order(
        self,
        order_id: SaleorId,
        warehouse_id: SaleorId,
        lines: Mapping[str, int],
        tracking_number: str,
        *,
        allow_stock_to_be_exceeded: bool,
    ) -> None:
        fulfilled = [
            {"orderLineId": line, "stocks": [{"warehouse": warehouse_id, "quantity": quantity}]}
            for line, quantity in lines.items()
        ]
        await self._client.mutate(
            load("mutations", "order_fulfill"),
            {
                "order": order_id,
                "input": {
                    "lines": fulfilled,
                    "trackingNumber": tracking_number,
                    "notifyCustomer": True,
                    "allowStockToBeExceeded": allow_stock_to_be_exceeded,
                },
            },
        )

    async def confirm_order(self, order_id: SaleorId) -> None:
        await self._client.mutate(load("mutations", "order_confirm"), {"id": order_id})

    async def cancel_order(self, order_id: SaleorId) -> None:
        await self._client.mutate(load("mutations", "order_cancel"), {"id": order_id})

    async def record_cogs(
        self,
        order_id: SaleorId,
        metadata: dict[str, str],
        line_metadata: Mapping[SaleorId, dict[str, str]],
        note: str,
    ) -> None:
        # Saleor runs at most MOST_FIELDS_PER_REQUEST mutations a document: the lines that do not fit beside
        # the order's metadata and note go first, so that the note, written last, still means all was written.
        lines = list(line_metadata.items())
        first = max(0, len(lines) - (MOST_FIELDS_PER_REQUEST - 2))
        for start in range(0, first, MOST_FIELDS_PER_REQUEST):
            chunk = lines[start : min(first, start + MOST_FIELDS_PER_REQUEST)]
            document = load_repeating("mutations", "line_metadata", alias="line", times=len(chunk))
            await self._client.mutate(document, _lines_variables(chunk))
        variables = {"order": order_id, "metadata": _metadata_input(metadata), "note": note}
        document = load_repeating("mutations", "record_cogs", alias="line", times=len(lines) - first)
        await self._client.mutate(document, variables | _lines_variables(lines[first:]))

    async def record_shipping(self, order_id: SaleorId, metadata: dict[str, str], note: str) -> None:
        # RecordCogs without lines is just this round trip: the order's metadata, then its note.
        await self.record_cogs(order_id, metadata, {}, note)

    async def record_routing(self, order_id: SaleorId, metadata: dict[str, str], note: str) -> None:
        await self.record_cogs(order_id, metadata, {}, note)  # as ``record_shipping``

    async def warehouses(self) -> list[WarehouseRef]:
        return [
            WarehouseRef(id=node["id"], slug=node["slug"], name=node["name"])
            async for node in self._nodes(load("queries", "warehouses"), ("warehouses",))
        ]

    async def channels(self) -> list[ChannelRef]:
        answer = await self._client.execute(load("queries", "channels"), {})
        return [
            ChannelRef(slug=node["slug"], name=node["name"], currency=node["currencyCode"])
            for node in answer.get("channels") or ()
        ]

    async def stock_levels(self) -> AsyncIterator[StockLevel]:
        # Warehouse by warehouse: the root ``stocks`` query needs MANAGE_PRODUCTS, Warehouse.stocks takes MANAGE_ORDERS.
        for warehouse in await self.warehouses():
            stocks = self._nodes(load("queries", "warehouse_stocks"), ("warehouse", "stocks"), id=warehouse.id)
            async for node in stocks:
                yield _stock_level(node, warehouse)

    async def _nodes(
        self, document: Document, path: tuple[str, ...], **variables: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """The nodes of the connection at ``path`` in the answer, page after page; none when it is null."""
        after: str | None = None
        while True:
            connection: Any = await self._client.execute(document, {**variables, "after": after})
            for key in path:
                connection = (connection or {}).get(key)
            if connection is None:
                return
            for edge in connection["edges"]:
                yield edge["node"]
            page = connection["pageInfo"]
            if not page["hasNextPage"] or page["endCursor"] is None:
                return
            after = page["endCursor"]


class SaleorClientFactory:
    """Builds per-store clients over the shared httpx client with the configured limits."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        timeout_seconds: float,
        max_attempts: int,
        backoff_seconds: float,
        on_unauthorized: RevocationHook | None = None,
    ) -> None:
        self._http = http
        self._timeout = timeout_seconds
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self.on_unauthorized = on_unauthorized

    def client(
        self,
        saleor_api_url: SaleorApiUrl,
        token: str,
        *,
        track_revocation: bool = True,
        max_attempts: int | None = None,
    ) -> SaleorGraphQLClient:
        return SaleorGraphQLClient(
            self._http, saleor_api_url, token, **self._options(max_attempts, track_revocation=track_revocation)
        )

    def _options(self, max_attempts: int | None, *, track_revocation: bool = True) -> dict[str, Any]:
        """What every client of this factory is built with."""
        return {
            "timeout_seconds": self._timeout,
            "max_attempts": max_attempts or self._max_attempts,
            "backoff_seconds": self._backoff,
            "on_unauthorized": self.on_unauthorized if track_revocation else None,
        }

    def gateway(self, saleor_api_url: SaleorApiUrl, token: str, *, max_attempts: int | None = None) -> GqlSaleorGateway:
        """``max_attempts=1`` for a caller that retries on its own schedule (the dispatcher)."""
        return GqlSaleorGateway(self.client(saleor_api_url, token, max_attempts=max_attempts))

    def batching_gateway(
        self,
        saleor_api_url: SaleorApiUrl,
        token: str,
        *,
        in_flight: asyncio.Semaphore,
        at_once: int,
        max_attempts: int | None = None,
    ) -> GqlSaleorGateway:
        """A gateway whose calls made side by side go to Saleor in a few requests (``BatchingGraphQLClient``)."""
        return GqlSaleorGateway(
            BatchingGraphQLClient(
                self._http, saleor_api_url, token, **self._options(max_attempts), in_flight=in_flight, at_once=at_once
            )
        )

    def staff_gateway(self, saleor_api_url: SaleorApiUrl, dashboard_token: str) -> GqlSaleorGateway:
        """Saleor as the staff user behind ``dashboard_token``: Saleor takes the dashboard's JWT as a bearer token
        with the user's permissions that the app also has (PROTOCOL.md e.4). Tried once (a person is waiting),
        and a refusal says nothing about the app's own token."""
        return GqlSaleorGateway(self.client(saleor_api_url, dashboard_token, track_revocation=False, max_attempts=1))
