"""The demo's partners: they check a hand-off's signature as a real partner would, and answer later
through the app's callback API, signed with the same secret."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import httpx

from app.services.routing.signing import signature_problem, signed_headers
from app.standin.day import seed_store
from app.standin.partners import PartnerNetwork, SimulatedPartner, add_partners
from app.standin.state import Store

DAY = date(2026, 11, 25)
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
APP = "http://ops.test"


class Clock:
    def __init__(self) -> None:
        self.moment = NOON

    def __call__(self) -> datetime:
        return self.moment


def _partners() -> tuple[Store, tuple[SimulatedPartner, ...]]:
    store = Store()
    catalogue = seed_store(store, seed=7, day=DAY)
    partners = add_partners(store, catalogue)
    for number, partner in enumerate(partners):
        partner.secret = f"sops_partner_secret{number}"
    return store, partners


def _hand_off(hand_off_id: str, sku: str = "BRW-KETL-1L", number: int = 7) -> str:
    lines = [{"lineId": "T3JkZXJMaW5lOjE=", "sku": sku, "quantity": 2}]
    return json.dumps({"handOffId": hand_off_id, "orderNumber": str(number), "lines": lines, "shipTo": {}})


async def _post(
    network: PartnerNetwork, partner: SimulatedPartner, body: str, headers: dict[str, str]
) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=network.asgi), base_url="http://partners") as http:
        return await http.post(f"/partners/{partner.slug}/hand-offs", content=body, headers=headers)


def test_each_partner_is_a_warehouse_of_the_store_with_stock_rows_where_saleor_keeps_its_stock() -> None:
    store, (shiphero, red_stag, grindworks) = _partners()
    assert {p.slug for p in (shiphero, red_stag, grindworks)} <= {w.slug for w in store.warehouses.values()}
    assert any(s.warehouse_pk == red_stag.warehouse.pk and s.quantity > 0 for s in store.stocks.values())
    # A supplier's stock is its feed's: Saleor fulfils from its warehouse exceeding the (absent) stock.
    assert not any(s.warehouse_pk == grindworks.warehouse.pk for s in store.stocks.values())
    assert grindworks.feed_csv().splitlines()[0] == "sku,unit_price,currency,handling_days,stock"


async def test_a_hand_off_signed_otherwise_or_too_old_is_refused_and_nothing_is_planned() -> None:
    _, partners = _partners()
    clock = Clock()
    network = PartnerNetwork(clock, seed=1)
    network.join(partners)
    shiphero = partners[0]
    body = _hand_off("h1")

    forged = await _post(network, shiphero, body, signed_headers("sops_partner_other", body, NOON))
    stale = await _post(network, shiphero, body, signed_headers(shiphero.secret, body, NOON - timedelta(minutes=6)))

    assert (forged.status_code, stale.status_code) == (401, 401)
    assert "does not match" in forged.json()["detail"]
    assert "stale" in stale.json()["detail"]
    assert shiphero.received == []
    assert network.next_due() is None


async def test_a_good_hand_off_is_taken_once_and_answered_later_signed_with_the_partners_secret() -> None:
    _, partners = _partners()
    clock = Clock()
    network = PartnerNetwork(clock, seed=1)
    network.join(partners)
    shiphero = partners[0]
    body = _hand_off("h1")

    taken = await _post(network, shiphero, body, signed_headers(shiphero.secret, body, NOON))
    again = await _post(network, shiphero, body, signed_headers(shiphero.secret, body, NOON))

    assert (taken.status_code, again.status_code) == (202, 202)
    assert len(shiphero.received) == 1
    due = network.next_due()
    assert due is not None
    assert NOON < due <= NOON + timedelta(minutes=40)

    sent: list[httpx.Request] = []

    def app(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    async with httpx.AsyncClient(transport=httpx.MockTransport(app)) as http:
        assert await network.answer_due(http, APP, NOON) == 0  # nothing is due yet
        the_next_day = NOON + timedelta(days=1)
        assert await network.answer_due(http, APP, the_next_day) == 2
    accept, shipment = sent
    assert accept.url.path == "/api/routing/hand-offs/h1/accept"
    assert shipment.url.path == "/api/routing/hand-offs/h1/shipments"
    for request in sent:
        timestamp, signature = request.headers["X-Ops-Timestamp"], request.headers["X-Ops-Signature"]
        assert signature_problem(shiphero.secret, timestamp, request.content.decode(), signature, the_next_day) is None
    shipped = json.loads(shipment.content)
    assert shipped["lines"] == [{"lineId": "T3JkZXJMaW5lOjE=", "quantity": 2}]
    assert shipped["carrier"] == "UPS"
    assert shipped["trackingNumber"].startswith("1Z")
    assert shiphero.answered == {"accept": 1, "shipments": 1}
    assert shiphero.tracking_numbers == [shipped["trackingNumber"]]


async def test_red_stag_rejects_some_hand_offs_and_ships_the_others_the_next_morning() -> None:
    _, partners = _partners()
    clock = Clock()
    network = PartnerNetwork(clock, seed=7)
    network.join(partners)
    red_stag = partners[1]
    for number in range(12):
        body = _hand_off(f"h{number}", number=number)
        assert (await _post(network, red_stag, body, signed_headers(red_stag.secret, body, NOON))).status_code == 202

    sent: list[tuple[str, datetime]] = []

    def app(request: httpx.Request) -> httpx.Response:
        sent.append(
            (request.url.path.rsplit("/", 1)[1], datetime.fromtimestamp(int(request.headers["X-Ops-Timestamp"]), UTC))
        )
        return httpx.Response(409 if len(sent) == 1 else 200, json={"detail": "no"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(app)) as http:
        while (due := network.next_due()) is not None:
            await network.answer_due(http, APP, due)
    actions = [action for action, _ in sent]
    assert 0 < actions.count("reject") < 12
    assert actions.count("accept") == actions.count("shipments") == 12 - actions.count("reject")
    assert all(at.date() == date(2026, 11, 26) for action, at in sent if action == "shipments")
    # What the app refused is kept with its reason, not counted as done.
    assert len(red_stag.refused) == 1
    assert sum(red_stag.answered.values()) == len(sent) - 1


async def test_the_supplier_ships_once_its_feeds_handling_days_have_passed() -> None:
    _, partners = _partners()
    clock = Clock()
    network = PartnerNetwork(clock, seed=3)
    network.join(partners)
    grindworks = partners[2]
    body = _hand_off("h1", sku="MCH-BGRIND")  # one handling day in its feed
    assert (await _post(network, grindworks, body, signed_headers(grindworks.secret, body, NOON))).status_code == 202

    shipped: list[datetime] = []

    def app(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/shipments"):
            shipped.append(datetime.fromtimestamp(int(request.headers["X-Ops-Timestamp"]), UTC))
            assert json.loads(request.content)["carrier"] == "USPS"
        return httpx.Response(200, json={})

    async with httpx.AsyncClient(transport=httpx.MockTransport(app)) as http:
        while (due := network.next_due()) is not None:
            await network.answer_due(http, APP, due)
    (at,) = shipped
    assert at.date() in (date(2026, 11, 26), date(2026, 11, 27))  # one day, or now and then a day late


async def test_what_a_partner_answers_does_not_depend_on_the_order_hand_offs_arrive_in() -> None:
    answers: list[dict[str, tuple[str, ...]]] = []
    for order in (range(8), reversed(range(8))):
        _, partners = _partners()
        network = PartnerNetwork(Clock(), seed=7)
        network.join(partners)
        red_stag = partners[1]
        for number in order:
            body = _hand_off(f"h{number}", number=number)
            await _post(network, red_stag, body, signed_headers(red_stag.secret, body, NOON))
        sent: dict[str, tuple[str, ...]] = {}

        def app(request: httpx.Request, sent: dict[str, tuple[str, ...]] = sent) -> httpx.Response:
            hand_off, action = request.url.path.split("/")[-2:]
            sent[hand_off] = (*sent.get(hand_off, ()), action, request.headers["X-Ops-Timestamp"])
            return httpx.Response(200, json={})

        async with httpx.AsyncClient(transport=httpx.MockTransport(app)) as http:
            while (due := network.next_due()) is not None:
                await network.answer_due(http, APP, due)
        answers.append(sent)
    assert answers[0] == answers[1]


async def test_a_cancelled_hand_off_is_not_shipped_and_a_cancel_for_another_leaves_it_alone() -> None:
    _, partners = _partners()
    network = PartnerNetwork(Clock(), seed=1)
    network.join(partners)
    shiphero = partners[0]
    for hand_off_id in ("h1", "h2"):
        body = _hand_off(hand_off_id, number=int(hand_off_id[1:]))
        assert (await _post(network, shiphero, body, signed_headers(shiphero.secret, body, NOON))).status_code == 202
    cancel = json.dumps({"type": "hand_off.cancel", "handOffId": "h1", "orderId": "o1", "reason": "fraud", "lines": []})

    cancelled = await _post(network, shiphero, cancel, signed_headers(shiphero.secret, cancel, NOON))
    again = await _post(network, shiphero, cancel, signed_headers(shiphero.secret, cancel, NOON))

    assert (cancelled.status_code, again.status_code) == (202, 202)
    assert shiphero.cancelled == ["h1"]
    sent: list[str] = []

    def app(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200, json={})

    async with httpx.AsyncClient(transport=httpx.MockTransport(app)) as http:
        await network.answer_due(http, APP, NOON + timedelta(days=2))
    assert sent == ["/api/routing/hand-offs/h2/accept", "/api/routing/hand-offs/h2/shipments"]
