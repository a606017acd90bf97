"""Glue between the resource layer and the format writers for streamed exports.

The resource knows rows, the writers (:mod:`import_export.formats.streaming`) know formats; this
module resolves what a caller passes as a format and drives a writer over an iterator of rows.
"""

from __future__ import annotations

import codecs
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any

ProgressCallback = Callable[[int], Any]

#: Bytes gathered before :func:`iter_export_chunks` hands a chunk on.
DEFAULT_CHUNK_BYTES = 64 * 1024
#: Bytes of a spooled export kept in memory before its spool file moves to disk.
SPOOL_MAX_MEMORY = 4 * 1024 * 1024

logger = logging.getLogger(__name__)
_END = object()


def resolve_format(file_format: Any):
    """A Format instance from a name (``"csv"``, ``"XLSX"``), a Format class or an instance.

    Names match a format class name or its file extension, case-insensitively.
    """
    from .formats import base_formats

    if isinstance(file_format, base_formats.Format):
        return file_format
    if isinstance(file_format, type) and issubclass(file_format, base_formats.Format):
        return file_format()
    if isinstance(file_format, str):
        return _format_by_name(file_format.strip().lower())
    raise TypeError(
        f"format must be a format name, a Format class or a Format instance, not {file_format!r}"
    )


def _format_by_name(name: str):
    """The known format whose class name or file extension is ``name``."""
    from .formats import base_formats

    extensions = []
    for format_class in base_formats.DEFAULT_FORMATS:
        instance = format_class()
        extension = instance.get_extension() if instance.is_available() else ""
        if name in (format_class.__name__.lower(), extension.lower()):
            return instance
        extensions.append(extension or format_class.__name__.lower())
    raise ValueError(f"Unknown export format {name!r}; known: {', '.join(sorted(extensions))}")


def needs_classic_export(resource_class: type) -> bool:
    """Whether exporting with this resource must go through the classic ``export()``.

    Code written for upstream may override ``export()``, or ``after_export()`` and expect its
    ``dataset`` argument to be a Dataset.  The admin and the ``export`` command therefore only
    stream a resource that overrides neither, or whose ``Meta.stream_after_export`` says that
    its ``after_export`` accepts ``dataset=None``.
    """
    from .resources import Resource

    if _overrides(resource_class, Resource, "export"):
        return True
    return _overrides(resource_class, Resource, "after_export") and not getattr(
        resource_class._meta, "stream_after_export", False
    )


def _overrides(cls: type, base: type, name: str) -> bool:
    return getattr(cls, name, None) is not vars(base)[name]


def in_request_transaction(queryset: Any) -> bool:
    """Whether ``queryset`` is read inside the transaction of an ``ATOMIC_REQUESTS`` view.

    That transaction ends when the view returns, before a streamed response is consumed; on
    PostgreSQL the server-side cursor of ``QuerySet.iterator()`` ends with it.  Callers then
    write the export to a (spooled) file first and stream the file.
    """
    from django.db import connections
    from django.db.models import QuerySet

    connection = connections[queryset.db if isinstance(queryset, QuerySet) else "default"]
    return bool(connection.settings_dict.get("ATOMIC_REQUESTS") and connection.in_atomic_block)


def write_rows(
    writer,
    rows: Iterable[list[Any]],
    *,
    progress: ProgressCallback | None = None,
    every: int = 1000,
) -> int:
    """Write ``rows`` through a format writer from start to end; return the rows written.

    ``end()`` is only called after the last row, so an exception leaves an unterminated
    document rather than one that looks complete.
    """
    count = 0
    ended = False
    try:
        writer.start()
        write_row = writer.write_row
        every = max(1, every)
        for row in rows:
            write_row(row)
            count += 1
            if progress is not None and count % every == 0:
                progress(count)
        writer.end()
        ended = True
    finally:
        if not ended:
            abort_writer(writer)
        # Close the row source now (and with it the database cursor), not whenever the
        # generator is collected: after an error that may be when the connection is gone.
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    if progress is not None:
        progress(count)
    return count


def abort_writer(writer) -> None:
    """Let a writer that will not be ended free what it holds (its temporary files).

    Writers of custom formats may predate :meth:`StreamWriter.abort`; they are left alone.
    """
    abort = getattr(writer, "abort", None)
    if abort is not None:
        abort()


class ChunkSink:
    """The file a format writer writes into while the export is consumed as chunks of bytes.

    It only gathers what was written since the last :meth:`take`, so it never holds more than
    the rows written since the last chunk.  It presents itself as a text file (``mode = "w"``)
    so text writers hand it ``str``, which it encodes incrementally (a byte-order mark of
    ``utf-16`` or ``utf-8-sig`` appears once); bytes are kept as they are.
    """

    mode = "w"

    def __init__(self, encoding: str = "utf-8"):
        self.encoding = encoding
        self._encode = codecs.getincrementalencoder(encoding)().encode
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        if isinstance(data, str):
            data = self._encode(data)
        if data:
            self._parts.append(bytes(data))
            self.size += len(data)
        return len(data)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        """Nothing to flush: the consumer drains the sink with :meth:`take`."""

    def take(self) -> bytes:
        """Everything written since the last call, and forget it."""
        data = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return data


