"""JSON reader: one array item at a time with ijson (its C back-end, yajl2_c, when installed).

The classic import is ``json.load`` of the whole file into tablib: the document must be an
array; if its first item is an object, that object's keys are the headers and every item an
object, and if it is an array, the file has no headers and every item is a row.  This reader
accepts the same documents and gives the same cell values: numbers that are not integers are
read as ``float`` (``use_float``), as ``json`` reads them, and nested objects and arrays are
cells as they are (e.g. for a ``JSONField``).

One deliberate difference: a row object's values are taken by key, under the header of the same
name.  tablib pairs them by position, so an object whose keys come in another order than the
first object's had its values silently put under the wrong headers.  An object whose keys are
not those of the first one is a :class:`StreamReadError` naming the row, as it is an error
(``InvalidDimensions``, without a row) for the classic reading when their number differs.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator, Sequence
from typing import Any

import ijson

from .reading import (
    READ_CHUNK,
    ImportLimits,
    StreamReader,
    StreamReadError,
    TextAsBytesRaw,
    binary_source,
)

#: Encodings ijson reads itself (the bytes go to the parser as they are).
_UTF8_NAMES = frozenset({"utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig"})

_END = object()


class JSONStreamReader(StreamReader):
    """A JSON array of objects (with headers) or of arrays (without)."""

    empty_cell = None

    def _read_headers(self) -> Sequence[Any] | None:
        source = self._utf8_source()
        if self._first_character(source) != b"[":
            raise StreamReadError(
                "A JSON import needs an array of objects (or of arrays) at the top level."
            )
        # Given the file itself, ijson builds each item in its C back-end.
        self._items = ijson.items(source, "item", use_float=True)
        self._first = self._next(self._items, "row 1")
        if isinstance(self._first, dict):
            self._keys = list(self._first)
            return self._keys
        self._keys = None
        return None

    @staticmethod
    def _first_character(source: io.BufferedReader) -> bytes:
        """The document's first non-blank byte, left unread in ``source``."""
        while True:
            ahead = source.peek(READ_CHUNK)
            if not ahead:
                return b""
            stripped = ahead.lstrip(b" \t\r\n")
            if stripped:
                return stripped[:1]
            source.read(len(ahead))

    def _utf8_source(self):
        """The file as UTF-8 bytes without a byte-order mark, which is what ijson reads.

        Text files are encoded as they are read; binary ones in another encoding (the
        format's ``encoding``) are decoded first.  A UTF-8 byte-order mark is skipped, as the
        classic path's ``utf-8-sig`` decoding drops it.
        """
        if self.text_stream:
            return io.BufferedReader(TextAsBytesRaw(self.file, self.limits), READ_CHUNK)
        source = binary_source(self.file, self.limits)
        encoding = (self.encoding or "utf-8").lower()
        if encoding not in _UTF8_NAMES:
            text = io.TextIOWrapper(source, encoding, newline="")
            unlimited = ImportLimits(max_rows=None, max_size=None)
            return io.BufferedReader(TextAsBytesRaw(text, unlimited), READ_CHUNK)
        if source.peek(len(codecs.BOM_UTF8))[: len(codecs.BOM_UTF8)] == codecs.BOM_UTF8:
            source.read(len(codecs.BOM_UTF8))
        return source

    def _iter_rows(self) -> Iterator[Sequence[Any]]:
        item = self._first
        self._first = None
        number = 1
        while item is not _END:
            yield self._row(item, number)
            number += 1
            item = self._next(self._items, f"row {number}")

    def _row(self, item: Any, number: int) -> Sequence[Any]:
        keys = self._keys
        if keys is None:
            if not isinstance(item, list):
                raise StreamReadError(
                    f"Row {number} of the JSON file is a {type(item).__name__}, but row 1 is "
                    "an array: every row must be an array."
                )
            return item
        if not isinstance(item, dict):
            raise StreamReadError(
                f"Row {number} of the JSON file is a {type(item).__name__}, but row 1 is an "
                "object: every row must be an object."
            )
        if len(item) != len(keys) or any(key not in item for key in keys):
            raise StreamReadError(
                f"Row {number} of the JSON file has the keys {sorted(item)!r}, but the file's "
                f"headers (the keys of row 1) are {keys!r}."
            )
        return [item[key] for key in keys]

    @staticmethod
    def _next(iterator: Iterator, where: str) -> Any:
        try:
            return next(iterator, _END)
        except ijson.JSONError as error:
            raise StreamReadError(f"Cannot read {where} of the JSON file: {error}") from error
        except UnicodeDecodeError as error:
            raise StreamReadError(
                f"Cannot read {where} of the JSON file: it is not UTF-8 ({error.reason})."
            ) from error
