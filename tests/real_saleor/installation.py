"""Installing the app into a real Saleor as a staff user does (Apps → Install external app), and what
Saleor says about the deliveries it made to it."""

from __future__ import annotations

import time
from datetime import datetime

import httpx

from tests.real_saleor.saleor_api import SaleorCallFailed, StaffSaleor

INSTALL_SECONDS = 90.0  # Saleor's Celery worker fetches the manifest and posts the token
POLL_SECONDS = 0.5


def install_app(saleor: StaffSaleor, manifest_url: str, app_name: str) -> str:
    """``appInstall`` with the permissions the manifest asks for, then wait for Saleor's installation job.
    Returns the installed app's ID."""
    manifest = httpx.get(manifest_url, timeout=10.0).json()
    job = saleor.mutate(
        """mutation Install($input: AppInstallInput!) {
          appInstall(input: $input) { appInstallation { id } errors { field message code permissions } } }""",
        "appInstall",
        input={
            "appName": app_name,
            "manifestUrl": manifest_url,
            "activateAfterInstallation": True,
            "permissions": manifest["permissions"],
        },
    )["appInstallation"]
    deadline = time.monotonic() + INSTALL_SECONDS
    while time.monotonic() < deadline:
        jobs = saleor.query("{ appsInstallations { id status message } }")["appsInstallations"]
        ours = next((j for j in jobs if j["id"] == job["id"]), None)
        if ours is not None and ours["status"] == "FAILED":
            raise SaleorCallFailed(f"Saleor could not install the app: {ours['message']}")
        if ours is None:  # Saleor deletes the job once the app is installed
            return _installed_app_id(saleor, manifest_url, app_name)
        time.sleep(POLL_SECONDS)
    raise SaleorCallFailed(
        f"Saleor's installation job was still pending after {INSTALL_SECONDS:.0f} s: is its Celery worker running?"
    )


def _installed_app_id(saleor: StaffSaleor, manifest_url: str, app_name: str) -> str:
    apps = saleor.query(
        "query Apps($search: String) { apps(first: 100, filter: {search: $search}) {"
        " edges { node { id manifestUrl isActive } } } }",
        search=app_name,
    )["apps"]["edges"]
    installed = [edge["node"] for edge in apps if edge["node"]["manifestUrl"] == manifest_url]
    if not installed:
        raise SaleorCallFailed(f"the installation job is gone but no app has the manifest {manifest_url}")
    app_id: str = installed[0]["id"]
    return app_id


def uninstall_app(saleor: StaffSaleor, app_id: str) -> None:
    saleor.mutate(
        "mutation Delete($id: ID!) { appDelete(id: $id) { errors { field message code } } }", "appDelete", id=app_id
    )


def failed_deliveries(saleor: StaffSaleor, app_id: str, order_id: str, since: datetime, limit: int = 5) -> str:
    """Saleor's record of the deliveries to the app that failed: those of the order, and any since ``since``
    (a payload whose ``order`` Saleor nulled does not name it) — the event, the app's answer and the
    payload's ``errors``, the evidence a failed scenario needs."""
    webhooks = saleor.query(
        """query Deliveries($id: ID!) { app(id: $id) { webhooks { name
          eventDeliveries(first: 50, filter: {status: FAILED}, sortBy: {field: CREATED_AT, direction: DESC}) {
            edges { node { eventType createdAt payload
              attempts(first: 1) { edges { node { responseStatusCode response } } } } } } } } }""",
        id=app_id,
    )["app"]["webhooks"]
    found = []
    for webhook in webhooks:
        for edge in webhook["eventDeliveries"]["edges"]:
            delivery = edge["node"]
            payload = delivery["payload"] or ""
            if order_id not in payload and datetime.fromisoformat(delivery["createdAt"]) < since:
                continue
            attempts = [a["node"] for a in delivery["attempts"]["edges"]]
            answer = f"{attempts[0]['responseStatusCode']} {attempts[0]['response']}" if attempts else "no attempt"
            errors_at = payload.find('"errors"')
            found.append(
                f"{delivery['eventType']} at {delivery['createdAt']}: the app answered {answer[:300]}; payload "
                f"{payload[errors_at : errors_at + 400] if errors_at >= 0 else payload[:300]}"
            )
    return "\n".join(found[:limit]) or "(Saleor recorded no failed delivery to the app)"
