"""The fields a document selects that the app's permissions do not cover, by Saleor's notes.

Fragments are expanded where they are spread, so a field is named by the path the response
would carry it under (``event.order.payments.metadata``). A field selected on an interface or
union is checked on every type that can stand there: Saleor resolves it on the concrete one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
)

from app.standin.permissions import AUTHENTICATED_APP, Requirement, field_requirements, requirements_in


@dataclass(frozen=True, slots=True)
class Uncovered:
    path: str
    field: str  # Type.field as Saleor's schema has it
    requirement: Requirement

    def __str__(self) -> str:
        needed = ", ".join(self.requirement.permissions) or "nothing an app can hold"
        return f"{self.path} ({self.field}) needs one of {needed}"


def uncovered_fields(schema: GraphQLSchema, document: DocumentNode, permissions: Collection[str]) -> list[Uncovered]:
    """What ``document`` selects that an app holding ``permissions`` may not read."""
    held = {*permissions, AUTHENTICATED_APP}
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    found: list[Uncovered] = []
    for operation in (d for d in document.definitions if isinstance(d, OperationDefinitionNode)):
        root = schema.get_root_type(operation.operation)
        assert root is not None, f"the schema has no {operation.operation.value} type"
        for path, owner, node in _fields(schema, root, operation.selection_set, fragments, ()):
            field = owner.fields[node.name.value]
            requirements = field_requirements(owner.name, node.name.value, field.description)
            requirements += requirements_in(get_named_type(field.type).description)
            for argument in node.arguments or ():
                requirements += requirements_in(field.args[argument.name.value].description)
            where = ".".join(path)
            found += [
                Uncovered(where, f"{owner.name}.{node.name.value}", r) for r in requirements if not r.granted_to(held)
            ]
    return list(dict.fromkeys(found))


def _concrete(schema: GraphQLSchema, parent: GraphQLNamedType) -> list[GraphQLObjectType | GraphQLInterfaceType]:
    if is_abstract_type(parent):
        assert isinstance(parent, GraphQLAbstractType)
        owners: list[GraphQLObjectType | GraphQLInterfaceType] = list(schema.get_possible_types(parent))
        return [parent, *owners] if isinstance(parent, GraphQLInterfaceType) else owners
    assert isinstance(parent, GraphQLObjectType)
    return [parent]


def _fields(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    path: tuple[str, ...],
) -> Iterator[tuple[tuple[str, ...], GraphQLObjectType | GraphQLInterfaceType, FieldNode]]:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name.startswith("__"):
                continue
            here = (*path, (selection.alias or selection.name).value)
            owners = [owner for owner in _concrete(schema, parent) if name in owner.fields]
            for owner in owners:
                yield here, owner, selection
            if selection.selection_set is not None:
                child = get_named_type(owners[0].fields[name].type)
                yield from _fields(schema, child, selection.selection_set, fragments, here)
        elif isinstance(selection, InlineFragmentNode):
            narrowed = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
            assert narrowed is not None
            yield from _fields(schema, narrowed, selection.selection_set, fragments, path)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            narrowed = schema.get_type(fragment.type_condition.name.value)
            assert narrowed is not None
            yield from _fields(schema, narrowed, fragment.selection_set, fragments, path)


def sync_event_fields(schema: GraphQLSchema, document: DocumentNode) -> list[str]:
    """``path (Type.field)`` of every selected field whose resolver calls a sync webhook, as the
    schema marks it with ``@webhookEventsInfo(syncEvents: [...])``: inside a sync webhook's payload
    Saleor refuses it and nulls the enclosing object (PROTOCOL.md d.1)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    found: list[str] = []
    for operation in (d for d in document.definitions if isinstance(d, OperationDefinitionNode)):
        root = schema.get_root_type(operation.operation)
        assert root is not None, f"the schema has no {operation.operation.value} type"
        for path, owner, node in _fields(schema, root, operation.selection_set, fragments, ()):
            if _triggers_sync_events(owner.fields[node.name.value]):
                found.append(f"{'.'.join(path)} ({owner.name}.{node.name.value})")
    return list(dict.fromkeys(found))


def _triggers_sync_events(field: GraphQLField) -> bool:
    directives = field.ast_node.directives if field.ast_node is not None else None
    for directive in directives or ():
        if directive.name.value != "webhookEventsInfo":
            continue
        for argument in directive.arguments or ():
            if (
                argument.name.value == "syncEvents"
                and isinstance(argument.value, ListValueNode)
                and argument.value.values
            ):
                return True
    return False
