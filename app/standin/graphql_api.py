"""The stand-in's GraphQL API: ``schema.graphql`` executed by graphql-core over the store.

Resolvers are attached to the schema built from the file, so the schema the
contract test checks is the one served. Fields without a resolver read the
snake_case attribute of the dataclass (or the key of a dict) of the same name.
Mutations call ``actions`` and turn a refusal into the payload's ``errors``, as
Saleor does; malformed queries and bad arguments are top-level GraphQL errors.
Field permissions are Saleor's: a field the calling app may not read resolves to
Saleor's permission error, and null climbs to the nearest nullable parent, in
queries and webhook payloads alike (``permissions``). Which object an app may
write metadata to is not checked.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
from inspect import isawaitable
from pathlib import Path
from typing import Any, TypeAlias, TypeVar
from uuid import UUID

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    ValidationRule,
    build_schema,
    execute_sync,
    parse,
    specified_rules,
    validate,
)
from graphql import execute as graphql_execute

from app.standin import actions
from app.standin import checkout as checkouts
from app.standin.actions import ActionError, ActionRefused
from app.standin.permissions import (
    AUTHENTICATED_APP,
    OWNER,
    UNNOTED,
    Requirement,
    needs_private_metadata_permission,
    private_metadata_requirement,
    requirements_in,
)
from app.standin.state import (
    Address,
    Allocation,
    App,
    Attribute,
    AttributeValue,
    Channel,
    Checkout,
    CheckoutLine,
    Customer,
    Fulfillment,
    FulfillmentLine,
    FulfillmentStatus,
    InvalidGlobalId,
    Node,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Principal,
    Product,
    ProductType,
    ProductVariant,
    ShippingMethod,
    ShippingZone,
    Stock,
    Store,
    TransactionItem,
    VariantListing,
    Warehouse,
    from_global_id,
    invalid_id,
    to_global_id,
)
from app.standin.users import UserSession

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
PAGINATION_LIMIT = 100  # GRAPHQL_PAGINATION_LIMIT

# django-countries' names for the countries a demo store is likely to use; others show their code.
COUNTRY_NAMES = {
    "AU": "Australia",
    "CA": "Canada",
    "DE": "Germany",
    "ES": "Spain",
    "FR": "France",
    "GB": "United Kingdom",
    "IT": "Italy",
    "NL": "Netherlands",
    "PL": "Poland",
    "US": "United States of America",
}


ListDeliveryMethods = Callable[[Checkout], Awaitable[list[ShippingMethod]]]

# Events Saleor sends synchronously, waiting for the app's answer.
SYNC_EVENT_TYPES = frozenset({"ShippingListMethodsForCheckout"})


class CircularSubscriptionSyncEvent(GraphQLError):
    """Saleor's refusal of a field that would call a sync webhook while a sync payload is built
    (``prevent_sync_event_circular_query``)."""

    def __init__(self) -> None:
        super().__init__("Resolving this field is not allowed in synchronous events.")


@dataclass(frozen=True, slots=True)
class Context:
    """Per request: the store, the app whose token called (or the user whose JWT did), and the time."""

    store: Store
    app: App | None
    now: datetime
    # A user's JWT instead of an app's token (``users``): who it is, or why not.
    user: UserSession | None = None
    # Rendering a sync webhook's payload: fields that would call a sync webhook are refused.
    sync_event: bool = False
    # How a checkout's delivery methods are listed, asking the apps (``StandIn.list_delivery_methods``);
    # without it the store's own methods alone, as a Saleor where no app subscribes.
    list_delivery_methods: ListDeliveryMethods | None = None

    @property
    def principal(self) -> Principal | None:
        """Who a change is recorded as made by: the app, or the user (events name either)."""
        return self.app if self.app is not None else (self.user.user if self.user is not None else None)


@dataclass(frozen=True, slots=True)
class EventEnvelope:
    """The object under ``subscription { event }``; ``typename`` is the PascalCase event type."""

    typename: str
    issued_at: datetime
    version: str
    recipient: App
    issuing_principal: Principal | None = None
    order: Order | None = None
    fulfillment: Fulfillment | None = None
    app: App | None = None
    notify_customer: bool = False
    checkout: Checkout | None = None
    shipping_methods: tuple[ShippingMethod, ...] = ()

    @property
    def is_sync(self) -> bool:
        return self.typename in SYNC_EVENT_TYPES


# A string: GraphQLResolveInfo is generic only from graphql-core 3.3.
Info: TypeAlias = "GraphQLResolveInfo[Context]"


@dataclass(frozen=True, slots=True)
class VariantInChannel:
    """Saleor's ``ChannelContext`` of a variant: the channel it was reached in (an order's or checkout's
    for their lines, a query's ``channel`` argument), which decides the ``stocks`` it lists."""

    variant: ProductVariant
    channel_slug: str | None


_TYPE_NAMES: dict[type, str] = {
    Attribute: "Attribute",
    AttributeValue: "AttributeValue",
    App: "App",
    Checkout: "Checkout",
    CheckoutLine: "CheckoutLine",
    Customer: "User",
    Order: "Order",
    OrderLine: "OrderLine",
    Fulfillment: "Fulfillment",
    Product: "Product",
    ProductVariant: "ProductVariant",
    VariantInChannel: "ProductVariant",
    Warehouse: "Warehouse",
    ShippingZone: "ShippingZone",
    TransactionItem: "TransactionItem",
    Payment: "Payment",
    ShippingMethod: "ShippingMethod",
}

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


