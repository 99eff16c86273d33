"""APP_DELETED: the merchant removed the app; its token is erased, the store's records kept for a grace period."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.dependencies import ClockDep, InstallationStoreDep, RuntimeDep, verified_webhook
from app.saleor.webhook_auth import VerifiedWebhook
from app.services.installations import uninstall
from app.webhooks.definition import WebhookDefinition
from app.webhooks.order_event import WebhookAck
from app.webhooks.parsing import parse_payload
from app.webhooks.payloads import AppDeletedPayload

definition = WebhookDefinition("APP_DELETED")
router = APIRouter()


@router.post(definition.path, name=definition.header_value)
async def app_deleted(
    # A store whose token Saleor already refused (3.20–3.23 say nothing else) is uninstalled all the same,
    # and a retry of this delivery finds the store uninstalled and is answered as the first was.
    webhook: Annotated[VerifiedWebhook, Depends(verified_webhook(definition.header_value, accept_revoked=True))],
    store: InstallationStoreDep,
    clock: ClockDep,
    runtime: RuntimeDep,
) -> WebhookAck:
    payload = parse_payload(AppDeletedPayload, webhook, definition)
    deleted_app_id = payload.app.id if payload.app else None
    uninstalled = await uninstall(webhook.installation.saleor_api_url, deleted_app_id, store=store, now=clock.now())
    if uninstalled:  # this process's webhook route reads installations from memory: not this one any more
        runtime.installations.forget(webhook.installation.saleor_api_url)
    return WebhookAck(status="uninstalled" if uninstalled else "ignored")
