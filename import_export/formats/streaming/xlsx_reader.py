"""XLSX reader: openpyxl's read-only mode, one row of cell values at a time.

The classic import opens the workbook the same way (``read_only=True, data_only=True``) and
reads the active sheet: the first row is the header, each further row is its cells' values
(dates and times as ``datetime`` objects, formulas as their cached result), and rows whose
cells are all empty are left out when ``IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES`` is set.  This
reader gives the same rows without building a Dataset.

Hostile workbooks
    An XLSX file is a zip archive, and a sheet of identical rows compresses a thousandfold; a
    row element may also claim a far row number (``<row r="5000000">``), and openpyxl then
    yields every missing row as empty; and opening a workbook whose sheets declare no size
    makes openpyxl read every sheet to its end.  Before openpyxl sees the file, the declared
    sizes of the archive's members are checked against the size limit, and each sheet's XML is
    scanned (decompressed, not parsed: a regular expression over the bytes, a fraction of a
    second per million rows) for the number of rows openpyxl would yield, so such a file is
    refused at once instead of after a long wait.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from typing import IO, Any

from django.conf import settings

from .reading import READ_CHUNK, StreamReader, StreamReadError

IGNORE_BLANK_LINES_SETTING = "IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES"
#: Bytes of a non-seekable upload kept in memory before spilling to a temporary file.
SPOOL_IN_MEMORY = 1024 * 1024

_ROW_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_DIMENSION = re.compile(
    rb"""<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref\s*=\s*["'][A-Z]*\d*:?[A-Z]*(\d+)["']"""
)
_ROW_NUMBER = re.compile(rb"""\sr\s*=\s*["'](\d+)["']""")


class XLSXStreamReader(StreamReader):
    """The active sheet of an Excel 2007+ workbook."""

    empty_cell = None

    def __init__(self, file: IO, **kwargs: Any):
        super().__init__(file, **kwargs)
        self._workbook = None
        self._spool = None

    def _read_headers(self) -> Sequence[Any] | None:
        import openpyxl

        if self.text_stream:
            raise StreamReadError("An XLSX file is binary: open it in binary mode ('rb').")
        source = self._seekable_source()
        self._check_workbook(source)
        try:
            self._workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
            raise StreamReadError(f"Cannot open the file as an XLSX workbook: {error}") from error
        sheet = self._workbook.active
        self._rows = sheet.iter_rows(values_only=True)
        first = next(self._rows, None)
        return list(first) if first is not None else None

    def _iter_rows(self) -> Iterator[Sequence[Any]]:
        skip_blank = getattr(settings, IGNORE_BLANK_LINES_SETTING, False)
        for row in self._rows:
            if skip_blank and all(value is None for value in row):
                continue
            yield row

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    # -- helpers -----------------------------------------------------------------------------

    def _seekable_source(self) -> IO:
        """The file itself when it can seek (a zip is read from its end), else a spooled copy.

        The copy is written in chunks, never read whole, and counts towards the size limit.
        """
        seekable = getattr(self.file, "seekable", None)
        if seekable is not None and seekable():
            return self.file
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        size = 0
        while chunk := self.file.read(READ_CHUNK):
            size += len(chunk)
            self.limits.check_size(size)
            self._spool.write(chunk)
        self._spool.seek(0)
        return self._spool

    def _check_workbook(self, source: IO) -> None:
        """Refuse, before openpyxl reads it, a workbook past the limits.

        The decompressed size is the sum of the sizes the archive declares for its members
        (``zipfile`` stops reading a member at its declared size, so they cannot lie).  The
        rows are counted on every worksheet: opening a workbook, openpyxl reads each sheet
        that declares no dimension to the end to find its size, so a huge sheet costs the time
        even when it is not the one imported.
        """
        limits = self.limits
        if limits.max_rows is None and limits.max_size is None:
            return
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as error:
            raise StreamReadError(f"Cannot open the file as an XLSX workbook: {error}") from error
        with archive:
            members = archive.infolist()
            limits.check_size(sum(member.file_size for member in members))
            if limits.max_rows is None:
                return
            for member in members:
                if member.filename.startswith("xl/worksheets/") and member.filename.endswith(
                    ".xml"
                ):
                    with archive.open(member) as sheet:
                        self._check_sheet_rows(sheet)
        source.seek(0)

    def _check_sheet_rows(self, sheet: IO) -> None:
        """Count the rows openpyxl will yield for one sheet's XML, stopping past the limit.

        A declared dimension (``<dimension ref="A1:C50"/>``, before the rows) is what openpyxl
        goes by: it stops at, and pads up to, the last row declared.  Otherwise a row element
        without ``r`` is the row after the previous one, as openpyxl counts.
        """
        check_rows = self.limits.check_rows
        last_row = 0
        carry = b""
        first = True
        while chunk := sheet.read(READ_CHUNK * 16):
            data = carry + chunk
            if first:
                first = False
                declared = _DIMENSION.search(data.split(b"<sheetData", 1)[0])
                if declared is not None:
                    check_rows(max(int(declared.group(1)) - 1, 0))
                    return
            cut = data.rfind(b"<")
            if cut == -1:
                cut = len(data)
            carry, data = data[cut:], data[:cut]
            last_row = self._last_row_number(data, last_row)
            check_rows(max(last_row - 1, 0))  # the first row is the header
        check_rows(max(self._last_row_number(carry, last_row) - 1, 0))

    @staticmethod
    def _last_row_number(data: bytes, last_row: int) -> int:
        """The row number after the row elements of ``data``, following ``last_row``.

        Rows come in ascending order, so the last element's ``r`` is the answer when it has
        one; otherwise each element counts as the next row.
        """
        starts = [match.start() for match in _ROW_START.finditer(data)]
        if not starts:
            return last_row
        start = starts[-1]
        end = data.find(b">", start)
        number = _ROW_NUMBER.search(data, start, end if end != -1 else len(data))
        return int(number.group(1)) if number else last_row + len(starts)
