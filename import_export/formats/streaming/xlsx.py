"""XLSX writer: openpyxl's write-only workbook, so rows go to a temporary file, not to memory.

The sheet matches the classic (tablib) export: the same sheet title (``"Tablib Dataset"``
unless a ``title`` is given), a bold header row with the panes frozen below it, cells whose
text holds a line break set to wrap, values openpyxl cannot store written as their ``str()``,
and formula / illegal-character escaping as the classic ``export_data`` applies it.

Differences, forced by writing in one pass:

* Output reaches the target only in ``end()``: an XLSX file is a zip archive whose sheet is
  assembled by openpyxl from its temporary file when the workbook is saved.  Memory stays
  bounded; the target just receives the bytes late.
* Column widths.  tablib sizes each column to its longest value, which needs every row before
  the first is written.  Here the widths are measured on the header and the first
  ``width_sample_rows`` rows (1,000 by default), which are held back until then; exports no
  longer than that get exactly the classic widths.  ``column_width`` may also be an int (every
  column that wide) or ``None`` (openpyxl's default width), as with tablib.
* A cell value openpyxl rejects (a timezone-aware datetime, text with control characters while
  escaping is off) raises :class:`StreamWriteError` naming the row and column.  The value itself
  is left out of the message because it may be echoed into a web page.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import warnings
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from tablib.formats._xlsx import safe_xlsx_sheet_title

from .base import ESCAPE_ILLEGAL_CHARS_SETTING, StreamWriteError, StreamWriter, setting_is_on

#: Upstream's message for text XLSX cannot hold (it names no value, so none is reflected).
ILLEGAL_CHARACTERS_MESSAGE = _("export failed due to IllegalCharacterError")
DEFAULT_SHEET_TITLE = "Tablib Dataset"
DEFAULT_WIDTH_SAMPLE_ROWS = 1000
REPLACEMENT_CHARACTER = "\N{REPLACEMENT CHARACTER}"
#: openpyxl cuts cell text to this length; measure widths on what it keeps.
MAX_CELL_TEXT = 32767

#: Types openpyxl stores as they are and whose ``str()`` never holds a line break.
_PLAIN_TYPES = frozenset({int, float, bool, decimal.Decimal, datetime.date, datetime.timedelta})
_TIMEZONE_TYPES = frozenset({datetime.datetime, datetime.time})


class XLSXStreamWriter(StreamWriter):
    """One worksheet written row by row with ``Workbook(write_only=True)``."""

    binary_only = True

    def __init__(
        self,
        stream,
        headers: Sequence[str],
        *,
        escape_illegal_chars: bool | None = None,
        title: str | None = None,
        freeze_panes: bool = True,
        column_width: int | str | None = "adaptive",
        width_sample_rows: int = DEFAULT_WIDTH_SAMPLE_ROWS,
        **options: Any,
    ):
        super().__init__(stream, headers, **options)
        if not (column_width is None or column_width == "adaptive" or _is_int(column_width)):
            raise ValueError(
                f"column_width must be 'adaptive', an integer or None, not {column_width!r}"
            )
        self.escape_illegal_chars = (
            setting_is_on(ESCAPE_ILLEGAL_CHARS_SETTING)
            if escape_illegal_chars is None
            else escape_illegal_chars
        )
        self.title = title
        self.freeze_panes = freeze_panes
        self.column_width = column_width
        self.width_sample_rows = max(0, width_sample_rows)

    def _open(self) -> None:
        self._workbook = Workbook(write_only=True)
        sheet_title = safe_xlsx_sheet_title(self.title) if self.title else DEFAULT_SHEET_TITLE
        self._sheet = self._workbook.create_sheet(title=sheet_title)
        self._wrap = Alignment(wrap_text=True)
        self._widths: list[int] = []
        # Rows wait here until the column widths are known (only when they are measured).
        self._held_rows: list[list[Any]] | None = [] if self.column_width == "adaptive" else None
        self._widths_applied = False
        self._header_rows = 1 if self.headers else 0
        if self.headers:
            if self.freeze_panes:
                self._sheet.freeze_panes = "A2"
            self._add_row(self._header_cells())

    def _write_row(self, row: Sequence[Any]) -> None:
        cells = [self._data_cell(value, index) for index, value in enumerate(row)]
        self._add_row(cells)

    def _close(self) -> None:
        self._release_held_rows()
        # openpyxl stamps the workbook with datetime.utcnow(), deprecated on recent Pythons.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            self._workbook.save(self.stream)

    def _abort(self) -> None:
        """Remove openpyxl's temporary sheet file (about 2 MB a sheet).

        openpyxl only deletes it when the workbook is saved, or at interpreter exit: a failed
        export would otherwise leave one behind for as long as the server process lives.
        """
        self._held_rows = None
        sheet = getattr(self, "_sheet", None)
        writer = getattr(sheet, "_writer", None)
        if writer is None:  # no row reached the sheet yet: no file was created
            return
        # Close the sheet's row generator before the file it writes to, or the garbage
        # collector later makes it write closing tags into a closed file.
        for generator in (getattr(sheet, "_rows", None), writer):
            with contextlib.suppress(Exception):
                if generator is not None:
                    generator.close()
        with contextlib.suppress(OSError, ValueError):
            writer.cleanup()

    # -- rows ------------------------------------------------------------------------------

    def _add_row(self, cells: list[Any]) -> None:
        held = self._held_rows
        if held is None:
            if not self._widths_applied:
                self._apply_column_widths(len(cells))
            self._sheet.append(cells)
            return
        self._measure(cells)
        held.append(cells)
        if len(held) - self._header_rows >= self.width_sample_rows:
            self._release_held_rows()

    def _release_held_rows(self) -> None:
        """Fix the column widths, then write the rows held back while measuring them."""
        held = self._held_rows
        if held is None:
            return
        self._held_rows = None
        self._apply_column_widths(len(self._widths))
        for cells in held:
            self._sheet.append(cells)

    def _measure(self, cells: list[Any]) -> None:
        """Widen columns to the text length of the values, as tablib's adaptive widths do."""
        widths = self._widths
        for index, cell in enumerate(cells):
            value = cell.value if isinstance(cell, Cell) else cell
            width = len(str(value))
            if index >= len(widths):
                widths.append(width)
            elif width > widths[index]:
                widths[index] = width

    def _apply_column_widths(self, column_count: int) -> None:
        """Set the widths; must run before the first row reaches the write-only sheet."""
        self._widths_applied = True
        if self.column_width is None:
            return
        if self.column_width == "adaptive":
            widths = self._widths
        else:
            widths = [self.column_width] * column_count
        dimensions = self._sheet.column_dimensions
        for number, width in enumerate(widths, start=1):
            dimensions[get_column_letter(number)].width = width

    # -- cells -----------------------------------------------------------------------------

    def _header_cells(self) -> list[Any]:
        bold = Font(bold=True)
        cells = []
        for index, header in enumerate(self.headers):
            cell = WriteOnlyCell(self._sheet, value=self._storable(header, 0, index))
            cell.font = bold
            cells.append(cell)
        return cells

    def _data_cell(self, value: Any, index: int) -> Any:
        """The value to append: as is when possible, a styled cell when its text wraps."""
        if value is None:
            return None
        value_type = type(value)
        if value_type in _PLAIN_TYPES:
            return value
        if value_type in _TIMEZONE_TYPES and value.tzinfo is None:
            return value
        value = self._storable(value, self.rows_written + 1, index)
        if isinstance(value, str) and "\n" in value:
            cell = WriteOnlyCell(self._sheet, value=value)
            cell.alignment = self._wrap
            return cell
        return value

    def _storable(self, value: Any, row_number: int, index: int) -> Any:
        """``value`` in a form openpyxl accepts, mirroring tablib's ``str()`` fallback."""
        if value is None:
            return None
        if type(value) in _TIMEZONE_TYPES and value.tzinfo is not None:
            raise StreamWriteError(
                gettext(
                    "%(where)s: Excel cannot store timezone-aware dates and times; convert them "
                    "to naive values first"
                )
                % {"where": self._where(row_number, index)}
            )
        if not isinstance(value, str):
            try:
                value = WriteOnlyCell(self._sheet, value=value).value
            except ValueError:
                value = str(value)
            except IllegalCharacterError:
                raise self._illegal_characters_error(row_number, index) from None
            if not isinstance(value, str):
                return value
        value = value[:MAX_CELL_TEXT]
        if ILLEGAL_CHARACTERS_RE.search(value) is None:
            return value
        if self.escape_illegal_chars:
            return ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT_CHARACTER, value)
        raise self._illegal_characters_error(row_number, index)

    def _illegal_characters_error(self, row_number: int, index: int) -> StreamWriteError:
        error = StreamWriteError(
            gettext(
                "%(where)s: the text holds control characters that XLSX files cannot contain; "
                "set %(setting)s = True to replace them"
            )
            % {"where": self._where(row_number, index), "setting": ESCAPE_ILLEGAL_CHARS_SETTING}
        )
        # What the admin shows instead, as upstream's XLSX format words it.
        error.upstream_message = ILLEGAL_CHARACTERS_MESSAGE
        return error

    def _where(self, row_number: int, index: int) -> str:
        column = self.headers[index] if index < len(self.headers) else index + 1
        if row_number == 0:
            return gettext("XLSX export, header row, column %(column)s") % {"column": repr(column)}
        return gettext("XLSX export, row %(row)s, column %(column)s") % {
            "row": row_number,
            "column": repr(column),
        }


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
