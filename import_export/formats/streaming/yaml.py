"""YAML writer: PyYAML's own emitter, fed one row's events at a time.

The classic export is ``yaml.safe_dump(rows, default_flow_style=None, allow_unicode=True,
sort_keys=False)``.  Its layout depends on emitter state (column, indentation, line width), so
instead of re-implementing it this writer drives one ``SafeDumper`` for the whole export: it
emits the stream, document and block-sequence start events in ``start()``, then represents and
serialises each row into the same emitter, and the closing events in ``end()``.  An empty
block sequence is rendered ``[]`` by the emitter itself, as in the classic output.

Aliases: PyYAML writes ``&id001`` / ``*id001`` when the *same* mutable object (a list, dict or
date, not str or numbers) occurs twice.  Within a row this writer does exactly that, with the
anchor numbers running on across rows.  An object shared *between* rows is written out again
instead of as an alias, because the first occurrence has already been written when the second
one is seen; the loaded data is equal, only those bytes differ.  Exports built from database
rows do not share objects between rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from django.utils.translation import gettext
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from .base import StreamWriteError, StreamWriter

SEQUENCE_TAG = "tag:yaml.org,2002:seq"


class YAMLStreamWriter(StreamWriter):
    """A YAML block sequence with one flow mapping (or flow list, without headers) per row."""

    def _open(self) -> None:
        self._chunks: list[str] = []
        self._dumper = yaml.SafeDumper(
            _ChunkCollector(self._chunks),
            default_flow_style=None,
            allow_unicode=True,
            sort_keys=False,
        )
        dumper = self._dumper
        dumper.open()
        dumper.emit(DocumentStartEvent(explicit=None, version=None, tags=None))
        dumper.emit(SequenceStartEvent(None, SEQUENCE_TAG, True, flow_style=False))
        self._send_chunks()

    def _write_row(self, row: Sequence[Any]) -> None:
        item = dict(zip(self.headers, row)) if self.headers else list(row)
        dumper = self._dumper
        try:
            node = dumper.represent_data(item)
        except yaml.YAMLError as exc:
            raise StreamWriteError(
                gettext("Could not write row %(row)s: %(error)s")
                % {"row": self.rows_written + 1, "error": exc}
            ) from exc
        finally:
            self._forget_represented_objects()
        dumper.anchor_node(node)
        dumper.serialize_node(node, None, None)
        # Node bookkeeping is per row: anchors only ever point inside the row just written.
        dumper.anchors = {}
        dumper.serialized_nodes = {}
        self._send_chunks()

    def _close(self) -> None:
        dumper = self._dumper
        dumper.emit(SequenceEndEvent())
        dumper.emit(DocumentEndEvent(explicit=None))
        dumper.close()
        dumper.dispose()
        self._send_chunks()

    def _forget_represented_objects(self) -> None:
        """Clear the representer's identity cache so the row's objects can be freed."""
        dumper = self._dumper
        dumper.represented_objects = {}
        dumper.object_keeper = []
        dumper.alias_key = None

    def _send_chunks(self) -> None:
        """Write what the emitter produced for the last events as one piece."""
        if self._chunks:
            self._emit("".join(self._chunks))
            self._chunks.clear()


class _ChunkCollector:
    """The emitter's output stream: it writes many small tokens, gathered here per row."""

    __slots__ = ("write",)

    def __init__(self, chunks: list[str]):
        self.write = chunks.append
