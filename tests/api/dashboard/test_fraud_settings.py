"""Settings → Fraud scoring: saved whole or not at all, with the reason beside the field."""

import json

import httpx
import pytest
from sqlalchemy import select

from app.db.models import SettingsRow
from app.runtime import Runtime

pytestmark = pytest.mark.usefixtures("installation")
VALID = {
    "review_threshold": "60",
    "reject_threshold": "80",
    "channel_thresholds": "wholesale: 85/95",
    "fraud_cost_multiplier": "3.1",
    "confirm_approved": "on",
    "rules": json.dumps(
        [{"name": "Big", "action": "review", "when": [{"attribute": "order_total", "op": ">", "value": "900"}]}]
    ),
    "reshipper_addresses": "7855 NW 37th St; 33166; US",
}


async def _stored(runtime: Runtime) -> dict[str, object] | None:
    async with runtime.sessions() as session:
        row = (await session.scalars(select(SettingsRow).where(SettingsRow.section == "fraud"))).one_or_none()
    return None if row is None else dict(json.loads(row.values))


async def _save(client: httpx.AsyncClient, staff_headers, form: dict[str, str]) -> httpx.Response:
    return await client.post("/api/dashboard/settings/fraud", data=form, headers=staff_headers())


async def test_a_valid_section_is_saved_and_an_unticked_box_is_false(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime
) -> None:
    response = await _save(client, staff_headers, VALID)
    assert response.status_code == 200
    stored = await _stored(runtime)
    assert stored is not None
    assert (stored["review_threshold"], stored["confirm_approved"], stored["cancel_rejected"]) == (60, True, False)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        pytest.param("rules", "[{", "not valid JSON", id="rules-json"),
        pytest.param("rules", json.dumps([{"name": "x", "action": "hold", "when": []}]), "rule 1", id="rules-shape"),
        pytest.param("reject_threshold", "50", "at least the review threshold", id="thresholds"),
        pytest.param("channel_thresholds", "wholesale 85", "channel-slug: review/reject", id="channels"),
        pytest.param("fraud_cost_multiplier", "cheap", "not a number", id="multiplier"),
        pytest.param("reshipper_addresses", "somewhere in Miami", "street; postal code; country", id="reshippers"),
    ],
)
async def test_an_invalid_field_is_refused_with_its_reason_and_nothing_changes(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime, field: str, value: str, reason: str
) -> None:
    await _save(client, staff_headers, VALID)
    before = await _stored(runtime)
    response = await _save(client, staff_headers, {**VALID, field: value})
    assert response.status_code == 422
    assert reason in response.text
    assert f'id="fraud-{field}-error"' in response.text
    assert await _stored(runtime) == before


async def test_the_saved_rules_decide_the_next_order(
    client: httpx.AsyncClient, staff_headers, send, fake_saleor
) -> None:
    rule = [
        {
            "name": "Everything waits",
            "action": "review",
            "when": [{"attribute": "order_total", "op": ">", "value": "1"}],
        }
    ]
    assert (await _save(client, staff_headers, {**VALID, "rules": json.dumps(rule)})).status_code == 200
    await send()
    written = json.loads(fake_saleor.calls("FraudDecision")[0]["variables"]["metadata"][0]["value"])
    assert written["decision"] == "review"
