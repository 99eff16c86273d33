"""Saleor's rules for the changes the stand-in supports, read from core.

Sources: ``saleor/graphql/order/mutations/{order_confirm,order_cancel,order_fulfill,
order_mark_as_paid,order_note_add,fulfillment_update_tracking,fulfillment_cancel,
fulfillment_return_products,fulfillment_refund_products}.py``, ``saleor/order/actions.py``
(``order_created``, ``order_charged``, ``mark_order_as_paid_with_payment``,
``mark_order_as_paid_with_transaction``, ``create_fulfillments``, ``order_fulfilled``,
``cancel_order``, ``cancel_fulfillment``, ``create_refund_fulfillment``, ``order_refunded``,
``create_fulfillments_for_returned_products``), ``saleor/payment/gateway.py`` and
``saleor/payment/utils.py`` (``refund``, ``gateway_postprocess``), ``saleor/order/utils.py``
(``determine_order_status``, ``restock_fulfillment_lines``), ``saleor/warehouse/management.py``
(``decrease_stock``, ``deallocate_stock``, ``increase_stock``), ``saleor/graphql/meta/mutations``.

An action checks everything before it changes anything, as Saleor's atomic
transaction would roll back: a refusal raises ``ActionRefused`` with Saleor's
error codes, camelCase fields and messages, and leaves the store untouched.
Each effect queues the async events Saleor emits in ``store.outbox``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from app.standin.state import (
    Address,
    Allocation,
    App,
    Channel,
    CreditCard,
    Customer,
    Fulfillment,
    FulfillmentLine,
    FulfillmentStatus,
    GrantedRefund,
    InvalidGlobalId,
    Metadata,
    Node,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentChargeStatus,
    PendingEvent,
    Principal,
    ProductVariant,
    ShippingMethod,
    Stock,
    Store,
    TransactionItem,
    Warehouse,
    from_global_id,
    invalid_id,
    to_global_id,
)

# Fulfillments whose lines count as returned in the order's status.
_RETURN_FULFILLMENTS = frozenset({FulfillmentStatus.RETURNED, FulfillmentStatus.REFUNDED_AND_RETURNED})
# Fulfillments whose lines may be returned (``FulfillmentReturnProducts.clean_input``), in Saleor's order.
_RETURNABLE_FULFILLMENTS = (
    FulfillmentStatus.FULFILLED,
    FulfillmentStatus.REFUNDED,
    FulfillmentStatus.WAITING_FOR_APPROVAL,
)

# Fulfillment statuses that no longer hold goods for the order (``Order.can_cancel``).
_RELEASED_FULFILLMENTS = frozenset(
    {
        FulfillmentStatus.CANCELED,
        FulfillmentStatus.REFUNDED,
        FulfillmentStatus.REPLACED,
        FulfillmentStatus.REFUNDED_AND_RETURNED,
        FulfillmentStatus.RETURNED,
    }
)


@dataclass(frozen=True, slots=True)
class ActionError:
    """One entry of a mutation's ``errors`` list (``OrderError`` carries the optional extras)."""

    field: str | None
    message: str
    code: str
    warehouse: str | None = None
    order_lines: tuple[str, ...] | None = None


class ActionRefused(Exception):
    def __init__(self, *errors: ActionError) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message} ({e.code})" for e in errors))
        self.errors = errors


class UnreadableId(Exception):
    """An ID Saleor decodes outside a mutation's validation (``from_global_id_or_error`` raising): the whole
    field fails with a GraphQL error of this message, its payload null."""


class InsufficientStockError(ValueError):
    """Placing an order needs more stock than the warehouses hold (checkout would refuse it)."""


def resolve_node(store: Store, global_id: str | None, only_type: str, *, field: str) -> tuple[Node, int | UUID]:
    """``BaseMutation.get_node_or_error``: a malformed or foreign ID is a GRAPHQL_ERROR, a missing one NOT_FOUND."""
    try:
        type_name, pk = from_global_id(global_id or "")
    except InvalidGlobalId:
        raise ActionRefused(ActionError(field, invalid_id(global_id or "", only_type), "GRAPHQL_ERROR")) from None
    if type_name != only_type:
        raise ActionRefused(ActionError(field, invalid_id(global_id or "", only_type, type_name), "GRAPHQL_ERROR"))
    node = store.node(type_name, pk)
    if node is None:
        raise ActionRefused(ActionError(field, f"Couldn't resolve to a node: {global_id}", "NOT_FOUND"))
    return node, pk


def _emit(
    store: Store,
    event: str,
    subject: Order | Fulfillment | App,
    at: datetime,
    principal: Principal | None,
    *,
    notify_customer: bool = False,
) -> None:
    store.outbox.append(PendingEvent(event, subject, at, principal, notify_customer))


def _history(
    store: Store, order: Order, type_: str, at: datetime, principal: Principal | None, message: str | None = None
) -> OrderEvent:
    event = OrderEvent(
        store.next_pk("OrderEvent"),
        type_,
        at,
        message,
        user_pk=principal.pk if isinstance(principal, Customer) else None,
        app_pk=principal.pk if isinstance(principal, App) else None,
    )
    order.events.append(event)
    return event


# -- placing and paying (what checkout and payment apps do; no mutation of ours) ---------------


