"""Customers write to a store's support: about an order: ``POST /api/stores/{store}/support/requests``
(JSON, for a storefront's own form) and ``/support/{store}`` (a small HTML form a storefront can link
to or embed in an iframe; it works without JavaScript).

``{store}`` names the store publicly: its Saleor API URL in URL-safe base64 without padding
(``store_ref``); a storefront knows that URL already, so it reveals nothing. The customer gives the
order's number and the e-mail they ordered with; Saleor is asked with the app's token and, when the
two do not match, the answer is the one an unknown order gets (404 ``ORDER_NOT_FOUND``).
Requests are limited per sender address and per e-mail (``app.services.support.rate_limit``: in this
process's memory); bad input is refused with every reason and stores nothing.

Their e-mail arrives at ``POST /api/stores/{store}/support/inbound-mail/mailgun``: the URL of a Mailgun
route's ``forward()`` (``app.services.support.inbound_mail`` says how it is verified and threaded).
Mailgun retries any answer but 200 and 406, so a post that can never be taken (malformed, a replay)
gets 406 with the reason; a forged one 401.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from app.api.inventory import error_items
from app.dependencies import (
    EffectOutboxDep,
    InstallationStoreDep,
    RuntimeDep,
    SettingsStoreDep,
    TicketStoreDep,
    order_lookup,
)
from app.domain.ids import InvalidSaleorApiUrl, SaleorApiUrl, saleor_api_url
from app.domain.installation import Installation
from app.errors import SaleorApiError
from app.services.input_problems import InputProblem
from app.services.support import customer_requests as requests
from app.services.support.customer_requests import OrderNotMatched, RequestOpened, read_customer_request
from app.services.support.inbound_mail import MailThreaded, mailgun_refusal, read_mailgun_message, receive_mail
from app.services.support.mail import mail_settings, queue_notices

router = APIRouter(tags=["support"])
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
MAX_REQUEST_BYTES = 32 * 1024  # the longest message with room for its encoding
NOT_MATCHED = "No order with this number was placed with this e-mail address."
# The form is meant to be framed by any storefront; it loads nothing from elsewhere and posts only here.
FORM_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors *"

StoreRef = Annotated[str, PathParam(description="The store's Saleor API URL in URL-safe base64, unpadded.")]


def store_ref(url: SaleorApiUrl) -> str:
    return base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def _store_url(ref: str) -> SaleorApiUrl | None:
    try:
        return saleor_api_url(base64.urlsafe_b64decode(ref + "=" * (-len(ref) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, InvalidSaleorApiUrl, ValueError):
        return None


async def _installation(ref: str, installations: InstallationStoreDep) -> Installation | None:
    url = _store_url(ref)
    installation = None if url is None else await installations.get(url)
    return None if installation is None or installation.is_revoked else installation


class CustomerRequestBody(BaseModel):
    order_number: str = Field(description="The order's number, as in its confirmation (digits, '#' allowed).")
    email: str = Field(description="The e-mail address the order was placed with.")
    subject: str = Field(default="", max_length=requests.MAX_SUBJECT_CHARS)
    message: str = Field(max_length=requests.MAX_MESSAGE_CHARS)


class OpenedTicket(BaseModel):
    ticket: str = Field(description="The ticket's number, to quote when writing again.")
    status: str


class Refusal(BaseModel):
    error: dict[str, str]
    errors: list[dict[str, Any]] | None = None


# What a request came to, for the JSON and the HTML answers alike.
Outcome = RequestOpened | OrderNotMatched | tuple[InputProblem, ...] | float | None  # float: seconds to wait


async def _open(
    request: Request,
    ref: str,
    fields: dict[str, object],
    installations: InstallationStoreDep,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
) -> Outcome:
    """None for an unknown store; raises ``SaleorApiError`` when Saleor cannot be asked."""
    installation = await _installation(ref, installations)
    if installation is None:
        return None
    read = read_customer_request(fields)
    if isinstance(read, tuple):
        return read
    wait = runtime.support_senders.admit(request.client.host if request.client else "", read.email)
    if wait:
        return wait
    return await requests.open_customer_request(
        installation.saleor_api_url,
        read,
        orders=order_lookup(runtime, installation),
        tickets=tickets,
        settings=settings,
        clock=runtime.clock,
    )


async def _body(request: Request, limit: int = MAX_REQUEST_BYTES) -> bytes | None:
    """The body, or None when it is larger than ``limit`` (read no further)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _refused(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"type": code, "message": message}, **extra}, status_code=status)


