from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from app.domain.ids import SaleorApiUrl, SaleorId
from app.errors import GraphQLErrorDetail, SaleorMutationError
from app.services.pipeline import Effect, EffectKind, NewEffect, Outbox, deliver
from tests.fakes.in_memory import FakeSaleorGateway

URL = SaleorApiUrl("https://shop.test/graphql/")
ORDER = SaleorId("T3JkZXI6MQ==")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


class ListOutbox:
    def __init__(self) -> None:
        self.stored: dict[str, NewEffect] = {}

    async def add(self, url: SaleorApiUrl, key: str, effect: NewEffect, at: datetime) -> bool:
        if key in self.stored:
            return False
        self.stored[key] = effect
        return True


def _effect(kind: str, payload: Mapping[str, Any], *, attempts: int = 1) -> Effect:
    return Effect(1, URL, ORDER, kind, payload, attempts, NOW)


def _refusal(code: str) -> SaleorMutationError:
    return SaleorMutationError([GraphQLErrorDetail("refused", code)], operation="test")


class TestOutbox:
    async def test_each_write_becomes_an_effect_named_after_its_decision_and_its_place(self) -> None:
        store = ListOutbox()
        outbox = Outbox(store, URL, "delivery:7", NOW)
        await outbox.record_fraud_decision(ORDER, {"ops.fraud": "{}"}, "scored", confirm=True)
        await outbox.cancel_order(ORDER)
        assert list(store.stored) == ["delivery:7#1", "delivery:7#2"]
        assert store.stored["delivery:7#1"] == NewEffect(
            ORDER, EffectKind.FRAUD_DECISION, {"metadata": {"ops.fraud": "{}"}, "note": "scored", "confirm": True}
        )
        assert store.stored["delivery:7#2"].kind == EffectKind.CANCEL

    async def test_the_same_decision_run_again_names_the_same_effects(self) -> None:
        store = ListOutbox()
        for _ in range(2):
            await Outbox(store, URL, "delivery:7", NOW).add_order_note(ORDER, "hello")
        assert list(store.stored) == ["delivery:7#1"]

    async def test_cogs_keep_each_line_s_metadata(self) -> None:
        store = ListOutbox()
        line = SaleorId("T3JkZXJMaW5lOjE=")
        await Outbox(store, URL, "delivery:1", NOW).record_cogs(
            ORDER, {"ops.cogs": "{}"}, {line: {"ops.cogs": "1"}}, "n"
        )
        assert store.stored["delivery:1#1"].payload["lineMetadata"] == {line: {"ops.cogs": "1"}}