def place_order(
    store: Store,
    channel: Channel,
    lines: Sequence[tuple[ProductVariant, int]],
    *,
    at: datetime,
    customer: Customer | None = None,
    email: str | None = None,
    shipping_address: Address | None = None,
    billing_address: Address | None = None,
    shipping: ShippingMethod | tuple[str, Decimal] | None = None,
    collection_point: Warehouse | None = None,
    customer_note: str = "",
    transactions: Sequence[TransactionItem] = (),
    metadata: Metadata | None = None,
    private_metadata: Metadata | None = None,
) -> Order:
    """A checkout completed: the order with its lines priced from the channel listings and stock allocated.

    ``shipping`` is one of the store's shipping methods, or a ``(name, price)`` made for
    this order alone. Prices carry no tax (net equals gross). The order is UNFULFILLED
    when the channel confirms new orders automatically, else UNCONFIRMED. ``transactions``
    are the checkout's, paid through a payment app before completing: they move to the
    order before any event, so ORDER_CREATED already shows them. Emits ORDER_CREATED; then,
    when the transactions charge the whole total, ORDER_PAID, ORDER_FULLY_PAID and
    ORDER_UPDATED; then ORDER_CONFIRMED when confirmed on creation (``order_created`` and
    ``order_charged`` in ``saleor/order/actions.py``; an authorization alone sends nothing more).
    ``metadata`` and ``private_metadata`` are the checkout's, which the order starts with.
    """
    if not lines:
        raise ValueError("an order needs at least one line")
    if isinstance(shipping, ShippingMethod) and shipping.currency != channel.currency_code:
        raise ValueError(
            f"shipping method {shipping.name} is priced in {shipping.currency}, not {channel.currency_code}"
        )
    order_lines: list[OrderLine] = []
    weight = Decimal(0)
    for variant, quantity in lines:
        listing = variant.listing_in(channel.pk)
        if listing is None:
            raise ValueError(f"variant {variant.sku or variant.pk} is not sold in channel {channel.slug}")
        product = store.products[variant.product_pk]
        order_lines.append(
            OrderLine(
                store.new_uuid(),
                variant.pk,
                product.name,
                variant.name,
                variant.sku,
                quantity,
                channel.currency_code,
                listing.price,
                listing.price,
            )
        )
        weight += store.weight_of(variant) * quantity

    default_address = customer.default_shipping_address if customer else None
    ship_to = shipping_address or default_address
    bill_to = billing_address or (customer.default_billing_address if customer else None) or ship_to
    # ``CheckoutInfo.get_country``: the shipping address's, else the billing address's, else the channel's.
    address = ship_to or bill_to
    country = address.country if address is not None and address.country else channel.default_country
    collection_point_pk = collection_point.pk if collection_point else None
    allocations = _allocation_plan(store, channel, country, collection_point_pk, order_lines)
    order = Order(
        store.new_uuid(),
        store.next_pk("OrderNumber"),
        channel.pk,
        channel.currency_code,
        OrderStatus.UNFULFILLED if channel.automatically_confirm_all_new_orders else OrderStatus.UNCONFIRMED,
        created_at=at,
        updated_at=at,
        user_email=email or (customer.email if customer else None),
        user_pk=customer.pk if customer else None,
        # The order keeps its own copies, so later address book edits do not change it.
        shipping_address=store.with_pk(replace(ship_to, pk=0)) if ship_to else None,
        billing_address=store.with_pk(replace(bill_to, pk=0)) if bill_to else None,
        collection_point_pk=collection_point_pk,
        weight_kg=weight,
        customer_note=customer_note,
        lines=order_lines,
        transactions=list(transactions),
        metadata=dict(metadata or {}),
        private_metadata=dict(private_metadata or {}),
    )
    if isinstance(shipping, ShippingMethod):
        order.shipping_method = shipping
        order.shipping_price_net = order.shipping_price_gross = shipping.price
    elif shipping is not None:
        name, price = shipping
        order.shipping_method = ShippingMethod(store.next_pk("ShippingMethod"), name, price, channel.currency_code)
        order.shipping_price_net = order.shipping_price_gross = price
    for line in order_lines:
        line.order_pk = order.pk
    for line, stock, quantity in allocations:
        line.allocations.append(Allocation(store.next_pk("Allocation"), stock.pk, quantity))
        stock.quantity_allocated += quantity
    store.orders[order.pk] = order

    _history(store, order, "PLACED", at, customer)
    _emit(store, "ORDER_CREATED", order, at, customer)
    if order.transactions and order.is_fully_paid():
        _emit(store, "ORDER_PAID", order, at, customer)
        _paid_in_full(store, order, at, customer)
    if order.status is OrderStatus.UNFULFILLED:
        _emit(store, "ORDER_CONFIRMED", order, at, customer)
    return order


def _paid_in_full(store: Store, order: Order, at: datetime, principal: Principal | None) -> None:
    """``handle_fully_paid_order``: the history entry, then ORDER_FULLY_PAID and ORDER_UPDATED."""
    _history(store, order, "ORDER_FULLY_PAID", at, principal)
    _emit(store, "ORDER_FULLY_PAID", order, at, principal)
    _emit(store, "ORDER_UPDATED", order, at, principal)


def stocks_to_allocate(
    store: Store, variant_pk: int, channel: Channel, country_code: str, collection_point_pk: UUID | None
) -> list[Stock]:
    """The variant's stocks ``allocate_stocks`` takes from, in the order it takes them: for a shipped order
    those ``for_channel_and_country`` of the order's channel and country; for a click-and-collect one
    every warehouse of the channel (``for_channel_and_click_and_collect``), the collection point first.
    Then the channel's warehouse sort order (``sort_stocks``, PRIORITIZE_SORTING_ORDER), stocks of one
    warehouse in key order."""
    if collection_point_pk is None:
        warehouses = store.warehouses_for_channel_and_country(channel, country_code)
    else:
        warehouses = set(channel.warehouse_pks)
    rank = {warehouse_pk: index for index, warehouse_pk in enumerate(channel.warehouse_pks)}
    return sorted(
        store.stocks_of_variant(variant_pk, warehouses),
        key=lambda s: (-1 if s.warehouse_pk == collection_point_pk else rank[s.warehouse_pk], s.pk),
    )


