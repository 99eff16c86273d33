from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from app.db.models import InstallationRow
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.installation import Installation
from app.errors import SaleorGraphQLError, SaleorMutationError, SaleorUnauthorizedError, SaleorUnavailableError
from app.graphql.client import SaleorClientFactory
from app.graphql.documents import load
from app.runtime import Runtime
from tests.builders import SHOP_API_URL
from tests.fakes.fake_saleor import FakeSaleor

OK_NOTE = {"data": {"orderNoteAdd": {"event": {"id": "RXZlbnQ6MQ=="}, "errors": []}}}


@pytest.fixture
async def factory() -> AsyncIterator[SaleorClientFactory]:
    revoked: list[SaleorApiUrl] = []

    async def on_unauthorized(url: SaleorApiUrl) -> None:
        revoked.append(url)

    async with httpx.AsyncClient() as http:
        built = SaleorClientFactory(
            http, timeout_seconds=1, max_attempts=3, backoff_seconds=0, on_unauthorized=on_unauthorized
        )
        built.revoked = revoked  # type: ignore[attr-defined]
        yield built


class TestSaleorGraphQLClient:
    async def test_sends_the_named_operation_with_the_app_token(
        self, factory: SaleorClientFactory, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.on("OrderNoteAdd", OK_NOTE)
        await factory.gateway(SHOP_API_URL, "app-token-1").add_order_note(SaleorId("T3JkZXI6MQ=="), "Scored 12")
        (call,) = fake_saleor.calls("OrderNoteAdd")
        assert call["authorization"] == "Bearer app-token-1"
        assert call["variables"] == {"order": "T3JkZXI6MQ==", "message": "Scored 12"}
        assert "mutation OrderNoteAdd" in call["query"]

    async def test_writes_private_metadata_as_key_value_pairs(
        self, factory: SaleorClientFactory, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.on("UpdatePrivateMetadata", {"data": {"updatePrivateMetadata": {"errors": []}}})
        await factory.gateway(SHOP_API_URL, "t").update_private_metadata(SaleorId("T3JkZXI6MQ=="), {"ops.fraud": "{}"})
        (call,) = fake_saleor.calls("UpdatePrivateMetadata")
        assert call["variables"]["input"] == [{"key": "ops.fraud", "value": "{}"}]

    @pytest.mark.parametrize(
        "failure",
        [
            pytest.param(httpx.Response(502), id="bad-gateway"),
            pytest.param(httpx.Response(429, headers={"retry-after": "0"}), id="rate-limited"),
            pytest.param(httpx.ConnectError("refused"), id="network"),
            pytest.param(httpx.ReadTimeout("slow"), id="timeout"),
        ],
    )
    async def test_retries_transient_failures_then_succeeds(
        self, factory: SaleorClientFactory, fake_saleor: FakeSaleor, failure: object
    ) -> None:
        if isinstance(failure, Exception):

            def flaky(body: dict[str, object]) -> httpx.Response:
                if len(fake_saleor.calls("OrderNoteAdd")) < 3:
                    raise failure
                return httpx.Response(200, json=OK_NOTE)

            fake_saleor.on("OrderNoteAdd", flaky)
        else:
            fake_saleor.on("OrderNoteAdd", failure, failure, OK_NOTE)  # type: ignore[arg-type]
        await factory.gateway(SHOP_API_URL, "t").add_order_note(SaleorId("T3JkZXI6MQ=="), "x")
        assert len(fake_saleor.calls("OrderNoteAdd")) == 3

    async def test_gives_up_after_the_last_attempt_as_unavailable(
        self, factory: SaleorClientFactory, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.on("OrderNoteAdd", httpx.Response(503))
        with pytest.raises(SaleorUnavailableError, match="after 3 attempts"):
            await factory.gateway(SHOP_API_URL, "t").add_order_note(SaleorId("T3JkZXI6MQ=="), "x")

    async def test_a_401_is_not_retried_and_reports_the_revocation(
        self, factory: SaleorClientFactory, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.on("OrderNoteAdd", httpx.Response(401))
        with pytest.raises(SaleorUnauthorizedError):
            await factory.gateway(SHOP_API_URL, "t").add_order_note(SaleorId("T3JkZXI6MQ=="), "x")
        assert len(fake_saleor.calls("OrderNoteAdd")) == 1
        assert factory.revoked == [SHOP_API_URL]  # type: ignore[attr-defined]

    async def test_graphql_errors_become_a_typed_error_with_saleor_code(
        self, factory: SaleorClientFactory, fake_saleor: FakeSaleor
    ) -> None:
        denied = {
            "data": {"orderNoteAdd": None},
            "errors": [
                {"message": "You need MANAGE_ORDERS", "extensions": {"exception": {"code": "PermissionDenied"}}}
            ],
        }
        fake_saleor.on("OrderNoteAdd", denied)
        with pytest.raises(SaleorGraphQLError) as caught:
            await factory.gateway(SHOP_API_URL, "t").add_order_note(SaleorId("T3JkZXI6MQ=="), "x")
        assert caught.value.errors[0].code == "PermissionDenied"
        assert caught.value.operation == "OrderNoteAdd"

    async def test_a_400_with_graphql_errors_is_a_graphql_error_not_retried(
        self, factory: SaleorClientFactory, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.on("OrderNoteAdd", httpx.Response(400, json={"errors": [{"message": "Cannot query field"}]}))
        with pytest.raises(SaleorGraphQLError, match="Cannot query field"):
            await factory.gateway(SHOP_API_URL, "t").add_order_note(SaleorId("T3JkZXI6MQ=="), "x")
        assert len(fake_saleor.calls("OrderNoteAdd")) == 1

    async def test_mutation_errors_become_a_typed_error_with_field_and_code(
        self, factory: SaleorClientFactory, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.on(
            "OrderNoteAdd",
            {
                "data": {
                    "orderNoteAdd": {
                        "event": None,
                        "errors": [{"field": "message", "message": "Empty", "code": "REQUIRED"}],
                    }
                }
            },
        )
        with pytest.raises(SaleorMutationError) as caught:
            await factory.gateway(SHOP_API_URL, "t").add_order_note(SaleorId("T3JkZXI6MQ=="), "")
        assert (caught.value.errors[0].field, caught.value.errors[0].code) == ("message", "REQUIRED")

    async def test_a_refusal_whose_code_saleor_cannot_show_is_still_a_refusal(
        self, factory: SaleorClientFactory, fake_saleor: FakeSaleor
    ) -> None:
        # Saleor 3.20.119's answer to a note on a deleted order: OrderNoteAddErrorCode has no NOT_FOUND.
        missing = "T3JkZXI6MGEwYmE4ZTMtMjM3Ni00ZjJlLWE5NjktNWJkNGI2OWY4NDQx"
        fake_saleor.on(
            "OrderNoteAdd",
            {
                "data": {
                    "orderNoteAdd": {
                        "event": None,
                        "errors": [{"field": "id", "message": f"Couldn't resolve to a node: {missing}", "code": None}],
                    }
                },
                "errors": [
                    {
                        "message": 'Expected a value of type "OrderNoteAddErrorCode" but received: not_found',
                        "path": ["orderNoteAdd", "errors", 0, "code"],
                    }
                ],
            },
        )
        with pytest.raises(SaleorMutationError) as caught:
            await factory.gateway(SHOP_API_URL, "t").add_order_note(SaleorId(missing), "x")
        assert [(e.field, e.code) for e in caught.value.errors] == [("id", None)]
        assert str(caught.value) == f"OrderNoteAdd: id: Couldn't resolve to a node: {missing}"

    async def test_a_graphql_error_inside_a_payload_without_refusals_is_a_graphql_error(
        self, factory: SaleorClientFactory, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.on(
            "OrderNoteAdd",
            {
                "data": {"orderNoteAdd": {"event": None, "errors": []}},
                "errors": [{"message": "Internal Server Error", "path": ["orderNoteAdd", "errors", 0, "code"]}],
            },
        )
        with pytest.raises(SaleorGraphQLError, match="Internal Server Error"):
            await factory.gateway(SHOP_API_URL, "t").add_order_note(SaleorId("T3JkZXI6MQ=="), "x")

    async def test_money_in_answers_arrives_as_decimal(
        self, factory: SaleorClientFactory, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.on(
            "OrderNoteAdd",
            httpx.Response(200, content=b'{"data":{"orderNoteAdd":{"event":{"id":"x"},"errors":[],"v":0.1}}}'),
        )
        data = await factory.client(SHOP_API_URL, "t").execute(
            load("mutations", "order_note_add"), {"order": "o", "message": "m"}
        )
        assert data["orderNoteAdd"]["v"] == Decimal("0.1")

    async def test_a_non_json_answer_is_an_error(self, factory: SaleorClientFactory, fake_saleor: FakeSaleor) -> None:
        fake_saleor.on("OrderNoteAdd", httpx.Response(200, text="<html>maintenance</html>"))
        with pytest.raises(Exception, match="non-JSON"):
            await factory.gateway(SHOP_API_URL, "t").add_order_note(SaleorId("T3JkZXI6MQ=="), "x")


async def test_runtime_marks_a_revoked_store_in_its_own_transaction(
    runtime: Runtime, installation: Installation, fake_saleor: FakeSaleor
) -> None:
    fake_saleor.on("OrderNoteAdd", httpx.Response(401))
    with pytest.raises(SaleorUnauthorizedError):
        await runtime.saleor.gateway(SHOP_API_URL, installation.token).add_order_note(SaleorId("T3JkZXI6MQ=="), "x")
    async with runtime.sessions() as session:
        revoked_at = (await session.scalars(select(InstallationRow.revoked_at))).one()
    assert revoked_at is not None


async def test_a_revocation_is_recorded_while_the_request_holds_its_own_connection(
    runtime: Runtime, installation: Installation
) -> None:
    async with runtime.sessions() as request_session:
        await request_session.execute(select(InstallationRow.app_id))  # the request's connection is checked out
        await runtime.mark_revoked(SHOP_API_URL)
    async with runtime.sessions() as session:
        assert (await session.scalars(select(InstallationRow.revoked_at))).one() is not None


@pytest.mark.parametrize(
    ("operation", "method", "field"),
    [
        pytest.param("OrderConfirm", "confirm_order", "orderConfirm", id="confirm"),
        pytest.param("OrderCancel", "cancel_order", "orderCancel", id="cancel"),
    ],
)
async def test_order_status_changes_name_the_order_and_surface_saleors_refusal(
    factory: SaleorClientFactory, fake_saleor: FakeSaleor, operation: str, method: str, field: str
) -> None:
    refused = {"data": {field: {"order": None, "errors": [{"field": "id", "message": "No", "code": "INVALID"}]}}}
    fake_saleor.on(
        operation, {"data": {field: {"order": {"id": "T3JkZXI6MQ==", "status": "X"}, "errors": []}}}, refused
    )
    gateway = factory.gateway(SHOP_API_URL, "t")
    await getattr(gateway, method)(SaleorId("T3JkZXI6MQ=="))
    assert fake_saleor.calls(operation)[0]["variables"] == {"id": "T3JkZXI6MQ=="}
    with pytest.raises(SaleorMutationError, match="INVALID"):
        await getattr(gateway, method)(SaleorId("T3JkZXI6MQ=="))
