"""An order webhook's payload read as costing needs it: lines priced and costed, fulfilments with their units."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.services.order_costing import CostedLine, FulfilledUnits, FulfillmentView
from app.webhooks.order_fulfillments import order_fulfillments
from app.webhooks.payloads import OrderEventPayload
from tests.builders import body_of, fulfillment_payload, order_line_payload, order_payload, variant_payload

MUG = "T3JkZXJMaW5lOjE="
TEE = "T3JkZXJMaW5lOjI="


def parsed(**order: Any) -> OrderEventPayload:
    return OrderEventPayload.model_validate_json(body_of(order_payload(typename="FulfillmentCreated", **order)))


class TestOrderFulfillments:
    def test_a_line_carries_its_net_price_sku_product_type_and_cost_in_the_orders_channel(self) -> None:
        line = order_line_payload(
            line_id=MUG,
            sku="MUG-BLUE",
            quantity=3,
            unit_price="12.30",
            unit_price_net="10.00",
            variant=variant_payload(
                sku="MUG-BLUE",
                product_type="Drinkware",
                cost_prices={"eu-channel": "3.90", "default-channel": "4.10"},
            ),
        )
        view = order_fulfillments(parsed(lines=[line]).order)

        assert (view.order_id, view.number, view.currency) == ("T3JkZXI6MQ==", "1001", "USD")
        assert view.lines == (
            CostedLine(
                id=MUG,
                sku="MUG-BLUE",
                variant_id="UHJvZHVjdFZhcmlhbnQ6MQ==",
                product_type="Drinkware",
                quantity=3,
                unit_price_net=Decimal("10.00"),
                cost_price=Decimal("4.10"),
            ),
        )
        assert view.fulfillments == ()

    def test_falls_back_to_the_variants_sku_and_the_gross_price(self) -> None:
        line = order_line_payload(sku=None, unit_price="24.00", variant=variant_payload(sku="TEE-M", product_type=None))
        (costed,) = order_fulfillments(parsed(lines=[line]).order).lines
        assert (costed.sku, costed.item, costed.unit_price_net) == ("TEE-M", "TEE-M", Decimal("24.00"))
        assert (costed.product_type, costed.cost_price) == (None, None)

    def test_a_deleted_variant_leaves_what_the_line_kept(self) -> None:
        line = order_line_payload(sku=None, variant_id="UHJvZHVjdFZhcmlhbnQ6OQ==", variant=None)
        (costed,) = order_fulfillments(parsed(lines=[line]).order).lines
        assert (costed.sku, costed.variant_id, costed.item) == (None, "UHJvZHVjdFZhcmlhbnQ6OQ==", costed.variant_id)
        assert (costed.product_type, costed.cost_price) == (None, None)

    def test_each_fulfilment_names_its_warehouse_status_time_and_units(self) -> None:
        shipped = fulfillment_payload(
            fulfillment_id="RnVsZmlsbG1lbnQ6MQ==",
            warehouse_id="V2FyZWhvdXNlOjE=",
            lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", MUG, 2), ("RnVsZmlsbG1lbnRMaW5lOjI=", TEE, 1)],
        )
        returned = fulfillment_payload(
            fulfillment_id="RnVsZmlsbG1lbnQ6Mg==",
            status="RETURNED",
            created="2026-11-27T09:30:00+00:00",
            warehouse_id=None,
            lines=[("RnVsZmlsbG1lbnRMaW5lOjM=", MUG, 1)],
        )
        lines = [order_line_payload(line_id=MUG, quantity=2), order_line_payload(line_id=TEE, sku="TEE-M")]

        view = order_fulfillments(parsed(lines=lines, fulfillments=[shipped, returned]).order)

        assert view.fulfillments == (
            FulfillmentView(
                id="RnVsZmlsbG1lbnQ6MQ==",
                status="FULFILLED",
                created=datetime(2026, 11, 26, 15, tzinfo=UTC),
                warehouse_id="V2FyZWhvdXNlOjE=",
                lines=(
                    FulfilledUnits(id="RnVsZmlsbG1lbnRMaW5lOjE=", order_line_id=MUG, quantity=2),
                    FulfilledUnits(id="RnVsZmlsbG1lbnRMaW5lOjI=", order_line_id=TEE, quantity=1),
                ),
            ),
            FulfillmentView(
                id="RnVsZmlsbG1lbnQ6Mg==",
                status="RETURNED",
                created=datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
                warehouse_id=None,
                lines=(FulfilledUnits(id="RnVsZmlsbG1lbnRMaW5lOjM=", order_line_id=MUG, quantity=1),),
            ),
        )

    def test_a_fulfilment_line_without_its_order_line_is_left_out(self) -> None:
        fulfillment = fulfillment_payload(lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", MUG, 1)])
        fulfillment["lines"].append({"id": "RnVsZmlsbG1lbnRMaW5lOjI=", "quantity": 1, "orderLine": None})
        (view,) = order_fulfillments(parsed(fulfillments=[fulfillment]).order).fulfillments
        assert [units.id for units in view.lines] == ["RnVsZmlsbG1lbnRMaW5lOjE="]

    def test_payloads_recorded_before_fulfilments_were_selected_still_parse(self) -> None:
        view = order_fulfillments(parsed().order)
        assert view.fulfillments == ()
        assert view.lines[0].unit_price_net == Decimal("129.9")