def _allocation_plan(
    store: Store,
    channel: Channel,
    country_code: str,
    collection_point_pk: UUID | None,
    lines: Sequence[OrderLine],
) -> list[tuple[OrderLine, Stock, int]]:
    """Allocate each tracked line as ``allocate_stocks`` does: from ``stocks_to_allocate``, each as far as it goes."""
    planned: Counter[int] = Counter()
    plan: list[tuple[OrderLine, Stock, int]] = []
    for line in lines:
        variant = store.variants[line.variant_pk] if line.variant_pk is not None else None
        if variant is None or not variant.track_inventory:
            continue
        needed = line.quantity
        for stock in stocks_to_allocate(store, variant.pk, channel, country_code, collection_point_pk):
            available = stock.quantity - stock.quantity_allocated - planned[stock.pk]
            take = min(available, needed)
            if take > 0:
                plan.append((line, stock, take))
                planned[stock.pk] += take
                needed -= take
        if needed > 0:
            raise InsufficientStockError(f"only {line.quantity - needed} of {line.quantity} {variant.sku} in stock")
    return plan


def record_charge(
    store: Store,
    order: Order,
    amount: Decimal,
    *,
    at: datetime,
    psp_reference: str = "",
    name: str = "",
    metadata: Mapping[str, str] | None = None,
    principal: Principal | None = None,
) -> TransactionItem:
    """A payment app reported a charge: ORDER_PAID, and ORDER_FULLY_PAID (with ORDER_UPDATED) when it completes.

    ``metadata`` is what the payment app keeps on its transaction (``transactionCreate``
    takes it), such as the card checks its PSP reported.
    """
    was_paid = order.is_fully_paid()
    transaction = TransactionItem(
        store.new_uuid(),
        order.currency,
        at,
        at,
        name=name,
        psp_reference=psp_reference,
        charged_amount=amount,
        metadata=dict(metadata or {}),
    )
    order.transactions.append(transaction)
    order.updated_at = at
    _emit(store, "ORDER_PAID", order, at, principal)
    if order.is_fully_paid() and not was_paid:
        _paid_in_full(store, order, at, principal)
    return transaction


def capture_payment(
    store: Store,
    order: Order,
    amount: Decimal,
    *,
    at: datetime,
    gateway: str,
    psp_reference: str = "",
    credit_card: CreditCard | None = None,
    customer_ip_address: str | None = None,
    metadata: Mapping[str, str] | None = None,
    principal: Principal | None = None,
) -> Payment:
    """A legacy payment plugin captured ``amount`` (``order_charged``): the order gets a
    ``Payment``; history PAYMENT_CAPTURED; ORDER_PAID, then ORDER_FULLY_PAID and ORDER_UPDATED
    when the order is paid in full, else ORDER_UPDATED. Only such a payment can be refunded
    with ``orderFulfillmentRefundProducts``.
    """
    status = PaymentChargeStatus.FULLY_CHARGED if amount >= order.total_gross else PaymentChargeStatus.PARTIALLY_CHARGED
    payment = Payment(
        store.next_pk("Payment"),
        gateway,
        order.currency,
        amount,
        amount,
        status,
        at,
        at,
        psp_reference=psp_reference or None,
        customer_ip_address=customer_ip_address,
        credit_card=credit_card,
        metadata=dict(metadata or {}),
    )
    order.payments.append(payment)
    order.updated_at = at
    _history(store, order, "PAYMENT_CAPTURED", at, principal)
    _emit(store, "ORDER_PAID", order, at, principal)
    if order.is_fully_paid():  # Saleor asks "is it paid in full", not "did this payment complete it"
        _history(store, order, "ORDER_FULLY_PAID", at, principal)
        _emit(store, "ORDER_FULLY_PAID", order, at, principal)
    _emit(store, "ORDER_UPDATED", order, at, principal)
    return payment


MARK_AS_PAID_TRANSACTION_NAME = "Mark-as-paid transaction"


def mark_order_as_paid(
    store: Store, order: Order, *, at: datetime, principal: Principal | None, transaction_reference: str | None = None
) -> None:
    """``orderMarkAsPaid``: the channel's strategy decides what records the money.

    PAYMENT_FLOW (Saleor's default) creates a legacy Payment of the "manual" gateway, fully
    charged; TRANSACTION_FLOW a TransactionItem charged with the total. Either way Saleor sends
    ORDER_FULLY_PAID and ORDER_UPDATED and never ORDER_PAID, and the order keeps its status.
    Refused without a billing address, or when the order has a payment or transaction already.
    """
    if order.billing_address is None:
        raise ActionRefused(
            ActionError(None, "Order billing address is required to mark order as paid.", "BILLING_ADDRESS_NOT_SET")
        )
    flow = store.channels[order.channel_pk].order_mark_as_paid_strategy
    field, code = ("payment", "PAYMENT_ERROR") if flow == "PAYMENT_FLOW" else ("transaction", "TRANSACTION_ERROR")
    if order.payments:
        raise ActionRefused(ActionError(field, "Orders with payments can not be manually marked as paid.", code))
    if order.transactions:
        raise ActionRefused(ActionError(field, "Orders with transactions can not be manually marked as paid.", code))
    total = order.total_gross
    if flow == "PAYMENT_FLOW":
        order.payments.append(
            Payment(
                store.next_pk("Payment"),
                "manual",
                order.currency,
                total,
                total,
                PaymentChargeStatus.FULLY_CHARGED,
                at,
                at,
                psp_reference=transaction_reference,
            )
        )
    else:
        order.transactions.append(
            TransactionItem(
                store.new_uuid(),
                order.currency,
                at,
                at,
                name=MARK_AS_PAID_TRANSACTION_NAME,
                psp_reference=transaction_reference or "",
                charged_amount=total,
            )
        )
    order.updated_at = at
    _history(store, order, "ORDER_MARKED_AS_PAID", at, principal, transaction_reference)
    _emit(store, "ORDER_FULLY_PAID", order, at, principal)
    _emit(store, "ORDER_UPDATED", order, at, principal)


# -- the mutations ---------------------------------------------------------------------------


