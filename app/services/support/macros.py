"""Support macros: saved replies a store's team manages on Support › Macros and applies in a ticket's reply box.

A macro is checked when it is saved, by filling it in with a sample of every variable: a name that is no
variable, or a template that cannot be read, is refused then, naming it. Applying fills it in with the
ticket's own values; one the ticket has no value for is refused with that reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import uuid4

from app.domain.ids import SaleorApiUrl
from app.domain.support.macros import SAMPLE_VALUES, Macro, MacroId, MacroRefused, MacroValues, macro
from app.services.ports import MacroStore

# Fills a macro's body in with values, or raises ``MacroRefused`` (``app.integrations.macros.render_macro``).
RenderMacro = Callable[[str, MacroValues], str]


async def save_macro(
    store: MacroStore,
    render: RenderMacro,
    url: SaleorApiUrl,
    *,
    macro_id: str | None,
    name: str,
    body: str,
    by: str,
    now: datetime,
) -> Macro:
    """A new macro (``macro_id`` None) or a changed one, kept once its name and every variable check out."""
    if macro_id is not None and await store.get(url, MacroId(macro_id)) is None:
        raise MacroRefused("No such macro: it may have been deleted meanwhile.")
    saved = macro(MacroId(macro_id or uuid4().hex), name=name, body=body, by=by, now=now)
    if any(other.name == saved.name and other.id != saved.id for other in await store.list(url)):
        raise MacroRefused(f"A macro is already named {saved.name!r}.")
    render(saved.body, SAMPLE_VALUES)
    await store.save(url, saved)
    return saved


async def apply_macro(
    store: MacroStore, render: RenderMacro, url: SaleorApiUrl, macro_id: str, values: MacroValues
) -> str:
    """The macro's reply for a ticket with ``values``; nothing is sent until the person sends it."""
    found = await store.get(url, MacroId(macro_id))
    if found is None:
        raise MacroRefused("No such macro: it may have been deleted meanwhile.")
    return render(found.body, values)
