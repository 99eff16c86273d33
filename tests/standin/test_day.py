"""A seeded day of orders: the same for the same seed, holding every pattern asked for, and taken by the real app."""

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI

from app.demo import _demo_shipping
from app.services.shipping.model import CheckoutOption
from app.services.shipping.quoting import ShippingQuoter
from app.standin.day import Catalogue, Step, plan_day, seed_store
from app.standin.facade import StandIn
from app.standin.state import FulfillmentStatus, Order, OrderStatus, PaymentChargeStatus, Store, to_global_id
from tests.builders import SHOP_API_URL
from tests.fakes.checkout_shipping import FakeCheckoutShipping, answer_checkouts_with
from tests.fakes.in_memory import InMemorySettingsStore
from tests.fakes.shipping import InMemoryRateTableStore
from tests.standin.conftest import MANIFEST_URL

DAY = date(2026, 11, 25)
DISPOSABLE = {"mailinator.com", "guerrillamail.com", "yopmail.com", "sharklasers.com", "10minutemail.com"}
FAILED_AVS = {"A", "Z", "N"}


def play(seed: int, orders: int, day: date = DAY) -> tuple[Store, Catalogue, list[Step]]:
    store = Store()
    catalogue = seed_store(store, seed=seed, day=day)
    steps = plan_day(store, catalogue, seed=seed, orders=orders, day=day)
    for step in steps:
        step.apply(store)
    return store, catalogue, steps


def by_number(store: Store) -> list[Order]:
    return sorted(store.orders.values(), key=lambda order: order.number)


def fingerprint(store: Store) -> list[tuple[Any, ...]]:
    return [
        (
            order.pk,
            order.number,
            order.user_email,
            order.total_gross,
            order.status,
            [line.pk for line in order.lines],
            [transaction.token for transaction in order.transactions],
            [(f.status, f.warehouse_pk, f.tracking_number) for f in order.fulfillments],
        )
        for order in by_number(store)
    ]


def payment_signals(order: Order) -> dict[str, str]:
    """The card checks the payment app left on the order's transaction, or its plugin on the payment."""
    if order.transactions:
        return order.transactions[0].metadata
    return order.payments[0].metadata if order.payments else {}


def marked_as_paid(order: Order) -> bool:
    """Staff marked it as paid (the channel's PAYMENT_FLOW): a payment of Saleor's "manual" gateway."""
    return any(p.gateway == "manual" for p in order.payments)


def first_paid_at(order: Order) -> datetime:
    return min([t.created_at for t in order.transactions] + [p.created_at for p in order.payments])


class TestSeedStore:
    def test_a_small_shop_that_holds_new_orders_for_screening(self) -> None:
        store = Store()
        catalogue = seed_store(store, seed=1, day=DAY)

        assert (catalogue.channel.currency_code, catalogue.channel.automatically_confirm_all_new_orders) == (
            "USD",
            False,
        )
        assert len(catalogue.items) >= 12
        assert len({item.category for item in catalogue.items}) >= 3
        margins = []
        for item in catalogue.items:
            listing = item.variant.listing_in(catalogue.channel.pk)
            assert listing is not None
            assert listing.cost_price is not None
            assert Decimal(0) < listing.cost_price < listing.price
            assert item.variant.weight_kg
            margins.append((listing.price - listing.cost_price) / listing.price)
        assert min(margins) < Decimal("0.25") < Decimal("0.6") < max(margins)  # thin and fat

        assert (catalogue.main.name, catalogue.main.address.city) == ("Main warehouse", "Austin")
        assert catalogue.tpl.name == "ShipHero 3PL"
        assert catalogue.tpl.address.city not in {"", "Austin"}
        at_main = {s.variant_pk for s in store.stocks_in_warehouse(catalogue.main.pk)}
        at_tpl = {s.variant_pk for s in store.stocks_in_warehouse(catalogue.tpl.pk)}
        assert at_tpl - at_main, "some SKUs only at the 3PL"
        assert at_main & at_tpl, "some SKUs in both"
        assert any(s.quantity <= 6 for s in store.stocks.values()), "a few low"
        assert all(s.quantity > 0 and s.quantity_allocated == 0 for s in store.stocks.values())

        methods = sorted(catalogue.shipping.values(), key=lambda m: m.price)
        assert [m.name.split(" ")[0] for m in methods] == ["Standard", "Express", "Overnight"]
        assert [m.maximum_delivery_days for m in methods] == [5, 2, 1]
        assert set(store.shipping_methods.values()) == set(methods)

        assert len(catalogue.shoppers) == 40
        assert len({s.customer.email for s in catalogue.shoppers}) == 40
        returning = [s for s in catalogue.shoppers if s.returning]
        assert 15 <= len(returning) < 40
        assert all(s.account_age_days >= 60 for s in returning)
        assert all(s.account_age_days <= 3 for s in catalogue.shoppers if not s.returning)
        assert {r.city for r in catalogue.reshippers} == {"Miami", "Portland"}
        assert store.outbox == []

    def test_the_same_seed_makes_the_same_shop_and_another_seed_another(self) -> None:
        def shop(seed: int) -> tuple[Any, ...]:
            store = Store()
            catalogue = seed_store(store, seed=seed, day=DAY)
            return (
                sorted(store.warehouses),
                [(s.warehouse_pk, s.variant_pk, s.quantity) for s in store.stocks.values()],
                [(item.variant.sku, item.variant.listings[0].cost_price) for item in catalogue.items],
                [(s.customer.email, s.prior_orders, s.card) for s in catalogue.shoppers],
            )

        assert shop(11) == shop(11)
        assert shop(11) != shop(12)


