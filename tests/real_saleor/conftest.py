"""The suite against a running real Saleor: skipped, with the reason, unless it is named in the environment.

Once per session it starts ``saleor-ops serve`` on a free port with a fresh SQLite data folder, installs
it with ``appInstall``, books one receipt into its cost ledger with ``saleor-ops import-receipts``, and at
the end uninstalls it (``appDelete``) and stops it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.real_saleor.app_process import InstalledOps, RunningApp
from tests.real_saleor.installation import install_app, uninstall_app
from tests.real_saleor.saleor_api import StaffSaleor
from tests.real_saleor.store import CURRENCY, Store, prepare_store

ENVIRONMENT = ("SALEOR_E2E_API_URL", "SALEOR_E2E_STAFF_EMAIL", "SALEOR_E2E_STAFF_PASSWORD")
HERE = Path(__file__).parent

# The ledger's cost differs from Saleor's cost price (store.COST_PRICE), so a COGS figure shows which one
# the app used.
RECEIPT_UNIT_COST = Decimal("12.00")
RECEIPT_QUANTITY = 1_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = [name for name in ENVIRONMENT if not os.environ.get(name)]
    if not missing:
        return
    skip = pytest.mark.skip(
        reason=f"{', '.join(missing)} not set: this suite runs against a real Saleor (README: Against a real Saleor)"
    )
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def saleor() -> Iterator[StaffSaleor]:
    client = StaffSaleor(*(os.environ[name] for name in ENVIRONMENT))
    yield client
    client.close()


@pytest.fixture(scope="session")
def store(saleor: StaffSaleor) -> Store:
    return prepare_store(saleor)


@pytest.fixture(scope="session")
def ops(saleor: StaffSaleor, store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InstalledOps]:
    process = RunningApp(tmp_path_factory.mktemp("saleor-ops"))
    process.start()
    app_id: str | None = None
    try:
        app_id = install_app(saleor, process.manifest_url, f"Saleor Ops e2e {uuid.uuid4().hex[:6]}")
        installed = process.installed_api_urls()
        assert installed == [saleor.api_url], (
            f"the app stored its installation under {installed}, not {saleor.api_url}: Saleor's PUBLIC_URL must"
            " be the URL the suite calls it at (SALEOR_E2E_API_URL without /graphql/)"
        )
        _receive_goods(process, store, saleor.api_url)
        yield InstalledOps(process, app_id, saleor.api_url)
    finally:
        try:
            if app_id is not None:
                uninstall_app(saleor, app_id)
        finally:
            process.stop()


def _receive_goods(process: RunningApp, store: Store, api_url: str) -> None:
    """One receipt of the suite's SKU into its warehouse, as a merchant imports a purchase order."""
    received_at = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
    receipts = process.data_dir / "receipts.csv"
    receipts.write_text(
        "sku,warehouse,quantity,unit_cost,currency,received_at,reference\n"
        f"{store.sku},{store.warehouse_slug},{RECEIPT_QUANTITY},{RECEIPT_UNIT_COST},{CURRENCY},{received_at},PO-E2E\n",
        encoding="utf-8",
    )
    result = process.run_cli("import-receipts", "--saleor-api-url", api_url, str(receipts))
    assert result.returncode == 0, f"import-receipts failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
