"""Every GraphQL document the app sends or subscribes with, loaded from .graphql files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import TypeVar

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    NameNode,
    Node,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

ROOT = Path(__file__).parent
KINDS = ("queries", "mutations", "subscriptions")
_FRAGMENT_SPREAD = re.compile(r"\.\.\.\s*(?!on\b)([_A-Za-z]\w*)")
N = TypeVar("N", bound=Node)


@dataclass(frozen=True, eq=False)  # one object per document (``load`` and its kin cache them): the same by identity
class Document:
    path: Path
    source: str
    node: DocumentNode

    @cached_property
    def operation(self) -> OperationDefinitionNode:
        operations = [d for d in self.node.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].name is None:
            raise ValueError(f"{self.path} must hold exactly one named operation")
        return operations[0]

    @property
    def operation_name(self) -> str:
        """The one named operation in the file; Saleor logs and our fakes match on it."""
        name = self.operation.name
        assert name is not None  # ``operation`` makes sure
        return name.value

    @property
    def is_mutation(self) -> bool:
        return self.operation.operation is OperationType.MUTATION

    @cached_property
    def root_fields(self) -> int:
        """How many fields the operation asks for at its root: mutations, each run after the one before."""
        return len(self.operation.selection_set.selections)

    def skipped_with(self, variables: Mapping[str, object]) -> frozenset[str]:
        """The response keys of the root fields that ``@include``/``@skip`` leave out with ``variables``."""
        return frozenset(
            (field.alias or field.name).value
            for field in self.operation.selection_set.selections
            if isinstance(field, FieldNode) and not _included(field, variables)
        )


def _included(field: FieldNode, variables: Mapping[str, object]) -> bool:
    """GraphQL's ``@include(if:)`` and ``@skip(if:)`` on ``field``, its ``if`` a literal or a variable."""
    for directive in field.directives or ():
        if directive.name.value not in ("include", "skip"):
            continue
        (argument,) = directive.arguments or ()
        value = argument.value
        if isinstance(value, VariableNode):
            condition = bool(variables.get(value.name.value))
        else:
            assert isinstance(value, BooleanValueNode)  # the directives' ``if`` is a Boolean!
            condition = value.value
        if condition is (directive.name.value == "skip"):
            return False
    return True


@lru_cache(maxsize=256)
def without(document: Document, skipped: frozenset[str]) -> Document:
    """``document`` without its root fields keyed in ``skipped``, and without the variables only they used.

    Saleor counts the mutations a document holds against its limit of four, those ``@include`` leaves out
    too: a fraud decision that releases nothing is two mutations once its ``orderConfirm`` is taken out,
    and two such decisions fit in one request."""
    operation = document.operation
    kept = tuple(
        field
        for field in operation.selection_set.selections
        if not (isinstance(field, FieldNode) and (field.alias or field.name).value in skipped)
    )
    used = _variables_in(*kept)
    narrowed = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=tuple(
            definition for definition in operation.variable_definitions or () if definition.variable.name.value in used
        ),
        directives=operation.directives,
        selection_set=SelectionSetNode(selections=kept),
    )
    others = [d for d in document.node.definitions if d is not operation]
    source = print_ast(DocumentNode(definitions=(narrowed, *others)))
    return Document(path=document.path, source=source, node=parse(source))


@cache
def _fragments() -> dict[str, str]:
    """Fragment name → its source, from fragments/*.graphql."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "fragments").glob("*.graphql")):
        source = path.read_text()
        for name in re.findall(r"^fragment\s+(\w+)", source, flags=re.MULTILINE):
            found[name] = source
    return found


def _with_fragments(source: str) -> str:
    """Append every fragment the operation spreads, transitively, each once."""
    fragments = _fragments()
    included: list[str] = []
    pending = _FRAGMENT_SPREAD.findall(source)
    while pending:
        name = pending.pop()
        fragment = fragments.get(name)
        if fragment is None:
            raise ValueError(f"unknown fragment {name!r}")
        if fragment not in included:
            included.append(fragment)
            pending.extend(_FRAGMENT_SPREAD.findall(fragment))
    return "\n".join([source.strip(), *(f.strip() for f in included)]) + "\n"


@cache
def load(kind: str, name: str) -> Document:
    """A document with the fragments it uses, ready to send (or to put in the manifest)."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    path = ROOT / kind / f"{name}.graphql"
    source = _with_fragments(path.read_text())
    return Document(path=path, source=source, node=parse(source))