class TestDeterminism:
    def test_the_same_seed_day_and_orders_give_the_same_day(self) -> None:
        first_store, _, first = play(seed=7, orders=40)
        second_store, _, second = play(seed=7, orders=40)
        assert [(s.at, s.kind, s.description) for s in first] == [(s.at, s.kind, s.description) for s in second]
        assert fingerprint(first_store) == fingerprint(second_store)

    def test_another_seed_or_day_gives_another_day(self) -> None:
        store, _, steps = play(seed=7, orders=40)
        other_store, _, other_seed = play(seed=8, orders=40)
        _, _, other_day = play(seed=7, orders=40, day=DAY + timedelta(days=1))
        descriptions = [s.description for s in steps]
        assert descriptions != [s.description for s in other_seed]
        assert descriptions != [s.description for s in other_day]
        assert set(store.orders).isdisjoint(other_store.orders)


class TestTimeline:
    @pytest.mark.parametrize("orders", [0, 1, 2, 8, 13, 40, 120])
    def test_steps_stay_within_the_day_in_order_and_stock_never_goes_negative(self, orders: int) -> None:
        store = Store()
        catalogue = seed_store(store, seed=3, day=DAY)
        steps = plan_day(store, catalogue, seed=3, orders=orders, day=DAY)
        start = datetime(2026, 11, 25, tzinfo=UTC)
        times = [step.at for step in steps]
        assert all(start <= at < start + timedelta(days=1) and at.utcoffset() == timedelta(0) for at in times)
        assert times == sorted(times)
        kinds = {"order", "payment", "confirm", "fulfilment", "cancel", "return", "fulfilment-cancel", "refund"}
        assert {step.kind for step in steps} <= kinds
        for step in steps:
            step.apply(store)
            assert all(0 <= s.quantity_allocated <= s.quantity for s in store.stocks.values()), step.description
        assert [order.number for order in by_number(store)] == list(range(1, orders + 1))
        assert sum(step.kind == "order" for step in steps) == orders

    def test_a_store_that_already_has_orders_numbers_on_from_them(self) -> None:
        store = Store()
        catalogue = seed_store(store, seed=3, day=DAY)
        for step in plan_day(store, catalogue, seed=3, orders=5, day=DAY):
            step.apply(store)
        later = plan_day(store, catalogue, seed=3, orders=5, day=DAY + timedelta(days=1))
        for step in later:
            step.apply(store)
        assert [order.number for order in by_number(store)] == list(range(1, 11))
        assert later[0].description.startswith("#6 ")

    def test_a_step_applied_twice_is_refused(self) -> None:
        store = Store()
        catalogue = seed_store(store, seed=3, day=DAY)
        first, *_ = plan_day(store, catalogue, seed=3, orders=3, day=DAY)
        first.apply(store)
        with pytest.raises(RuntimeError, match="apply each step once"):
            first.apply(store)


