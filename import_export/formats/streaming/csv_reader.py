"""CSV and TSV readers: the ``csv`` module over the file's lines, one row at a time.

The classic import hands the decoded text to tablib, which runs ``csv.reader`` with the
format's delimiter unless the caller gives another: the first row is the header, empty lines
are skipped, and other options (``quotechar``, ``doublequote``...) go to ``csv.reader``.  These
readers do the same on the file's lines as they arrive.

Encoding
    A binary file is decoded with the format's ``encoding``, or ``utf-8-sig`` when it has none
    (what the admin and ``manage.py import`` use): a byte-order mark is removed by the codec.
    Lines are split as tablib splits them (``newline=""``: ``\\r``, ``\\n`` and ``\\r\\n``
    kept at the end of the line, so quoted line breaks survive unchanged).  A text file is read
    as it is, and a byte-order mark left at its start by a reader that decoded it as plain
    UTF-8 is dropped, where the classic path would glue it to the first header name.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from typing import Any

from .reading import StreamReader, StreamReadError, decoded_chunks, text_chunks, text_lines

DEFAULT_BINARY_ENCODING = "utf-8-sig"
BYTE_ORDER_MARK = "\ufeff"


class CSVStreamReader(StreamReader):
    """Comma-separated values; options (``delimiter``, ``quotechar``...) go to csv.reader."""

    default_delimiter = ","
    empty_cell = ""

    def _read_headers(self) -> Sequence[Any] | None:
        options = dict(self.options)
        options.setdefault("delimiter", self.default_delimiter)
        self._csv = csv.reader(self._lines(), **options)
        try:
            first = next(self._csv, None)
        except csv.Error as error:
            raise self._parse_error(error, "the header row") from error
        return first

    def _iter_rows(self) -> Iterator[Sequence[Any]]:
        reader = self._csv
        while True:
            try:
                row = next(reader, None)
            except csv.Error as error:
                raise self._parse_error(error, f"data row {self.rows_read + 1}") from error
            if row is None:
                return
            if row:  # tablib skips empty lines, and does not count them as rows
                yield row

    def _lines(self) -> Iterator[str]:
        if self.text_stream:
            chunks = text_chunks(self.file, self.limits)
        else:
            encoding = self.encoding or DEFAULT_BINARY_ENCODING
            chunks = decoded_chunks(self.file, encoding, self.limits)
        lines = text_lines(chunks)
        first = next(lines, None)
        if first is None:
            return
        yield first[1:] if first.startswith(BYTE_ORDER_MARK) else first
        yield from lines

    def _parse_error(self, error: csv.Error, where: str) -> StreamReadError:
        return StreamReadError(f"Cannot read {where} (line {self._csv.line_num}) as CSV: {error}")


class TSVStreamReader(CSVStreamReader):
    """Tab-separated values: CSV with a tab as the default delimiter."""

    default_delimiter = "\t"