class _VariableNames(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        self.names.add(node.name.value)


class _RenameVariables(Visitor):
    def __init__(self, renames: dict[str, str]) -> None:
        super().__init__()
        self.renames = renames

    def leave_variable(self, node: VariableNode, *_: object) -> VariableNode | None:
        name = self.renames.get(node.name.value)
        return None if name is None else VariableNode(name=NameNode(value=name))


def _variables_in(*nodes: Node) -> set[str]:
    found = _VariableNames()
    for node in nodes:
        visit(node, found)
    return found.names


def _renamed(node: N, renames: dict[str, str]) -> N:
    """``node`` with the variables in ``renames`` renamed."""
    copy: N = visit(node, _RenameVariables(renames))
    return copy


def _aliased(field: FieldNode, alias: str) -> FieldNode:
    return FieldNode(
        alias=NameNode(value=alias),
        name=field.name,
        arguments=field.arguments,
        directives=field.directives,
        selection_set=field.selection_set,
    )


@cache
def load_repeating(kind: str, name: str, *, alias: str, times: int) -> Document:
    """``load(kind, name)`` with its root field aliased ``alias`` written ``times`` times.

    GraphQL has no loops, so a request writing to a varying number of objects carries one
    aliased field per object. The file holds the field once, under ``alias``, and stays a
    valid document; copy ``i`` is aliased ``f"{alias}{i}"`` and the variables only that
    field uses get the suffix ``i`` (``$line`` becomes ``$line0``). ``times=0`` drops it.
    """
    template = load(kind, name)
    operation = template.operation
    selections = operation.selection_set.selections
    field = next(
        (s for s in selections if isinstance(s, FieldNode) and s.alias is not None and s.alias.value == alias), None
    )
    if field is None:
        raise ValueError(f"{template.path} has no root field aliased {alias!r}")
    own = _variables_in(field) - _variables_in(*(s for s in selections if s is not field))
    renames = [{variable: f"{variable}{index}" for variable in own} for index in range(times)]
    fields = [_aliased(_renamed(field, renames[index]), f"{alias}{index}") for index in range(times)]
    repeated = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=tuple(
            copy
            for definition in operation.variable_definitions or ()
            for copy in (
                [_renamed(definition, renames[index]) for index in range(times)]
                if definition.variable.name.value in own
                else [definition]
            )
        ),
        directives=operation.directives,
        selection_set=SelectionSetNode(
            selections=tuple(copy for s in selections for copy in (fields if s is field else [s]))
        ),
    )
    others = [d for d in template.node.definitions if d is not operation]
    source = print_ast(DocumentNode(definitions=(repeated, *others)))
    return Document(path=template.path, source=source, node=parse(source))


@dataclass(frozen=True)
class Batch:
    """Several documents of one operation type sent as one: part ``i``'s root field ``key`` (its alias,
    or its name) answers as ``p{i}_{key}`` and its variable ``$v`` is sent as ``$p{i}_v``. The batch's
    operation is named after its parts, in order (``FraudDecision_RecordCogs``)."""

    document: Document
    keys: tuple[tuple[str, ...], ...]  # per part, the response keys of its root fields as it names them
    owners: Mapping[str, int]  # the part each response key of the batch belongs to

    @staticmethod
    def prefix(part: int) -> str:
        return f"p{part}_"


@lru_cache(maxsize=256)
def batch(parts: tuple[Document, ...]) -> Batch:
    """``parts`` (at least two, all queries or all mutations) as one document; built and printed once per
    sequence of parts. Saleor runs a document's mutations one after another, each answering on its own."""
    operations = [part.operation for part in parts]
    if len(parts) < 2 or len({operation.operation for operation in operations}) != 1:
        raise ValueError("a batch is two or more operations of one type")
    selections: list[FieldNode] = []
    definitions: list[VariableDefinitionNode] = []
    keys: list[tuple[str, ...]] = []
    for index, operation in enumerate(operations):
        prefix = Batch.prefix(index)
        renames = {name: prefix + name for name in _variables_in(operation)}
        fields = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
        if len(fields) != len(operation.selection_set.selections):
            raise ValueError(f"{parts[index].path}: only fields can be batched at the root")
        keys.append(tuple((field.alias or field.name).value for field in fields))
        selections += [
            _aliased(_renamed(field, renames), prefix + key) for field, key in zip(fields, keys[-1], strict=True)
        ]
        definitions += [_renamed(definition, renames) for definition in operation.variable_definitions or ()]
    fragments = {
        definition.name.value: definition
        for part in parts
        for definition in part.node.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    combined = OperationDefinitionNode(
        operation=operations[0].operation,
        name=NameNode(value="_".join(operation.name.value for operation in operations if operation.name)),
        variable_definitions=tuple(definitions),
        selection_set=SelectionSetNode(selections=tuple(selections)),
    )
    source = print_ast(DocumentNode(definitions=(combined, *fragments.values())))
    return Batch(
        document=Document(path=parts[0].path, source=source, node=parse(source)),
        keys=tuple(keys),
        owners={Batch.prefix(index) + key: index for index, own in enumerate(keys) for key in own},
    )


def all_documents() -> list[Document]:
    return [load(kind, p.stem) for kind in KINDS for p in sorted((ROOT / kind).glob("*.graphql"))]
