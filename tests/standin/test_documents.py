"""The stand-in can answer everything the app sends and render everything it subscribes to."""

import pytest
from graphql import parse, validate

from app.graphql.documents import Document, all_documents, load_repeating
from app.saleor.manifest import build_manifest
from app.standin.graphql_api import standin_schema


@pytest.mark.parametrize("document", all_documents(), ids=lambda d: f"{d.path.parent.name}/{d.path.name}")
def test_app_document_validates_against_the_standin(document: Document) -> None:
    errors = validate(standin_schema(), document.node)
    assert not errors, "\n".join(e.message for e in errors)


@pytest.mark.parametrize("lines", [0, 1, 3])
def test_record_cogs_for_any_number_of_lines_validates_against_the_standin(lines: int) -> None:
    document = load_repeating("mutations", "record_cogs", alias="line", times=lines)
    errors = validate(standin_schema(), document.node)
    assert not errors, "\n".join(e.message for e in errors)


def test_every_manifest_subscription_validates_against_the_standin() -> None:
    for webhook in build_manifest("https://ops.test")["webhooks"]:
        errors = validate(standin_schema(), parse(webhook["query"]))
        assert not errors, f"{webhook['name']}: " + "; ".join(e.message for e in errors)
