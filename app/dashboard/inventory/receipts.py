"""The Receipts page: goods received into the cost ledger from a CSV file, a form, or Saleor's
stock as an opening balance; and the API keys purchasing systems send receipts with.

Receipts change stock value, which in Saleor is the business of whoever manages products (stock
and cost prices need ``MANAGE_PRODUCTS`` there), so the page needs it. An API key can book
receipts from outside without anyone signed in, so creating or revoking one also needs
``MANAGE_APPS``, the permission Saleor asks of whoever issues app tokens.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from app.dashboard.inventory import receipt_views
from app.dashboard.router import templates
from app.dashboard.view_models import parse_locale
from app.dependencies import (
    ApiKeyStoreDep,
    DashboardContext,
    EffectOutboxDep,
    InventoryLedgerDep,
    ReceiptLogDep,
    RuntimeDep,
    SaleorNamesDep,
    SessionDep,
    SettingsStoreDep,
    require_permissions,
)
from app.errors import SaleorApiError
from app.services.api_keys import ApiKeyCreated, create_api_key
from app.services.input_problems import InputProblem
from app.services.ports import SaleorGateway, WarehouseRef
from app.services.receipt_import import COLUMNS, read_instant
from app.services.receipts import (
    NothingBooked,
    OpeningBalance,
    ReceiptsRejected,
    book_receipts,
    import_receipt_csv,
    take_opening_balance,
)
from app.services.settings import store_timezone

router = APIRouter()
ReceiverDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_PRODUCTS"))]
KeyManagerDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_PRODUCTS", "MANAGE_APPS"))]
RECENT_RECEIPTS = 25


@contextmanager
def _text_lines(binary: IO[bytes]) -> Iterator[io.TextIOWrapper]:
    """The uploaded file's lines from its start; the upload stays open for the second pass."""
    binary.seek(0)
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        yield text
    finally:
        text.detach()


class _Page:
    """Everything a Receipts request renders with: the fragment is rebuilt after every action."""

    def __init__(
        self,
        request: Request,
        viewer: DashboardContext,
        settings: SettingsStoreDep,
        receipts: ReceiptLogDep,
        keys: ApiKeyStoreDep,
        effects: EffectOutboxDep,
        runtime: RuntimeDep,
        locale: str | None = None,
    ) -> None:
        self.request, self.viewer, self.settings, self.receipts, self.keys = request, viewer, settings, receipts, keys
        self.effects, self.runtime = effects, runtime
        self.locale = parse_locale(locale)
        self.url = viewer.installation.saleor_api_url

    def gateway(self) -> SaleorGateway:
        return self.runtime.saleor.gateway(self.url, self.viewer.installation.token)

    def deciding(self, action: str) -> SaleorGateway:
        """For an action that books: its writes to Saleor (orders recosted) wait in the outbox."""
        return self.runtime.deciding(self.viewer.installation, self.effects, f"{action}:{uuid4()}")

    async def render(
        self, *, status_code: int = 200, message: str | None = None, notice: str | None = None, **outcome: Any
    ) -> HTMLResponse:
        """``message`` is the page's banner; ``notice`` the dashboard's toast, in plain ASCII because
        it travels in a header (latin-1 at most), so no file name, key name or currency sign."""
        zone = await store_timezone(self.settings, self.url)
        warehouses: list[WarehouseRef] | None
        try:
            warehouses = await self.gateway().warehouses()
        except SaleorApiError:
            warehouses = None  # the page still shows the ledger; the form takes a slug or ID
        by_id = {w.id: w for w in warehouses or []}
        recent = await self.receipts.recent(self.url, RECENT_RECEIPTS)
        can_manage_keys = "MANAGE_APPS" in self.viewer.user.user_permissions
        context = {
            "columns": ",".join(COLUMNS),
            "timezone": zone.key,
            "warehouses": warehouses,
            "recent": receipt_views.receipt_rows(recent, by_id, zone, self.locale),
            "keys": receipt_views.key_rows(await self.keys.keys(self.url), zone, self.locale),
            "can_manage_keys": can_manage_keys,
            "now_local": self.runtime.clock.now().astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "default_currency": recent[0].currency if recent else "",
            "message": message,
            "form": {},
            "form_errors": {},
            **outcome,
        }
        response = templates.TemplateResponse(self.request, "fragments/receipts.html", context, status_code=status_code)
        if notice:
            response.headers["x-ops-notice"] = notice
        return response


async def _receiver_page(
    request: Request,
    viewer: ReceiverDep,
    settings: SettingsStoreDep,
    receipts: ReceiptLogDep,
    keys: ApiKeyStoreDep,
    effects: EffectOutboxDep,
    runtime: RuntimeDep,
    locale: str | None = None,
) -> _Page:
    return _Page(request, viewer, settings, receipts, keys, effects, runtime, locale)


async def _key_manager_page(
    request: Request,
    viewer: KeyManagerDep,
    settings: SettingsStoreDep,
    receipts: ReceiptLogDep,
    keys: ApiKeyStoreDep,
    effects: EffectOutboxDep,
    runtime: RuntimeDep,
    locale: str | None = None,
) -> _Page:
    return _Page(request, viewer, settings, receipts, keys, effects, runtime, locale)


PageDep = Annotated[_Page, Depends(_receiver_page)]
KeyPageDep = Annotated[_Page, Depends(_key_manager_page)]


def _error_rows(errors: tuple[InputProblem, ...]) -> list[dict[str, str]]:
    return [
        {
            "row": "" if e.row is None else str(e.row),
            "column": e.column or "",
            "value": e.value,
            "message": e.message if e.row is not None or e.column else f"The file {e.message}",
        }
        for e in errors
    ]