@router.post(
    "/api/stores/{store}/support/requests",
    summary="A customer writes to support about an order",
    status_code=201,
    response_model=OpenedTicket,
    responses={
        400: {"model": Refusal, "description": "The body is not a JSON object."},
        404: {"model": Refusal, "description": "Unknown store, or no such order placed with this e-mail."},
        413: {"model": Refusal, "description": f"The body is over {MAX_REQUEST_BYTES // 1024} KiB."},
        422: {"model": Refusal, "description": "Fields missing or wrong; `errors` lists each."},
        429: {"model": Refusal, "description": "Too many requests from this address or e-mail; see Retry-After."},
        503: {"model": Refusal, "description": "Saleor could not be asked about the order; try again."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CustomerRequestBody.model_json_schema()}},
        }
    },
)
async def post_customer_request(
    request: Request,
    store: StoreRef,
    installations: InstallationStoreDep,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
) -> Response:
    body = await _body(request)
    if body is None:
        return _refused(413, "TOO_LARGE", f"Send at most {MAX_REQUEST_BYTES // 1024} KiB.")
    try:
        fields = json.loads(body)
    except ValueError as exc:
        return _refused(400, "INVALID_JSON", f"The body is not JSON: {exc}")
    if not isinstance(fields, dict):
        return _refused(400, "INVALID_JSON", "The body must be a JSON object of order_number, email and message.")
    try:
        outcome = await _open(request, store, fields, installations, tickets, settings, runtime)
    except SaleorApiError:
        return _refused(503, "SALEOR_UNAVAILABLE", "The store could not check the order just now; try again.")
    if outcome is None:
        return _refused(404, "STORE_NOT_FOUND", "No store of this app is known by this name.")
    if isinstance(outcome, tuple):
        return _refused(
            422, "REQUEST_REJECTED", "Nothing was sent: the request has problems.", errors=error_items(outcome)
        )
    if isinstance(outcome, float):
        response = _refused(429, "TOO_MANY_REQUESTS", "Too many requests; try again later.")
        response.headers["Retry-After"] = str(max(1, round(outcome)))
        return response
    if isinstance(outcome, OrderNotMatched):
        return _refused(404, "ORDER_NOT_FOUND", NOT_MATCHED)
    return JSONResponse({"ticket": outcome.ticket.id, "status": outcome.ticket.status.value}, status_code=201)


def _form_page(request: Request, store: str, status: int, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        "support_form.html",
        {"action": request.url_for("support_form_post", store=store).path, "values": {}, "problems": {}, **context},
        status_code=status,
    )
    response.headers["Content-Security-Policy"] = FORM_POLICY
    return response


@router.get("/support/{store}", response_class=HTMLResponse, include_in_schema=False)
async def support_form(request: Request, store: str, installations: InstallationStoreDep) -> HTMLResponse:
    if await _installation(store, installations) is None:
        return _form_page(request, store, 404, unknown_store=True)
    return _form_page(request, store, 200)


@router.post("/support/{store}", response_class=HTMLResponse, include_in_schema=False, name="support_form_post")
async def support_form_post(
    request: Request,
    store: str,
    installations: InstallationStoreDep,
    tickets: TicketStoreDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
) -> HTMLResponse:
    body = await _body(request)
    if body is None:
        return _form_page(request, store, 413, notice="The message is too long; shorten it and send it again.")
    try:
        fields: dict[str, object] = dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        return _form_page(request, store, 400, notice="The form could not be read; send it again.")
    values = {name: value for name, value in fields.items() if isinstance(value, str)}
    try:
        outcome = await _open(request, store, fields, installations, tickets, settings, runtime)
    except SaleorApiError:
        return _form_page(
            request, store, 503, values=values, notice="We could not check the order just now; try again."
        )
    if outcome is None:
        return _form_page(request, store, 404, unknown_store=True)
    if isinstance(outcome, tuple):
        problems = {problem.column or "": problem.message for problem in outcome}
        return _form_page(request, store, 422, values=values, problems=problems)
    if isinstance(outcome, float):
        return _form_page(request, store, 429, values=values, notice="Too many requests; try again in a few minutes.")
    if isinstance(outcome, OrderNotMatched):
        return _form_page(request, store, 404, values=values, notice=NOT_MATCHED)
    return _form_page(request, store, 201, opened=outcome.ticket.id)


