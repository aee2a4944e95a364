"""The one YAML loader for everything kclusterkit reads: request bodies, doc-strings,
environment files, kubeconfigs.

PyYAML's ``safe_load`` expands aliases by sharing objects, so a few hundred bytes of nested
aliases ("billion laughs") become a structure of billions of nodes the moment anything
walks or serializes it; and its composer recurses once per nesting level, so a deeply
nested document ends in a ``RecursionError``. This loader refuses both while composing,
with a ``yaml.MarkedYAMLError`` whose mark gives the line, so callers that already report
YAML syntax errors with ``file:line`` report these the same way.

The limits follow go-yaml (which upstream's sigs.k8s.io/yaml uses) in spirit, not number:
go-yaml refuses "excessive aliasing" by a ratio once documents reach 400,000 decoded nodes
and nesting beyond 10,000; a Python process cannot recurse that deep, and nothing
Kubernetes-shaped needs more than a few dozen levels or more than a few thousand nodes
copied through aliases.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, SequenceNode

# Deepest nesting accepted (mappings and sequences): see the module docstring.
MAX_DEPTH = 100
# Most nodes that aliases may add to a document once expanded.
MAX_ALIAS_NODES = 10_000

Error = yaml.YAMLError
MarkedError = yaml.MarkedYAMLError


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._alias_nodes = 0
        self._sizes: dict[int, int] = {}

    def compose_document(self) -> Node | None:
        self._alias_nodes = 0
        self._sizes = {}
        return super().compose_document()  # type: ignore[no-any-return]

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent) and event.anchor in self.anchors:
            self._alias_nodes += self._size(self.anchors[event.anchor])
            if self._alias_nodes > MAX_ALIAS_NODES:
                raise ComposerError(None, None, "document contains excessive aliasing "
                                    f"(more than {MAX_ALIAS_NODES} nodes through aliases)",
                                    event.start_mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"exceeded max depth of {MAX_DEPTH}",
                                    event.start_mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1

    def _size(self, node: Node) -> int:
        """Nodes in ``node`` with aliases expanded (memoized: shared nodes count each use)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        size = 1
        if isinstance(node, SequenceNode):
            size += sum(self._size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            size += sum(self._size(k) + self._size(v) for k, v in node.value)
        self._sizes[id(node)] = size
        return size


def load(text: str | bytes) -> Any:
    """One YAML document (None when empty); raises ``yaml.YAMLError``."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_all(text: str | bytes) -> list[Any]:
    """Every document of a YAML stream; raises ``yaml.YAMLError``."""
    loader = _BoundedLoader(text)
    try:
        docs = []
        while loader.check_data():
            docs.append(loader.get_data())
        return docs
    finally:
        loader.dispose()
