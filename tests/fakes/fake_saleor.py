"""A Saleor on the network, for respx: its JWKS and a GraphQL endpoint answering by operation name.

``SaleorAnswers`` is the part that answers; it also keeps what Saleor would keep of the app's
writes (each order's notes, its private metadata, its confirmations), so that ``OrderNotes`` shows
exactly the notes Saleor took. ``tests.fakes.saleor_server`` serves the same answers over HTTP.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import httpx
import respx

from tests.fakes.saleor_signer import SaleorSigner

_OK: dict[str, Any] = {"errors": []}
FRAUD_DECISION_OK = {"data": {"updatePrivateMetadata": _OK, "orderNoteAdd": _OK, "orderConfirm": _OK}}
Answer = dict[str, Any] | httpx.Response | Callable[[dict[str, Any]], httpx.Response | dict[str, Any]]
# The variable holding the note, for each write that adds one; Saleor adds it only when the
# answer's ``orderNoteAdd`` has no errors.
_NOTE_VARIABLES = {"FraudDecision": "note", "RecordCogs": "note", "OrderNoteAdd": "message"}


class SaleorAnswers:
    """Answers the app's GraphQL operations by name, and keeps what a real Saleor would of its writes."""

    def __init__(self, *, app_id: str = "QXBwOjE=", version: str = "3.24.0-a.0") -> None:
        self.app_id = app_id
        self._answers: dict[str, list[Answer]] = {}
        self.requests: list[dict[str, Any]] = []
        self.notes: defaultdict[str, list[str]] = defaultdict(list)  # per order, in the order Saleor took them
        self.metadata: defaultdict[str, dict[str, str]] = defaultdict(dict)  # per order: its private metadata
        self.confirmations: Counter[str] = Counter()  # per order
        # Answers instead of Saleor while it is down or busy (a 503, a 429); None lets the request through.
        self.refuse: Callable[[dict[str, Any]], httpx.Response | None] = lambda body: None
        self.on("AppIdentity", {"data": {"app": {"id": app_id}, "shop": {"version": version}}})
        # Write-back succeeds unless a test says otherwise.
        self.on("UpdatePrivateMetadata", {"data": {"updatePrivateMetadata": {"errors": []}}})
        self.on("OrderNoteAdd", {"data": {"orderNoteAdd": {"event": {"id": "RXZlbnQ6MQ=="}, "errors": []}}})
        self.on("FraudDecision", FRAUD_DECISION_OK)
        self.on("RecordCogs", {"data": {"updatePrivateMetadata": _OK, "orderNoteAdd": _OK}})
        self.on("OrderNotes", self._order_notes)
        for operation, field in (("OrderConfirm", "orderConfirm"), ("OrderCancel", "orderCancel")):
            self.on(operation, {"data": {field: {"order": None, "errors": []}}})

    def on(self, operation: str, *answers: Answer) -> None:
        """Answer ``operation`` with these in turn; the last one repeats."""
        self._answers[operation] = list(answers)

    def calls(self, operation: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("operationName") == operation]

    def answer(self, body: dict[str, Any]) -> httpx.Response:
        """What Saleor answers to this request body (``authorization`` added by the caller)."""
        self.requests.append(body)
        refusal = self.refuse(body)
        if refusal is not None:
            return refusal
        operation = body.get("operationName") or ""
        answers = self._answers.get(operation)
        if not answers:
            return httpx.Response(200, json={"errors": [{"message": f"unexpected operation {operation or None}"}]})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if callable(answer):
            answer = answer(body)
        response = answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)
        try:
            answered = json.loads(response.content) if response.status_code == 200 else None
        except ValueError:
            answered = None  # not an answer Saleor gives to a write it took (a proxy's error page, say)
        if isinstance(answered, dict):
            self._keep(operation, body.get("variables") or {}, answered)
        return response

    def _keep(self, operation: str, variables: dict[str, Any], answer: dict[str, Any]) -> None:
        data = answer.get("data") or {}
        order = str(variables.get("order") or variables.get("id"))
        note_added = data.get("orderNoteAdd")
        if operation in _NOTE_VARIABLES and isinstance(note_added, dict) and not note_added.get("errors"):
            self.notes[order].append(variables[_NOTE_VARIABLES[operation]])
        if operation in ("FraudDecision", "RecordCogs"):
            self.metadata[order].update({item["key"]: item["value"] for item in variables["metadata"]})
        if (operation == "FraudDecision" and variables.get("confirm")) or operation == "OrderConfirm":
            self.confirmations[order] += 1

    def _order_notes(self, body: dict[str, Any]) -> dict[str, Any]:
        notes = self.notes.get(body["variables"]["id"], [])
        return {"data": {"order": {"events": [{"type": "NOTE_ADDED", "message": note} for note in notes]}}}


class FakeSaleor(SaleorAnswers):
    def __init__(
        self,
        router: respx.MockRouter,
        signer: SaleorSigner,
        *,
        api_url: str = "https://shop.test/graphql/",
        app_id: str = "QXBwOjE=",
        version: str = "3.24.0-a.0",
    ) -> None:
        super().__init__(app_id=app_id, version=version)
        self.api_url = api_url
        self.origin = api_url.split("/graphql/")[0]
        self.signer = signer
        self.jwks_route = router.get(self.origin + "/.well-known/jwks.json")
        self.serve_keys(signer)
        self.graphql_route = router.post(api_url).mock(side_effect=self._graphql)

    def serve_keys(self, *signers: SaleorSigner) -> None:
        self.jwks_route.mock(return_value=httpx.Response(200, json={"keys": [s.jwk() for s in signers]}))

    def _graphql(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        body["authorization"] = request.headers.get("authorization")
        return self.answer(body)
