"""Glue between the resource layer and the format writers for streamed exports.

The resource knows rows, the writers (:mod:`import_export.formats.streaming`) know formats; this
module resolves what a caller passes as a format and drives a writer over an iterator of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

ProgressCallback = Callable[[int], Any]


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
    finally:
        # Close the row source now (and with it the database cursor), not whenever the
        # generator is collected: after an error that may be when the connection is gone.
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    if progress is not None:
        progress(count)
    return count