@cache
def _snake(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def _output(value: Any) -> Any:
    """Values the custom scalars carry, in Saleor's wire form (graphene's DateTime is ``isoformat``)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def _default_resolver(source: Any, info: Info, **_: Any) -> Any:
    if isinstance(source, dict):
        return _output(source.get(info.field_name))
    return _output(getattr(source, _snake(info.field_name), None))


def _resolve_type(value: Any, info: Info, abstract_type: GraphQLAbstractType) -> str | None:
    if isinstance(value, EventEnvelope):
        return value.typename
    return _TYPE_NAMES.get(type(value))


def _ctx(info: Info) -> Context:
    return info.context


# -- value helpers ------------------------------------------------------------------------------


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    # graphene's Float turns the Decimal into a float on the way out, as Saleor does.
    return {"amount": amount, "currency": currency}


def _taxed(net: Decimal, gross: Decimal, currency: str) -> dict[str, Any]:
    return {
        "currency": currency,
        "net": _money(net, currency),
        "gross": _money(gross, currency),
        "tax": _money(gross - net, currency),
    }


def _weight(kg: Decimal) -> dict[str, Any]:
    return {"unit": "KG", "value": kg}


def _country(code: str) -> dict[str, str]:
    return {"code": code, "country": COUNTRY_NAMES.get(code, code)}


def _metadata(items: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in items.items()]


def _decode(global_id: str, only_type: str) -> int | UUID | None:
    """``from_global_id_or_error`` for queries: malformed is an error, another type's ID finds nothing."""
    try:
        type_name, pk = from_global_id(global_id)
    except InvalidGlobalId:
        raise GraphQLError(invalid_id(global_id, only_type)) from None
    return pk if type_name == only_type else None


# -- connections ----------------------------------------------------------------------------------

T = TypeVar("T")


def _cursor(index: int) -> str:
    return base64.b64encode(f"position:{index}".encode()).decode()


def _connection(items: Sequence[T], *, first: int | None, after: str | None, name: str) -> dict[str, Any]:
    """A countable connection over ``items``, with Saleor's limits on ``first``."""
    if first is None:
        raise GraphQLError(f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.")
    if first > PAGINATION_LIMIT:
        raise GraphQLError(
            f"Requesting {first} records on the `{name}` connection exceeds the `first` limit of "
            f"{PAGINATION_LIMIT} records."
        )
    if first < 0:
        raise GraphQLError(f"Argument `first` on the `{name}` connection cannot be less than zero.")
    start = 0
    if after is not None:
        try:
            start = int(base64.b64decode(after, validate=True).decode().removeprefix("position:")) + 1
        except ValueError:
            raise GraphQLError("Received cursor is invalid.") from None
    page = list(items[start : start + first])
    edges = [{"node": node, "cursor": _cursor(start + i)} for i, node in enumerate(page)]
    return {
        "edges": edges,
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": start + len(page) < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


# -- queries --------------------------------------------------------------------------------------


def _query_app(_: None, info: Info, id: str | None = None) -> App | None:
    ctx = _ctx(info)
    if id is None:
        return ctx.app
    pk = _decode(id, "App")
    return ctx.store.apps.get(pk) if isinstance(pk, int) else None


def _query_order(_: None, info: Info, id: str | None = None) -> Order | None:
    pk = _decode(id, "Order") if id is not None else None
    return _ctx(info).store.orders.get(pk) if isinstance(pk, UUID) else None


def _query_checkout(_: None, info: Info, id: str | None = None) -> Checkout | None:
    pk = _decode(id, "Checkout") if id is not None else None
    return _ctx(info).store.checkouts.get(pk) if isinstance(pk, UUID) else None


def _query_orders(
    _: None, info: Info, first: int | None = None, after: str | None = None, filter: dict[str, Any] | None = None
) -> dict[str, Any]:
    # Saleor lists orders newest first (by number, descending).
    orders = sorted(_ctx(info).store.orders.values(), key=lambda o: o.number, reverse=True)
    numbers = (filter or {}).get("numbers")
    if numbers:
        wanted = {_order_number(value) for value in numbers}
        orders = [order for order in orders if order.number in wanted]
    return _connection(orders, first=first, after=after, name="orders")


def _order_number(value: str) -> int:
    """``filter_by_order_number``: ``number__in`` on an integer column, so Django casts each value."""
    try:
        return int(value)
    except ValueError:
        raise GraphQLError(f"Field 'number' expected a number but got {value!r}.") from None


def _query_warehouses(_: None, info: Info, first: int | None = None, after: str | None = None) -> dict[str, Any]:
    warehouses = sorted(_ctx(info).store.warehouses.values(), key=lambda w: w.name)
    return _connection(warehouses, first=first, after=after, name="warehouses")


def _query_channels(_: None, info: Info) -> list[Channel]:
    # Saleor's Channel model is ordered by slug.
    return sorted(_ctx(info).store.channels.values(), key=lambda c: c.slug)


def _query_warehouse(_: None, info: Info, id: str | None = None) -> Warehouse | None:
    pk = _decode(id, "Warehouse") if id is not None else None
    return _ctx(info).store.warehouses.get(pk) if isinstance(pk, UUID) else None


def _query_variant(
    _: None, info: Info, id: str | None = None, sku: str | None = None, channel: str | None = None
) -> VariantInChannel | None:
    """The variant in the channel context of ``channel``, none when not given (an app that may read
    ``stocks`` holds a product permission, for which Saleor falls back on no default channel). Given a
    channel, Saleor also hides variants whose product is not listed in it; the stand-in keeps no
    product channel listings and shows every variant."""
    if id is None and sku is None:
        raise GraphQLError("At least one of arguments is required: 'id', 'sku', 'externalReference'.")
    if id is not None and sku is not None:
        raise GraphQLError("Argument 'id' cannot be combined with 'sku'")
    store = _ctx(info).store
    if sku is not None:
        variant = store.variant_by_sku(sku)
    else:
        pk = _decode(id or "", "ProductVariant")
        variant = store.variants.get(pk) if isinstance(pk, int) else None
    return VariantInChannel(variant, channel) if variant is not None else None


def _query_variants(
    _: None,
    info: Info,
    ids: list[str] | None = None,
    channel: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    store = _ctx(info).store
    variants = sorted(store.variants.values(), key=lambda v: v.pk)
    if ids is not None:
        wanted = {_decode(global_id, "ProductVariant") for global_id in ids}
        variants = [v for v in variants if v.pk in wanted]
    in_channel = [VariantInChannel(variant, channel) for variant in variants]
    return _connection(in_channel, first=first, after=after, name="productVariants")


# -- mutations ------------------------------------------------------------------------------------

Payload = dict[str, Any]


def _errors(refusal: ActionRefused) -> list[dict[str, Any]]:
    return [_error(e) for e in refusal.errors]


def _error(error: ActionError) -> dict[str, Any]:
    return {
        "field": error.field,
        "message": error.message,
        "code": error.code,
        "warehouse": error.warehouse,
        "orderLines": list(error.order_lines) if error.order_lines is not None else None,
    }


def _order_of(store: Store, global_id: str, field: str) -> Order:
    node, _ = actions.resolve_node(store, global_id, "Order", field=field)
    assert isinstance(node, Order)
    return node


def _order_mutation(change: Callable[..., None]) -> Callable[..., Payload]:
    """Resolve the order, apply ``change`` (an ``actions`` function), answer ``{order, errors}``."""

    def resolve(_: None, info: Info, id: str) -> Payload:
        ctx = _ctx(info)
        try:
            order = _order_of(ctx.store, id, "id")
            change(ctx.store, order, at=ctx.now, principal=ctx.principal)
        except ActionRefused as refusal:
            return {"order": None, "errors": _errors(refusal)}
        return {"order": order, "errors": []}

    return resolve


def _checkout_of(store: Store, global_id: str | None, field: str) -> Checkout:
    node, _ = actions.resolve_node(store, global_id, "Checkout", field=field)
    assert isinstance(node, Checkout)
    return node


def _address(given: dict[str, Any] | None) -> Address | None:
    if given is None:
        return None
    fields = {_snake(name): value for name, value in given.items() if value is not None}
    return Address(**fields)


def _mutation_checkout_create(_: None, info: Info, input: dict[str, Any]) -> Payload:
    ctx = _ctx(info)
    store = ctx.store
    try:
        slug = input.get("channel")
        channel = next((c for c in store.channels.values() if c.slug == slug), None)
        if channel is None:
            raise ActionRefused(ActionError("channel", f"Channel with '{slug}' slug does not exist.", "NOT_FOUND"))
        if not channel.is_active:
            raise ActionRefused(ActionError("channel", f"Channel with '{slug}' is inactive.", "CHANNEL_INACTIVE"))
        lines = []
        for line in input.get("lines") or ():
            variant, _pk = actions.resolve_node(store, line["variantId"], "ProductVariant", field="variantId")
            assert isinstance(variant, ProductVariant)
            lines.append((variant, line["quantity"]))
        checkout = checkouts.create_checkout(
            store,
            channel,
            lines,
            at=ctx.now,
            email=input.get("email"),
            shipping_address=_address(input.get("shippingAddress")),
            billing_address=_address(input.get("billingAddress")),
        )
    except ActionRefused as refusal:
        return {"checkout": None, "errors": _errors(refusal)}
    return {"checkout": checkout, "errors": []}


async def _mutation_checkout_delivery_method_update(
    _: None,
    info: Info,
    id: str | None = None,
    deliveryMethodId: str | None = None,  # noqa: N803
) -> Payload:
    ctx = _ctx(info)
    try:
        checkout = _checkout_of(ctx.store, id, "id")
        if not checkout.shipping_methods:  # never listed: Saleor fetches them to check the choice
            listed = _listed(checkout, info)
            if isawaitable(listed):
                await listed
        checkouts.select_delivery_method(checkout, deliveryMethodId or "")
    except ActionRefused as refusal:
        return {"checkout": None, "errors": _errors(refusal)}
    return {"checkout": checkout, "errors": []}


def _mutation_checkout_complete(_: None, info: Info, id: str | None = None) -> Payload:
    ctx = _ctx(info)
    try:
        checkout = _checkout_of(ctx.store, id, "id")
        order = checkouts.complete_checkout(ctx.store, checkout, at=ctx.now)
    except ActionRefused as refusal:
        return {"order": None, "confirmationNeeded": False, "errors": _errors(refusal)}
    return {"order": order, "confirmationNeeded": False, "errors": []}


def _mutation_mark_as_paid(_: None, info: Info, id: str, transactionReference: str | None = None) -> Payload:  # noqa: N803
    ctx = _ctx(info)
    try:
        order = _order_of(ctx.store, id, "id")
        actions.mark_order_as_paid(
            ctx.store, order, at=ctx.now, principal=ctx.principal, transaction_reference=transactionReference
        )
    except ActionRefused as refusal:
        return {"order": None, "errors": _errors(refusal)}
    return {"order": order, "errors": []}


def _mutation_fulfill(_: None, info: Info, input: dict[str, Any], order: str | None = None) -> Payload:
    ctx = _ctx(info)
    try:
        target = _order_of(ctx.store, order or "", "order")
        lines = [
            (line.get("orderLineId"), [(stock["warehouse"], stock["quantity"]) for stock in line["stocks"]])
            for line in input["lines"]
        ]
        fulfillments = actions.fulfill_order(
            ctx.store,
            target,
            lines,
            at=ctx.now,
            principal=ctx.principal,
            # Saleor notifies unless told not to; an explicit null also means no.
            notify_customer=bool(input.get("notifyCustomer", True)),
            allow_stock_to_be_exceeded=bool(input.get("allowStockToBeExceeded")),
            tracking_number=input.get("trackingNumber") or "",
        )
    except ActionRefused as refusal:
        return {"fulfillments": None, "order": None, "errors": _errors(refusal)}
    return {"fulfillments": fulfillments, "order": target, "errors": []}


def _mutation_tracking(_: None, info: Info, id: str, input: dict[str, Any]) -> Payload:
    ctx = _ctx(info)
    try:
        fulfillment = actions.resolve_node(ctx.store, id, "Fulfillment", field="id")[0]
        assert isinstance(fulfillment, Fulfillment)
        order = ctx.store.orders[fulfillment.order_pk]
        actions.update_tracking(
            ctx.store, order, fulfillment, input.get("trackingNumber"), at=ctx.now, principal=ctx.principal
        )
    except ActionRefused as refusal:
        return {"fulfillment": None, "order": None, "errors": _errors(refusal)}
    return {"fulfillment": fulfillment, "order": order, "errors": []}


def _mutation_fulfillment_cancel(_: None, info: Info, id: str, input: dict[str, Any] | None = None) -> Payload:
    ctx = _ctx(info)
    try:
        fulfillment = actions.resolve_node(ctx.store, id, "Fulfillment", field="id")[0]
        assert isinstance(fulfillment, Fulfillment)
        order = ctx.store.orders[fulfillment.order_pk]
        warehouse_id = (input or {}).get("warehouseId")
        warehouse = None
        if warehouse_id is not None:
            node = actions.resolve_node(ctx.store, warehouse_id, "Warehouse", field="warehouseId")[0]
            assert isinstance(node, Warehouse)
            warehouse = node
        actions.cancel_fulfillment(
            ctx.store, order, fulfillment, warehouse=warehouse, at=ctx.now, principal=ctx.principal
        )
    except ActionRefused as refusal:
        return {"fulfillment": None, "order": None, "errors": _errors(refusal)}
    return {"fulfillment": fulfillment, "order": order, "errors": []}


def _mutation_refund_products(_: None, info: Info, order: str, input: dict[str, Any]) -> Payload:
    ctx = _ctx(info)
    try:
        target = _order_of(ctx.store, order, "order")
        order_lines = []
        for line in input.get("orderLines") or []:
            node = actions.resolve_node(ctx.store, line["orderLineId"], "OrderLine", field="orderLines")[0]
            assert isinstance(node, OrderLine)
            order_lines.append((node, line["quantity"]))
        fulfillment_lines = []
        for line in input.get("fulfillmentLines") or []:
            node = actions.resolve_node(
                ctx.store, line["fulfillmentLineId"], "FulfillmentLine", field="fulfillmentLines"
            )[0]
            assert isinstance(node, FulfillmentLine)
            fulfillment_lines.append((node, line["quantity"]))
        refunded = actions.refund_lines(
            ctx.store,
            target,
            order_lines=order_lines,
            fulfillment_lines=fulfillment_lines,
            include_shipping_costs=bool(input.get("includeShippingCosts")),
            at=ctx.now,
            principal=ctx.principal,
        )
    except ActionRefused as refusal:
        return {"fulfillment": None, "order": None, "errors": _errors(refusal)}
    return {"fulfillment": refunded, "order": target, "errors": []}


def _mutation_note(_: None, info: Info, order: str, input: dict[str, Any]) -> Payload:
    ctx = _ctx(info)
    try:
        target = _order_of(ctx.store, order, "id")
        event = actions.add_note(ctx.store, target, input["message"], at=ctx.now, principal=ctx.principal)
    except ActionRefused as refusal:
        return {"order": None, "event": None, "errors": _errors(refusal)}
    return {"order": target, "event": event, "errors": []}


def _note_error_code(error: dict[str, Any], _: Info) -> str:
    """OrderNoteAddErrorCode has no NOT_FOUND: Saleor nulls such a code, with a GraphQL error at its path."""
    code: str = error["code"]
    if code not in {"GRAPHQL_ERROR", "REQUIRED"}:
        raise GraphQLError(
            f'Expected a value of type "OrderNoteAddErrorCode" but received: {code.lower()}',
            extensions={"exception": {"code": "GraphQLError"}},
        )
    return code


def _mutation_grant_refund(_: None, info: Info, id: str, input: dict[str, Any]) -> Payload:
    ctx = _ctx(info)
    amount = input.get("amount")
    try:
        target = _order_of(ctx.store, id, "id")
        granted = actions.grant_refund(
            ctx.store,
            target,
            # Saleor's Decimal scalar reads a number or a numeric string.
            amount=None if amount is None else Decimal(str(amount)),
            reason=input.get("reason") or "",
            transaction_id=input["transactionId"],
            at=ctx.now,
            principal=ctx.principal,
        )
    except ActionRefused as refusal:
        return {"order": None, "grantedRefund": None, "errors": [_grant_error(e) for e in refusal.errors]}
    except actions.UnreadableId as unreadable:
        raise GraphQLError(str(unreadable)) from None
    return {"order": target, "grantedRefund": granted, "errors": []}


def _grant_error(error: ActionError) -> dict[str, Any]:
    return {"field": error.field, "message": error.message, "code": error.code}


def _metadata_mutation(*, private: bool) -> Callable[..., Payload]:
    def resolve(_: None, info: Info, id: str, input: list[dict[str, str]]) -> Payload:
        ctx = _ctx(info)
        try:
            node = _metadata_owner(ctx.store, info, id)
            items = [(item["key"], item["value"]) for item in input]
            actions.write_metadata(ctx.store, node, items, private=private, at=ctx.now, principal=ctx.principal)
        except ActionRefused as refusal:
            return {"item": None, "errors": _errors(refusal)}
        return {"item": node, "errors": []}

    return resolve


def _metadata_owner(store: Store, info: Info, global_id: str) -> Node:
    """``BaseMetadataMutation``: the type is checked first (one Saleor does not know, then one without
    metadata), then the node looked up as ``get_node_or_error`` does. An ID that is no global ID is
    taken for an order's own UUID, as Saleor does (it tries checkout tokens too, whose metadata the
    stand-in does not keep)."""
    try:
        type_name, pk = from_global_id(global_id)
    except InvalidGlobalId:
        return _metadata_owner_by_uuid(store, global_id)
    if info.schema.get_type(type_name) is None:
        raise ActionRefused(ActionError("id", f"Invalid type: {type_name}", "GRAPHQL_ERROR"))
    if type_name not in actions.METADATA_TYPES:
        raise ActionRefused(ActionError("id", f"Couldn't resolve to a item with meta: {global_id}", "NOT_FOUND"))
    node = store.node(type_name, pk)
    if node is None:
        raise ActionRefused(ActionError("id", f"Couldn't resolve to a node: {global_id}", "NOT_FOUND"))
    return node


def _metadata_owner_by_uuid(store: Store, raw_id: str) -> Node:
    # Saleor filters Order.id by it: Django's own refusal of what is no UUID comes back without a field.
    try:
        key = UUID(raw_id)
    except ValueError:
        raise ActionRefused(ActionError(None, f"\u201c{raw_id}\u201d is not a valid UUID.", "INVALID")) from None
    node = store.node("Order", key)
    if node is None:
        raise ActionRefused(ActionError("id", "Couldn't resolve to a node.", "GRAPHQL_ERROR"))
    return node


# -- object fields --------------------------------------------------------------------------------


def _store(info: Info) -> Store:
    return _ctx(info).store


def _charge_status(order: Order) -> str:
    charged, total = order.total_charged, order.total_gross
    if charged <= 0:
        return "FULL" if total <= 0 else "NONE"
    if charged < total:
        return "PARTIAL"
    return "FULL" if charged == total else "OVERCHARGED"


def _authorize_status(order: Order) -> str:
    covered, total = order.total_authorized + order.total_charged, order.total_gross
    if total <= 0 or covered >= total:
        return "FULL"
    return "PARTIAL" if covered > 0 else "NONE"


def _delivery_method(order: Order, info: Info) -> Warehouse | ShippingMethod | None:
    if order.collection_point_pk is not None:
        return _store(info).warehouses.get(order.collection_point_pk)
    return order.shipping_method


def _listed(checkout: Checkout, info: Info) -> Awaitable[list[ShippingMethod]] | list[ShippingMethod]:
    """Saleor lists a checkout's methods when they are asked for, calling the apps (an awaitable
    then; a sync webhook's payload never gets this far)."""
    ctx = _ctx(info)
    if ctx.list_delivery_methods is None:
        return checkouts.list_own_methods(ctx.store, checkout)
    return ctx.list_delivery_methods(checkout)


def _not_in_sync_events(resolve: Callable[[Any, Info], Any]) -> Callable[[Any, Info], Any]:
    def resolve_outside_sync_events(source: Any, info: Info) -> Any:
        if _ctx(info).sync_event:
            raise CircularSubscriptionSyncEvent()
        return resolve(source, info)

    return resolve_outside_sync_events


def _margin(listing: VariantListing) -> int | None:
    if not listing.price or listing.cost_price is None:
        return None
    return int(round((listing.price - listing.cost_price) / listing.price * 100))


def _version(version: str) -> tuple[int, ...]:
    """``3.20.119`` → ``(3, 20, 119)``: what decides which Saleor's behaviour the stand-in plays."""
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


# Saleor 3.20.86 (saleor/saleor#17679) made Order.fulfillments show CANCELED ones to apps as to staff.
_APPS_SEE_CANCELED_FULFILLMENTS = (3, 20, 86)


def _fulfillments(order: Order, info: Info) -> list[Fulfillment]:
    """``Order.resolve_fulfillments``: before 3.20.86 only staff users see CANCELED fulfillments;
    from then on apps see them too. Every caller of the stand-in is an app (no staff is modelled)."""
    if _ctx(info).app is not None and _version(_store(info).shop.version) >= _APPS_SEE_CANCELED_FULFILLMENTS:
        return order.fulfillments
    return [f for f in order.fulfillments if f.status is not FulfillmentStatus.CANCELED]


def _selected_attributes(
    assigned: Sequence[int], values: dict[int, list[AttributeValue]], info: Info
) -> list[dict[str, Any]]:
    """Saleor's ``attributes`` of a product or variant: every attribute its product type assigns, in order,
    with the values given (none for an attribute left empty). A requestor without MANAGE_PRODUCTS sees only
    those visible in the storefront (``requestor_has_access_to_all_attributes``)."""
    app = _ctx(info).app
    sees_all = app is not None and "MANAGE_PRODUCTS" in app.permissions
    attributes = (_store(info).attributes[pk] for pk in assigned)
    return [
        {"attribute": attribute, "values": values.get(attribute.pk, [])}
        for attribute in attributes
        if sees_all or attribute.visible_in_storefront
    ]


def _optional_weight(kg: Decimal | None) -> dict[str, Any] | None:
    return _weight(kg) if kg is not None else None


def _variant_in(channel_pk: int | None, variant_pk: int | None, info: Info) -> VariantInChannel | None:
    """An order or checkout line's variant, in the line's channel (``resolve_variant``)."""
    store = _store(info)
    variant = store.variants.get(variant_pk) if variant_pk is not None else None
    if variant is None:
        return None
    return VariantInChannel(variant, store.channels[channel_pk].slug if channel_pk is not None else None)


def _order_line_variant(line: OrderLine, info: Info) -> VariantInChannel | None:
    order = _store(info).orders.get(line.order_pk) if line.order_pk is not None else None
    return _variant_in(order.channel_pk if order else None, line.variant_pk, info)


def _checkout_line_variant(line: CheckoutLine, info: Info) -> VariantInChannel | None:
    checkout = _store(info).checkouts.get(line.checkout_pk) if line.checkout_pk is not None else None
    return _variant_in(checkout.channel_pk if checkout else None, line.variant_pk, info)


def _variant_stocks(source: VariantInChannel | ProductVariant, info: Info) -> list[Stock]:
    """``ProductVariant.resolve_stocks``: in a channel context the stocks of the warehouses
    ``for_channel_and_country`` gives without a country (the stand-in's ``stocks`` takes no
    ``countryCode`` or ``address``), none for a channel that does not exist; without one, every stock."""
    store = _store(info)
    if isinstance(source, ProductVariant) or source.channel_slug is None:
        return store.stocks_of_variant(_variant(source).pk)
    channel = next((c for c in store.channels.values() if c.slug == source.channel_slug), None)
    warehouses = store.warehouses_for_channel_and_country(channel, None) if channel is not None else set()
    return store.stocks_of_variant(source.variant.pk, warehouses)


def _variant(source: VariantInChannel | ProductVariant) -> ProductVariant:
    return source.variant if isinstance(source, VariantInChannel) else source


def _unwrapping_variant(resolve: Resolver) -> Resolver:
    """A ProductVariant field that does not depend on the channel context, given the variant itself."""

    def resolve_on_variant(source: VariantInChannel | ProductVariant, info: Info, **arguments: Any) -> Any:
        return resolve(_variant(source), info, **arguments)

    return resolve_on_variant


def _order_line(line_pk: UUID, info: Info) -> OrderLine | None:
    owner = _store(info).order_of_line(line_pk)
    return owner[1] if owner else None


Resolver = Callable[..., Any]

_FIELDS: dict[str, dict[str, Resolver]] = {
    "Query": {
        "app": _query_app,
        "shop": lambda _, info: _store(info).shop,
        "order": _query_order,
        "orders": _query_orders,
        "warehouses": _query_warehouses,
        "warehouse": _query_warehouse,
        "channels": _query_channels,
        "productVariant": _query_variant,
        "productVariants": _query_variants,
        "checkout": _query_checkout,
    },
    "Mutation": {
        "updateMetadata": _metadata_mutation(private=False),
        "updatePrivateMetadata": _metadata_mutation(private=True),
        "orderNoteAdd": _mutation_note,
        "orderConfirm": _order_mutation(actions.confirm_order),
        "orderMarkAsPaid": _mutation_mark_as_paid,
        "orderCancel": _order_mutation(actions.cancel_order),
        "orderGrantRefundCreate": _mutation_grant_refund,
        "orderFulfill": _mutation_fulfill,
        "orderFulfillmentUpdateTracking": _mutation_tracking,
        "orderFulfillmentCancel": _mutation_fulfillment_cancel,
        "orderFulfillmentRefundProducts": _mutation_refund_products,
        "checkoutCreate": _mutation_checkout_create,
        "checkoutDeliveryMethodUpdate": _mutation_checkout_delivery_method_update,
        "checkoutComplete": _mutation_checkout_complete,
    },
    "App": {
        "permissions": lambda app, _: [{"code": p, "name": p.replace("_", " ").capitalize()} for p in app.permissions],
    },
    "Channel": {"defaultCountry": lambda channel, _: _country(channel.default_country)},
    "Address": {"country": lambda address, _: _country(address.country)},
    "ProductType": {"weight": lambda product_type, _: _weight(product_type.weight_kg)},
    "Product": {
        "productType": lambda product, info: _store(info).product_types[product.product_type_pk],
        "weight": lambda product, _: _optional_weight(product.weight_kg),
        "attributes": lambda product, info: _selected_attributes(
            _store(info).product_types[product.product_type_pk].product_attribute_pks, product.attribute_values, info
        ),
    },
    "ProductVariant": {
        "product": lambda variant, info: _store(info).products[variant.product_pk],
        "weight": lambda variant, _: _optional_weight(variant.weight_kg),
        "attributes": lambda variant, info: _selected_attributes(
            _store(info).product_types[_store(info).products[variant.product_pk].product_type_pk].variant_attribute_pks,
            variant.attribute_values,
            info,
        ),
        "channelListings": lambda variant, _: variant.listings,
        "stocks": _variant_stocks,
    },
    "ProductVariantChannelListing": {
        "channel": lambda listing, info: _store(info).channels[listing.channel_pk],
        "price": lambda listing, info: _money(listing.price, _store(info).channels[listing.channel_pk].currency_code),
        "costPrice": lambda listing, info: (
            _money(listing.cost_price, _store(info).channels[listing.channel_pk].currency_code)
            if listing.cost_price is not None
            else None
        ),
        "margin": lambda listing, _: _margin(listing),
    },
    "Warehouse": {
        "stocks": lambda warehouse, info, first=None, after=None: _connection(
            sorted(_store(info).stocks_in_warehouse(warehouse.pk), key=lambda s: s.pk),
            first=first,
            after=after,
            name="stocks",
        ),
        # Every zone the warehouse ships from, whatever the channel (Saleor's resolver does not filter).
        "shippingZones": lambda warehouse, info, first=None, after=None, **_: _connection(
            [zone for zone in _store(info).shipping_zones.values() if warehouse.pk in zone.warehouse_pks],
            first=first,
            after=after,
            name="shippingZones",
        ),
    },
    "ShippingZone": {
        "countries": lambda zone, _: [_country(code) for code in zone.countries],
        "channels": lambda zone, info: [_store(info).channels[pk] for pk in zone.channel_pks],
    },
    "Stock": {
        "warehouse": lambda stock, info: _store(info).warehouses[stock.warehouse_pk],
        "productVariant": lambda stock, info: _store(info).variants[stock.variant_pk],
        "quantityReserved": lambda stock, _: 0,  # checkout reservations are not modelled
    },
    "Allocation": {
        "quantity": lambda allocation, _: allocation.quantity_allocated,
        "warehouse": lambda allocation, info: _store(info).warehouses[
            _store(info).stocks[allocation.stock_pk].warehouse_pk
        ],
    },
    "Checkout": {
        "created": lambda checkout, _: _output(checkout.created_at),
        "channel": lambda checkout, info: _store(info).channels[checkout.channel_pk],
        "token": lambda checkout, _: str(checkout.pk),
        "shippingMethods": _not_in_sync_events(_listed),
        "deliveryMethod": _not_in_sync_events(lambda checkout, _: checkout.delivery_method),
    },
    "CheckoutLine": {
        "variant": _checkout_line_variant,
        "undiscountedUnitPrice": lambda line, _: _money(line.undiscounted_unit_price, line.currency),
        "undiscountedTotalPrice": lambda line, _: _money(line.undiscounted_unit_price * line.quantity, line.currency),
        "requiresShipping": lambda line, _: True,
    },
    "ShippingMethod": {
        "id": lambda method, _: method.global_id,
        "price": lambda method, _: _money(method.price, method.currency),
        "metadata": lambda method, _: _metadata(method.metadata),
    },
    "Order": {
        "created": lambda order, _: _output(order.created_at),
        "updatedAt": lambda order, _: _output(order.updated_at),
        "user": lambda order, info: _store(info).customers.get(order.user_pk) if order.user_pk else None,
        "shippingMethodName": lambda order, _: order.shipping_method.name if order.shipping_method else None,
        "channel": lambda order, info: _store(info).channels[order.channel_pk],
        "number": lambda order, _: str(order.number),
        "isPaid": lambda order, _: order.is_fully_paid(),
        "paymentStatus": lambda order, _: order.payments[-1].charge_status if order.payments else "NOT_CHARGED",
        "authorizeStatus": lambda order, _: _authorize_status(order),
        "chargeStatus": lambda order, _: _charge_status(order),
        "total": lambda order, _: _taxed(order.total_net, order.total_gross, order.currency),
        "subtotal": lambda order, _: _taxed(order.subtotal_net, order.subtotal_gross, order.currency),
        "shippingPrice": lambda order, _: _taxed(order.shipping_price_net, order.shipping_price_gross, order.currency),
        "totalAuthorized": lambda order, _: _money(order.total_authorized, order.currency),
        "totalCharged": lambda order, _: _money(order.total_charged, order.currency),
        "weight": lambda order, _: _weight(order.weight_kg),
        "isShippingRequired": lambda order, _: any(line.is_shipping_required for line in order.lines),
        "deliveryMethod": lambda order, info: _delivery_method(order, info),
        "fulfillments": _fulfillments,
    },
    "OrderLine": {
        "productVariantId": lambda line, _: (
            to_global_id("ProductVariant", line.variant_pk) if line.variant_pk is not None else None
        ),
        "unitPrice": lambda line, _: _taxed(line.unit_price_net, line.unit_price_gross, line.currency),
        "totalPrice": lambda line, _: _taxed(
            line.unit_price_net * line.quantity, line.unit_price_gross * line.quantity, line.currency
        ),
        "variant": _order_line_variant,
        "quantityToFulfill": lambda line, _: line.quantity_unfulfilled,
    },
    "Fulfillment": {
        "created": lambda fulfillment, _: _output(fulfillment.created_at),
        "warehouse": lambda fulfillment, info: (
            _store(info).warehouses.get(fulfillment.warehouse_pk) if fulfillment.warehouse_pk else None
        ),
    },
    "FulfillmentLine": {"orderLine": lambda line, info: _order_line(line.order_line_pk, info)},
    "OrderNoteAddError": {"code": _note_error_code},
    "OrderEvent": {
        "user": lambda event, info: _store(info).customers.get(event.user_pk) if event.user_pk else None,
        "app": lambda event, info: _store(info).apps.get(event.app_pk) if event.app_pk else None,
    },
    "OrderGrantedRefund": {
        "id": lambda granted, _: to_global_id("OrderGrantedRefund", granted.pk),
        "amount": lambda granted, _: _money(granted.amount, granted.currency),
    },
    "TransactionItem": {
        "id": lambda transaction, _: to_global_id("TransactionItem", transaction.token),
        "authorizedAmount": lambda t, _: _money(t.authorized_amount, t.currency),
        "chargedAmount": lambda t, _: _money(t.charged_amount, t.currency),
        "refundedAmount": lambda t, _: _money(t.refunded_amount, t.currency),
    },
    "Payment": {
        "created": lambda payment, _: _output(payment.created_at),
        "modified": lambda payment, _: _output(payment.modified_at),
        "total": lambda payment, _: _money(payment.total, payment.currency),
        "capturedAmount": lambda payment, _: _money(payment.captured_amount, payment.currency),
    },
}

# Objects whose dataclass has a ``pk`` (every Node but TransactionItem, which wraps its token).
_KEYED = (
    Attribute,
    AttributeValue,
    Address,
    Allocation,
    App,
    Channel,
    Checkout,
    CheckoutLine,
    Customer,
    Fulfillment,
    FulfillmentLine,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Product,
    ProductType,
    ProductVariant,
    ShippingMethod,
    Stock,
    VariantListing,
    Warehouse,
)


class PermissionDenied(Exception):
    """Saleor's refusal of a field, named the same; ``extensions`` carry its code as Saleor's errors do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.extensions = {"exception": {"code": "PermissionDenied"}}


@dataclass(frozen=True, slots=True)
class _Check:
    requirement: Requirement
    message: str


def _checks(type_name: str, field_name: str, field: GraphQLField) -> list[_Check]:
    """What Saleor asks of the caller for this field, with the message it refuses with."""
    named = [r for r in requirements_in(field.description) if not r.only_for_old_objects]
    if (unnoted := UNNOTED.get((type_name, field_name))) is not None:
        named.append(unnoted)
    checks = [
        _Check(r, f"To access this path, you need one of the following permissions: {', '.join(r.permissions)}")
        for r in named
    ]
    if needs_private_metadata_permission(field.description):
        # Saleor's private-metadata check refuses without naming the permission.
        checks.append(
            _Check(private_metadata_requirement(type_name), "You do not have permission to perform this action")
        )
    return checks


def _guarded(resolve: Resolver, checks: list[_Check]) -> Resolver:
    def resolve_if_permitted(source: Any, info: Info, **arguments: Any) -> Any:
        ctx = _ctx(info)
        app, user = ctx.app, ctx.user
        if user is not None and user.error is not None:
            raise user.error  # Saleor meets a bad JWT where a check first asks who is calling
        held = {*app.permissions, AUTHENTICATED_APP} if app is not None else set()
        if user is not None:
            held = set(user.permissions)
        for check in checks:
            owns = app is not None and source is app and OWNER in check.requirement.permissions
            if not (check.requirement.granted_to(held) or owns):
                raise PermissionDenied(check.message)
        return resolve(source, info, **arguments)

    return resolve_if_permitted


def _global_id(source: Any, info: Info) -> str:
    assert isinstance(source, _KEYED)
    return to_global_id(info.parent_type.name, source.pk)


@cache
def standin_schema() -> GraphQLSchema:
    """``schema.graphql`` with the resolvers attached; built once, shared by every store."""
    schema = build_schema(SCHEMA_PATH.read_text())
    for type_name, named in schema.type_map.items():
        if not isinstance(named, GraphQLObjectType) or type_name.startswith("__"):
            continue
        interfaces = {i.name for i in named.interfaces}
        if "Node" in interfaces:
            named.fields["id"].resolve = _global_id
        if "ObjectWithMetadata" in interfaces:
            named.fields["metadata"].resolve = lambda source, _: _metadata(source.metadata)
            named.fields["privateMetadata"].resolve = lambda source, _: _metadata(source.private_metadata)
    for type_name, resolvers in _FIELDS.items():
        named = schema.type_map[type_name]
        assert isinstance(named, GraphQLObjectType)
        for field_name, resolver in resolvers.items():
            named.fields[field_name].resolve = resolver
    variant_type = schema.type_map["ProductVariant"]
    assert isinstance(variant_type, GraphQLObjectType)
    for field_name, field in variant_type.fields.items():
        if field_name != "stocks":
            field.resolve = _unwrapping_variant(field.resolve or _default_resolver)
    for type_name, named in schema.type_map.items():
        if not isinstance(named, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in named.fields.items():
            if checks := _checks(type_name, field_name, field):
                field.resolve = _guarded(field.resolve or _default_resolver, checks)
    return schema


# Saleor's GRAPHQL_MUTATION_COUNT_LIMIT (3.20.118 on, 4 by default): the root fields of every mutation
# in a document, aliased or skipped by ``@include`` alike; more fail the whole document's validation.
MUTATION_COUNT_LIMIT = 4


class _MutationCountLimit(ValidationRule):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.mutations = 0

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
        if node.operation is OperationType.MUTATION:
            self.mutations += len(node.selection_set.selections)

    def leave_document(self, *_: object) -> None:
        if self.mutations > MUTATION_COUNT_LIMIT:
            self.report_error(
                GraphQLError(
                    f"Number of mutations exceed the limit of {MUTATION_COUNT_LIMIT}",
                    extensions={"exception": {"code": "GraphQLError"}},
                )
            )


@lru_cache(maxsize=256)
def _parsed(query: str) -> DocumentNode | list[GraphQLError]:
    """A query parsed and validated once: apps send the same few documents over and over, and
    checking them again on every request is most of what rendering a webhook costs."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return [error]
    return validate(standin_schema(), document, [*specified_rules, _MutationCountLimit]) or document


async def execute(
    store: Store,
    query: str,
    *,
    app: App | None,
    now: datetime,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
    list_delivery_methods: ListDeliveryMethods | None = None,
    user: UserSession | None = None,
) -> ExecutionResult:
    """Run one request's operation, as the app's token ``app`` (or the user's JWT, ``user``) at ``now``;
    ``list_delivery_methods`` asks the apps for a checkout's delivery options."""
    document = _parsed(query)
    if isinstance(document, list):
        return ExecutionResult(data=None, errors=document)
    result = graphql_execute(
        standin_schema(),
        document,
        context_value=Context(store, app, now, user=user, list_delivery_methods=list_delivery_methods),
        variable_values=variables,
        operation_name=operation_name,
        field_resolver=_default_resolver,
        type_resolver=_resolve_type,
    )
    return await result if isawaitable(result) else result


def execute_subscription(store: Store, query: str, event: EventEnvelope, *, now: datetime) -> ExecutionResult:
    """Render a webhook payload: the subscription document executed once against ``event``."""
    document = _parsed(query)
    if isinstance(document, list):
        return ExecutionResult(data=None, errors=document)
    return execute_sync(
        standin_schema(),
        document,
        root_value={"event": event},
        context_value=Context(store, event.recipient, now, sync_event=event.is_sync),
        field_resolver=_default_resolver,
        type_resolver=_resolve_type,
    )