def velocity_clusters(orders: list[Order]) -> list[list[Order]]:
    """Three or more orders sharing an email, a card or an IP within 30 minutes."""
    keys: dict[tuple[str, str], list[Order]] = {}
    for order in orders:
        signals = payment_signals(order)
        keys.setdefault(("email", order.user_email or ""), []).append(order)
        if signals:
            keys.setdefault(("card", signals["card_bin"] + signals["card_last4"]), []).append(order)
            keys.setdefault(("ip", signals["customer_ip"]), []).append(order)
    clusters = []
    for group in keys.values():
        group.sort(key=lambda o: o.created_at)
        for i in range(len(group) - 2):
            window = [o for o in group[i:] if o.created_at - group[i].created_at <= timedelta(minutes=30)]
            if len(window) >= 3:
                clusters.append(window)
    return clusters


@pytest.fixture(scope="module", params=[1, 2, 3, 4, 5])
def day(request: pytest.FixtureRequest) -> tuple[Store, Catalogue, list[Step]]:
    """A day of 40 orders, played once per seed; the tests only read it."""
    return play(seed=request.param, orders=40)


class TestTheDayHoldsEveryPattern:
    def test_ordinary_orders_from_returning_and_new_customers(self, day: tuple[Store, Catalogue, list[Step]]) -> None:
        store, catalogue, _ = day
        orders = by_number(store)
        returning = {s.customer.pk for s in catalogue.shoppers if s.returning}
        new = {s.customer.pk for s in catalogue.shoppers if not s.returning}
        good_returning = [
            o
            for o in orders
            if o.user_pk in returning
            and o.is_fully_paid()
            and payment_signals(o).get("avs_result") == "Y"
            and o.status is OrderStatus.FULFILLED
        ]
        assert len(good_returning) >= 5
        assert any(o.user_pk in new or o.user_pk is None for o in orders if o.is_fully_paid())
        assert all(o.channel_pk == catalogue.channel.pk and o.shipping_method is not None for o in orders)

    def test_orders_arrive_held_and_most_are_paid_within_minutes(
        self, day: tuple[Store, Catalogue, list[Step]]
    ) -> None:
        store, _, _ = day
        orders = by_number(store)
        assert all(o.events[0].type == "PLACED" for o in orders)
        created = Counter(e.event for e in store.outbox)
        assert created["ORDER_CREATED"] == 40
        assert "ORDER_CONFIRMED" in created  # confirmed on review or as the parcel is packed, never on creation
        paid = [o for o in orders if o.transactions or o.payments]
        assert len(paid) >= 30
        assert created["ORDER_FULLY_PAID"] == len(paid)
        by_card = [o for o in paid if not marked_as_paid(o)]
        assert all(first_paid_at(o) - o.created_at < timedelta(minutes=5) for o in by_card)
        keys = {"avs_result", "cvv_result", "card_brand", "card_bin", "card_last4", "customer_ip"}
        assert all(keys <= payment_signals(o).keys() for o in by_card)
        # Mark as paid sends no ORDER_PAID: only orders a payment app charged do.
        assert created["ORDER_PAID"] == len(by_card)

    def test_some_orders_are_paid_at_checkout_and_some_marked_as_paid_by_staff(
        self, day: tuple[Store, Catalogue, list[Step]]
    ) -> None:
        store, _, _ = day
        orders = by_number(store)
        at_checkout = [o for o in orders if o.transactions and o.transactions[0].created_at == o.created_at]
        marked = [o for o in orders if marked_as_paid(o)]
        assert at_checkout
        assert marked
        assert all(
            (p.gateway, p.charge_status.value) == ("manual", "FULLY_CHARGED") for o in marked for p in o.payments
        )
        assert all(not o.transactions for o in marked)
        assert any(e.type == "ORDER_MARKED_AS_PAID" for o in marked for e in o.events)

    def test_some_never_pay_and_some_are_cancelled(self, day: tuple[Store, Catalogue, list[Step]]) -> None:
        store, _, _ = day
        orders = by_number(store)
        assert any(not o.transactions and not o.payments and o.status is not OrderStatus.CANCELED for o in orders)
        cancelled = [o for o in orders if o.status is OrderStatus.CANCELED]
        assert cancelled
        assert all(a.quantity_allocated == 0 for o in cancelled for line in o.lines for a in line.allocations)

    def test_shipments_whole_split_across_warehouses_and_partial(
        self, day: tuple[Store, Catalogue, list[Step]]
    ) -> None:
        store, catalogue, _ = day
        orders = by_number(store)
        assert any(o.status is OrderStatus.FULFILLED and len(o.fulfillments) == 1 for o in orders)
        warehouses_of = [{f.warehouse_pk for f in o.fulfillments if f.warehouse_pk} for o in orders]
        assert {catalogue.main.pk, catalogue.tpl.pk} in warehouses_of
        assert any(o.status is OrderStatus.PARTIALLY_FULFILLED for o in orders)
        events = Counter(e.event for e in store.outbox)
        assert events["FULFILLMENT_CREATED"] > events["ORDER_FULFILLED"] > 0
        # Cost of goods is booked from stock that left the shelves.
        shipped = sum(
            line.quantity
            for o in orders
            for f in o.fulfillments
            if f.status is not FulfillmentStatus.CANCELED
            for line in f.lines
        )
        assert shipped == sum(line.quantity_fulfilled for o in orders for line in o.lines) > 0

    def test_a_few_shipped_lines_come_back(self, day: tuple[Store, Catalogue, list[Step]]) -> None:
        store, catalogue, steps = day
        returned = [o for o in store.orders.values() if o.status is OrderStatus.PARTIALLY_RETURNED]
        assert len(returned) == sum(step.kind == "return" for step in steps) >= 2
        for order in returned:
            (back,) = [f for f in order.fulfillments if f.status is FulfillmentStatus.RETURNED]
            assert [line.quantity for line in back.lines] == [1]
            assert back.warehouse_pk in {catalogue.main.pk, catalogue.tpl.pk}  # where the goods had left from
            assert order.events[-1].type == "FULFILLMENT_RETURNED"

    def test_a_few_orders_paid_through_a_card_plugin_get_a_unit_refunded_without_a_return(
        self, day: tuple[Store, Catalogue, list[Step]]
    ) -> None:
        store, catalogue, steps = day
        refunded = [o for o in by_number(store) if any(f.status is FulfillmentStatus.REFUNDED for f in o.fulfillments)]
        assert len(refunded) == sum(step.kind == "refund" for step in steps) >= 1
        for order in refunded:
            (back,) = [f for f in order.fulfillments if f.status is FulfillmentStatus.REFUNDED]
            assert [line.quantity for line in back.lines] == [1]
            assert back.warehouse_pk in {catalogue.main.pk, catalogue.tpl.pk}  # the unit left from there
            (payment,) = order.payments
            assert payment.charge_status is PaymentChargeStatus.PARTIALLY_REFUNDED
            assert payment.captured_amount == order.total_gross - order.lines[0].unit_price_gross
            assert "FULFILLMENT_REFUNDED" in [event.type for event in order.events]
        events = Counter(e.event for e in store.outbox)
        assert events["ORDER_REFUNDED"] == len(refunded)

    def test_a_few_parcels_are_called_back_and_leave_again_or_wait_for_tomorrow(
        self, day: tuple[Store, Catalogue, list[Step]]
    ) -> None:
        store, _, steps = day
        called_back = [
            o for o in by_number(store) if any(f.status is FulfillmentStatus.CANCELED for f in o.fulfillments)
        ]
        assert len(called_back) == sum(step.kind == "fulfilment-cancel" for step in steps) >= 1
        for order in called_back:
            (cancelled,) = [f for f in order.fulfillments if f.status is FulfillmentStatus.CANCELED]
            assert "FULFILLMENT_RESTOCKED_ITEMS" in [event.type for event in order.events]
            again = [f for f in order.fulfillments if f.created_at > cancelled.created_at]
            if again:
                assert order.status is OrderStatus.FULFILLED
                assert [f.warehouse_pk for f in again] == [cancelled.warehouse_pk]
            else:
                # Back on the shelf and held for the order until tomorrow's wave.
                assert order.status is OrderStatus.UNFULFILLED
                assert all(sum(a.quantity_allocated for a in line.allocations) == line.quantity for line in order.lines)
        events = Counter(e.event for e in store.outbox)
        assert events["FULFILLMENT_CANCELED"] == len(called_back)

    def test_card_testing_many_small_orders_from_one_email_within_half_an_hour(
        self, day: tuple[Store, Catalogue, list[Step]]
    ) -> None:
        store, _, _ = day
        clusters = velocity_clusters(by_number(store))
        assert clusters
        assert any(all(o.total_gross < 30 for o in cluster) for cluster in clusters)

    def test_disposable_email_forwarder_and_country_mismatch(self, day: tuple[Store, Catalogue, list[Step]]) -> None:
        store, catalogue, _ = day
        orders = by_number(store)
        assert any((o.user_email or "").rpartition("@")[2] in DISPOSABLE for o in orders)
        forwarders = {(r.street_address1, r.postal_code) for r in catalogue.reshippers}
        assert any(
            o.shipping_address and (o.shipping_address.street_address1, o.shipping_address.postal_code) in forwarders
            for o in orders
        )
        assert any(
            o.billing_address and o.shipping_address and o.billing_address.country != o.shipping_address.country
            for o in orders
        )

    def test_card_checks_that_fail(self, day: tuple[Store, Catalogue, list[Step]]) -> None:
        store, _, _ = day
        signals = [payment_signals(o) for o in by_number(store) if o.transactions]
        assert any(s["avs_result"] in FAILED_AVS for s in signals)
        assert any(s["cvv_result"] == "N" for s in signals)
        assert all(s["avs_result"] in "YAZNUGRS" and s["cvv_result"] in "MNPU" for s in signals)

    def test_a_high_value_first_order_sent_overnight(self, day: tuple[Store, Catalogue, list[Step]]) -> None:
        store, catalogue, _ = day
        orders = by_number(store)
        first_timers = {s.customer.pk for s in catalogue.shoppers if not s.returning}
        emails = Counter(o.user_email for o in orders)
        assert any(
            o.total_gross >= 500
            and o.shipping_method is catalogue.shipping["overnight"]
            and (o.user_pk is None or o.user_pk in first_timers)
            and emails[o.user_email] == 1
            for o in orders
        )


