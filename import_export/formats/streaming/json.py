"""JSON writer: ``[`` at the start, one encoded object per row, ``]`` at the end.

The classic export is ``json.dumps`` of the dataset's list of row dicts with tablib's fallback
for dates, decimals and UUIDs and ``ensure_ascii=False``.  ``json.dumps`` joins list items with
``", "``, so encoding each row with the same encoder and joining the same way gives the same
text.  Without headers rows are lists, as in tablib.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tablib.formats._json import serialize_objects_handler

from .base import StreamWriter

ITEM_SEPARATOR = ", "


class JSONStreamWriter(StreamWriter):
    """A JSON array with one object (or list, without headers) per row."""

    def _open(self) -> None:
        self._encode = json.JSONEncoder(
            default=serialize_objects_handler, ensure_ascii=False
        ).encode
        self._emit("[")
        self._prefix = ""

    def _write_row(self, row: Sequence[Any]) -> None:
        item = dict(zip(self.headers, row)) if self.headers else list(row)
        self._emit(self._prefix + self._encode(item))
        self._prefix = ITEM_SEPARATOR

    def _close(self) -> None:
        self._emit("]")
