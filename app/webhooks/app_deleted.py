"""APP_DELETED: the merchant removed the app; forget the store's token and data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.dependencies import InstallationStoreDep, RuntimeDep, verified_webhook
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
    webhook: Annotated[VerifiedWebhook, Depends(verified_webhook(definition.header_value))],
    store: InstallationStoreDep,
    runtime: RuntimeDep,
) -> WebhookAck:
    payload = parse_payload(AppDeletedPayload, webhook, definition)
    deleted = await uninstall(webhook.installation.saleor_api_url, payload.app.id if payload.app else None, store=store)
    if deleted:
        runtime.installations.forget(webhook.installation.saleor_api_url)
    return WebhookAck(status="uninstalled" if deleted else "ignored")
