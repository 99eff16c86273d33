"""The stand-in's schema is a true subset of Saleor's: nothing invented, nothing changed.

Compared against ``../shared/saleor/schema.graphql`` (never copied into the
project); ``SALEOR_SCHEMA_DIR`` points elsewhere.
"""

import os
from functools import cache
from pathlib import Path

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    print_ast,
)

from app.standin.graphql_api import SCHEMA_PATH, standin_schema

SCHEMA_DIR = Path(os.environ.get("SALEOR_SCHEMA_DIR", Path(__file__).resolve().parents[3] / "shared" / "saleor"))


@cache
def _saleor() -> GraphQLSchema:
    path = SCHEMA_DIR / "schema.graphql"
    if not path.exists():
        pytest.skip(f"Saleor schema {path} is absent; set SALEOR_SCHEMA_DIR to the folder holding schema.graphql")
    return build_schema(path.read_text(), no_location=True)


def _ours() -> GraphQLSchema:
    return build_schema(SCHEMA_PATH.read_text(), no_location=True)


def _own_types() -> list[GraphQLNamedType]:
    return [t for name, t in sorted(_ours().type_map.items()) if not name.startswith("__")]


def _default(value: GraphQLArgument | GraphQLInputField) -> str | None:
    node = value.ast_node
    return print_ast(node.default_value) if node is not None and node.default_value is not None else None


def _is_required(value: GraphQLArgument | GraphQLInputField) -> bool:
    return isinstance(value.type, GraphQLNonNull) and _default(value) is None


def _compare_inputs(
    where: str, ours: dict[str, GraphQLArgument] | dict[str, GraphQLInputField], theirs: dict[str, object]
) -> list[str]:
    problems = []
    for name, value in ours.items():
        saleor = theirs.get(name)
        if not isinstance(saleor, GraphQLArgument | GraphQLInputField):
            problems.append(f"{where}({name}) does not exist in Saleor")
            continue
        if str(value.type) != str(saleor.type):
            problems.append(f"{where}({name}): {value.type}, Saleor has {saleor.type}")
        if _default(value) != _default(saleor):
            problems.append(f"{where}({name}) default {_default(value)}, Saleor has {_default(saleor)}")
    for name, saleor in theirs.items():
        # Leaving out a required input would accept documents Saleor refuses.
        if isinstance(saleor, GraphQLArgument | GraphQLInputField) and _is_required(saleor) and name not in ours:
            problems.append(f"{where}({name}) is required in Saleor but missing")
    return problems


def _differences(ours: GraphQLNamedType, saleor: GraphQLNamedType) -> list[str]:
    if type(ours) is not type(saleor):
        return [f"{ours.name} is a {type(ours).__name__}, Saleor's is a {type(saleor).__name__}"]
    problems: list[str] = []
    if isinstance(ours, GraphQLObjectType | GraphQLInterfaceType):
        assert isinstance(saleor, GraphQLObjectType | GraphQLInterfaceType)
        saleor_interfaces = {i.name for i in saleor.interfaces}
        problems += [
            f"{ours.name} implements {i.name}, Saleor's does not"
            for i in ours.interfaces
            if i.name not in saleor_interfaces
        ]
        for name, field in ours.fields.items():
            theirs = saleor.fields.get(name)
            if theirs is None:
                problems.append(f"{ours.name}.{name} does not exist in Saleor")
                continue
            if str(field.type) != str(theirs.type):
                problems.append(f"{ours.name}.{name}: {field.type}, Saleor has {theirs.type}")
            problems += _compare_inputs(f"{ours.name}.{name}", field.args, dict(theirs.args))
    elif isinstance(ours, GraphQLInputObjectType):
        assert isinstance(saleor, GraphQLInputObjectType)
        problems += _compare_inputs(ours.name, ours.fields, dict(saleor.fields))
    elif isinstance(ours, GraphQLEnumType):
        assert isinstance(saleor, GraphQLEnumType)
        problems += [f"{ours.name}.{v} is not a value in Saleor" for v in ours.values if v not in saleor.values]
    elif isinstance(ours, GraphQLUnionType):
        assert isinstance(saleor, GraphQLUnionType)
        members = {t.name for t in saleor.types}
        problems += [f"{ours.name} includes {t.name}, Saleor's does not" for t in ours.types if t.name not in members]
    return problems


@pytest.mark.parametrize("own_type", _own_types(), ids=lambda t: t.name)
def test_type_exists_in_saleor_with_the_same_shape(own_type: GraphQLNamedType) -> None:
    saleor = _saleor().get_type(own_type.name)
    assert saleor is not None, f"{own_type.name} does not exist in Saleor"
    problems = _differences(own_type, saleor)
    assert not problems, "\n".join(problems)


def test_root_operation_types_are_saleors() -> None:
    ours, saleor = _ours(), _saleor()
    for kind in ("query_type", "mutation_type", "subscription_type"):
        own, theirs = getattr(ours, kind), getattr(saleor, kind)
        assert own is not None
        assert theirs is not None
        assert own.name == theirs.name


def test_the_served_schema_is_the_file() -> None:
    """Resolvers are attached to the file's schema, not to a hand-built variant of it."""
    served = standin_schema()
    assert sorted(n for n in served.type_map if not n.startswith("__")) == [t.name for t in _own_types()]
