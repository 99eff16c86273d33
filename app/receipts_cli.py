"""``saleor-ops import-receipts`` and ``saleor-ops opening-balance``: receipts into a store's cost
ledger from the command line, in one transaction (all or nothing).

Results go to stdout, progress and the reason for a refusal to stderr. Exit codes: 0 booked (or
nothing new to book), 1 refused with every problem listed, 2 the command cannot run (bad URL,
no such file, the store has not installed the app).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TextIO
from uuid import uuid4

from app.config import Settings
from app.db.engine import is_sqlite
from app.db.migrate import upgrade_to_head
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.pipeline import SqlEffectOutbox
from app.db.repositories.saleor_names import SqlSaleorNames
from app.db.repositories.settings import SqlSettingsStore
from app.domain.ids import InvalidSaleorApiUrl, SaleorApiUrl, saleor_api_url
from app.domain.installation import Installation
from app.domain.money import Money
from app.errors import SaleorApiError
from app.runtime import Runtime
from app.services.input_problems import InputProblem
from app.services.receipt_import import read_instant
from app.services.receipts import NothingBooked, ReceiptsRejected, import_receipt_csv, take_opening_balance
from app.services.settings import store_timezone

PROGRESS_SECONDS = 1.0


@dataclass
class Console:
    # Looked up when built, so a redirected sys.stdout (or a test's capture) is honoured.
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def say(self, text: str) -> None:
        self.out.write(text + "\n")

    def note(self, text: str) -> None:
        self.err.write(text + "\n")
        self.err.flush()


def _recorded_by() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


class _ProgressLines:
    """A line on stderr at most every second, and one when a stage is done."""

    def __init__(self, console: Console, noun: str = "rows", clock: Callable[[], float] = time.monotonic) -> None:
        self._console, self._noun, self._clock = console, noun, clock
        self._started = self._last = clock()

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        now = self._clock()
        finished = total is not None and done == total
        if not finished and now - self._last < PROGRESS_SECONDS:
            return
        self._last = now
        rate = done / (now - self._started) if now > self._started else 0.0
        of = f" of {total:,}" if total is not None and stage == "booked" else ""
        self._console.note(f"{stage} {done:,}{of} {self._noun} ({rate:,.0f}/s)")
        if finished:
            self._started = now  # the next stage measures its own rate


def _amount(value: Decimal, currency: str) -> str:
    return f"{Money(value, currency).quantized().amount:,}"


async def _installation(runtime: Runtime, raw_url: str, console: Console) -> Installation | None:
    try:
        url = saleor_api_url(raw_url)
    except InvalidSaleorApiUrl as exc:
        console.note(f"saleor-ops: {exc}")
        return None
    async with runtime.sessions() as session:
        installation = await SqlInstallationStore(session, runtime.cipher).get(url)
    if installation is None or installation.is_revoked:
        state = "has revoked the app" if installation is not None else "has not installed the app"
        console.note(f"saleor-ops: {url} {state}")
        return None
    return installation


async def import_receipts(runtime: Runtime, raw_url: str, path: Path, console: Console) -> int:
    """Check the whole file, then book it, in one transaction; list every problem if there is one."""
    installation = await _installation(runtime, raw_url, console)
    if installation is None:
        return 2
    url = installation.saleor_api_url

    def listed(error: InputProblem) -> None:
        console.say(str(error))

    try:
        async with runtime.sessions.begin() as session:
            outcome = await import_receipt_csv(
                url,
                lambda: path.open(encoding="utf-8-sig", newline=""),
                saleor=runtime.deciding(installation, SqlEffectOutbox(session), f"cli:{uuid4()}"),
                ledger=SqlInventoryLedger(session),
                settings=SqlSettingsStore(session),
                now=runtime.clock.now(),
                recorded_by=_recorded_by(),
                progress=_ProgressLines(console),
                on_error=listed,
            )
    except NothingBooked as exc:
        for error in exc.errors:
            listed(error)
        console.note("Nothing was booked: the transaction was rolled back.")
        return 1
    except SaleorApiError as exc:
        console.note(f"saleor-ops: could not list the store's warehouses: {exc}")
        return 2
    if isinstance(outcome, ReceiptsRejected):
        problems = f"{outcome.error_count:,} problem{'s' if outcome.error_count != 1 else ''}"
        console.note(f"Nothing was booked: {problems} in {outcome.rows:,} rows of {path.name}.")
        return 1
    console.say(f"rows              {outcome.rows:,}")
    console.say(f"booked            {outcome.booked:,}")
    console.say(f"already imported  {outcome.already_imported:,}")
    console.say(f"orders recosted   {outcome.recosted_orders:,}")
    for currency, value in sorted(outcome.value.items()):
        console.say(f"value {currency}         {_amount(value, currency)}")
    return 0


async def opening_balance(
    runtime: Runtime, raw_url: str, channel: str | None, at_text: str | None, console: Console
) -> int:
    """Book Saleor's stock as receipts at its cost price in one channel."""
    installation = await _installation(runtime, raw_url, console)
    if installation is None:
        return 2
    url: SaleorApiUrl = installation.saleor_api_url
    now = runtime.clock.now()
    try:
        async with runtime.sessions.begin() as session:
            settings = SqlSettingsStore(session)
            at: datetime | str = now
            if at_text:
                at = read_instant(at_text, await store_timezone(settings, url), now)
            if isinstance(at, str):
                console.note(f"saleor-ops: --at {at_text!r} {at}")
                return 2
            result = await take_opening_balance(
                url,
                saleor=runtime.deciding(installation, SqlEffectOutbox(session), f"cli:{uuid4()}"),
                ledger=SqlInventoryLedger(session),
                settings=settings,
                names=SqlSaleorNames(session),
                channel=channel,
                at=at,
                now=now,
                recorded_by=_recorded_by(),
                progress=_ProgressLines(console, "stock lines"),
            )
    except NothingBooked as exc:
        console.note(f"Nothing was booked: {exc}")
        return 1
    except SaleorApiError as exc:
        console.note(f"saleor-ops: could not read the store's stock: {exc}")
        return 2
    for stock in result.skipped:
        console.say(f"skipped {stock.item} in {stock.warehouse} ({stock.quantity}): {stock.reason}")
    if result.skipped_count > len(result.skipped):
        console.say(f"… and {result.skipped_count - len(result.skipped):,} more skipped")
    console.say(f"channel           {result.channel or '-'}")
    console.say(f"dated             {result.at.isoformat()}")
    console.say(f"stock lines       {result.stocks:,}")
    console.say(f"booked            {result.booked:,}")
    console.say(f"booked before     {result.already_booked:,}")
    console.say(f"skipped           {result.skipped_count:,}")
    if result.currency:
        console.say(f"value {result.currency}         {_amount(result.value, result.currency)}")
    return 0


def run(settings: Settings, args: argparse.Namespace, console: Console | None = None) -> int:
    """The ``import-receipts`` or ``opening-balance`` command, as parsed by ``app.cli``."""
    console = console or Console()
    if args.command == "import-receipts" and not args.file.is_file():
        console.note(f"saleor-ops: no such file: {args.file}")
        return 2
    if is_sqlite(settings.database_url):
        upgrade_to_head(settings.database_url)  # as `serve` does for the embedded database

    async def command() -> int:
        runtime = Runtime.build(settings)
        try:
            if args.command == "import-receipts":
                return await import_receipts(runtime, args.saleor_api_url, args.file, console)
            return await opening_balance(runtime, args.saleor_api_url, args.channel, args.at, console)
        finally:
            await runtime.close()

    return asyncio.run(command())
