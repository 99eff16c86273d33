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
        """What Saleor answers to this request body (``authorization`` added by the caller).

        A batch (several operations in one document, ``BatchingGraphQLClient``'s) is answered part by
        part, as Saleor runs each of its fields on its own, and each part is kept in ``requests`` as if
        it had come alone."""
        parts = _parts(body)
        self.requests.extend(parts)
        refusal = self.refuse(body)
        if refusal is not None:
            return refusal
        if len(parts) == 1:
            return self._answer_one(body)
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for index, part in enumerate(parts):
            response = self._answer_one(part)
            if response.status_code != 200:
                return response  # Saleor would not answer half a request: a proxy's error page, say
            answered = json.loads(response.content)
            prefix = f"p{index}_"
            data.update({prefix + key: value for key, value in (answered.get("data") or {}).items()})
            for error in answered.get("errors") or ():
                path = error.get("path")
                errors.append({**error, "path": [prefix + path[0], *path[1:]]} if path else error)
        return httpx.Response(200, json={"data": data, **({"errors": errors} if errors else {})})

    def _answer_one(self, body: dict[str, Any]) -> httpx.Response:
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


def _parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The operations a request carries: itself, or a batch's parts (``FraudDecision_RecordCogs``, its
    fields and variables prefixed ``p0_``, ``p1_``), each as if sent alone."""
    names = str(body.get("operationName") or "").split("_")
    if len(names) < 2:
        return [body]
    variables = body.get("variables") or {}
    return [
        {
            **body,
            "operationName": name,
            "variables": {
                key.removeprefix(f"p{index}_"): value
                for key, value in variables.items()
                if key.startswith(f"p{index}_")
            },
        }
        for index, name in enumerate(names)
    ]


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
