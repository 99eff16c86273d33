"""Routing's sources on a real database: partners with encrypted secrets, in-house priorities, supplier
offers replaced by feeds, the planner's setup read in one go, each store seeing its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, event, func, select

from app.db.models import InstallationRow, RoutingInHouseRow, RoutingPartnerRow, RoutingSupplierOfferRow
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.routing import SqlRoutingSources
from app.domain.ids import SaleorId, saleor_api_url
from app.domain.installation import Installation
from app.domain.money import Money
from app.domain.routing.model import PickPackFees, SourceKind
from app.runtime import Runtime
from app.services.routing.model import HandOffMethod, KeptOffer, Partner, RoutingSetup, SupplierOffer
from tests.builders import NOW, make_installation

SHOP = saleor_api_url("https://shop.test/graphql/")
OTHER = saleor_api_url("https://other.test/graphql/")
WEST = Partner(
    id="3pl-west",
    name="West Logistics",
    kind=SourceKind.THIRD_PARTY,
    warehouse_id=SaleorId("V2FyZWhvdXNlOjI="),
    hand_off=HandOffMethod.WEBHOOK,
    address="https://west.example/orders",
    acceptance_window=timedelta(hours=4),
    priority=2,
    fees=PickPackFees(Money(Decimal("2.50"), "USD"), Money(Decimal("0.35"), "USD")),
)
ACME = Partner(
    id="acme",
    name="Acme Supply",
    kind=SourceKind.DROPSHIP,
    warehouse_id=SaleorId("V2FyZWhvdXNlOjM="),
    hand_off=HandOffMethod.EMAIL,
    address="orders@acme.example",
    acceptance_window=timedelta(hours=24),
)
MUG = SupplierOffer("MUG-1", Money(Decimal("3.125"), "USD"), 2, 40)
CUP = SupplierOffer("CUP-1", Money(Decimal("1.10"), "EUR"), 0, 0)


@pytest.fixture
async def sources(runtime: Runtime, installation: Installation) -> AsyncIterator[SqlRoutingSources]:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(
            make_installation(saleor_api_url=OTHER, jwks=installation.jwks)
        )
        yield SqlRoutingSources(session, runtime.cipher)


async def test_partners_come_back_as_they_were_kept(sources: SqlRoutingSources) -> None:
    await sources.add_partner(SHOP, WEST, "west-secret", NOW)
    await sources.add_partner(SHOP, ACME, "acme-secret", NOW)
    assert await sources.partners(SHOP) == [ACME, WEST]  # by name
    assert await sources.partner(SHOP, "3pl-west") == WEST
    assert await sources.partner(OTHER, "3pl-west") is None
    assert await sources.partners(OTHER) == []


async def test_the_secret_is_encrypted_at_rest_and_rotates(sources: SqlRoutingSources) -> None:
    await sources.add_partner(SHOP, WEST, "west-secret-value", NOW)
    stored = await sources._session.scalar(select(RoutingPartnerRow.secret_encrypted))
    assert stored is not None
    assert "west-secret-value" not in stored
    assert await sources.partner_secret(SHOP, WEST.id) == "west-secret-value"
    assert await sources.partner_secret(OTHER, WEST.id) is None
    assert await sources.partner_secret(SHOP, "nobody") is None
    assert await sources.replace_secret(SHOP, WEST.id, "rotated", NOW + timedelta(days=1))
    assert await sources.partner_secret(SHOP, WEST.id) == "rotated"
    assert not await sources.replace_secret(OTHER, WEST.id, "stolen", NOW)
    assert await sources.partner_secret(SHOP, WEST.id) == "rotated"


async def test_a_name_or_warehouse_another_partner_took_meanwhile_keeps_nothing(sources: SqlRoutingSources) -> None:
    assert await sources.add_partner(SHOP, WEST, "west-secret", NOW)
    # The warehouse's in-house priority stays while the partner meant to take it is refused.
    await sources.set_in_house_priority(SHOP, ACME.warehouse_id, 4)
    same_name = replace(ACME, name=WEST.name)
    same_warehouse = replace(ACME, warehouse_id=WEST.warehouse_id)
    assert not await sources.add_partner(SHOP, same_name, "s", NOW)
    assert not await sources.add_partner(SHOP, same_warehouse, "s", NOW)
    # The transaction is still usable (nothing failed in the database): the refused partners are not there.
    assert await sources.partners(SHOP) == [WEST]
    assert await sources.in_house(SHOP) == {ACME.warehouse_id: 4}
    assert await sources.add_partner(OTHER, same_name, "s", NOW)  # another store's names are its own


async def test_an_update_changes_the_terms_and_keeps_the_secret(sources: SqlRoutingSources) -> None:
    await sources.add_partner(SHOP, WEST, "west-secret", NOW)
    moved = Partner(
        id=WEST.id,
        name="West 3PL",
        kind=SourceKind.THIRD_PARTY,
        warehouse_id=SaleorId("V2FyZWhvdXNlOjk="),
        hand_off=HandOffMethod.EMAIL,
        address="ops@west.example",
        acceptance_window=timedelta(hours=1),
        priority=0,
        fees=PickPackFees(Money(Decimal("0"), "EUR"), Money(Decimal("1"), "EUR")),
    )
    assert await sources.update_partner(SHOP, moved, NOW)
    assert await sources.partner(SHOP, WEST.id) == moved
    assert await sources.partner_secret(SHOP, WEST.id) == "west-secret"
    assert not await sources.update_partner(OTHER, moved, NOW)


async def test_a_warehouse_a_partner_takes_leaves_the_in_house_priorities(sources: SqlRoutingSources) -> None:
    east = SaleorId("V2FyZWhvdXNlOjE=")
    await sources.set_in_house_priority(SHOP, east, 3)
    await sources.set_in_house_priority(SHOP, WEST.warehouse_id, 1)
    await sources.set_in_house_priority(SHOP, east, 5)  # replaces the 3
    assert await sources.in_house(SHOP) == {east: 5, WEST.warehouse_id: 1}
    await sources.add_partner(SHOP, WEST, "secret", NOW)
    assert await sources.in_house(SHOP) == {east: 5}
    assert await sources.in_house(OTHER) == {}


async def test_a_feed_replaces_the_suppliers_offers(sources: SqlRoutingSources) -> None:
    await sources.add_partner(SHOP, ACME, "secret", NOW)
    await sources.replace_offers(SHOP, ACME.id, [MUG, CUP], NOW)
    assert await sources.offers(SHOP, ACME.id) == [KeptOffer(CUP, NOW), KeptOffer(MUG, NOW)]
    later = NOW + timedelta(hours=1)
    cheaper = SupplierOffer("MUG-1", Money(Decimal("2.99"), "USD"), 1, 100)
    await sources.replace_offers(SHOP, ACME.id, [cheaper], later)
    assert await sources.offers(SHOP, ACME.id) == [KeptOffer(cheaper, later)]
    await sources.replace_offers(SHOP, ACME.id, [], later)
    assert await sources.offers(SHOP, ACME.id) == []
    assert await sources.offers(OTHER, ACME.id) == []


async def test_setup_holds_every_partner_and_only_the_asked_skus_offers(sources: SqlRoutingSources) -> None:
    east = SaleorId("V2FyZWhvdXNlOjE=")
    await sources.add_partner(SHOP, WEST, "secret", NOW)
    await sources.add_partner(SHOP, ACME, "secret", NOW)
    await sources.set_in_house_priority(SHOP, east, 1)
    await sources.replace_offers(SHOP, ACME.id, [MUG, CUP], NOW)
    assert await sources.setup(SHOP, ["MUG-1", "LAMP-9"]) == RoutingSetup(
        partners=(ACME, WEST), in_house={east: 1}, offers={ACME.id: {"MUG-1": MUG}}
    )
    # A supplier without any of the SKUs is still listed, with no offers.
    assert await sources.setup(SHOP, ["LAMP-9"]) == RoutingSetup((ACME, WEST), {east: 1}, {ACME.id: {}})
    assert await sources.setup(SHOP, []) == RoutingSetup((ACME, WEST), {east: 1}, {ACME.id: {}})
    assert await sources.setup(OTHER, ["MUG-1"]) == RoutingSetup()


async def test_removing_a_partner_removes_its_offers(sources: SqlRoutingSources) -> None:
    await sources.add_partner(SHOP, ACME, "secret", NOW)
    await sources.replace_offers(SHOP, ACME.id, [MUG], NOW)
    assert not await sources.remove_partner(OTHER, ACME.id)
    assert await sources.remove_partner(SHOP, ACME.id)
    assert await sources.partners(SHOP) == []
    assert await sources._session.scalar(select(func.count()).select_from(RoutingSupplierOfferRow)) == 0
    assert not await sources.remove_partner(SHOP, ACME.id)


async def test_deleting_the_store_deletes_its_sources(sources: SqlRoutingSources) -> None:
    await sources.add_partner(SHOP, ACME, "secret", NOW)
    await sources.replace_offers(SHOP, ACME.id, [MUG], NOW)
    await sources.set_in_house_priority(SHOP, SaleorId("V2FyZWhvdXNlOjE="), 1)
    await sources._session.execute(delete(InstallationRow).where(InstallationRow.saleor_api_url == SHOP))
    for table in (RoutingPartnerRow, RoutingInHouseRow, RoutingSupplierOfferRow):
        assert await sources._session.scalar(select(func.count()).select_from(table)) == 0, table


async def test_setup_is_two_queries_however_many_partners(sources: SqlRoutingSources, runtime: Runtime) -> None:
    await sources.add_partner(SHOP, WEST, "secret", NOW)
    await sources.add_partner(SHOP, ACME, "secret", NOW)
    await sources.replace_offers(SHOP, ACME.id, [MUG, CUP], NOW)
    await sources._session.flush()
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
    try:
        await sources.setup(SHOP, ["MUG-1", "CUP-1"])
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 2, statements


async def test_of_two_simultaneous_adds_of_one_name_the_later_keeps_nothing(
    runtime: Runtime, installation: Installation
) -> None:
    """The second transaction's insert waits for the first to commit, then finds the name taken."""
    first = runtime.sessions()
    second = runtime.sessions()
    async with first, second:
        assert await SqlRoutingSources(first, runtime.cipher).add_partner(SHOP, WEST, "west-secret", NOW)
        later = asyncio.create_task(
            SqlRoutingSources(second, runtime.cipher).add_partner(SHOP, replace(ACME, name=WEST.name), "s", NOW)
        )
        await asyncio.sleep(0.2)
        assert not later.done()  # waiting for the first transaction
        await first.commit()
        assert not await later
        await second.commit()
    async with runtime.sessions() as session:
        assert await SqlRoutingSources(session, runtime.cipher).partners(SHOP) == [WEST]