def confirm_order(store: Store, order: Order, *, at: datetime, principal: Principal | None) -> None:
    """``orderConfirm``: UNCONFIRMED → UNFULFILLED; anything else is INVALID."""
    if order.status is not OrderStatus.UNCONFIRMED:
        raise ActionRefused(
            ActionError(
                "id", "Provided order id belongs to an order with status different than unconfirmed.", "INVALID"
            )
        )
    if not order.lines:
        raise ActionRefused(ActionError("id", "Provided order id belongs to an order without products.", "INVALID"))
    order.status = OrderStatus.UNFULFILLED
    order.updated_at = at
    _history(store, order, "CONFIRMED", at, principal)
    _emit(store, "ORDER_CONFIRMED", order, at, principal)


def cancel_order(store: Store, order: Order, *, at: datetime, principal: Principal | None) -> None:
    """``orderCancel``: release the allocations; refused while goods are out or the order is closed."""
    holds_goods = any(f.status not in _RELEASED_FULFILLMENTS for f in order.fulfillments)
    if holds_goods or order.status in {OrderStatus.CANCELED, OrderStatus.DRAFT, OrderStatus.EXPIRED}:
        raise ActionRefused(ActionError("order", "This order can't be canceled.", "CANNOT_CANCEL_ORDER"))
    for line in order.lines:
        for allocation in line.allocations:  # ``deallocate_stock_for_orders``: kept, at zero
            store.stocks[allocation.stock_pk].quantity_allocated -= allocation.quantity_allocated
            allocation.quantity_allocated = 0
    order.status = OrderStatus.CANCELED
    order.updated_at = at
    _history(store, order, "CANCELED", at, principal)
    _emit(store, "ORDER_CANCELLED", order, at, principal)
    _emit(store, "ORDER_UPDATED", order, at, principal)


def grant_refund(
    store: Store,
    order: Order,
    *,
    amount: Decimal | None,
    reason: str,
    transaction_id: str,
    at: datetime,
    principal: Principal | None,
) -> GrantedRefund:
    """``orderGrantRefundCreate`` with an amount and a transaction (the only input the stand-in takes): the grant is
    kept, at most the transaction's charged amount; no money moves, no event or webhook (Saleor sends none)."""
    if amount is None:
        message = "You must provide at least one of `amount`, `lines`, `grantRefundForShipping`."
        raise ActionRefused(ActionError("amount", message, "REQUIRED"))
    try:
        type_name, token = from_global_id(transaction_id)
    except InvalidGlobalId:
        raise UnreadableId(invalid_id(transaction_id, "TransactionItem")) from None
    if type_name != "TransactionItem":
        raise UnreadableId(invalid_id(transaction_id, "TransactionItem", type_name))
    transaction = next((t for t in order.transactions if str(t.token) == str(token)), None)
    if transaction is None:
        raise ActionRefused(ActionError("transactionId", f"Couldn't resolve to a node: {transaction_id}", "NOT_FOUND"))
    if amount > transaction.charged_amount:
        message = "Amount cannot be greater than the charged amount of provided transaction."
        raise ActionRefused(ActionError("amount", message, "AMOUNT_GREATER_THAN_AVAILABLE"))
    granted = GrantedRefund(
        store.next_pk("OrderGrantedRefund"),
        amount,
        order.currency,
        reason,
        at,
        transaction,
        user_pk=principal.pk if isinstance(principal, Customer) else None,
        app_pk=principal.pk if isinstance(principal, App) else None,
    )
    order.granted_refunds.append(granted)
    order.updated_at = at
    return granted


FulfillInput = Sequence[tuple[str | None, Sequence[tuple[str, int]]]]


def fulfill_order(
    store: Store,
    order: Order,
    lines: FulfillInput,
    *,
    at: datetime,
    principal: Principal | None,
    notify_customer: bool = True,
    allow_stock_to_be_exceeded: bool = False,
    tracking_number: str = "",
) -> list[Fulfillment]:
    """``orderFulfill``: ``lines`` pairs an order line ID with ``(warehouse ID, quantity)`` pairs.

    One fulfillment per warehouse. Approved at once (shop ``fulfillmentAutoApprove``):
    the lines' allocations are released and the stock decreased, refused with
    INSUFFICIENT_STOCK when the warehouse has no stock row or too little unallocated.
    """
    shop = store.shop
    if not order.is_fully_paid() and shop.fulfillment_auto_approve and not shop.fulfillment_allow_unpaid:
        raise ActionRefused(ActionError("order", "Cannot fulfill unpaid order.", "CANNOT_FULFILL_UNPAID_ORDER"))
    for _, stocks in lines:
        duplicated = _first_duplicate([warehouse for warehouse, _ in stocks])
        if duplicated is not None:
            raise ActionRefused(
                ActionError("warehouse", "Duplicated warehouse ID.", "DUPLICATED_INPUT_ITEM", warehouse=duplicated)
            )
    duplicated_line = _first_duplicate([line_id or "" for line_id, _ in lines])
    if duplicated_line is not None:
        raise ActionRefused(
            ActionError(
                "orderLineId", "Duplicated order line ID.", "DUPLICATED_INPUT_ITEM", order_lines=(duplicated_line,)
            )
        )
    order_lines = [_line_of(store, order, line_id) for line_id, _ in lines]
    for order_line, (_, stocks) in zip(order_lines, lines, strict=True):
        remaining = order_line.quantity_unfulfilled
        if sum(quantity for _, quantity in stocks) > remaining:
            raise ActionRefused(
                ActionError(
                    "orderLineId",
                    f"Only {remaining} item{'' if remaining == 1 else 's'} remaining to fulfill.",
                    "FULFILL_ORDER_LINE",
                    order_lines=(to_global_id("OrderLine", order_line.pk),),
                )
            )
    if sum(quantity for _, stocks in lines for _, quantity in stocks) <= 0:
        raise ActionRefused(ActionError("lines", "Total quantity must be larger than 0.", "ZERO_QUANTITY"))
    by_warehouse: dict[UUID, list[tuple[OrderLine, int]]] = {}
    for order_line, (_, stocks) in zip(order_lines, lines, strict=True):
        for warehouse_id, quantity in stocks:
            if quantity > 0:
                by_warehouse.setdefault(_warehouse_pk(warehouse_id), []).append((order_line, quantity))

    approved = shop.fulfillment_auto_approve
    work = _StockWork(store)
    plans: list[tuple[UUID, list[tuple[OrderLine, int, Stock | None]]]] = []
    for warehouse_pk, items in by_warehouse.items():
        planned = _plan_warehouse(store, warehouse_pk, items, work, approved, allow_stock_to_be_exceeded)
        plans.append((warehouse_pk, planned))

    # Everything checked: apply.
    work.commit()
    status = FulfillmentStatus.FULFILLED if approved else FulfillmentStatus.WAITING_FOR_APPROVAL
    number = max((f.fulfillment_order for f in order.fulfillments), default=0)
    fulfillments: list[Fulfillment] = []
    for warehouse_pk, planned in plans:
        number += 1
        fulfillment = Fulfillment(
            store.next_pk("Fulfillment"), order.pk, number, status, at, warehouse_pk, tracking_number=tracking_number
        )
        for order_line, quantity, stock in planned:
            fulfillment.lines.append(
                FulfillmentLine(store.next_pk("FulfillmentLine"), order_line.pk, quantity, stock.pk if stock else None)
            )
            order_line.quantity_fulfilled += quantity
        order.fulfillments.append(fulfillment)
        fulfillments.append(fulfillment)
    order.status = _order_status(order)
    order.updated_at = at

    _history(store, order, "FULFILLMENT_FULFILLED_ITEMS" if approved else "FULFILLMENT_AWAITS_APPROVAL", at, principal)
    if tracking_number:
        for fulfillment in fulfillments:
            _emit(store, "FULFILLMENT_TRACKING_NUMBER_UPDATED", fulfillment, at, principal)
    _emit(store, "ORDER_UPDATED", order, at, principal)
    if approved:
        # Saleor sends FULFILLMENT_CREATED only for approved fulfillments.
        for fulfillment in fulfillments:
            _emit(store, "FULFILLMENT_CREATED", fulfillment, at, principal, notify_customer=notify_customer)
        if order.status is OrderStatus.FULFILLED:
            _emit(store, "ORDER_FULFILLED", order, at, principal)
            # The fulfillments that completed the order are announced as approved too (notifying by default).
            for fulfillment in fulfillments:
                _emit(store, "FULFILLMENT_APPROVED", fulfillment, at, principal, notify_customer=True)
    return fulfillments