class TestDeliver:
    async def test_a_fraud_decision_writes_metadata_note_and_release_in_one_request(self) -> None:
        saleor = FakeSaleorGateway()
        payload = {"metadata": {"ops.fraud": "{}"}, "note": "scored", "confirm": True}
        assert await deliver(_effect(EffectKind.FRAUD_DECISION, payload), saleor) == "written"
        assert saleor.kinds() == ["metadata", "note", "confirm"]

    async def test_a_first_attempt_does_not_read_the_order_s_notes(self) -> None:
        saleor = FakeSaleorGateway()
        await saleor.add_order_note(ORDER, "scored")
        payload = {"metadata": {}, "note": "scored", "confirm": False}
        await deliver(_effect(EffectKind.FRAUD_DECISION, payload), saleor)
        assert saleor.kinds().count("note") == 2

    async def test_a_retry_whose_note_arrived_before_adds_no_second_note_but_writes_the_rest_again(
        self,
    ) -> None:
        saleor = FakeSaleorGateway()
        await saleor.add_order_note(ORDER, "scored")  # the attempt that died after Saleor took its note
        payload = {"metadata": {"ops.fraud": "{}"}, "note": "scored", "confirm": True}
        outcome = await deliver(_effect(EffectKind.FRAUD_DECISION, payload, attempts=2), saleor)
        assert outcome == "metadata written again, note already there; confirmed"
        # Saleor may have refused the metadata and taken the note: the metadata goes again.
        assert saleor.calls[1:] == [("metadata", ORDER, {"ops.fraud": "{}"}), ("confirm", ORDER, None)]

    async def test_a_retry_whose_note_did_not_arrive_sends_it_all(self) -> None:
        saleor = FakeSaleorGateway()
        payload = {"metadata": {"ops.fraud": "{}"}, "note": "scored", "confirm": False}
        assert await deliver(_effect(EffectKind.FRAUD_DECISION, payload, attempts=3), saleor) == "written"
        assert saleor.kinds() == ["metadata", "note"]

    async def test_cogs_whose_note_arrived_write_the_order_s_and_lines_metadata_again(self) -> None:
        saleor = FakeSaleorGateway()
        await saleor.add_order_note(ORDER, "margin")
        line = SaleorId("T3JkZXJMaW5lOjE=")
        payload = {"metadata": {"ops.cogs": "{}"}, "lineMetadata": {line: {"ops.cogs": "1"}}, "note": "margin"}
        outcome = await deliver(_effect(EffectKind.COGS, payload, attempts=2), saleor)
        assert outcome == "metadata written again, note already there"
        assert saleor.calls[1:] == [("metadata", ORDER, {"ops.cogs": "{}"}), ("metadata", line, {"ops.cogs": "1"})]

    async def test_shipping_writes_its_metadata_and_note_in_one_request(self) -> None:
        saleor = FakeSaleorGateway()
        payload = {"metadata": {"ops.shipping": "{}"}, "note": "UPS Ground"}
        assert await deliver(_effect(EffectKind.SHIPPING, payload), saleor) == "written"
        assert saleor.calls == [("metadata", ORDER, {"ops.shipping": "{}"}), ("note", ORDER, "UPS Ground")]

    async def test_shipping_whose_note_arrived_writes_only_its_metadata_again(self) -> None:
        saleor = FakeSaleorGateway()
        await saleor.add_order_note(ORDER, "UPS Ground")
        payload = {"metadata": {"ops.shipping": "{}"}, "note": "UPS Ground"}
        outcome = await deliver(_effect(EffectKind.SHIPPING, payload, attempts=2), saleor)
        assert outcome == "metadata written again, note already there"
        assert saleor.calls[1:] == [("metadata", ORDER, {"ops.shipping": "{}"})]

    async def test_a_note_already_written_is_not_written_again(self) -> None:
        saleor = FakeSaleorGateway()
        await saleor.add_order_note(ORDER, "margin")
        assert await deliver(_effect(EffectKind.NOTE, {"message": "margin"}, attempts=2), saleor) == "already written"
        assert saleor.kinds() == ["note"]

    async def test_a_release_of_an_order_that_is_not_held_is_done(self) -> None:
        saleor = FakeSaleorGateway()
        saleor.refuse_confirm = True
        assert await deliver(_effect(EffectKind.CONFIRM, {}), saleor) == "was not held"
        payload = {"metadata": {}, "note": "scored", "confirm": True}
        assert await deliver(_effect(EffectKind.FRAUD_DECISION, payload), saleor) == "written; was not held"

    async def test_a_cancel_refused_on_a_first_attempt_is_an_error(self) -> None:
        saleor = FakeSaleorGateway()

        async def refuse(order_id: SaleorId) -> None:
            raise _refusal("CANNOT_CANCEL_ORDER")

        saleor.cancel_order = refuse  # type: ignore[method-assign]
        with pytest.raises(SaleorMutationError):
            await deliver(_effect(EffectKind.CANCEL, {}), saleor)
        # After an attempt that may have cancelled it, "can't be cancelled" means it was.
        assert await deliver(_effect(EffectKind.CANCEL, {}, attempts=2), saleor) == "was cancelled already"

    async def test_other_refusals_are_errors(self) -> None:
        saleor = FakeSaleorGateway()

        async def refuse(order_id: SaleorId) -> None:
            raise _refusal("NOT_FOUND")

        saleor.confirm_order = refuse  # type: ignore[method-assign]
        with pytest.raises(SaleorMutationError):
            await deliver(_effect(EffectKind.CONFIRM, {}), saleor)

    async def test_an_unknown_kind_is_refused(self) -> None:
        with pytest.raises(ValueError, match="teleport"):
            await deliver(_effect("teleport", {}), FakeSaleorGateway())


