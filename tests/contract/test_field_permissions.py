"""No document of the app selects a field its manifest's permissions do not cover.

Saleor resolves such a field to a permission error and nulls its parents up to the first
nullable one; in a webhook that is the event's whole ``order``. Checked against the
permission notes of both Saleor schemas and the checks Saleor's resolvers make without a
note (``app.standin.permissions``).
"""

import pytest
from graphql import parse

from app.graphql.documents import Document, all_documents, load_repeating
from app.saleor.manifest import build_manifest
from app.standin.permissions import Requirement, requirements_in
from tests.contract.field_permissions import uncovered_fields
from tests.contract.test_saleor_schemas import SCHEMAS, _schema

PERMISSIONS = build_manifest("https://ops.test")["permissions"]


def _sent_documents() -> list[tuple[str, str]]:
    """Every document the app sends: each .graphql file with its fragments, the manifest's
    subscriptions as Saleor stores them, and record_cogs as it is sent for an order with lines."""
    files: list[Document] = all_documents()
    sent = [(f"{d.path.parent.name}/{d.path.name}", d.source) for d in files]
    sent.append(
        (
            "mutations/record_cogs.graphql × 2 lines",
            load_repeating("mutations", "record_cogs", alias="line", times=2).source,
        )
    )
    sent += [(f"manifest webhook {w['name']}", w["query"]) for w in build_manifest("https://ops.test")["webhooks"]]
    return sent


@pytest.mark.parametrize("schema_name", SCHEMAS)
@pytest.mark.parametrize(("name", "source"), _sent_documents(), ids=[name for name, _ in _sent_documents()])
def test_document_selects_only_what_the_manifest_permissions_cover(schema_name: str, name: str, source: str) -> None:
    uncovered = uncovered_fields(_schema(schema_name), parse(source), PERMISSIONS)
    assert not uncovered, f"{name} selects what {', '.join(PERMISSIONS)} do not cover:\n" + "\n".join(
        map(str, uncovered)
    )


ORDER_WITH_PAYMENT_METADATA = """
subscription { event { ... on OrderFullyPaid { order { ...Paid } } } }
fragment Paid on Order { id payments { id customerIpAddress metadata { key value } } }
"""


@pytest.mark.parametrize("schema_name", SCHEMAS)
def test_a_payments_metadata_selection_is_caught_through_a_fragment(schema_name: str) -> None:
    """Saleor's schema says Payment.metadata needs nothing; its resolver asks apps for HANDLE_PAYMENTS."""
    uncovered = uncovered_fields(_schema(schema_name), parse(ORDER_WITH_PAYMENT_METADATA), ["MANAGE_ORDERS"])
    assert [(u.path, u.field, u.requirement.permissions) for u in uncovered] == [
        ("event.order.payments.metadata", "Payment.metadata", ("HANDLE_PAYMENTS",))
    ]
    assert (
        uncovered_fields(_schema(schema_name), parse(ORDER_WITH_PAYMENT_METADATA), ["MANAGE_ORDERS", "HANDLE_PAYMENTS"])
        == []
    )


@pytest.mark.parametrize("schema_name", SCHEMAS)
def test_one_listed_permission_is_enough(schema_name: str) -> None:
    document = parse("query { order(id: 1) { transactions { id } } }".replace("1", '"T3JkZXI6MQ=="'))
    # Order.transactions: "Requires one of the following permissions: MANAGE_ORDERS, HANDLE_PAYMENTS."
    assert uncovered_fields(_schema(schema_name), document, ["HANDLE_PAYMENTS"]) == []
    assert uncovered_fields(_schema(schema_name), document, ["MANAGE_ORDERS"]) == []
    assert [u.field for u in uncovered_fields(_schema(schema_name), document, ["MANAGE_PRODUCTS"])] == [
        "Order.transactions"
    ]


