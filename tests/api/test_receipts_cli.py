"""``saleor-ops import-receipts`` and ``saleor-ops opening-balance`` against the test database and a
fake Saleor (synchronous tests: the command runs its own event loop)."""

from __future__ import annotations

import io
from argparse import Namespace
from pathlib import Path

import pytest

from app.cli import main
from app.config import Settings
from app.receipts_cli import Console, run
from tests.api.receipt_answers import FILE, WAREHOUSES, warehouse_stocks
from tests.fakes.fake_saleor import FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")
SHOP = "https://shop.test/graphql/"


@pytest.fixture(autouse=True)
def warehouses(fake_saleor: FakeSaleor) -> None:
    fake_saleor.on("Warehouses", WAREHOUSES)


def _import(settings: Settings, path: Path, url: str = SHOP) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(settings, Namespace(command="import-receipts", saleor_api_url=url, file=path), Console(out, err))
    return code, out.getvalue(), err.getvalue()


def test_imports_a_file_prints_progress_and_a_summary(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "receipts.csv"
    path.write_text(FILE, encoding="utf-8")
    code, out, err = _import(settings, path)
    assert code == 0
    assert out.splitlines() == [
        "rows              2",
        "booked            2",
        "already imported  0",
        "orders recosted   0",
        "value USD         48.50",
    ]
    assert "checked 2 rows" in err
    assert "booked 2 of 2 rows" in err
    code, out, _ = _import(settings, path)
    assert code == 0
    assert "already imported  2" in out


def test_a_file_with_errors_lists_every_one_and_books_nothing(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "receipts.csv"
    path.write_text(FILE + "MUG-3,north,1,1,USD,2026-11-20,\nMUG-4,east,0,1,USD,2026-11-20,\n", encoding="utf-8")
    code, out, err = _import(settings, path)
    assert code == 1
    assert out.splitlines() == [
        "row 4, warehouse: 'north' is not a warehouse of this store: use its slug or ID (slugs: east)",
        "row 5, quantity: '0' must be at least 1",
    ]
    assert "Nothing was booked: 2 problems in 4 rows of receipts.csv." in err
    path.write_text(FILE, encoding="utf-8")
    assert "booked            2" in _import(settings, path)[1]  # the refused run left nothing behind


def test_a_store_that_has_not_installed_the_app_is_refused(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "receipts.csv"
    path.write_text(FILE, encoding="utf-8")
    code, _, err = _import(settings, path, "https://elsewhere.test/graphql/")
    assert code == 2
    assert "has not installed the app" in err


def test_a_missing_file_is_refused_before_anything_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["import-receipts", "--saleor-api-url", SHOP, str(tmp_path / "missing.csv")])
    assert code == 2
    assert "no such file" in capsys.readouterr().err


def test_takes_the_opening_balance(settings: Settings, fake_saleor: FakeSaleor) -> None:
    fake_saleor.on("WarehouseStocks", warehouse_stocks)
    out, err = io.StringIO(), io.StringIO()
    args = Namespace(command="opening-balance", saleor_api_url=SHOP, channel=None, at="2026-11-01")
    assert run(settings, args, Console(out, err)) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("skipped MUG-2 in East (6): no cost price in channel default-channel")
    assert "booked            1" in lines
    assert "value USD         21.00" in lines
    assert "dated             2026-11-01T00:00:00+00:00" in lines
