"""Shipping → Warehouses, Channels & promises, Boxes & sizes, Rules: the shipping settings section in
forms instead of JSON.

Each form changes its part of the section and saves the whole section through ``change_settings``,
so the section's model validates it, the change is kept in the history, and a refusal names the
field and saves nothing. Like the rest of Shipping, these need ``MANAGE_SHIPPING``.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from app.dashboard.router import templates
from app.dashboard.shipping import settings_views as views
from app.dashboard.shipping.rate_table_views import ACTIONS, FRAGMENTS, TABS
from app.dashboard.shipping.rate_tables import ShippingManagerDep
from app.dependencies import RuntimeDep, SettingsStoreDep
from app.errors import SaleorApiError
from app.services.ports import ChannelRef, WarehouseRef
from app.services.settings import SECTIONS, SettingsRejected, change_settings, read_settings

router = APIRouter()
SHIPPING = SECTIONS["shipping"]
TIME_ZONES = sorted(available_timezones())
TextQuery = Annotated[str, Query(max_length=256)]


class _Forms:
    """What every settings form request renders and saves with."""

    def __init__(
        self, request: Request, viewer: ShippingManagerDep, settings: SettingsStoreDep, runtime: RuntimeDep
    ) -> None:
        self.request, self.viewer, self.settings, self.runtime = request, viewer, settings, runtime
        self.url = viewer.installation.saleor_api_url

    async def stored(self) -> dict[str, Any]:
        """The section as plain structure (what its JSON editing shows)."""
        return (await read_settings(self.settings, self.url, SHIPPING)).model_dump(mode="json")

    async def saleor_warehouses(self) -> list[WarehouseRef] | None:
        try:
            return await self.runtime.saleor.gateway(self.url, self.viewer.installation.token).warehouses()
        except SaleorApiError:
            return None  # the forms still work, by warehouse ID

    async def saleor_channels(self) -> list[ChannelRef] | None:
        try:
            return await self.runtime.saleor.gateway(self.url, self.viewer.installation.token).channels()
        except SaleorApiError:
            return None  # the form still works, by slug

    async def form(self) -> dict[str, str]:
        form = await self.request.form()
        return {name: value for name, value in form.items() if isinstance(value, str)}

    async def save(self, part: str, value: list[dict[str, Any]], **more: list[dict[str, Any]]) -> str | None:
        """Save the section with these parts replaced; the refusal of the parts, or None once saved."""
        outcome = await change_settings(
            self.settings,
            self.url,
            SHIPPING,
            {**await self.stored(), part: value, **more},
            changed_by=self.viewer.user.email,
            now=self.runtime.clock.now(),
        )
        if isinstance(outcome, SettingsRejected):
            return "; ".join(f"{name}: {error}" for name, error in outcome.errors.items())
        return None

    def render(
        self, tab: str, template: str, context: dict[str, Any], *, refused: str | None = None, notice: str | None = None
    ) -> HTMLResponse:
        response = templates.TemplateResponse(
            self.request,
            f"fragments/{template}",
            {"tabs": TABS, "tab": tab, "fragments": FRAGMENTS, "actions": ACTIONS, "refused": refused, **context},
            status_code=422 if refused else 200,
        )
        if notice:
            response.headers["x-ops-notice"] = notice
        return response


FormsDep = Annotated[_Forms, Depends(_Forms)]


def _index(text: str) -> int | None:
    return int(text) if text.isdigit() else None


# Warehouses


async def _warehouses(
    forms: _Forms, saleor: list[WarehouseRef] | None, *, message: str | None = None, refused: str | None = None
) -> HTMLResponse:
    stored = await forms.stored()
    context = {
        "rows": views.warehouse_rows(stored["warehouses"], saleor),
        "saleor_unavailable": saleor is None,
        "message": message,
    }
    return forms.render("warehouses", "shipping_warehouses.html", context, refused=refused, notice=message)


def _warehouse_form(forms: _Forms, fields: dict[str, Any], configured: bool, refused: str | None) -> HTMLResponse:
    # "weekdays" is what the calendar calls the working days
    names = ("time_zone", "holiday_country", "holiday_subdivision", "working_days", "weekdays", "cutoffs", "closures")
    errors = views.field_errors(refused or "", (*views.PLACE_FIELDS, *names, "handling_days_min", "handling_days_max"))
    context = {
        "fields": fields,
        "configured": configured,
        "errors": errors,
        "time_zones": TIME_ZONES,
        "weekdays": views.WEEKDAY_NAMES,
    }
    return forms.render("warehouses", "shipping_warehouse.html", context, refused=refused)


@router.get(FRAGMENTS + "/warehouses", response_class=HTMLResponse)
async def warehouses_fragment(forms: FormsDep) -> HTMLResponse:
    return await _warehouses(forms, await forms.saleor_warehouses())


@router.get(FRAGMENTS + "/warehouses/edit", response_class=HTMLResponse)
async def warehouse_fragment(forms: FormsDep, id: TextQuery) -> HTMLResponse:
    stored = next((item for item in (await forms.stored())["warehouses"] if item["id"] == id), None)
    names = {w.id: w.name for w in await forms.saleor_warehouses() or ()}
    return _warehouse_form(forms, views.warehouse_fields(stored, id, names.get(id, id)), stored is not None, None)


@router.post(ACTIONS + "/warehouses", response_class=HTMLResponse)
async def save_warehouse(forms: FormsDep) -> HTMLResponse:
    # Saleor is asked first: a save must not hold the database's write lock while it answers.
    saleor = await forms.saleor_warehouses()
    submitted = await forms.request.form()
    form = await forms.form()
    fields = views.warehouse_form_fields(form, [str(day) for day in submitted.getlist("working_days")])
    if not fields["id"]:
        return HTMLResponse("Which warehouse?", status_code=422)
    warehouses = (await forms.stored())["warehouses"]
    index = next((i for i, item in enumerate(warehouses) if item["id"] == fields["id"]), None)
    refused = await forms.save("warehouses", views.replaced(warehouses, index, views.warehouse_item(fields)))
    if refused:
        return _warehouse_form(forms, fields, index is not None, refused)
    return await _warehouses(forms, saleor, message=f"Warehouse {fields['name'] or fields['id']} saved.")


@router.post(ACTIONS + "/warehouses/remove", response_class=HTMLResponse)
async def remove_warehouse(forms: FormsDep) -> HTMLResponse:
    saleor = await forms.saleor_warehouses()  # first, as when saving
    warehouse_id = (await forms.form()).get("id", "")
    warehouses = [item for item in (await forms.stored())["warehouses"] if item["id"] != warehouse_id]
    refused = await forms.save("warehouses", warehouses)
    if refused:  # a channel still quotes from it
        return await _warehouses(forms, saleor, refused=refused)
    return await _warehouses(forms, saleor, message="Warehouse removed from shipping.")


# Channels & promises


async def _channels(forms: _Forms, *, message: str | None = None, refused: str | None = None) -> HTMLResponse:
    stored = await forms.stored()
    names = {item["id"]: item["name"] or item["id"] for item in stored["warehouses"]}
    rows = [
        {
            "channel": item["channel"],
            "warehouse": names.get(item["warehouse"], item["warehouse"]),
            "levels": views.channel_summary(item),
            "edit": views.edit_link("channels", channel=item["channel"]),
        }
        for item in stored["channels"]
    ]
    context = {"rows": rows, "add": views.edit_link("channels"), "has_warehouses": bool(names), "message": message}
    return forms.render("channels", "shipping_channels.html", context, refused=refused, notice=message)


async def _channel_form(
    forms: _Forms,
    fields: dict[str, Any],
    replacing: str,
    saleor: list[ChannelRef] | None,
    refused: str | None = None,
) -> HTMLResponse:
    stored = await forms.stored()
    names = ("channel", "warehouse", "levels", "promise_days", *views.PRICE_FIELDS)
    context = {
        "fields": fields,
        "replacing": replacing,
        "channels": views.channel_choices(saleor, stored["channels"], replacing),
        "warehouses": [(item["id"], item["name"] or item["id"]) for item in stored["warehouses"]],
        "levels": views.LEVELS,
        "errors": views.field_errors(refused or "", names),
    }
    return forms.render("channels", "shipping_channel.html", context, refused=refused)


@router.get(FRAGMENTS + "/channels", response_class=HTMLResponse)
async def channels_fragment(forms: FormsDep) -> HTMLResponse:
    return await _channels(forms)


@router.get(FRAGMENTS + "/channels/edit", response_class=HTMLResponse)
async def channel_fragment(forms: FormsDep, channel: TextQuery = "") -> HTMLResponse:
    stored = next((item for item in (await forms.stored())["channels"] if item["channel"] == channel), None)
    saleor = await forms.saleor_channels()
    return await _channel_form(forms, views.channel_fields(stored), stored["channel"] if stored else "", saleor)


@router.post(ACTIONS + "/channels", response_class=HTMLResponse)
async def save_channel(forms: FormsDep) -> HTMLResponse:
    saleor = await forms.saleor_channels()  # first, as when saving warehouses
    form = await forms.form()
    fields, replacing = views.channel_form_fields(form), form.get("replacing", "")
    channels = (await forms.stored())["channels"]
    index = next((i for i, item in enumerate(channels) if replacing and item["channel"] == replacing), None)
    refused = await forms.save("channels", views.replaced(channels, index, views.channel_item(fields)))
    if refused:
        return await _channel_form(forms, fields, replacing, saleor, refused)
    return await _channels(forms, message=f"Channel {fields['channel'].strip()} saved.")


@router.post(ACTIONS + "/channels/remove", response_class=HTMLResponse)
async def remove_channel(forms: FormsDep) -> HTMLResponse:
    channel = (await forms.form()).get("channel", "")
    channels = [item for item in (await forms.stored())["channels"] if item["channel"] != channel]
    refused = await forms.save("channels", channels)
    if refused:
        return await _channels(forms, refused=refused)
    return await _channels(forms, message=f"Channel {channel} no longer offers shipping.")


# Boxes & sizes


def _boxes(
    forms: _Forms,
    boxes: list[dict[str, str]],
    sizes: list[dict[str, str]],
    *,
    refused: str | None = None,
    message: str | None = None,
) -> HTMLResponse:
    context = {
        "boxes": boxes,
        "sizes": sizes,
        "box_columns": views.BOX_FIELDS,
        "size_columns": views.SIZE_FIELDS,
        "message": message,
    }
    return forms.render("boxes", "shipping_boxes.html", context, refused=refused, notice=message)


@router.get(FRAGMENTS + "/boxes", response_class=HTMLResponse)
async def boxes_fragment(forms: FormsDep) -> HTMLResponse:
    stored = await forms.stored()
    return _boxes(
        forms,
        views.table_rows(views.BOX_FIELDS, stored["boxes"]),
        views.table_rows(views.SIZE_FIELDS, stored["product_types"]),
    )


@router.post(ACTIONS + "/boxes", response_class=HTMLResponse)
async def save_boxes(forms: FormsDep) -> HTMLResponse:
    form = await forms.request.form()
    columns = {key: [str(value) for value in form.getlist(key)] for key in form}
    boxes = views.rows_from_form(views.BOX_FIELDS, {c: columns.get(f"box_{c}", []) for c in views.BOX_FIELDS})
    sizes = views.rows_from_form(views.SIZE_FIELDS, {c: columns.get(f"size_{c}", []) for c in views.SIZE_FIELDS})
    refused = await forms.save("boxes", boxes, product_types=sizes)
    shown = views.table_rows(views.BOX_FIELDS, boxes), views.table_rows(views.SIZE_FIELDS, sizes)
    if refused:
        return _boxes(forms, *shown, refused=refused)
    return _boxes(forms, *shown, message=f"Boxes ({len(boxes)}) and product type sizes ({len(sizes)}) saved.")


# Rules


async def _rules(forms: _Forms, *, message: str | None = None, refused: str | None = None) -> HTMLResponse:
    rules = (await forms.stored())["rules"]
    rows = [
        {
            "index": index,
            "name": item["name"],
            "summary": views.rule_summary(item),
            "edit": views.edit_link("rules", index=str(index)),
        }
        for index, item in enumerate(rules)
    ]
    context = {"rows": rows, "add": views.edit_link("rules"), "message": message}
    return forms.render("rules", "shipping_rules.html", context, refused=refused, notice=message)


def _rule_form(forms: _Forms, fields: dict[str, str], index: int | None, refused: str | None = None) -> HTMLResponse:
    names = ("name", "strategy", *views.RULE_NAME_LISTS, *views.RULE_AMOUNTS)
    context = {
        "fields": fields,
        "index": "" if index is None else str(index),
        "strategies": views.STRATEGIES,
        "errors": views.field_errors(refused or "", names),
    }
    return forms.render("rules", "shipping_rule.html", context, refused=refused)


@router.get(FRAGMENTS + "/rules", response_class=HTMLResponse)
async def rules_fragment(forms: FormsDep) -> HTMLResponse:
    return await _rules(forms)


@router.get(FRAGMENTS + "/rules/edit", response_class=HTMLResponse)
async def rule_fragment(forms: FormsDep, index: TextQuery = "") -> HTMLResponse:
    rules, position = (await forms.stored())["rules"], _index(index)
    found = rules[position] if position is not None and position < len(rules) else None
    return _rule_form(forms, views.rule_fields(found), position if found else None)


@router.post(ACTIONS + "/rules", response_class=HTMLResponse)
async def save_rule(forms: FormsDep) -> HTMLResponse:
    form = await forms.form()
    fields, index = views.rule_form_fields(form), _index(form.get("index", ""))
    rules = (await forms.stored())["rules"]
    refused = await forms.save("rules", views.replaced(rules, index, views.rule_item(fields)))
    if refused:
        return _rule_form(forms, fields, index, refused)
    return await _rules(forms, message=f"Rule {fields['name'].strip()} saved.")


@router.post(ACTIONS + "/rules/move", response_class=HTMLResponse)
async def move_rule(forms: FormsDep) -> HTMLResponse:
    form = await forms.form()
    index, step = _index(form.get("index", "")), -1 if form.get("direction") == "up" else 1
    rules = (await forms.stored())["rules"]
    refused = await forms.save("rules", views.moved(rules, index, step)) if index is not None else None
    if refused:
        return await _rules(forms, refused=refused)
    return await _rules(forms, message="Rules reordered.")


@router.post(ACTIONS + "/rules/remove", response_class=HTMLResponse)
async def remove_rule(forms: FormsDep) -> HTMLResponse:
    index = _index((await forms.form()).get("index", ""))
    rules = (await forms.stored())["rules"]
    refused = await forms.save("rules", [*rules[:index], *rules[index + 1 :]]) if index is not None else None
    if refused:
        return await _rules(forms, refused=refused)
    return await _rules(forms, message="Rule removed.")