def _first_duplicate(values: Sequence[str]) -> str | None:
    counts = Counter(values)
    return next((value for value in values if counts[value] > 1), None)


def _line_of(store: Store, order: Order, line_id: str | None) -> OrderLine:
    node, _ = resolve_node(store, line_id, "OrderLine", field="lines")
    # Saleor would take a line of another order here; the stand-in keeps each order's books apart.
    if not isinstance(node, OrderLine) or node not in order.lines:
        raise ActionRefused(ActionError("lines", f"Couldn't resolve to a node: {line_id}", "NOT_FOUND"))
    return node


def _warehouse_pk(warehouse_id: str) -> UUID:
    """Saleor only decodes the warehouse ID here; an unknown warehouse then has no stock."""
    try:
        type_name, pk = from_global_id(warehouse_id)
    except InvalidGlobalId:
        raise ActionRefused(ActionError("warehouse", invalid_id(warehouse_id, "Warehouse"), "GRAPHQL_ERROR")) from None
    if type_name != "Warehouse" or not isinstance(pk, UUID):
        raise ActionRefused(ActionError("warehouse", invalid_id(warehouse_id, "Warehouse", type_name), "GRAPHQL_ERROR"))
    return pk


class _StockWork:
    """Stock and allocation numbers changed on the side, written back only when the whole fulfillment passes."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.quantity: dict[int, int] = {}
        self.allocated: dict[int, int] = {}
        self.allocation_left: dict[int, tuple[OrderLine, Allocation, int]] = {}

    def quantity_of(self, stock: Stock) -> int:
        return self.quantity.get(stock.pk, stock.quantity)

    def allocated_of(self, stock: Stock) -> int:
        return self.allocated.get(stock.pk, stock.quantity_allocated)

    def deallocate(self, line: OrderLine, quantity: int) -> None:
        """``deallocate_stock``: release up to ``quantity`` of the line's allocations, by stock."""
        for allocation in sorted(line.allocations, key=lambda a: a.stock_pk):
            if quantity <= 0:
                return
            left = self.allocation_left.get(allocation.pk, (line, allocation, allocation.quantity_allocated))[2]
            released = min(left, quantity)
            stock = self._store.stocks[allocation.stock_pk]
            self.allocation_left[allocation.pk] = (line, allocation, left - released)
            self.allocated[stock.pk] = self.allocated_of(stock) - released
            quantity -= released

    def commit(self) -> None:
        for pk, quantity in self.quantity.items():
            self._store.stocks[pk].quantity = quantity
        for pk, allocated in self.allocated.items():
            self._store.stocks[pk].quantity_allocated = allocated
        for _, allocation, left in self.allocation_left.values():
            allocation.quantity_allocated = left  # Saleor keeps a released allocation, at zero


def _plan_warehouse(
    store: Store,
    warehouse_pk: UUID,
    items: list[tuple[OrderLine, int]],
    work: _StockWork,
    approved: bool,
    allow_stock_to_be_exceeded: bool,
) -> list[tuple[OrderLine, int, Stock | None]]:
    """``_create_fulfillment_lines`` and ``decrease_stock`` for one warehouse, on the side."""
    planned: list[tuple[OrderLine, int, Stock | None]] = []
    short: list[OrderLine] = []
    for order_line, quantity in items:
        variant = store.variants.get(order_line.variant_pk) if order_line.variant_pk is not None else None
        stock = store.stock_for(warehouse_pk, variant.pk) if variant is not None else None
        if stock is None and not allow_stock_to_be_exceeded:
            short.append(order_line)
            continue
        planned.append((order_line, quantity, stock))
    if short:
        raise ActionRefused(*(_insufficient(line, warehouse_pk) for line in short))
    if not approved:
        return planned  # stock moves only when the fulfillment is approved
    for order_line, quantity, _ in planned:
        work.deallocate(order_line, quantity)
    for order_line, quantity, stock in planned:
        variant = store.variants.get(order_line.variant_pk) if order_line.variant_pk is not None else None
        if stock is None or variant is None or not variant.track_inventory:
            continue
        if work.quantity_of(stock) - work.allocated_of(stock) < quantity and not allow_stock_to_be_exceeded:
            short.append(order_line)
            continue
        # With allow_stock_to_be_exceeded the quantity may go below zero, as in Saleor.
        work.quantity[stock.pk] = work.quantity_of(stock) - quantity
    if short:
        raise ActionRefused(*(_insufficient(line, warehouse_pk) for line in short))
    return planned