class TestSmallDays:
    @pytest.mark.parametrize("orders", [2, 5, 8, 12])
    def test_one_order_carries_the_patterns_when_there_are_few(self, orders: int) -> None:
        store, catalogue, _ = play(seed=9, orders=orders)
        (combined,) = [o for o in store.orders.values() if (o.user_email or "").rpartition("@")[2] in DISPOSABLE]
        assert combined.shipping_method is catalogue.shipping["overnight"]
        assert combined.billing_address is not None
        assert combined.shipping_address is not None
        assert combined.billing_address.country != combined.shipping_address.country
        assert combined.shipping_address.city in {r.city for r in catalogue.reshippers}
        assert bool(velocity_clusters(by_number(store))) is (orders >= 8)


class TestCheckout:
    def test_ordinary_shoppers_check_out_and_the_fraud_patterns_orders_are_placed_as_they_are(self) -> None:
        store, catalogue, steps = play(seed=9, orders=12)
        order_steps = [step for step in steps if step.kind == "order"]
        checked_out = [step for step in order_steps if step.shop is not None]
        assert 0 < len(checked_out) < len(order_steps)
        assert all("checks out wanting" in step.description for step in checked_out)
        assert store.checkouts == {}
        # With no app to ask, each shopper takes the shop's own method of the speed they want.
        assert all(order.shipping_method in catalogue.shipping.values() for order in store.orders.values())


