"""A Saleor on the network, for respx: its JWKS and a GraphQL endpoint answering by operation name."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import respx

from tests.fakes.saleor_signer import SaleorSigner

_OK: dict[str, Any] = {"errors": []}
FRAUD_DECISION_OK = {"data": {"updatePrivateMetadata": _OK, "orderNoteAdd": _OK, "orderConfirm": _OK}}
Answer = dict[str, Any] | httpx.Response | Callable[[dict[str, Any]], httpx.Response | dict[str, Any]]


class FakeSaleor:
    def __init__(
        self,
        router: respx.MockRouter,
        signer: SaleorSigner,
        *,
        api_url: str = "https://shop.test/graphql/",
        app_id: str = "QXBwOjE=",
        version: str = "3.24.0-a.0",
    ) -> None:
        self.api_url = api_url
        self.app_id = app_id
        self.origin = api_url.split("/graphql/")[0]
        self.signer = signer
        self._answers: dict[str, list[Answer]] = {}
        self.requests: list[dict[str, Any]] = []
        self.jwks_route = router.get(self.origin + "/.well-known/jwks.json")
        self.serve_keys(signer)
        self.graphql_route = router.post(api_url).mock(side_effect=self._graphql)
        self.on("AppIdentity", {"data": {"app": {"id": app_id}, "shop": {"version": version}}})
        # Write-back succeeds unless a test says otherwise.
        self.on("UpdatePrivateMetadata", {"data": {"updatePrivateMetadata": {"errors": []}}})
        self.on("OrderNoteAdd", {"data": {"orderNoteAdd": {"event": {"id": "RXZlbnQ6MQ=="}, "errors": []}}})
        self.on("FraudDecision", FRAUD_DECISION_OK)
        self.on("RecordCogs", {"data": {"updatePrivateMetadata": _OK, "orderNoteAdd": _OK}})
        self.on("OrderNotes", {"data": {"order": {"events": []}}})
        for operation, field in (("OrderConfirm", "orderConfirm"), ("OrderCancel", "orderCancel")):
            self.on(operation, {"data": {field: {"order": None, "errors": []}}})

    def serve_keys(self, *signers: SaleorSigner) -> None:
        self.jwks_route.mock(return_value=httpx.Response(200, json={"keys": [s.jwk() for s in signers]}))

    def on(self, operation: str, *answers: Answer) -> None:
        """Answer ``operation`` with these in turn; the last one repeats."""
        self._answers[operation] = list(answers)

    def calls(self, operation: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("operationName") == operation]

    def _graphql(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        body["authorization"] = request.headers.get("authorization")
        self.requests.append(body)
        answers = self._answers.get(body.get("operationName", ""))
        if not answers:
            return httpx.Response(
                200, json={"errors": [{"message": f"unexpected operation {body.get('operationName')}"}]}
            )
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if callable(answer):
            answer = answer(body)
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)
