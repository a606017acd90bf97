"""The fallback for formats whose library cannot write incrementally (XLS, ODS, custom formats).

Rows are collected in a ``tablib.Dataset`` and the format's own ``export_data`` runs in
``end()``, so the output is exactly the classic one, but memory grows with the export: these
formats report ``can_stream() == False`` for callers that want to know.

``max_rows`` lets a format with a hard size limit (XLS: 65,536 rows per sheet, header row
included) refuse the first row too many with :class:`RowLimitExceeded` as soon as it arrives,
instead of failing, or writing a broken file, after everything has been read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

import tablib
from django.utils.translation import gettext

from ...exceptions import StreamingError
from .base import RowLimitExceeded, StreamWriter


class BufferedStreamWriter(StreamWriter):
    """Collects the rows, then writes ``file_format.export_data(dataset)`` in one piece.

    ``escape_formulae`` is handed to ``export_data`` only when given explicitly; otherwise the
    format applies the project setting itself, as in the classic export.  Other options are
    passed to ``export_data`` (and from there to tablib).
    """

    incremental = False
    accepts_extra_options = True

    def __init__(
        self,
        stream: IO,
        headers: Sequence[str],
        *,
        file_format: Any,
        max_rows: int | None = None,
        title: str | None = None,
        escape_formulae: bool | None = None,
        **options: Any,
    ):
        # Rows are stored untouched: escaping, when wanted, is export_data's job.
        super().__init__(stream, headers, escape_formulae=False, **options)
        self.file_format = file_format
        self.max_rows = max_rows
        self.title = title
        self._explicit_escape_formulae = escape_formulae
        if self.text_stream and _claims_binary(file_format):
            raise StreamingError(
                f"{type(file_format).__name__} produces binary data; open the target in binary "
                f"mode ('wb') or pass a bytes buffer instead of {type(stream).__name__}"
            )

    def _open(self) -> None:
        self._dataset = tablib.Dataset(headers=self.headers or None, title=self.title)

    def _write_row(self, row: Sequence[Any]) -> None:
        if self.max_rows is not None and self.rows_written >= self.max_rows:
            if self.headers:
                message = gettext(
                    "%(format)s export cannot hold data row %(row)s: the format fits at most "
                    "%(limit)s data rows below the header row; export to XLSX or CSV instead"
                )
            else:
                message = gettext(
                    "%(format)s export cannot hold data row %(row)s: the format fits at most "
                    "%(limit)s data rows; export to XLSX or CSV instead"
                )
            raise RowLimitExceeded(
                message
                % {
                    "format": type(self.file_format).__name__,
                    "row": f"{self.rows_written + 1:,}",
                    "limit": f"{self.max_rows:,}",
                }
            )
        self._dataset.append(row)

    def _close(self) -> None:
        export_options = dict(self.options)
        if self._explicit_escape_formulae is not None:
            export_options["escape_formulae"] = self._explicit_escape_formulae
        content = self.file_format.export_data(self._dataset, **export_options)
        self._dataset = None
        if isinstance(content, str):
            self._emit(content)
        else:
            self._write_bytes(content)

    def _abort(self) -> None:
        self._dataset = None  # the rows gathered so far are not going anywhere

    def _write_bytes(self, content: bytes) -> None:
        """Write binary output, through the byte buffer under a text file if need be."""
        if not self.text_stream:
            self.stream.write(content)
            return
        byte_stream = getattr(self.stream, "buffer", None)
        if byte_stream is None:
            raise StreamingError(
                f"{type(self.file_format).__name__} produced binary data that cannot be written "
                f"to the text stream {type(self.stream).__name__}; use a binary target"
            )
        self.stream.flush()
        byte_stream.write(content)


def _claims_binary(file_format: Any) -> bool:
    is_binary = getattr(file_format, "is_binary", None)
    return bool(is_binary()) if callable(is_binary) else False