@router.get("/api/dashboard/fragments/receipts", response_class=HTMLResponse)
async def receipts_fragment(page: PageDep) -> HTMLResponse:
    return await page.render()


@router.post("/api/dashboard/receipts/import", response_class=HTMLResponse)
async def import_receipts(page: PageDep, ledger: InventoryLedgerDep, session: SessionDep) -> HTMLResponse:
    """The whole file or nothing: every error is listed and nothing is booked when there is one."""
    # The form's temporary file is closed when the block ends; both passes read it before that.
    async with page.request.form(max_files=1) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await page.render(status_code=422, import_error="Choose a CSV file to import.")
        try:
            outcome = await import_receipt_csv(
                page.url,
                lambda: _text_lines(upload.file),
                saleor=page.deciding("receipts"),
                ledger=ledger,
                settings=page.settings,
                now=page.runtime.clock.now(),
                recorded_by=page.viewer.user.email,
            )
        except NothingBooked as exc:
            await session.rollback()  # whatever earlier batches booked goes too
            rejected = _rejected(exc.errors, None)
            return await page.render(status_code=422, import_rejected=rejected, file=upload.filename)
    if isinstance(outcome, ReceiptsRejected):
        rejected = _rejected(outcome.errors, outcome)
        return await page.render(status_code=422, import_rejected=rejected, file=upload.filename)
    return await page.render(
        message=f"{upload.filename}: {receipt_views.booked_summary(outcome, page.locale)}",
        notice=f"{outcome.booked} receipts booked, {outcome.already_imported} already in the ledger.",
        import_booked=outcome,
    )


def _rejected(errors: tuple[InputProblem, ...], outcome: ReceiptsRejected | None) -> dict[str, Any]:
    return {
        "rows": outcome.rows if outcome else None,
        "count": outcome.error_count if outcome else len(errors),
        "shown": len(errors),
        "errors": _error_rows(errors),
    }


@router.post("/api/dashboard/receipts", response_class=HTMLResponse)
async def enter_receipt(page: PageDep, ledger: InventoryLedgerDep, session: SessionDep) -> HTMLResponse:
    form = await page.request.form()
    fields = {name: str(form.get(name) or "") for name in COLUMNS}
    try:
        outcome = await book_receipts(
            page.url,
            [fields],
            saleor=page.deciding("receipts"),
            ledger=ledger,
            settings=page.settings,
            now=page.runtime.clock.now(),
            recorded_by=page.viewer.user.email,
            source="form",
        )
    except NothingBooked as exc:
        await session.rollback()
        outcome = ReceiptsRejected(1, len(exc.errors), exc.errors)
    if isinstance(outcome, ReceiptsRejected):
        form_errors = {e.column or "__all__": e.message for e in reversed(outcome.errors)}
        return await page.render(status_code=422, form=fields, form_errors=form_errors)
    if outcome.already_imported:
        message = "This receipt is already in the ledger (same SKU, warehouse, quantity, cost, date and reference)."
        return await page.render(message=message, notice="Already in the ledger: nothing booked.")
    message = f"Receipt booked: {receipt_views.values_text(outcome.value, page.locale)}."
    return await page.render(message=message, notice="Receipt booked.")


@router.post("/api/dashboard/receipts/opening-balance", response_class=HTMLResponse)
async def opening_balance(page: PageDep, ledger: InventoryLedgerDep, names: SaleorNamesDep) -> HTMLResponse:
    form = await page.request.form()
    channel = str(form.get("channel") or "").strip() or None
    typed_at = str(form.get("at") or "").strip()
    now = page.runtime.clock.now()
    at: datetime | str = now
    if typed_at:
        at = read_instant(typed_at, await store_timezone(page.settings, page.url), now)
    if isinstance(at, str):
        return await page.render(
            status_code=422, opening_error=f"'{typed_at}' {at}", opening_form={"channel": channel or "", "at": typed_at}
        )
    outcome: OpeningBalance = await take_opening_balance(
        page.url,
        saleor=page.deciding("receipts"),
        ledger=ledger,
        settings=page.settings,
        names=names,
        channel=channel,
        at=at,
        now=now,
        recorded_by=page.viewer.user.email,
    )
    return await page.render(
        message=receipt_views.opening_summary(outcome, page.locale),
        notice=f"Opening balance: {outcome.booked} stock lines booked, {outcome.skipped_count} skipped.",
        opening=outcome,
    )


@router.post("/api/dashboard/api-keys", response_class=HTMLResponse)
async def create_key(page: KeyPageDep) -> HTMLResponse:
    form = await page.request.form()
    created = await create_api_key(
        page.keys, page.url, str(form.get("name") or ""), by=page.viewer.user.email, now=page.runtime.clock.now()
    )
    if not isinstance(created, ApiKeyCreated):
        return await page.render(status_code=422, key_error=created)
    return await page.render(
        message=f"API key '{created.key.name}' created: copy it now.", notice="API key created.", new_key=created
    )


@router.post("/api/dashboard/api-keys/{key_id}/revoke", response_class=HTMLResponse)
async def revoke_key(key_id: int, page: KeyPageDep) -> HTMLResponse:
    revoked = await page.keys.revoke(page.url, key_id, page.runtime.clock.now())
    if not revoked:
        return await page.render(status_code=422, key_error="That key is not active.")
    message = "API key revoked: calls with it are refused from now on."
    return await page.render(message=message, notice=message)