def _insufficient(line: OrderLine, warehouse_pk: UUID) -> ActionError:
    return ActionError(
        "stocks",
        "Insufficient product stock.",
        "INSUFFICIENT_STOCK",
        warehouse=to_global_id("Warehouse", warehouse_pk),
        order_lines=(to_global_id("OrderLine", line.pk),),
    )


def _order_status(order: Order) -> OrderStatus:
    """``determine_order_status``: lines awaiting approval do not count as fulfilled; returned ones still do."""
    total = sum(line.quantity for line in order.lines)
    awaiting = sum(
        line.quantity
        for fulfillment in order.fulfillments
        if fulfillment.status is FulfillmentStatus.WAITING_FOR_APPROVAL
        for line in fulfillment.lines
    )
    returned = sum(
        line.quantity
        for fulfillment in order.fulfillments
        if fulfillment.status in _RETURN_FULFILLMENTS
        for line in fulfillment.lines
    )
    fulfilled = sum(line.quantity_fulfilled for line in order.lines) - awaiting
    if total == 0:
        return order.status
    if fulfilled <= 0:
        return OrderStatus.UNFULFILLED
    if 0 < returned < total:
        return OrderStatus.PARTIALLY_RETURNED
    if returned == total:
        return OrderStatus.RETURNED
    if fulfilled < total:
        return OrderStatus.PARTIALLY_FULFILLED
    return OrderStatus.FULFILLED


def _fulfillment_taking(
    order: Order, units: FulfillmentLine, quantity: int, statuses: Collection[FulfillmentStatus]
) -> Fulfillment:
    """The fulfilment ``units`` belong to, checked as Saleor checks a return or refund of ``quantity`` of them."""
    owner = next((f for f in order.fulfillments if any(fl is units for fl in f.lines)), None)
    if owner is None:
        # Saleor would take another order's line here; the stand-in keeps each order's books apart.
        global_id = to_global_id("FulfillmentLine", units.pk)
        raise ActionRefused(ActionError("fulfillmentLines", f"Couldn't resolve to a node: {global_id}", "NOT_FOUND"))
    if units.quantity < quantity:
        raise ActionRefused(
            ActionError(
                "fulfillmentLineId",
                "Provided quantity is bigger than quantity from fulfillment line",
                "INVALID_QUANTITY",
            )
        )
    if owner.status not in statuses:
        allowed = ", ".join(status.lower() for status in statuses)
        raise ActionRefused(
            ActionError(
                "fulfillmentLineId",
                f"Unable to process action for fulfillmentLine with different status than {allowed}.",
                "INVALID",
            )
        )
    return owner


def return_lines(
    store: Store,
    order: Order,
    lines: Sequence[tuple[FulfillmentLine, int]],
    *,
    at: datetime,
    principal: Principal | None,
) -> Fulfillment:
    """``orderFulfillmentReturnProducts`` for shipped goods, without refund or replacement.

    The quantities move out of their fulfillment lines into one new RETURNED
    fulfillment (lines of a REFUNDED fulfillment into a REFUNDED_AND_RETURNED one);
    emptied lines, and FULFILLED fulfillments left without lines, are deleted. Stock
    is not touched: a return puts nothing back on the shelf. Order lines keep their
    fulfilled quantity; the order becomes PARTIALLY_RETURNED or RETURNED. History
    FULFILLMENT_RETURNED; emits ORDER_UPDATED only.
    """
    if not lines:
        raise ValueError("a return needs at least one fulfillment line")
    owners: list[Fulfillment] = []
    requested: Counter[int] = Counter()
    for line, quantity in lines:
        if quantity <= 0:
            raise ValueError("a returned quantity must be positive")
        requested[line.pk] += quantity
        owners.append(_fulfillment_taking(order, line, requested[line.pk], _RETURNABLE_FULFILLMENTS))

    # Everything checked: apply.
    targets: dict[FulfillmentStatus, Fulfillment] = {}
    for (line, quantity), owner in zip(lines, owners, strict=True):
        status = (
            FulfillmentStatus.REFUNDED_AND_RETURNED
            if owner.status is FulfillmentStatus.REFUNDED
            else FulfillmentStatus.RETURNED
        )
        target = targets.get(status)
        if target is None:
            number = max((f.fulfillment_order for f in order.fulfillments), default=0) + 1
            # Saleor reads a fulfillment's warehouse off its first line's stock, which a returned line keeps.
            warehouse_pk = store.stocks[line.stock_pk].warehouse_pk if line.stock_pk is not None else None
            target = Fulfillment(store.next_pk("Fulfillment"), order.pk, number, status, at, warehouse_pk)
            order.fulfillments.append(target)
            targets[status] = target
        moved = next(
            (fl for fl in target.lines if (fl.order_line_pk, fl.stock_pk) == (line.order_line_pk, line.stock_pk)),
            None,
        )
        if moved is None:
            moved = FulfillmentLine(store.next_pk("FulfillmentLine"), line.order_line_pk, 0, line.stock_pk)
            target.lines.append(moved)
        moved.quantity += quantity
        line.quantity -= quantity
        if line.quantity == 0:
            owner.lines.remove(line)
    order.fulfillments = [f for f in order.fulfillments if f.lines or f.status is not FulfillmentStatus.FULFILLED]
    order.status = _order_status(order)
    order.updated_at = at
    _history(store, order, "FULFILLMENT_RETURNED", at, principal)
    _emit(store, "ORDER_UPDATED", order, at, principal)
    return targets.get(FulfillmentStatus.RETURNED) or targets[FulfillmentStatus.REFUNDED_AND_RETURNED]


