"""Routing → Sources: Saleor's warehouses with their roles, partners added, edited, removed and their
secrets rotated, in-house priorities, and suppliers' CSV feeds; bad input re-renders the form with its
errors and changes nothing."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import RoutingPartnerRow
from app.db.repositories.routing import SqlRoutingSources
from app.db.repositories.routing_plans import SqlRoutingPlans
from app.db.repositories.settings import SqlSettingsStore
from app.domain.ids import SaleorApiUrl, saleor_api_url
from app.runtime import Runtime
from app.services.routing.model import KeptOffer, Partner
from app.services.routing.plans import HandOff, HandOffStatus, RoutedUnits
from app.services.support.mail import change_mail_settings
from tests.builders import NOW
from tests.conftest import FixedClock
from tests.fakes.fake_saleor import FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")
SHOP = saleor_api_url("https://shop.test/graphql/")
FRAGMENTS = "/api/dashboard/fragments/routing"
ACTIONS = "/api/dashboard/routing"
ORDERS = ("MANAGE_ORDERS",)
EAST, WEST, NORTH = "V2FyZWhvdXNlOjE=", "V2FyZWhvdXNlOjI=", "V2FyZWhvdXNlOjM="
WAREHOUSES = {
    "data": {
        "warehouses": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "edges": [
                {"node": {"id": EAST, "slug": "east", "name": "East"}},
                {"node": {"id": WEST, "slug": "west", "name": "West DC"}},
                {"node": {"id": NORTH, "slug": "north", "name": "Acme drop"}},
            ],
        }
    }
}
THREE_PL = {
    "kind": "3pl",
    "name": "West Logistics",
    "warehouse_id": WEST,
    "hand_off": "webhook",
    "address": "https://west.example/orders",
    "acceptance_hours": "4",
    "priority": "1",
    "fee_per_order": "2.50",
    "fee_per_unit": "0.35",
    "fee_currency": "USD",
}
SUPPLIER = {
    "kind": "dropship",
    "name": "Acme",
    "warehouse_id": NORTH,
    "hand_off": "email",
    "address": "orders@acme.example",
    "acceptance_hours": "24",
    "priority": "0",
}


@pytest.fixture(autouse=True)
def warehouses(fake_saleor: FakeSaleor) -> FakeSaleor:
    fake_saleor.on("Warehouses", WAREHOUSES)
    return fake_saleor


async def _partners(runtime: Runtime) -> list[Partner]:
    async with runtime.sessions() as session:
        return await SqlRoutingSources(session, runtime.cipher).partners(SHOP)


async def _secret(runtime: Runtime, partner_id: str) -> str | None:
    async with runtime.sessions() as session:
        return await SqlRoutingSources(session, runtime.cipher).partner_secret(SHOP, partner_id)


async def _offers(runtime: Runtime, partner_id: str) -> list[KeptOffer]:
    async with runtime.sessions() as session:
        return await SqlRoutingSources(session, runtime.cipher).offers(SHOP, partner_id)


async def _add(client: httpx.AsyncClient, headers: dict[str, str], form: dict[str, str]) -> httpx.Response:
    return await client.post(f"{ACTIONS}/partners", data=form, headers=headers)


def _shown_secret(page: str) -> str:
    found = re.search(r"<code data-secret>([\w-]+)</code>", page)
    assert found is not None, page
    return found.group(1)


class TestPage:
    async def test_routing_is_a_page_of_its_own(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/dashboard/routing")
        assert page.status_code == 200
        assert 'data-page="routing"' in page.text
        assert 'data-page-link="routing" aria-current="page"' in page.text

    async def test_lists_saleors_warehouses_as_in_house_until_a_partner_runs_one(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        page = await client.get(FRAGMENTS, headers=staff_headers(*ORDERS))
        assert page.status_code == 200
        assert f'data-fragment="{FRAGMENTS}/sources" aria-current="page"' in page.text
        for warehouse in (EAST, WEST, NORTH):
            assert f'data-warehouse="{warehouse}" data-role="In-house"' in page.text
        assert "data-no-partners" in page.text
        await _add(client, staff_headers(*ORDERS), THREE_PL)
        await _add(client, staff_headers(*ORDERS), SUPPLIER)
        page = await client.get(f"{FRAGMENTS}/sources", headers=staff_headers(*ORDERS))
        assert f'data-warehouse="{EAST}" data-role="In-house"' in page.text
        assert f'data-warehouse="{WEST}" data-role="3PL West Logistics"' in page.text
        assert f'data-warehouse="{NORTH}" data-role="Supplier Acme"' in page.text
        assert "$2.50 per order + $0.35 per unit" in page.text

    async def test_needs_manage_orders(self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime) -> None:
        page = await client.get(FRAGMENTS, headers=staff_headers("MANAGE_SHIPPING"))
        assert page.status_code == 403
        assert "MANAGE_ORDERS" in page.json()["error"]["message"]
        response = await _add(client, staff_headers("MANAGE_SHIPPING"), THREE_PL)
        assert response.status_code == 403
        assert await _partners(runtime) == []

    async def test_when_saleor_does_not_answer_the_partners_still_show(
        self, client: httpx.AsyncClient, staff_headers: Any, fake_saleor: FakeSaleor, runtime: Runtime
    ) -> None:
        await _add(client, staff_headers(*ORDERS), THREE_PL)
        fake_saleor.on("Warehouses", {"errors": [{"message": "down"}]})
        page = await client.get(FRAGMENTS, headers=staff_headers(*ORDERS))
        assert page.status_code == 200
        assert "data-saleor-unavailable" in page.text
        assert f'data-warehouse="{WEST}" data-role="3PL West Logistics"' in page.text
        refused = await _add(client, staff_headers(*ORDERS), SUPPLIER)
        assert refused.status_code == 422
        assert 'data-field-error="warehouse_id"' in refused.text
        assert len(await _partners(runtime)) == 1


class TestPartners:
    async def test_adding_shows_the_secret_once_and_keeps_it_encrypted(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        response = await _add(client, staff_headers(*ORDERS), THREE_PL)
        assert response.status_code == 200
        assert response.headers["x-ops-notice"] == "Partner added."
        secret = _shown_secret(response.text)
        [partner] = await _partners(runtime)
        assert (partner.name, partner.priority, str(partner.fees.per_unit.amount) if partner.fees else None) == (
            "West Logistics",
            1,
            "0.35",
        )
        assert await _secret(runtime, partner.id) == secret
        page = await client.get(FRAGMENTS, headers=staff_headers(*ORDERS))
        assert secret not in page.text

    async def test_a_bad_form_comes_back_with_each_fields_error_and_nothing_kept(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        bad = {**THREE_PL, "address": "not a url", "fee_currency": "", "warehouse_id": "V2FyZWhvdXNlOjk5"}
        response = await _add(client, staff_headers(*ORDERS), bad)
        assert response.status_code == 422
        for field in ("address", "fee_currency", "warehouse_id"):
            assert f'data-field-error="{field}"' in response.text
        assert 'data-field-error="name"' not in response.text
        assert 'value="West Logistics"' in response.text  # what was typed comes back
        assert "<code data-secret>" not in response.text
        assert await _partners(runtime) == []

    async def test_edit_changes_the_terms_and_keeps_the_secret(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        secret = _shown_secret((await _add(client, staff_headers(*ORDERS), THREE_PL)).text)
        [partner] = await _partners(runtime)
        form = await client.get(
            f"{FRAGMENTS}/sources/partner", params={"id": partner.id}, headers=staff_headers(*ORDERS)
        )
        assert 'value="https://west.example/orders"' in form.text
        assert 'name="fee_per_order"' in form.text
        saved = await client.post(
            f"{ACTIONS}/partners/{partner.id}",
            data={**THREE_PL, "hand_off": "email", "address": "ops@west.example", "acceptance_hours": "8"},
            headers=staff_headers(*ORDERS),
        )
        assert saved.status_code == 200
        [edited] = await _partners(runtime)
        assert (edited.address, edited.acceptance_window.total_seconds()) == ("ops@west.example", 8 * 3600)
        assert await _secret(runtime, partner.id) == secret

    async def test_a_bad_edit_changes_nothing(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        await _add(client, staff_headers(*ORDERS), THREE_PL)
        await _add(client, staff_headers(*ORDERS), SUPPLIER)
        before = await _partners(runtime)
        west = next(partner for partner in before if partner.name == "West Logistics")
        response = await client.post(
            f"{ACTIONS}/partners/{west.id}",
            data={**THREE_PL, "name": "acme", "acceptance_hours": "x"},
            headers=staff_headers(*ORDERS),
        )
        assert response.status_code == 422
        assert 'data-field-error="name"' in response.text
        assert 'data-field-error="acceptance_hours"' in response.text
        assert await _partners(runtime) == before

    async def test_rotating_replaces_the_secret(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        first = _shown_secret((await _add(client, staff_headers(*ORDERS), SUPPLIER)).text)
        [partner] = await _partners(runtime)
        response = await client.post(f"{ACTIONS}/partners/{partner.id}/rotate-secret", headers=staff_headers(*ORDERS))
        assert response.status_code == 200
        second = _shown_secret(response.text)
        assert second != first
        assert await _secret(runtime, partner.id) == second
        missing = await client.post(f"{ACTIONS}/partners/nobody/rotate-secret", headers=staff_headers(*ORDERS))
        assert missing.status_code == 404

    async def test_removing_makes_the_warehouse_in_house_again(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        await _add(client, staff_headers(*ORDERS), THREE_PL)
        [partner] = await _partners(runtime)
        response = await client.post(f"{ACTIONS}/partners/{partner.id}/remove", headers=staff_headers(*ORDERS))
        assert response.status_code == 200
        assert f'data-warehouse="{WEST}" data-role="In-house"' in response.text
        async with runtime.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(RoutingPartnerRow)) == 0

    @pytest.mark.parametrize("address", ["http://west.example/orders", "ftp://west.example/orders"])
    async def test_an_endpoint_must_be_https_and_nothing_is_kept_otherwise(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime, address: str
    ) -> None:
        response = await _add(client, staff_headers(*ORDERS), {**THREE_PL, "address": address})
        assert response.status_code == 422
        assert 'data-field-error="address"' in response.text
        assert "https://" in response.text
        assert await _partners(runtime) == []

    async def test_plain_http_is_accepted_on_this_machine(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        response = await _add(client, staff_headers(*ORDERS), {**THREE_PL, "address": "http://127.0.0.1:8765/orders"})
        assert response.status_code == 200
        [partner] = await _partners(runtime)
        assert partner.address == "http://127.0.0.1:8765/orders"

    async def test_a_name_taken_by_a_simultaneous_add_is_a_form_error_and_nothing_is_kept(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await _add(client, staff_headers(*ORDERS), THREE_PL)
        kept = await _partners(runtime)
        # The second request read the partners before the first one committed: its check saw no West.
        read = SqlRoutingSources.partners
        reads = 0

        async def before_the_other_committed(self: SqlRoutingSources, url: SaleorApiUrl) -> list[Partner]:
            nonlocal reads
            reads += 1
            return [] if reads == 1 else await read(self, url)

        monkeypatch.setattr(SqlRoutingSources, "partners", before_the_other_committed)
        response = await _add(client, staff_headers(*ORDERS), {**SUPPLIER, "name": "West Logistics"})
        assert response.status_code == 422
        assert 'data-field-error="name"' in response.text
        assert "is another partner&#39;s name already" in response.text
        assert "<code data-secret>" not in response.text
        monkeypatch.undo()
        assert await _partners(runtime) == kept

    async def test_a_partner_with_hand_offs_still_to_ship_is_not_removed_and_they_are_listed(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        await _add(client, staff_headers(*ORDERS), THREE_PL)
        [partner] = await _partners(runtime)
        units = (RoutedUnits("L1", "MUG-1", 2),)
        hand_off = HandOff(
            "h0ff", "T3JkZXI6MQ==", 1, partner.id, partner.warehouse_id, units, HandOffStatus.SENT, NOW, NOW
        )
        async with runtime.sessions.begin() as session:
            await SqlRoutingPlans(session).add_hand_off(SHOP, hand_off)
        refused = await client.post(f"{ACTIONS}/partners/{partner.id}/remove", headers=staff_headers(*ORDERS))
        assert refused.status_code == 409
        assert refused.headers["x-ops-notice"] == "Partner not removed."
        assert f'data-remove-refused="{partner.id}"' in refused.text
        assert "West Logistics was not removed: it still has 1 open hand-off to ship" in refused.text
        assert "order T3JkZXI6MQ==: sent" in refused.text
        assert "2 units to ship (hand-off h0ff)" in refused.text
        assert await _partners(runtime) == [partner]
        async with runtime.sessions.begin() as session:
            shipped = replace(hand_off, status=HandOffStatus.ACCEPTED, shipped={"L1": 2})
            await SqlRoutingPlans(session).save_hand_off(SHOP, shipped)
        removed = await client.post(f"{ACTIONS}/partners/{partner.id}/remove", headers=staff_headers(*ORDERS))
        assert removed.status_code == 200
        assert await _partners(runtime) == []

    async def test_partners_taking_e_mail_are_named_until_the_store_sets_its_smtp_server(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime, clock: FixedClock
    ) -> None:
        await _add(client, staff_headers(*ORDERS), THREE_PL)
        page = await client.get(FRAGMENTS, headers=staff_headers(*ORDERS))
        assert "data-mail-unset" not in page.text  # nobody takes e-mail yet
        await _add(client, staff_headers(*ORDERS), SUPPLIER)
        page = await client.get(FRAGMENTS, headers=staff_headers(*ORDERS))
        assert "Acme takes orders by e-mail, but no SMTP server is set (Support · E-mail)" in page.text
        async with runtime.sessions.begin() as session:
            await change_mail_settings(
                SqlSettingsStore(session),
                SHOP,
                {"smtp_host": "smtp.shop.example", "from_address": "ops@shop.example", "reply_domain": "shop.example"},
                cipher=runtime.cipher,
                changed_by="grace",
                clock=clock,
            )
        page = await client.get(FRAGMENTS, headers=staff_headers(*ORDERS))
        assert "data-mail-unset" not in page.text


class TestInHouse:
    async def test_sets_a_priority(self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime) -> None:
        response = await client.post(
            f"{ACTIONS}/in-house", data={"warehouse_id": EAST, "priority": "3"}, headers=staff_headers(*ORDERS)
        )
        assert response.status_code == 200
        async with runtime.sessions() as session:
            assert await SqlRoutingSources(session, runtime.cipher).in_house(SHOP) == {EAST: 3}

    @pytest.mark.parametrize(
        ("warehouse", "priority", "field"),
        [
            (EAST, "-2", "priority"),
            (EAST, "", "priority"),
            ("V2FyZWhvdXNlOjk5", "1", "warehouse_id"),
            (WEST, "1", "warehouse_id"),
        ],
    )
    async def test_refuses_a_bad_priority_or_a_partners_warehouse(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime, warehouse: str, priority: str, field: str
    ) -> None:
        await _add(client, staff_headers(*ORDERS), THREE_PL)
        response = await client.post(
            f"{ACTIONS}/in-house",
            data={"warehouse_id": warehouse, "priority": priority},
            headers=staff_headers(*ORDERS),
        )
        assert response.status_code == 422
        assert f'data-field-error="{field}"' in response.text
        async with runtime.sessions() as session:
            assert await SqlRoutingSources(session, runtime.cipher).in_house(SHOP) == {}


HEADER = "sku,unit_price,currency,handling_days,stock\r\n"


class TestFeed:
    async def _supplier(self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime) -> str:
        await _add(client, staff_headers(*ORDERS), SUPPLIER)
        [partner] = await _partners(runtime)
        return partner.id

    async def _upload(
        self, client: httpx.AsyncClient, headers: dict[str, str], supplier: str, text: str
    ) -> httpx.Response:
        files = {"file": ("acme.csv", text.encode(), "text/csv")}
        return await client.post(f"{ACTIONS}/suppliers/{supplier}/feed", files=files, headers=headers)

    async def test_an_upload_replaces_the_offers_and_lists_them(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        supplier = await self._supplier(client, staff_headers, runtime)
        first = await self._upload(
            client, staff_headers(*ORDERS), supplier, HEADER + "MUG-1,3.125,USD,2,40\r\nCUP-1,1,USD,0,5\r\n"
        )
        assert first.status_code == 200
        assert "acme.csv: 2 offers replace Acme&#39;s feed." in first.text
        assert 'data-offer="MUG-1"' in first.text
        assert "$3.125" in first.text
        second = await self._upload(client, staff_headers(*ORDERS), supplier, HEADER + "LAMP-2,9,USD,1,1\r\n")
        assert second.status_code == 200
        assert [kept.offer.sku for kept in await _offers(runtime, supplier)] == ["LAMP-2"]
        page = await client.get(
            f"{FRAGMENTS}/sources/offers", params={"supplier": supplier}, headers=staff_headers(*ORDERS)
        )
        assert 'data-offers="1"' in page.text

    async def test_a_file_with_a_bad_row_changes_nothing(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        supplier = await self._supplier(client, staff_headers, runtime)
        await self._upload(client, staff_headers(*ORDERS), supplier, HEADER + "MUG-1,3,USD,2,40\r\n")
        response = await self._upload(
            client, staff_headers(*ORDERS), supplier, HEADER + "CUP-1,1,USD,0,5\r\nLAMP-2,abc,USD,1,-3\r\n"
        )
        assert response.status_code == 422
        assert 'data-error-row="3" data-error-column="unit_price"' in response.text
        assert 'data-error-row="3" data-error-column="stock"' in response.text
        assert "2 problems" in response.text
        assert [kept.offer.sku for kept in await _offers(runtime, supplier)] == ["MUG-1"]

    async def test_no_file_and_a_3pls_feed_are_refused(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        supplier = await self._supplier(client, staff_headers, runtime)
        empty = await client.post(
            f"{ACTIONS}/suppliers/{supplier}/feed",
            files={"file": ("", b"", "text/csv")},
            headers=staff_headers(*ORDERS),
        )
        assert empty.status_code == 422
        assert "data-import-error" in empty.text
        await _add(client, staff_headers(*ORDERS), THREE_PL)
        west = next(p for p in await _partners(runtime) if p.name == "West Logistics")
        response = await self._upload(client, staff_headers(*ORDERS), west.id, HEADER + "MUG-1,3,USD,2,40\r\n")
        assert response.status_code == 404
        assert await _offers(runtime, west.id) == []