MAX_INBOUND_BYTES = 10 * 1024 * 1024  # the text and its attachments as Mailgun posts them (attachments are not kept)


async def _mail_form(request: Request) -> dict[str, str] | None:
    """The post's text fields (files skipped), read only up to its size limit; None when it is larger."""
    body = await _body(request, MAX_INBOUND_BYTES)
    if body is None:
        return None

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(max_files=100, max_fields=1000, max_part_size=MAX_INBOUND_BYTES)
    try:
        return {name: value for name, value in form.multi_items() if isinstance(value, str)}
    finally:
        await form.close()  # the attachments' spooled files


@router.post(
    "/api/stores/{store}/support/inbound-mail/mailgun",
    summary="Inbound e-mail from a Mailgun route (forward, fully parsed)",
    responses={
        200: {"description": "Threaded into its ticket, or opened a new one."},
        401: {"model": Refusal, "description": "Not signed with the store's Mailgun webhook signing key."},
        404: {"model": Refusal, "description": "Unknown store, or inbound mail not set up for it."},
        406: {"model": Refusal, "description": "Never to be taken: a replayed post or a malformed message."},
        413: {"model": Refusal, "description": f"Over {MAX_INBOUND_BYTES // 2**20} MiB."},
    },
)
async def post_inbound_mail(
    request: Request,
    store: StoreRef,
    installations: InstallationStoreDep,
    settings: SettingsStoreDep,
    tickets: TicketStoreDep,
    effects: EffectOutboxDep,
    runtime: RuntimeDep,
) -> JSONResponse:
    installation = await _installation(store, installations)
    if installation is None:
        return _refused(404, "STORE_NOT_FOUND", "No store of this app is known by this name.")
    url = installation.saleor_api_url
    configured = await mail_settings(settings, url)
    if configured is None or not configured.inbound_signing_key_encrypted:
        return _refused(
            404, "INBOUND_MAIL_NOT_SET_UP", "This store has no inbound signing key in its support mail settings."
        )
    fields = await _mail_form(request)
    if fields is None:
        return _refused(413, "TOO_LARGE", f"Inbound mail is taken up to {MAX_INBOUND_BYTES // 2**20} MiB.")
    now = runtime.clock.now()
    signing_key = runtime.cipher.decrypt(configured.inbound_signing_key_encrypted)
    refusal = mailgun_refusal(fields, signing_key, seen=runtime.support_mail_tokens, now=now)
    if refusal is not None and refusal.replayed:
        return _refused(406, "REPLAYED", refusal.reason)
    if refusal is not None:
        return _refused(401, "INVALID_SIGNATURE", refusal.reason)
    mail = read_mailgun_message(fields)
    if isinstance(mail, tuple):
        return _refused(406, "MAIL_REJECTED", "Nothing was stored: the message has problems.", errors=error_items(mail))
    outcome = await receive_mail(
        url, mail, tickets=tickets, settings=settings, secret=runtime.settings.resolve_secret_key(), clock=runtime.clock
    )
    threaded = isinstance(outcome, MailThreaded)
    if isinstance(outcome, MailThreaded) and outcome.notifications:
        await queue_notices(
            url,
            outcome.ticket,
            outcome.notifications,
            outbox=effects,
            settings=settings,
            app_id=installation.app_id,
            now=runtime.clock.now(),
        )
        runtime.wake_workers()
    return JSONResponse(
        {
            "ticket": outcome.ticket.id,
            "threaded": threaded,
            "followUpOf": outcome.ticket.follow_up_of,
        }
    )
