"""Orders' shipping decisions on a real database: kept once per order, replaced by a re-check or a re-plan,
per store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.shipping_decisions import SqlShippingDecisions
from app.domain.ids import saleor_api_url
from app.domain.installation import Installation
from app.domain.shipping.model import Level
from app.runtime import Runtime
from app.services.shipping.model import OrderShipping, ShipmentShipping
from tests.builders import NOW, make_installation

SHOP = saleor_api_url("https://shop.test/graphql/")
OTHER = saleor_api_url("https://other.test/graphql/")
ENTRY = {"source": "V2FyZWhvdXNlOjE=", "carrier": "UPS", "service": "Ground", "meetsPromise": True}
DECISION = OrderShipping(
    order_id="T3JkZXI6MQ==",
    level=Level.STANDARD,
    shipments=(
        ShipmentShipping("V2FyZWhvdXNlOjE=", ENTRY, ("standard by 2026-12-02: UPS Ground",), {"L1": 2}),
        ShipmentShipping("V2FyZWhvdXNlOjI=", None, ("Shipment from V2FyZWhvdXNlOjI=: nothing to ship",)),
    ),
    checked_fulfillments=(),
    decided_at=NOW,
    updated_at=NOW,
)


@pytest.fixture
async def decisions(runtime: Runtime, installation: Installation) -> AsyncIterator[SqlShippingDecisions]:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(
            make_installation(saleor_api_url=OTHER, jwks=installation.jwks)
        )
        yield SqlShippingDecisions(session)


async def test_the_first_decision_is_kept_and_read_back_whole(decisions: SqlShippingDecisions) -> None:
    assert await decisions.add(SHOP, DECISION)
    assert not await decisions.add(SHOP, replace(DECISION, level=Level.OVERNIGHT))
    assert await decisions.get(SHOP, DECISION.order_id) == DECISION
    assert await decisions.get(OTHER, DECISION.order_id) is None


async def test_a_recheck_replaces_the_shipments_and_records_the_fulfilment(decisions: SqlShippingDecisions) -> None:
    await decisions.add(SHOP, DECISION)
    await decisions.add(OTHER, DECISION)
    late = {**ENTRY, "meetsPromise": False}
    rechecked = replace(
        DECISION,
        shipments=(ShipmentShipping("V2FyZWhvdXNlOjE=", late, ("late",)),),
        checked_fulfillments=("RnVsZmlsbG1lbnQ6MQ==",),
        updated_at=NOW + timedelta(days=1),
    )
    await decisions.replace(SHOP, rechecked)
    assert await decisions.get(SHOP, DECISION.order_id) == rechecked
    assert await decisions.get(OTHER, DECISION.order_id) == DECISION


async def test_a_re_plan_replaces_the_shipments_and_the_plan_revision(decisions: SqlShippingDecisions) -> None:
    await decisions.add(SHOP, replace(DECISION, plan_revision=1))
    replanned = replace(
        DECISION,
        shipments=(ShipmentShipping("V2FyZWhvdXNlOjM=", ENTRY, ("re-planned",), {"L1": 1, "L2": 3}),),
        plan_revision=2,
        updated_at=NOW + timedelta(days=1),
    )
    await decisions.replace(SHOP, replanned)
    assert await decisions.get(SHOP, DECISION.order_id) == replanned