# Fulfillments whose lines may be refunded (``FulfillmentRefundProducts.clean_input``), in Saleor's order.
_REFUNDABLE_FULFILLMENTS = (
    FulfillmentStatus.FULFILLED,
    FulfillmentStatus.RETURNED,
    FulfillmentStatus.WAITING_FOR_APPROVAL,
)
# ``Payment.can_refund``.
_REFUNDABLE_PAYMENTS = frozenset(
    {PaymentChargeStatus.PARTIALLY_CHARGED, PaymentChargeStatus.FULLY_CHARGED, PaymentChargeStatus.PARTIALLY_REFUNDED}
)


def refund_lines(
    store: Store,
    order: Order,
    *,
    order_lines: Sequence[tuple[OrderLine, int]] = (),
    fulfillment_lines: Sequence[tuple[FulfillmentLine, int]] = (),
    include_shipping_costs: bool = False,
    at: datetime,
    principal: Principal | None,
) -> Fulfillment:
    """``orderFulfillmentRefundProducts`` (``create_refund_fulfillment``): money back, no goods moved.

    Needs the order's last payment to be refundable (a legacy ``Payment``; an order paid
    only by transactions is refused with CANNOT_REFUND). The refunded units move into one new
    REFUNDED fulfillment under new line ids: unfulfilled units of ``order_lines`` (they count
    as fulfilled from then on, their allocations released, no stock taken) and units of
    ``fulfillment_lines``, which keep their stock; emptied lines, and FULFILLED fulfillments
    left without lines, are deleted. Stock is not touched and the order keeps its status. The
    amount is the units' gross prices (and the shipping price when asked), at most what the
    payment captured. History PAYMENT_REFUNDED, FULFILLMENT_REFUNDED; emits ORDER_REFUNDED
    (ORDER_FULLY_REFUNDED once the refunds cover the order's total) and ORDER_UPDATED.
    """
    payment = max(order.payments, key=lambda p: p.pk, default=None)  # ``Order.get_last_payment``
    if payment is None or payment.charge_status not in _REFUNDABLE_PAYMENTS:
        raise ActionRefused(ActionError("order", "Order cannot be refunded.", "CANNOT_REFUND"))
    for line, quantity in order_lines:
        if line not in order.lines:
            raise ActionRefused(ActionError("orderLines", "Couldn't resolve to a node.", "NOT_FOUND"))
        if line.quantity < quantity:
            raise ActionRefused(
                ActionError(
                    "orderLineId", "Provided quantity is bigger than quantity from order line.", "INVALID_QUANTITY"
                )
            )
        if line.quantity_unfulfilled < quantity:
            raise ActionRefused(
                ActionError("orderLineId", "Provided quantity is bigger than unfulfilled quantity.", "INVALID_QUANTITY")
            )
    owners: list[Fulfillment] = []
    for units, quantity in fulfillment_lines:
        owners.append(_fulfillment_taking(order, units, quantity, _REFUNDABLE_FULFILLMENTS))

    # Everything checked: apply.
    prices = {line.pk: line.unit_price_gross for line in order.lines}
    amount = sum((prices[line.pk] * quantity for line, quantity in order_lines), Decimal(0))
    amount += sum((prices[units.order_line_pk] * quantity for units, quantity in fulfillment_lines), Decimal(0))
    if include_shipping_costs:
        amount += order.shipping_price_gross
    amount = min(payment.captured_amount, amount)
    number = max((f.fulfillment_order for f in order.fulfillments), default=0) + 1
    target = Fulfillment(store.next_pk("Fulfillment"), order.pk, number, FulfillmentStatus.REFUNDED, at, None)
    work = _StockWork(store)
    for line, quantity in order_lines:
        unfulfilled = min(line.quantity_unfulfilled, quantity)
        line.quantity_fulfilled += unfulfilled
        target.lines.append(FulfillmentLine(store.next_pk("FulfillmentLine"), line.pk, unfulfilled))
        work.deallocate(line, unfulfilled)
    work.commit()
    for (units, quantity), owner in zip(fulfillment_lines, owners, strict=True):
        moved = next(
            (fl for fl in target.lines if (fl.order_line_pk, fl.stock_pk) == (units.order_line_pk, units.stock_pk)),
            None,
        )
        if moved is None:
            moved = FulfillmentLine(store.next_pk("FulfillmentLine"), units.order_line_pk, 0, units.stock_pk)
            target.lines.append(moved)
        moved.quantity += quantity
        units.quantity -= quantity
        if units.quantity == 0:
            owner.lines.remove(units)
    # Saleor reads a fulfillment's warehouse off its first line's stock.
    first = target.lines[0] if target.lines else None
    if first is not None and first.stock_pk is not None:
        target.warehouse_pk = store.stocks[first.stock_pk].warehouse_pk
    order.fulfillments.append(target)
    order.fulfillments = [
        f
        for f in order.fulfillments
        if f.lines or f.status not in (FulfillmentStatus.FULFILLED, FulfillmentStatus.WAITING_FOR_APPROVAL)
    ]
    order.updated_at = at
    if amount:
        _refund_payment(payment, amount, at)
        _history(store, order, "PAYMENT_REFUNDED", at, principal)
        _emit(store, "ORDER_REFUNDED", order, at, principal)
        refunded = payment.refunded_amount + sum((t.refunded_amount for t in order.transactions), Decimal(0))
        if refunded >= order.total_gross:
            _emit(store, "ORDER_FULLY_REFUNDED", order, at, principal)
    _history(store, order, "FULFILLMENT_REFUNDED", at, principal)
    _emit(store, "ORDER_UPDATED", order, at, principal)
    return target