def iter_export_chunks(
    resource,
    file_format: Any,
    queryset=None,
    *,
    encoding: str = "utf-8",
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    export_kwargs: dict[str, Any] | None = None,
    spool_after_first_chunk: bool | None = None,
) -> Iterator[bytes]:
    """The export of a text format as an iterator of byte chunks, for ``StreamingHttpResponse``.

    The export is primed before this returns: ``before_export``, the queryset, the headers and
    the first row all run now, so a view can still answer an error with an error page.  The
    remaining rows are rendered as the chunks are consumed, about ``chunk_bytes`` at a time.
    An error after the first chunk is logged (naming the resource and the data row) and
    re-raised, so the server aborts the download rather than ending it as if it were complete
    (the security page of the docs says what each kind of server lets the client see).
    ``export_kwargs`` are the keyword arguments of the export (``export_fields``, hook
    metadata...), as for :meth:`~import_export.resources.Resource.export_to_stream`; they are a
    dict so that none of them can collide with this function's own arguments.

    ``spool_after_first_chunk``: once the first chunk has been taken, render all the remaining
    rows at database speed into a spooled temporary file (memory up to
    :data:`SPOOL_MAX_MEMORY`, disk beyond) and send the rest from there, so that the database
    cursor is closed after the time the export takes to render, however slowly the client
    downloads.  ``None`` (the default) does so when the rows come from SQLite, where an open
    cursor holds a read lock that makes every writer wait and then fail with "database is
    locked".
    """
    file_format = resolve_format(file_format)
    if spool_after_first_chunk is None:
        spool_after_first_chunk = reads_from_sqlite(resource, queryset)
    kwargs = dict(export_kwargs or {})
    rows = resource.export_iter(queryset, **kwargs)
    writer = None
    try:
        # Everything up to the first row written; if any of it fails, the caller gets the
        # exception and never an iterator to close, so the rows (and cursor) are closed here.
        first = next(rows, _END)
        headers = resource.get_export_headers(selected_fields=kwargs.get("export_fields"))
        sink = ChunkSink(encoding)
        writer = file_format.get_stream_writer(sink, headers)
        writer.start()
        if first is not _END:
            writer.write_row(first)
    except BaseException:
        rows.close()
        if writer is not None:
            abort_writer(writer)
        raise
    return ExportChunks(
        sink.take(),
        rows,
        writer,
        sink,
        chunk_bytes,
        _describe(resource),
        spool_rest=spool_after_first_chunk,
    )


def reads_from_sqlite(resource, queryset) -> bool:
    """Whether the export's rows are read from an SQLite database.

    ``queryset=None`` means the resource's own queryset, on the database the router picks for
    its model; an iterable that is not a QuerySet reads no database.
    """
    from django.db import connections, router
    from django.db.models import QuerySet

    if isinstance(queryset, QuerySet):
        alias = queryset.db
    elif queryset is None and getattr(resource._meta, "model", None) is not None:
        alias = router.db_for_read(resource._meta.model)
    else:
        return False
    return connections[alias].vendor == "sqlite"


def _describe(resource) -> str:
    """The resource as the log names it: its class's dotted path."""
    cls = type(resource)
    return f"{cls.__module__}.{cls.__qualname__}"


class ExportChunks:
    """The chunks of a primed export: the first one, then the rest as they are written.

    It has a ``close()`` (which ``StreamingHttpResponse.close()`` calls when the server is done
    with the response, even when the client went away early) that closes the row iterator and
    with it the database cursor, at once rather than whenever the garbage collector runs, by
    which time the connection may be inside another transaction.
    """

    def __init__(
        self,
        first: bytes,
        rows: Iterator,
        writer,
        sink: ChunkSink,
        chunk_bytes: int,
        resource_name: str = "",
        *,
        spool_rest: bool = False,
    ):
        self._rows = rows
        self._writer = writer
        self._sink = sink
        self._chunk_bytes = chunk_bytes
        self._resource_name = resource_name
        #: Bytes handed to the server so far (what the client may already have received).
        self.bytes_sent = 0
        self._rest = self._spooled_chunks() if spool_rest else self._remaining_chunks()
        self._chunks = chain([first], self._rest)

    def __iter__(self) -> ExportChunks:
        return self

    def __next__(self) -> bytes:
        chunk = next(self._chunks)
        self.bytes_sent += len(chunk)
        return chunk

    def close(self) -> None:
        self._rest.close()  # a spool file, if any, is closed (and removed) now
        self._rows.close()
        abort_writer(self._writer)  # a no-op once the document was ended

    def _remaining_chunks(self) -> Iterator[bytes]:
        """Render the rest; on an error, log it and re-raise so the server aborts the response.

        Re-raising is what makes a WSGI server drop the connection without the final chunk
        (HTTP/1.1 chunked encoding), so the client sees a failed transfer instead of a short
        file that looks complete.
        """
        writer, sink, chunk_bytes = self._writer, self._sink, self._chunk_bytes
        try:
            for row in self._rows:
                writer.write_row(row)
                if sink.size >= chunk_bytes:
                    yield sink.take()
            writer.end()
        except Exception:
            self._log_failure(writer.rows_written + 1)
            raise
        finally:
            self._rows.close()
            abort_writer(writer)
        tail = sink.take()
        if tail:
            yield tail

    def _spooled_chunks(self) -> Iterator[bytes]:
        """The rest of the export rendered into a spool file in one go, then read out of it.

        The rows (and the database cursor) are finished before the first of these chunks is
        handed on, so a slow client only keeps a file open, not the database.
        """
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)
        try:
            for piece in self._remaining_chunks():
                spool.write(piece)
            spool.seek(0)
            while chunk := spool.read(self._chunk_bytes):
                yield chunk
        finally:
            spool.close()

    def _log_failure(self, row_number: int) -> None:
        logger.exception(
            "Streamed export of %s failed at data row %d after %d bytes had been sent; "
            "the response is aborted so that the download fails instead of looking complete",
            self._resource_name or "a resource",
            row_number,
            self.bytes_sent,
            extra={
                "resource": self._resource_name,
                "row": row_number,
                "bytes_sent": self.bytes_sent,
            },
        )
