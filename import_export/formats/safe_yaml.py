"""YAML loading for imports that cannot be blown up by aliases.

A YAML alias (``*a``) stands for the whole node its anchor (``&a``) names, so a few hundred
bytes of nested aliases describe billions of values (the "billion laughs" file). PyYAML's
``safe_load`` builds such a document cheaply, with shared objects, but anything that walks it
(tablib filling a Dataset, rendering a preview) expands every alias: minutes of CPU and
gigabytes of memory for a 500-byte upload.

The loader here counts, while it composes the document, how many nodes the document would
hold once every alias is expanded. A document without aliases expands to exactly the nodes
written in it, so genuine files of any size load as before; aliases may add at most
:data:`MAX_ALIAS_EXPANSION` nodes beyond that, and the first node that goes over raises
:class:`YAMLExpansionError` before anything is expanded. Deeply nested documents, which would
overflow Python's stack, raise the same error type.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..exceptions import ImportExportError

#: How many nodes aliases may add to a document beyond the ones written in it.  Exports
#: written by this package and by tablib never need more than a handful.
MAX_ALIAS_EXPANSION = 10_000

_EXPANDED = "_import_export_expanded_size"


class YAMLExpansionError(ImportExportError, ValueError):
    """A YAML document was refused before loading: its aliases expand too far, or it nests
    deeper than Python can follow. A ``ValueError``, as a bad file is bad input."""


class BoundedSafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with a bound on how far aliases may expand the document.

    ``max_alias_expansion`` is the number of nodes aliases may add; the loader keeps, on each
    composed node, the size it has with every alias below it expanded, so the check costs one
    addition per node and never expands anything.
    """

    def __init__(self, stream: Any, max_alias_expansion: int = MAX_ALIAS_EXPANSION) -> None:
        super().__init__(stream)
        self.max_alias_expansion = max_alias_expansion
        self.written_nodes = 0

    def compose_node(self, parent, index):
        node = super().compose_node(parent, index)
        if getattr(node, _EXPANDED, None) is None:
            # A node written in the document (an alias returns its anchor's node, already sized).
            self.written_nodes += 1
            setattr(node, _EXPANDED, 1 + sum(_expanded_size(child) for child in _children(node)))
        self._check_expansion(node)
        return node

    def _check_expansion(self, node) -> None:
        added = getattr(node, _EXPANDED) - self.written_nodes
        if added > self.max_alias_expansion:
            mark = node.start_mark
            raise YAMLExpansionError(
                f"YAML aliases expand the document by more than {self.max_alias_expansion} "
                f"values (at line {mark.line + 1}); files with such aliases are refused."
            )


def _children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _expanded_size(node) -> int:
    return getattr(node, _EXPANDED, None) or 1


def safe_load(text: str | bytes, max_alias_expansion: int = MAX_ALIAS_EXPANSION) -> Any:
    """Load one YAML document with safe types only and a bound on alias expansion.

    Raises :class:`YAMLExpansionError` for a document that aliases would blow up or that nests
    too deeply, and PyYAML's ``yaml.YAMLError`` for one that is not YAML.
    """
    loader = BoundedSafeLoader(text, max_alias_expansion)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise YAMLExpansionError(
            "The YAML document nests too deeply to be read; files like this are refused."
        ) from None
    finally:
        loader.dispose()