def _refund_payment(payment: Payment, amount: Decimal, at: datetime) -> None:
    """``gateway.refund`` then ``gateway_postprocess`` for a successful REFUND transaction."""
    payment.refunded_amount += amount
    payment.captured_amount -= amount
    payment.charge_status = PaymentChargeStatus.PARTIALLY_REFUNDED
    if payment.captured_amount <= 0:
        payment.captured_amount = Decimal(0)
        payment.charge_status = PaymentChargeStatus.FULLY_REFUNDED
        payment.is_active = False
    payment.modified_at = at


def cancel_fulfillment(
    store: Store,
    order: Order,
    fulfillment: Fulfillment,
    *,
    warehouse: Warehouse | None,
    at: datetime,
    principal: Principal | None,
) -> None:
    """``orderFulfillmentCancel``: shipped goods go back on ``warehouse``'s shelf, held for their lines again.

    The fulfillment becomes CANCELED, its units count as unfulfilled again and the order's
    status follows. One still awaiting approval took no stock: it is deleted, and needs no
    warehouse. A cancelled fulfillment is refused (CANNOT_CANCEL_FULFILLMENT), and so is any
    other without a warehouse (REQUIRED). History FULFILLMENT_CANCELED (then
    FULFILLMENT_RESTOCKED_ITEMS); emits FULFILLMENT_CANCELED and ORDER_UPDATED.
    """
    if fulfillment.status is FulfillmentStatus.CANCELED:
        raise ActionRefused(
            ActionError("fulfillment", "This fulfillment can't be canceled", "CANNOT_CANCEL_FULFILLMENT")
        )
    waiting = fulfillment.status is FulfillmentStatus.WAITING_FOR_APPROVAL
    if warehouse is None and not waiting:
        raise ActionRefused(
            ActionError(
                "warehouseId",
                "This parameter is required for fulfillments which are not in WAITING_FOR_APPROVAL state.",
                "REQUIRED",
            )
        )

    # Everything checked: apply.
    restock_to = None if waiting else warehouse
    _history(store, order, "FULFILLMENT_CANCELED", at, principal)
    order_lines = {line.pk: line for line in order.lines}
    for line in fulfillment.lines:
        order_line = order_lines[line.order_line_pk]
        order_line.quantity_fulfilled -= line.quantity
        if restock_to is not None:
            _restock(store, order_line, restock_to, line.quantity)
    if waiting:
        order.fulfillments.remove(fulfillment)
    else:
        fulfillment.status = FulfillmentStatus.CANCELED
        _history(store, order, "FULFILLMENT_RESTOCKED_ITEMS", at, principal)
    order.status = _order_status(order)
    order.updated_at = at
    _emit(store, "FULFILLMENT_CANCELED", fulfillment, at, principal)
    _emit(store, "ORDER_UPDATED", order, at, principal)


def _restock(store: Store, line: OrderLine, warehouse: Warehouse, quantity: int) -> None:
    """``increase_stock(..., allocate=True)``: the units back in the warehouse's stock, allocated to their line."""
    variant = store.variants.get(line.variant_pk) if line.variant_pk is not None else None
    if variant is None or not variant.track_inventory:
        return
    stock = store.stock_for(warehouse.pk, variant.pk) or store.set_stock(warehouse, variant, 0)
    stock.quantity += quantity
    stock.quantity_allocated += quantity
    allocation = next((a for a in line.allocations if a.stock_pk == stock.pk), None)
    if allocation is None:
        line.allocations.append(Allocation(store.next_pk("Allocation"), stock.pk, quantity))
    else:
        allocation.quantity_allocated += quantity


def update_tracking(
    store: Store,
    order: Order,
    fulfillment: Fulfillment,
    tracking_number: str | None,
    *,
    at: datetime,
    principal: Principal | None,
) -> None:
    """``orderFulfillmentUpdateTracking``: FULFILLMENT_TRACKING_NUMBER_UPDATED and ORDER_UPDATED."""
    fulfillment.tracking_number = tracking_number or ""
    order.updated_at = at
    _history(store, order, "TRACKING_UPDATED", at, principal)
    _emit(store, "FULFILLMENT_TRACKING_NUMBER_UPDATED", fulfillment, at, principal)
    _emit(store, "ORDER_UPDATED", order, at, principal)


def add_note(store: Store, order: Order, message: str, *, at: datetime, principal: Principal | None) -> OrderEvent:
    """``orderNoteAdd``: a NOTE_ADDED event; ORDER_UPDATED follows (a draft's update event is not modelled)."""
    text = message.strip()
    if not text:
        raise ActionRefused(ActionError("message", "Message can't be empty.", "REQUIRED"))
    event = _history(store, order, "NOTE_ADDED", at, principal, text)
    if order.status is not OrderStatus.DRAFT:
        _emit(store, "ORDER_UPDATED", order, at, principal)
    return event


# Types whose metadata the stand-in keeps; each has ``metadata`` and ``private_metadata`` dicts.
METADATA_TYPES = frozenset(
    {
        "App",
        "User",
        "Order",
        "OrderLine",
        "Fulfillment",
        "Product",
        "ProductVariant",
        "Warehouse",
        "TransactionItem",
        "Payment",
    }
)


def write_metadata(
    store: Store,
    node: Node,
    items: Sequence[tuple[str, str]],
    *,
    private: bool,
    at: datetime,
    principal: Principal | None,
) -> None:
    """``updateMetadata`` / ``updatePrivateMetadata``: merge the keys; only *_METADATA_UPDATED follows."""
    if any(not key.strip() for key, _ in items):
        raise ActionRefused(ActionError("input", "Metadata key cannot be empty.", "REQUIRED"))
    target = getattr(node, "private_metadata" if private else "metadata")
    target.update(dict(items))
    if isinstance(node, Order):
        _emit(store, "ORDER_METADATA_UPDATED", node, at, principal)
    elif isinstance(node, Fulfillment):
        _emit(store, "FULFILLMENT_METADATA_UPDATED", node, at, principal)
