"""The reader protocol shared by every streamed import format: ``open()``, iterate, ``close()``.

A reader is the twin of a :class:`~.base.StreamWriter`: it takes whatever file-like object the
caller has (text or binary, see :func:`~.base.is_text_stream`), reads the header row in
``open()`` and then yields one data row at a time, keeping nothing about the rows already
yielded.  :mod:`import_export.stream_import` drives readers; nothing else needs to.

Rows are yielded *as they are in the file*: a row with fewer or more cells than the header is
not padded or cut here, so the opt-in ``Meta.reject_ragged_rows`` check can see it.  What the
classic (tablib) reading would have done with it is decided by the caller
(:attr:`StreamReader.empty_cell` says what the format pads with).

Limits
    A hostile file can be small and still expand to millions of rows (a zip archive such as
    XLSX compresses repetitive XML a thousandfold).  Every reader counts the rows it yields and
    the bytes (characters, for text streams) it reads after decompression, and stops with
    :class:`ImportLimitExceeded` as soon as either passes its limit.  The limits come from the
    settings ``IMPORT_EXPORT_IMPORT_MAX_ROWS`` (default 10,000,000 data rows) and
    ``IMPORT_EXPORT_IMPORT_MAX_DECOMPRESSED_SIZE`` (default 4 GiB), or from an
    :class:`ImportLimits` passed to the reader; ``None`` turns a limit off.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings

from ...exceptions import StreamingError
from .base import is_text_stream

MAX_ROWS_SETTING = "IMPORT_EXPORT_IMPORT_MAX_ROWS"
MAX_SIZE_SETTING = "IMPORT_EXPORT_IMPORT_MAX_DECOMPRESSED_SIZE"
DEFAULT_MAX_ROWS = 10_000_000
DEFAULT_MAX_SIZE = 4 * 1024**3

#: Bytes (or characters) asked of the source file per read.
READ_CHUNK = 64 * 1024
#: The longest physical line a text reader holds while waiting for its end: a file of one
#: endless line would otherwise be held whole (the csv module's default field limit is 131,072
#: characters, so no importable line comes near it).
MAX_LINE_LENGTH = 16 * 1024 * 1024


class StreamReadError(StreamingError, ValueError):
    """The file cannot be read as the format says; the message names the row or line.

    It is also a ``ValueError``, as most parse errors of the classic reading are.
    """


class ImportLimitExceeded(StreamReadError):
    """The file has more rows, or expands to more data, than the import limits allow."""


@dataclass(frozen=True)
class ImportLimits:
    """The most rows and decompressed bytes a streamed import reads; ``None``: no limit."""

    max_rows: int | None = DEFAULT_MAX_ROWS
    max_size: int | None = DEFAULT_MAX_SIZE

    @classmethod
    def from_settings(cls) -> ImportLimits:
        return cls(
            max_rows=getattr(settings, MAX_ROWS_SETTING, DEFAULT_MAX_ROWS),
            max_size=getattr(settings, MAX_SIZE_SETTING, DEFAULT_MAX_SIZE),
        )

    def check_rows(self, count: int) -> None:
        if self.max_rows is not None and count > self.max_rows:
            raise ImportLimitExceeded(
                f"The file has more than {self.max_rows:,} data rows, the most an import "
                f"reads ({MAX_ROWS_SETTING}); split it into smaller files."
            )

    def check_size(self, size: int) -> None:
        if self.max_size is not None and size > self.max_size:
            raise ImportLimitExceeded(
                f"The file holds more than {self.max_size:,} bytes of data once decompressed, "
                f"the most an import reads ({MAX_SIZE_SETTING}); split it into smaller files."
            )


class SizeCountingRaw(io.RawIOBase):
    """A binary source seen through a counter: reading past ``limits.max_size`` raises.

    Wrapped in ``io.BufferedReader`` (and ``io.TextIOWrapper`` for text formats) it gives the
    parsers an ordinary file while every byte they pull is counted.
    """

    def __init__(self, source: IO, limits: ImportLimits):
        super().__init__()
        self._read = source.read
        self._limits = limits
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._read(len(buffer))
        if not data:
            return 0
        if isinstance(data, str):
            raise StreamReadError("the file gave text where bytes were expected")
        count = len(data)
        buffer[:count] = data
        self.size += count
        self._limits.check_size(self.size)
        return count


class TextAsBytesRaw(io.RawIOBase):
    """A text source encoded to UTF-8 on the fly, for parsers that want bytes (ijson)."""

    def __init__(self, source: IO, limits: ImportLimits):
        super().__init__()
        self._read = source.read
        self._limits = limits
        self._pending = b""
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            text = self._read(READ_CHUNK)
            if not text:
                return 0
            self.size += len(text)
            self._limits.check_size(self.size)
            self._pending = text.encode("utf-8", "surrogatepass")
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def binary_source(file: IO, limits: ImportLimits) -> io.BufferedReader:
    """``file`` (binary) as a buffered binary file whose reads count towards the size limit."""
    return io.BufferedReader(SizeCountingRaw(file, limits), buffer_size=READ_CHUNK)


def text_chunks(file: IO, limits: ImportLimits) -> Iterator[str]:
    """The text of a text ``file``, ``READ_CHUNK`` characters at a time, counted."""
    size = 0
    read = file.read
    while chunk := read(READ_CHUNK):
        size += len(chunk)
        limits.check_size(size)
        yield chunk


def decoded_chunks(file: IO, encoding: str, limits: ImportLimits) -> Iterator[str]:
    """The text of a binary ``file`` decoded with ``encoding`` as it is read, counted.

    A byte that is not valid in the encoding raises :class:`StreamReadError` giving its value,
    its offset in the file and its line, as the command line reports it for the classic path.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0  # bytes of the file before ``data``
    lines_before = 0
    read = file.read
    while True:
        data = read(READ_CHUNK)
        final = not data
        pending = decoder.getstate()[0]
        try:
            text = decoder.decode(data, final)
        except UnicodeDecodeError as error:
            buffered = pending + data
            position = offset - len(pending) + error.start
            line = lines_before + buffered[: error.start].count(b"\n") + 1
            raise StreamReadError(
                f"Cannot decode the file as {encoding}: byte {buffered[error.start]:#04x} at "
                f"offset {position} (line {line}) is not valid there; give the file's encoding."
            ) from error
        offset += len(data)
        lines_before += data.count(b"\n")
        limits.check_size(offset)
        if text:
            yield text
        if final:
            return


