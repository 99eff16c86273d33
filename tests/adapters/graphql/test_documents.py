"""``documents``: what a document leaves out with its variables, and the document without it."""

from __future__ import annotations

from pathlib import Path

from graphql import parse, print_ast

from app.graphql.documents import Document, without

SOURCE = """mutation Decide($order: ID!, $note: String!, $release: Boolean!, $quiet: Boolean!) {
  noted: orderNoteAdd(order: $order, input: { message: $note }) @skip(if: $quiet) { errors { code } }
  orderConfirm(id: $order) @include(if: $release) { errors { code } }
  never: orderCancel(id: $order) @include(if: false) { errors { code } }
  always: orderConfirm(id: $order) @skip(if: false) { errors { code } }
}"""
DECIDE = Document(path=Path("decide.graphql"), source=SOURCE, node=parse(SOURCE))


def test_the_fields_include_and_skip_leave_out_follow_the_variables_and_literals() -> None:
    assert DECIDE.skipped_with({"release": True, "quiet": False}) == {"never"}
    assert DECIDE.skipped_with({"release": False, "quiet": True}) == {"noted", "orderConfirm", "never"}
    assert DECIDE.skipped_with({}) == {"orderConfirm", "never"}  # a variable not given is not true


def test_without_a_field_its_own_variables_go_and_those_others_use_stay() -> None:
    narrowed = without(DECIDE, frozenset({"noted", "never"}))

    operation = narrowed.operation
    assert [definition.variable.name.value for definition in operation.variable_definitions or ()] == [
        "order",
        "release",
    ]
    assert narrowed.root_fields == 2
    assert narrowed.operation_name == "Decide"
    assert print_ast(narrowed.node) == narrowed.source
    assert without(DECIDE, frozenset({"noted", "never"})) is narrowed  # built once
