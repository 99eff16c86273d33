"""Every document the app sends or subscribes with must validate against Saleor 3.20 and the newest schema.

The schemas live beside the project in ``../shared/saleor/`` (never copied in);
``SALEOR_SCHEMA_DIR`` points elsewhere.
"""

import os
from functools import cache
from pathlib import Path

import pytest
from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    parse,
    validate,
)

from app.graphql.documents import Document, all_documents, batch, load, load_repeating, without
from app.saleor.manifest import build_manifest

SCHEMA_DIR = Path(os.environ.get("SALEOR_SCHEMA_DIR", Path(__file__).resolve().parents[3] / "shared" / "saleor"))
SCHEMAS = ["schema.graphql", "schema-3.20.graphql"]


@cache
def _schema(name: str) -> GraphQLSchema:
    path = SCHEMA_DIR / name
    if not path.exists():
        pytest.skip(f"Saleor schema {path} is absent; set SALEOR_SCHEMA_DIR to the folder holding {', '.join(SCHEMAS)}")
    return build_schema(path.read_text(), no_location=True)


def _documents() -> list[Document]:
    return all_documents()


@pytest.mark.parametrize("schema_name", SCHEMAS)
@pytest.mark.parametrize("document", _documents(), ids=lambda d: f"{d.path.parent.name}/{d.path.name}")
def test_document_validates_against_saleor(schema_name: str, document: Document) -> None:
    errors = validate(_schema(schema_name), document.node)
    assert not errors, "\n".join(e.message for e in errors)


@pytest.mark.parametrize("schema_name", SCHEMAS)
@pytest.mark.parametrize(
    ("name", "lines", "fields"),
    [("record_cogs", n, 1 + n) for n in (0, 1, 2)] + [("line_metadata", n, n) for n in (1, 4)],
)
def test_cost_of_goods_documents_validate_for_the_lines_they_carry(
    schema_name: str, name: str, lines: int, fields: int
) -> None:
    """The file holds one line's field; what is sent repeats it per line, with its own variables (at most
    four mutations a document, as Saleor allows: ``GqlSaleorGateway.record_cogs``)."""
    document = load_repeating("mutations", name, alias="line", times=lines)
    errors = validate(_schema(schema_name), document.node)
    assert not errors, "\n".join(e.message for e in errors)
    assert document.source.count("updatePrivateMetadata(") == fields


# Every write the dispatcher sends (``deliver``), and what it reads before writing again.
_DISPATCHED_MUTATIONS = (
    load("mutations", "fraud_decision"),
    *(load_repeating("mutations", "record_cogs", alias="line", times=lines) for lines in (0, 1, 2)),
    *(load_repeating("mutations", "line_metadata", alias="line", times=lines) for lines in (1, 4)),
    load("mutations", "order_fulfill"),
    load("mutations", "order_note_add"),
    load("mutations", "order_confirm"),
    load("mutations", "order_cancel"),
    load("mutations", "update_private_metadata"),
)
_DISPATCHED_QUERIES = (load("queries", "order_notes"), load("queries", "order_tracking_numbers"))


@pytest.mark.parametrize("schema_name", SCHEMAS)
@pytest.mark.parametrize(
    "parts",
    [
        pytest.param(_DISPATCHED_MUTATIONS, id="every-write"),
        pytest.param(_DISPATCHED_MUTATIONS[:1] * 4, id="fraud-decisions"),
        # Decisions that release nothing, batched without their skipped orderConfirm.
        pytest.param(
            (without(_DISPATCHED_MUTATIONS[0], frozenset({"orderConfirm"})),) * 2, id="decisions-without-release"
        ),
        pytest.param(_DISPATCHED_QUERIES * 2, id="reads"),
    ],
)
def test_batches_of_the_dispatchers_documents_validate(schema_name: str, parts: tuple[Document, ...]) -> None:
    """What ``BatchingGraphQLClient`` sends for effects delivered side by side: one document of them all."""
    combined = batch(parts).document
    errors = validate(_schema(schema_name), combined.node)
    assert not errors, "\n".join(e.message for e in errors)
    assert combined.root_fields == sum(part.root_fields for part in parts)


@pytest.mark.parametrize("schema_name", SCHEMAS)
def test_every_manifest_subscription_validates_and_selects_the_event_root(schema_name: str) -> None:
    manifest = build_manifest("https://ops.test")
    assert manifest["webhooks"], "the manifest declares webhooks"
    for webhook in manifest["webhooks"]:
        node = parse(webhook["query"])
        errors = validate(_schema(schema_name), node)
        assert not errors, f"{webhook['name']}: " + "; ".join(e.message for e in errors)
        (operation,) = [d for d in node.definitions if isinstance(d, OperationDefinitionNode)]
        assert operation.operation is OperationType.SUBSCRIPTION
        (root,) = operation.selection_set.selections
        assert isinstance(root, FieldNode)
        assert root.name.value == "event"


@pytest.mark.parametrize("schema_name", SCHEMAS)
def test_every_declared_event_exists_in_saleor(schema_name: str) -> None:
    async_events = _schema(schema_name).get_type("WebhookEventTypeAsyncEnum")
    sync_events = _schema(schema_name).get_type("WebhookEventTypeSyncEnum")
    assert isinstance(async_events, GraphQLEnumType)
    assert isinstance(sync_events, GraphQLEnumType)
    for webhook in build_manifest("https://ops.test")["webhooks"]:
        assert webhook.get("asyncEvents") or webhook.get("syncEvents"), webhook["name"]
        for event in webhook.get("asyncEvents", []):
            assert event in async_events.values, f"{event} is not an async event in {schema_name}"
        for event in webhook.get("syncEvents", []):
            assert event in sync_events.values, f"{event} is not a sync event in {schema_name}"


@pytest.mark.parametrize("schema_name", SCHEMAS)
def test_requested_permissions_exist_in_saleor(schema_name: str) -> None:
    permissions = _schema(schema_name).get_type("PermissionEnum")
    assert isinstance(permissions, GraphQLEnumType)
    for permission in build_manifest("https://ops.test")["permissions"]:
        assert permission in permissions.values


@pytest.mark.parametrize(("schema_name", "version"), [("schema-3.20.graphql", "3.20")])
def test_extensions_offered_to_old_saleor_use_only_mounts_and_targets_it_knows(schema_name: str, version: str) -> None:
    """Saleor ≤3.22 validates mount and target against these enums and refuses the install otherwise."""
    schema = _schema(schema_name)
    mounts, targets = schema.get_type("AppExtensionMountEnum"), schema.get_type("AppExtensionTargetEnum")
    assert isinstance(mounts, GraphQLEnumType)
    assert isinstance(targets, GraphQLEnumType)
    manifest = build_manifest("https://ops.test", schema_version=version)
    assert manifest["extensions"]
    for extension in manifest["extensions"]:
        assert extension["mount"] in mounts.values
        assert extension["target"] in targets.values
