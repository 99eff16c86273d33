"""Every GraphQL document the app sends or subscribes with, loaded from .graphql files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from graphql import DocumentNode, OperationDefinitionNode, parse

ROOT = Path(__file__).parent
KINDS = ("queries", "mutations", "subscriptions")
_FRAGMENT_SPREAD = re.compile(r"\.\.\.\s*(?!on\b)([_A-Za-z]\w*)")


@dataclass(frozen=True)
class Document:
    path: Path
    source: str
    node: DocumentNode

    @property
    def operation_name(self) -> str:
        """The one named operation in the file; Saleor logs and our fakes match on it."""
        operations = [d for d in self.node.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].name is None:
            raise ValueError(f"{self.path} must hold exactly one named operation")
        return operations[0].name.value


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


def all_documents() -> list[Document]:
    return [load(kind, p.stem) for kind in KINDS for p in sorted((ROOT / kind).glob("*.graphql"))]