class TestThroughTheApp:
    async def test_every_event_of_a_small_day_reaches_the_app_signed_and_is_taken(
        self, ops: FastAPI, standin: StandIn
    ) -> None:
        await standin.install(MANIFEST_URL)
        catalogue = seed_store(standin.store, seed=5, day=DAY)
        steps = plan_day(standin.store, catalogue, seed=5, orders=8, day=DAY)
        deliveries = []
        for step in steps:
            await step.play(standin.store, standin.list_delivery_methods)
            deliveries += await standin.deliver_pending()

        assert [d.response.status_code for d in deliveries if not d.response.is_success] == []
        # Two events of one order in one step share an issuedAt on the step's clock: the second is
        # taken for a redelivery. Each (event, order, issuedAt) is recorded exactly once.
        statuses = Counter(d.response.json()["status"] for d in deliveries)
        assert set(statuses) <= {"recorded", "duplicate"}
        occurrences = {(d.event, json.loads(d.body)["order"]["id"], json.loads(d.body)["issuedAt"]) for d in deliveries}
        assert statuses["recorded"] == len(occurrences)
        delivered = Counter(d.event for d in deliveries)
        orders = list(standin.store.orders.values())
        assert delivered["ORDER_CREATED"] == len(orders) == 8
        assert delivered["ORDER_FULLY_PAID"] == sum(o.is_fully_paid() for o in orders)
        assert delivered["ORDER_FULFILLED"] >= 1

    async def test_shoppers_choose_among_the_apps_options_and_the_orders_carry_their_choice(
        self, ops: FastAPI, standin: StandIn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        quoting = FakeCheckoutShipping(
            [
                CheckoutOption("standard", "Standard, arrives Mon 30 Nov", Decimal("4.50"), "USD", 3, 5, None),
                CheckoutOption("expedited", "Expedited, arrives Fri 27 Nov", Decimal("11.00"), "USD", 1, 2, None),
                CheckoutOption("overnight", "Overnight, arrives Thu 26 Nov", Decimal("19.00"), "USD", 1, 1, None),
            ]
        )
        answer_checkouts_with(monkeypatch, quoting)
        await standin.install(MANIFEST_URL)
        catalogue = seed_store(standin.store, seed=5, day=DAY)
        deliveries = []
        for step in plan_day(standin.store, catalogue, seed=5, orders=8, day=DAY):
            await step.play(standin.store, standin.list_delivery_methods)
            deliveries += await standin.deliver_pending()

        assert [d.response.status_code for d in deliveries if not d.response.is_success] == []
        orders = by_number(standin.store)
        chose_the_apps = [o for o in orders if o.shipping_method and o.shipping_method.external_id]
        own = [o for o in orders if o not in chose_the_apps]
        assert chose_the_apps, "some shoppers took the app's options"
        assert len(quoting.asked) == len(chose_the_apps)  # one listing per checkout, each taking an app's option
        assert all(o.shipping_method in catalogue.shipping.values() for o in own)  # the fraud patterns' own
        assert standin.store.checkouts == {}
        for order in chose_the_apps:
            assert order.shipping_method is not None
            assert order.private_metadata["external_app_shipping_id"] == order.shipping_method.external_id
            assert order.shipping_price_gross in {Decimal("4.50"), Decimal("11.00"), Decimal("19.00")}
            charged = sum((t.charged_amount for t in order.transactions), Decimal(0))
            assert charged in {Decimal(0), order.total_gross}, "what was charged is the total with the chosen shipping"

        # Boxed products reach the app with their packed size in the attributes the demo's settings name, coffee
        # bags without (their product type's size), and the demo's quoter packs them by it.
        lines = [line for _, cart, _ in quoting.asked for line in cart.lines]
        sized = {line.sku: [r.slug for r in line.attributes if r.values] for line in lines}
        assert len({sku[:3] for sku in sized if sku}) > 1, "a day asks for coffee and for boxed products"
        assert {sku for sku, slugs in sized.items() if slugs == ["length", "width", "height"]} == {
            sku for sku in sized if sku and not sku.startswith("COF-")
        }
        settings = InMemorySettingsStore()
        settings.values[(SHOP_API_URL, "shipping")] = _demo_shipping(catalogue)
        quoter = ShippingQuoter(settings, InMemoryRateTableStore())
        for _, cart, asked_at in quoting.asked:
            explanation = await quoter.explain(SHOP_API_URL, cart, asked_at)
            assert explanation.quotes is not None, explanation.problem
            units = [packed for parcel in explanation.quotes.parcels for packed in parcel.contents]
            for packed in units:
                source = "product type Coffee's default size" if packed.line_id.startswith("COF-") else "attributes"
                assert f" from {source}" in packed.unit, packed


def test_staff_ship_only_what_a_routing_plan_leaves_to_their_own_warehouse() -> None:
    store = Store()
    catalogue = seed_store(store, seed=7, day=DAY)
    steps = plan_day(store, catalogue, seed=7, orders=20, day=DAY)
    main, tpl = (to_global_id("Warehouse", w.pk) for w in (catalogue.main, catalogue.tpl))
    index = next(
        i
        for i, step in enumerate(steps)
        if step.kind == "fulfilment" and step.description.startswith(f"{catalogue.main.name} ships")
    )
    for step in steps[:index]:
        step.apply(store)
    number = int(steps[index].description.split("#")[1].split(":")[0])
    order = next(o for o in store.orders.values() if o.number == number)
    first, *others = order.lines
    # A routing app leaves one unit of the first line to the staff; the rest goes to a 3PL partner.
    plan = [{"lineId": to_global_id("OrderLine", first.pk), "quantity": 1, "source": {"kind": "in_house", "id": main}}]
    plan += [
        {"lineId": to_global_id("OrderLine", line.pk), "quantity": line.quantity, "source": {"kind": "3pl", "id": tpl}}
        for line in others
    ]
    order.private_metadata["ops.routing"] = json.dumps({"v": 1, "plan": plan, "shipments": 2, "explanation": []})

    steps[index].apply(store)

    (fulfillment,) = order.fulfillments
    assert fulfillment.warehouse_pk == catalogue.main.pk
    assert [(units.order_line_pk, units.quantity) for units in fulfillment.lines] == [(first.pk, 1)]
