"""Receipts into the SQL ledger: a file checked whole then booked in batches, items, the opening
balance from Saleor's stock; the receipt log and the API key store."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import InventoryMoveRow
from app.db.repositories.api_keys import SqlApiKeyStore
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.receipts import SqlReceiptLog
from app.db.repositories.saleor_names import SqlSaleorNames
from app.db.repositories.settings import SqlSettingsStore
from app.domain.installation import Installation
from app.domain.money import Money
from app.runtime import Runtime
from app.services.api_keys import ApiKeyCreated, authenticate_api_key, create_api_key
from app.services.input_problems import InputProblem
from app.services.ports import SaleorName, SettingsChange, StockLevel, WarehouseRef
from app.services.receipts import (
    NothingBooked,
    OpeningBalance,
    ReceiptsBooked,
    ReceiptsRejected,
    book_receipts,
    import_receipt_csv,
    opening_move_id,
    take_opening_balance,
)
from tests.builders import NOW, SHOP_API_URL
from tests.fakes.in_memory import FakeSaleorGateway

EAST = WarehouseRef("V2FyZWhvdXNlOjE=", "east", "East")
WEST = WarehouseRef("V2FyZWhvdXNlOjI=", "west", "West")
HEADER = "sku,warehouse,quantity,unit_cost,currency,received_at,reference\n"
FILE = HEADER + (
    "MUG-1,east,10,4.25,USD,2026-11-20,PO-1\n"
    "MUG-1,east,5,4.50,USD,2026-11-21,PO-2\n"
    "TEA-1,west,3,2.10,EUR,2026-11-21,PO-3\n"
)


@pytest.fixture
def saleor() -> FakeSaleorGateway:
    gateway = FakeSaleorGateway()
    gateway.warehouse_list = [EAST, WEST]
    return gateway


@pytest.fixture
async def session(runtime: Runtime, installation: Installation) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as session:
        yield session
        await session.rollback()


@dataclass
class Ledger:
    session: AsyncSession
    saleor: FakeSaleorGateway

    @property
    def ledger(self) -> SqlInventoryLedger:
        return SqlInventoryLedger(self.session)

    @property
    def settings(self) -> SqlSettingsStore:
        return SqlSettingsStore(self.session)

    @property
    def names(self) -> SqlSaleorNames:
        return SqlSaleorNames(self.session)

    async def moves(self) -> list[InventoryMoveRow]:
        return list((await self.session.scalars(select(InventoryMoveRow).order_by(InventoryMoveRow.seq))).all())

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(InventoryMoveRow)) or 0)

    async def import_text(self, *texts: str, **options: object) -> ReceiptsBooked | ReceiptsRejected:
        """Import a file; with several texts, each opening of the file reads the next one."""
        opened = iter(texts * 2 if len(texts) == 1 else texts)

        @contextmanager
        def open_lines() -> Iterator[io.StringIO]:
            yield io.StringIO(next(opened), newline="")

        return await import_receipt_csv(
            SHOP_API_URL,
            open_lines,
            saleor=self.saleor,
            ledger=self.ledger,
            settings=self.settings,
            now=NOW,
            recorded_by="ann@shop.test",
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture
def books(session: AsyncSession, saleor: FakeSaleorGateway) -> Ledger:
    return Ledger(session, saleor)


class TestImportReceiptCsv:
    async def test_books_every_row_and_sums_the_value_by_currency(self, books: Ledger) -> None:
        outcome = await books.import_text(FILE)
        assert outcome == ReceiptsBooked(3, 3, 0, {"USD": Decimal("65.0000"), "EUR": Decimal("6.30")})
        moves = await books.moves()
        assert [(m.kind, m.sku, m.warehouse, m.quantity, m.unit_cost) for m in moves] == [
            ("receipt", "MUG-1", EAST.id, 10, Decimal("4.25")),
            ("receipt", "MUG-1", EAST.id, 5, Decimal("4.50")),
            ("receipt", "TEA-1", WEST.id, 3, Decimal("2.10")),
        ]
        assert {(m.source, m.recorded_by, m.reference) for m in moves[:1]} == {("csv", "ann@shop.test", "PO-1")}

    async def test_importing_the_same_file_again_books_nothing_twice(self, books: Ledger) -> None:
        await books.import_text(FILE)
        again = await books.import_text(FILE.replace("4.50", "4.5"))
        assert again == ReceiptsBooked(3, 0, 3, {})
        assert await books.count() == 3

    async def test_books_in_batches_and_reports_progress(self, books: Ledger) -> None:
        seen: list[tuple[str, int, int | None]] = []
        outcome = await books.import_text(FILE, batch_size=2, progress=lambda *report: seen.append(report))
        assert isinstance(outcome, ReceiptsBooked)
        assert outcome.booked == 3
        assert seen == [("checked", 2, None), ("checked", 3, 3), ("booked", 2, 3), ("booked", 3, 3)]

    async def test_a_file_with_any_error_books_nothing_and_lists_every_error(self, books: Ledger) -> None:
        listed: list[InputProblem] = []
        bad = FILE + "MUG-2,north,1,4,USD,2026-11-20,PO-4\nMUG-3,east,0,4,USD,2026-11-20,PO-5\n"
        outcome = await books.import_text(bad, on_error=listed.append)
        assert isinstance(outcome, ReceiptsRejected)
        assert (outcome.rows, outcome.error_count) == (5, 2)
        assert [(e.row, e.column) for e in outcome.errors] == [(5, "warehouse"), (6, "quantity")]
        assert listed == list(outcome.errors)
        assert await books.count() == 0

    async def test_a_header_without_rows_is_refused(self, books: Ledger) -> None:
        outcome = await books.import_text(HEADER)
        assert isinstance(outcome, ReceiptsRejected)
        assert "no receipts" in outcome.errors[0].message

    async def test_a_currency_other_than_the_pools_in_the_ledger_is_found_before_booking(self, books: Ledger) -> None:
        await books.import_text(FILE)
        outcome = await books.import_text(
            HEADER + "TEA-1,west,1,2,USD,2026-11-22,PO-9\nTEA-2,west,1,2,USD,2026-11-22,\n"
        )
        assert isinstance(outcome, ReceiptsRejected)
        (error,) = outcome.errors
        assert (error.row, error.column) == (2, "currency")
        assert "differs from EUR" in error.message
        assert await books.count() == 3

    async def test_a_file_that_changes_between_check_and_booking_raises_to_roll_back(self, books: Ledger) -> None:
        changed = FILE.replace("TEA-1,west,3", "TEA-1,west,x")
        with pytest.raises(NothingBooked) as raised:
            await books.import_text(FILE, changed, batch_size=2)
        assert "changed while it was imported" in str(raised.value)
        await books.session.rollback()  # what the caller's transaction does
        assert await books.count() == 0

    async def test_a_file_changed_to_other_valid_rows_between_the_passes_is_not_booked(self, books: Ledger) -> None:
        with pytest.raises(NothingBooked):
            await books.import_text(FILE, FILE.replace("PO-3", "PO-4"))
        await books.session.rollback()
        assert await books.count() == 0

    async def test_reads_dates_in_the_store_time_zone(self, books: Ledger) -> None:
        await books.settings.save(SHOP_API_URL, _general("America/New_York"))
        await books.import_text(HEADER + "MUG-1,east,1,1,USD,2026-11-20T09:00,\n")
        (move,) = await books.moves()
        assert move.at == NOW.replace(day=20, hour=14)


def _general(zone: str) -> SettingsChange:
    return SettingsChange("general", NOW, "ann@shop.test", "{}", f'{{"timezone": "{zone}"}}')


def _item(**changes: object) -> dict[str, object]:
    item: dict[str, object] = {
        "sku": "MUG-1",
        "warehouse": "east",
        "quantity": 10,
        "unit_cost": Decimal("4.25"),
        "currency": "USD",
        "received_at": "2026-11-20T08:00:00Z",
        "reference": "PO-1",
    }
    return {**item, **changes}


class TestBookReceipts:
    async def book(self, books: Ledger, items: list[object]) -> ReceiptsBooked | ReceiptsRejected:
        return await book_receipts(
            SHOP_API_URL,
            items,
            saleor=books.saleor,
            ledger=books.ledger,
            settings=books.settings,
            now=NOW,
            recorded_by="API key Purchasing",
        )

    async def test_books_every_item_and_gives_each_its_id(self, books: Ledger) -> None:
        outcome = await self.book(books, [_item(), _item(reference="PO-2")])
        assert isinstance(outcome, ReceiptsBooked)
        assert (outcome.booked, outcome.already_imported) == (2, 0)
        assert [m.move_id for m in await books.moves()] == list(outcome.move_ids)
        assert {m.source for m in await books.moves()} == {"api"}

    async def test_a_retried_request_books_nothing_twice(self, books: Ledger) -> None:
        first = await self.book(books, [_item()])
        again = await self.book(books, [_item(), _item(reference="PO-2")])
        assert isinstance(first, ReceiptsBooked)
        assert isinstance(again, ReceiptsBooked)
        assert (again.booked, again.already_imported) == (1, 1)
        assert again.duplicate_ids == frozenset(first.move_ids)

    async def test_any_bad_item_books_nothing_and_every_problem_is_reported(self, books: Ledger) -> None:
        items: list[object] = [_item(), _item(quantity=-1, unit_cost="12,50"), _item(), "MUG"]
        outcome = await self.book(books, items)
        assert isinstance(outcome, ReceiptsRejected)
        assert [(e.row, e.column) for e in outcome.errors] == [(1, "quantity"), (1, "unit_cost"), (2, None), (3, None)]
        assert "repeats item 0" in outcome.errors[2].message
        assert await books.count() == 0

    async def test_an_empty_or_oversized_request_is_refused(self, books: Ledger) -> None:
        empty = await self.book(books, [])
        assert isinstance(empty, ReceiptsRejected)
        assert "empty" in empty.errors[0].message
        huge = await self.book(books, [_item()] * 10_001)
        assert isinstance(huge, ReceiptsRejected)
        assert "at most 10,000" in huge.errors[0].message


def _stock(variant: str, warehouse: WarehouseRef, quantity: int, **prices: Money) -> StockLevel:
    return StockLevel(
        variant,
        f"SKU-{variant}",
        "Mugs",
        warehouse.id,
        quantity,
        prices,
        warehouse=SaleorName(warehouse.id, warehouse.name, warehouse.slug),
        variant=SaleorName(variant, f"Mug / {variant}"),
    )


def _sku_less(variant: str, warehouse: WarehouseRef, quantity: int, **prices: Money) -> StockLevel:
    return dataclasses.replace(_stock(variant, warehouse, quantity, **prices), sku=None)


class TestTakeOpeningBalance:
    async def take(self, books: Ledger, channel: str | None = None) -> OpeningBalance:
        return await take_opening_balance(
            SHOP_API_URL,
            saleor=books.saleor,
            ledger=books.ledger,
            settings=books.settings,
            names=books.names,
            channel=channel,
            at=NOW - timedelta(days=1),
            now=NOW,
            recorded_by="ann@shop.test",
        )

    @pytest.fixture
    def stock(self, saleor: FakeSaleorGateway) -> None:
        usd = {"default-channel": Money(Decimal("4.00"), "USD"), "eu": Money(Decimal("3.50"), "EUR")}
        saleor.stock_list = [
            _stock("V1", EAST, 0),  # nothing on hand: not a receipt
            _stock("V2", EAST, 7),  # no cost price anywhere
            _stock("V1", WEST, 10, **usd),
            _stock("V3", EAST, 2, **{"eu": Money(Decimal("9"), "EUR")}),
            _stock("V4", EAST, 3, **{"default-channel": Money(Decimal("1.25"), "USD")}),
        ]

    @pytest.mark.usefixtures("stock")
    async def test_books_stock_at_its_cost_price_in_the_first_channel_and_lists_what_it_skipped(
        self, books: Ledger
    ) -> None:
        result = await self.take(books)
        assert (result.channel, result.currency, result.stocks) == ("default-channel", "USD", 4)
        assert (result.booked, result.already_booked, result.value) == (2, 0, Decimal("43.75"))
        assert [(s.variant_id, s.reason) for s in result.skipped] == [
            ("V2", "no cost price in any channel"),
            ("V3", "no cost price in channel default-channel"),
        ]
        assert result.channels == ("default-channel", "eu")
        moves = await books.moves()
        assert [(m.move_id, m.quantity, m.unit_cost, m.reference, m.source) for m in moves] == [
            (opening_move_id(WEST.id, "V1"), 10, Decimal("4.00"), "opening balance", "opening"),
            (opening_move_id(EAST.id, "V4"), 3, Decimal("1.25"), "opening balance", "opening"),
        ]
        assert {m.at for m in moves} == {NOW - timedelta(days=1)}

    async def test_learns_warehouse_names_and_names_variants_without_a_sku(
        self, books: Ledger, saleor: FakeSaleorGateway
    ) -> None:
        usd = {"default-channel": Money(Decimal("4.00"), "USD")}
        saleor.stock_list = [_sku_less("V5", WEST, 2, **usd), _sku_less("V6", EAST, 1)]
        result = await self.take(books)
        assert [(s.item, s.warehouse) for s in result.skipped] == [("Mug / V6", "East")]
        names = await books.names.lookup(SHOP_API_URL, [WEST.id, EAST.id, "V5", "SKU-V1"])
        assert names == {
            WEST.id: SaleorName(WEST.id, "West", "west"),
            EAST.id: SaleorName(EAST.id, "East", "east"),
            "V5": SaleorName("V5", "Mug / V5"),
        }

    @pytest.mark.usefixtures("stock")
    async def test_taking_it_twice_books_nothing_twice(self, books: Ledger) -> None:
        await self.take(books)
        again = await self.take(books)
        assert (again.booked, again.already_booked) == (0, 2)
        assert await books.count() == 2

    @pytest.mark.usefixtures("stock")
    async def test_the_merchant_picks_the_channel(self, books: Ledger) -> None:
        result = await self.take(books, "eu")
        assert (result.channel, result.currency, result.booked, result.value) == ("eu", "EUR", 2, Decimal("53.00"))

    @pytest.mark.usefixtures("stock")
    async def test_a_pool_the_ledger_values_in_another_currency_is_skipped(self, books: Ledger) -> None:
        await books.import_text(HEADER + "SKU-V4,east,1,1,EUR,2026-11-20,PO-1\n")
        result = await self.take(books)
        assert result.booked == 1
        assert result.skipped[-1].reason == "the ledger values this SKU in this warehouse in EUR, not USD"

    async def test_a_cost_price_in_another_currency_than_the_channels_is_skipped(
        self, books: Ledger, saleor: FakeSaleorGateway
    ) -> None:
        saleor.stock_list = [
            _stock("V1", EAST, 1, c=Money(Decimal(1), "USD")),
            _stock("V2", EAST, 1, c=Money(Decimal(1), "GBP")),
        ]
        result = await self.take(books)
        assert result.skipped[0].reason == "its cost price in c is in GBP, not USD"

    async def test_a_store_without_cost_prices_books_nothing(self, books: Ledger, saleor: FakeSaleorGateway) -> None:
        saleor.stock_list = [_stock("V1", EAST, 4)]
        result = await self.take(books)
        assert (result.channel, result.booked, result.skipped_count) == (None, 0, 1)


class TestReceiptLog:
    async def test_lists_the_latest_receipts_first(self, books: Ledger) -> None:
        await books.import_text(FILE)
        recent = await SqlReceiptLog(books.session).recent(SHOP_API_URL, 2)
        assert [(r.sku, r.reference, r.unit_cost) for r in recent] == [
            ("TEA-1", "PO-3", Decimal("2.10")),
            ("MUG-1", "PO-2", Decimal("4.50")),
        ]


class TestApiKeyStore:
    async def test_a_key_is_shown_once_stored_hashed_and_found_by_its_hash(self, session: AsyncSession) -> None:
        store = SqlApiKeyStore(session)
        created = await create_api_key(store, SHOP_API_URL, " Purchasing ", by="ann@shop.test", now=NOW)
        assert isinstance(created, ApiKeyCreated)
        assert created.secret.startswith("sops_")
        assert created.key.name == "Purchasing"
        used = await authenticate_api_key(store, created.secret, now=NOW + timedelta(hours=1))
        assert used is not None
        assert (used.saleor_api_url, used.last_used_at) == (SHOP_API_URL, NOW + timedelta(hours=1))
        assert created.secret not in str(await store.keys(SHOP_API_URL))

    async def test_a_revoked_or_unknown_key_opens_nothing(self, session: AsyncSession) -> None:
        store = SqlApiKeyStore(session)
        created = await create_api_key(store, SHOP_API_URL, "ERP", by="ann@shop.test", now=NOW)
        assert isinstance(created, ApiKeyCreated)
        assert await store.revoke(SHOP_API_URL, created.key.id, NOW)
        assert not await store.revoke(SHOP_API_URL, created.key.id, NOW)
        assert await authenticate_api_key(store, created.secret, now=NOW) is None
        assert await authenticate_api_key(store, "sops_guess", now=NOW) is None
        assert await authenticate_api_key(store, "not-a-key", now=NOW) is None

    async def test_keys_of_a_store_whose_app_token_was_revoked_open_nothing(
        self, session: AsyncSession, runtime: Runtime
    ) -> None:
        store = SqlApiKeyStore(session)
        created = await create_api_key(store, SHOP_API_URL, "ERP", by="ann@shop.test", now=NOW)
        assert isinstance(created, ApiKeyCreated)
        await SqlInstallationStore(session, runtime.cipher).mark_revoked(SHOP_API_URL, NOW)
        assert await authenticate_api_key(store, created.secret, now=NOW) is None

    @pytest.mark.parametrize("name", ["", "   ", "x" * 129])
    async def test_a_key_needs_a_name(self, session: AsyncSession, name: str) -> None:
        assert isinstance(await create_api_key(SqlApiKeyStore(session), SHOP_API_URL, name, by="a", now=NOW), str)