@pytest.mark.parametrize("schema_name", SCHEMAS)
def test_fields_on_interfaces_are_checked_on_every_type_that_can_stand_there(schema_name: str) -> None:
    """``privateMetadata`` on ObjectWithMetadata may be a Payment's, which MANAGE_ORDERS cannot read."""
    document = parse('mutation { updatePrivateMetadata(id: "x", input: []) { item { privateMetadata { key } } } }')
    fields = {u.field for u in uncovered_fields(_schema(schema_name), document, ["MANAGE_ORDERS"])}
    assert "Payment.privateMetadata" in fields
    assert "Order.privateMetadata" not in fields


@pytest.mark.parametrize("schema_name", SCHEMAS)
def test_argument_notes_count_when_the_argument_is_given(schema_name: str) -> None:
    by_reference = parse('query { order(externalReference: "A-1") { id } }')
    assert [u.field for u in uncovered_fields(_schema(schema_name), by_reference, ["MANAGE_PRODUCTS"])] == [
        "Query.order"
    ]
    assert uncovered_fields(_schema(schema_name), by_reference, ["MANAGE_ORDERS"]) == []


@pytest.mark.parametrize(
    ("description", "alternatives", "old"),
    [
        pytest.param(
            "List of transactions.\n\nRequires one of the following permissions: MANAGE_ORDERS, HANDLE_PAYMENTS.",
            [{"MANAGE_ORDERS"}, {"HANDLE_PAYMENTS"}],
            False,
            id="one-of",
        ),
        pytest.param(
            "Requires one of the following permissions: AUTHENTICATED_STAFF_USER AUTHENTICATED_APP. The authenticated "
            "app has access to its resources.",
            [{"AUTHENTICATED_STAFF_USER"}, {"AUTHENTICATED_APP"}],
            False,
            id="no-comma",
        ),
        pytest.param(
            "App that performed the action. Requires of of the following permissions: MANAGE_APPS, MANAGE_ORDERS, "
            "OWNER.",
            [{"MANAGE_APPS"}, {"MANAGE_ORDERS"}, {"OWNER"}],
            False,
            id="of-of",
        ),
        pytest.param(
            "Billing address. The full data can be access for orders created in Saleor 3.2 and later, for other orders "
            "requires one of the following permissions: MANAGE_ORDERS, OWNER.",
            [{"MANAGE_ORDERS"}, {"OWNER"}],
            True,
            id="old-orders",
        ),
        pytest.param(
            "Creates a new app. Requires the following permissions: AUTHENTICATED_STAFF_USER and MANAGE_APPS.",
            [{"AUTHENTICATED_STAFF_USER", "MANAGE_APPS"}],
            False,
            id="all-of",
        ),
        pytest.param(
            "Requires the following permissions: OWNER and HANDLE_PAYMENTS for apps, HANDLE_PAYMENTS for staff users. "
            "Staff user cannot update a transaction that is owned by the app.",
            [{"OWNER", "HANDLE_PAYMENTS"}],
            False,
            id="for-apps",
        ),
        pytest.param(
            "Requires one of following set of permissions: AUTHENTICATED_USER or AUTHENTICATED_APP + IMPERSONATE_USER.",
            [{"AUTHENTICATED_USER"}, {"AUTHENTICATED_APP", "IMPERSONATE_USER"}],
            False,
            id="sets",
        ),
    ],
)
def test_saleors_ways_of_writing_a_permission_note(description: str, alternatives: list[set[str]], old: bool) -> None:
    (requirement,) = requirements_in(description)
    assert requirement == Requirement(tuple(frozenset(a) for a in alternatives), only_for_old_objects=old)


def test_notes_that_only_narrow_the_results_require_nothing() -> None:
    assert (
        requirements_in(
            "List of product variants. Requires one of the following permissions to include the unpublished items: "
            "MANAGE_ORDERS, MANAGE_DISCOUNTS, MANAGE_PRODUCTS."
        )
        == []
    )
    assert requirements_in("List of public metadata items. Can be accessed without permissions.") == []