def text_lines(chunks: Iterator[str]) -> Iterator[str]:
    """The lines of the text ``chunks``, split as ``io.StringIO(text, newline="")`` splits.

    That is how tablib reads the text the classic path hands it (``\\r``, ``\\n`` and
    ``\\r\\n`` end a line and stay at its end), so the csv module sees the same characters in
    the same lines either way.  A line that may continue in the next chunk (no terminator
    yet, or a ``\\r`` that may be followed by ``\\n``) is held back until it is complete.
    """
    pending = ""
    for chunk in chunks:
        lines = io.StringIO(pending + chunk, newline="").readlines()
        pending = "" if lines[-1].endswith("\n") else lines.pop()
        if len(pending) > MAX_LINE_LENGTH:
            raise StreamReadError(
                f"The file has a line longer than {MAX_LINE_LENGTH:,} characters; it is not "
                "a file of rows (or its line breaks are not \\n, \\r\\n or \\r)."
            )
        yield from lines
    if pending:
        yield pending


class StreamReader:
    """Base of the format readers.

    Subclasses implement ``_read_headers()`` (called once by :meth:`open`; returns the header
    row, or ``None`` for a file without one) and ``_iter_rows()`` (the data rows, as sequences
    of cells).  The base class counts rows against the limits and gives ``rows_read``.
    """

    #: False for readers that load the whole file first (the buffered fallback).
    incremental = True
    #: What the classic reading puts in a cell a short row lacks.
    empty_cell: Any = None

    def __init__(
        self,
        file: IO,
        *,
        encoding: str | None = None,
        limits: ImportLimits | None = None,
        text_stream: bool | None = None,
        **options: Any,
    ):
        self.file = file
        self.encoding = encoding
        self.limits = limits if limits is not None else ImportLimits.from_settings()
        self.text_stream = is_text_stream(file) if text_stream is None else text_stream
        self.options = options
        self.headers: list | None = None
        self.rows_read = 0
        self._opened = False

    def open(self) -> list | None:
        """Read up to the end of the header row; return the headers (``None``: no header)."""
        if self._opened:
            raise StreamingError(f"{type(self).__name__}.open() was already called")
        self._opened = True
        headers = self._read_headers()
        self.headers = list(headers) if headers else None
        return self.headers

    def __iter__(self) -> Iterator[Sequence[Any]]:
        if not self._opened:
            self.open()
        check_rows = self.limits.check_rows
        for row in self._iter_rows():
            self.rows_read += 1
            check_rows(self.rows_read)
            yield row

    def close(self) -> None:
        """Release what the reader opened (temporary files, workbooks); not the caller's file."""

    # -- hooks for subclasses --------------------------------------------------------------

    def _read_headers(self) -> Sequence[Any] | None:
        raise NotImplementedError(f"{type(self).__name__} must implement _read_headers()")

    def _iter_rows(self) -> Iterator[Sequence[Any]]:
        raise NotImplementedError(f"{type(self).__name__} must implement _iter_rows()")


class BufferedStreamReader(StreamReader):
    """The fallback for formats without an incremental reader (YAML, XLS, ODS, HTML, custom).

    The whole file is read (up to the size limit, checked before parsing) and parsed by the
    format's own ``create_dataset``, exactly as the classic import does; the rows are then
    handed out one by one.  Memory grows with the file, as it does for the classic path.
    """

    incremental = False

    def __init__(self, file: IO, *, file_format: Any, **kwargs: Any):
        super().__init__(file, **kwargs)
        self.file_format = file_format
        self._dataset = None

    def _read_headers(self) -> Sequence[Any] | None:
        max_size = self.limits.max_size
        data = self.file.read() if max_size is None else self.file.read(max_size + 1)
        self.limits.check_size(len(data))
        self._dataset = self.file_format.create_dataset(data)
        self.limits.check_rows(len(self._dataset))
        return self._dataset.headers

    def _iter_rows(self) -> Iterator[Sequence[Any]]:
        dataset, self._dataset = self._dataset, None
        yield from dataset