class TestRoutingEffects:
    FULFIL = {
        "warehouse": "V2FyZWhvdXNlOjI=",
        "lines": {"L1": 2},
        "trackingNumber": "1Z9",
        "allowStockToBeExceeded": True,
    }

    async def test_a_fulfilment_is_made_with_its_warehouse_lines_and_tracking_number(self) -> None:
        saleor = FakeSaleorGateway()
        assert await deliver(_effect(EffectKind.FULFIL, self.FULFIL), saleor) == "fulfilled"
        assert saleor.calls == [("fulfill", ORDER, ("V2FyZWhvdXNlOjI=", {"L1": 2}, "1Z9", True))]

    async def test_a_retry_finding_the_fulfilment_made_does_not_make_it_twice(self) -> None:
        saleor = FakeSaleorGateway()
        await deliver(_effect(EffectKind.FULFIL, self.FULFIL), saleor)
        assert await deliver(_effect(EffectKind.FULFIL, self.FULFIL, attempts=2), saleor) == "was fulfilled already"
        assert saleor.kinds() == ["fulfill"]

    async def test_a_retry_that_finds_no_fulfilment_makes_it(self) -> None:
        saleor = FakeSaleorGateway()
        assert await deliver(_effect(EffectKind.FULFIL, self.FULFIL, attempts=2), saleor) == "fulfilled"

    async def test_routing_writes_metadata_and_its_note_once(self) -> None:
        saleor = FakeSaleorGateway()
        payload = {"metadata": {"ops.routing": "{}"}, "note": "routed"}
        assert await deliver(_effect(EffectKind.ROUTING, payload), saleor) == "written"
        retried = await deliver(_effect(EffectKind.ROUTING, payload, attempts=2), saleor)
        assert retried == "metadata written again, note already there"
        assert saleor.kinds() == ["metadata", "note", "metadata"]

    async def test_a_hand_off_is_kept_for_the_partner_not_for_saleor(self) -> None:
        store = ListOutbox()
        outbox = Outbox(store, URL, "delivery:9", NOW)
        await outbox.send_hand_off(ORDER, "p-west", "https://west.example/orders", {"handOffId": "h1"})
        assert store.stored["delivery:9#1"] == NewEffect(
            ORDER,
            EffectKind.HAND_OFF,
            {"partner": "p-west", "endpoint": "https://west.example/orders", "body": {"handOffId": "h1"}},
            lane="partner:p-west",
        )
        with pytest.raises(ValueError, match="hand_off"):
            await deliver(_effect(EffectKind.HAND_OFF, {}), FakeSaleorGateway())

    async def test_a_purchase_order_is_kept_for_the_partner_in_its_lane(self) -> None:
        store = ListOutbox()
        outbox = Outbox(store, URL, "delivery:9", NOW)
        await outbox.send_purchase_order(ORDER, "p-acme", "orders@acme.example", {"handOffId": "h1"})
        assert store.stored["delivery:9#1"] == NewEffect(
            ORDER,
            EffectKind.PURCHASE_ORDER,
            {"partner": "p-acme", "to": "orders@acme.example", "purchaseOrder": {"handOffId": "h1"}},
            lane="partner:p-acme",
        )
        with pytest.raises(ValueError, match="purchase_order"):
            await deliver(_effect(EffectKind.PURCHASE_ORDER, {}), FakeSaleorGateway())

    async def test_a_purchase_order_s_cancel_is_kept_in_the_partner_s_lane(self) -> None:
        store = ListOutbox()
        outbox = Outbox(store, URL, "delivery:9", NOW)
        await outbox.cancel_purchase_order(ORDER, "p-acme", "orders@acme.example", {"handOffId": "h1"})
        assert store.stored["delivery:9#1"] == NewEffect(
            ORDER,
            EffectKind.CANCEL_PURCHASE_ORDER,
            {"partner": "p-acme", "to": "orders@acme.example", "cancel": {"handOffId": "h1"}},
            lane="partner:p-acme",
        )
