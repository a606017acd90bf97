"""The file formats that imports read and exports write, on top of tablib.

The classes, their names and their methods are those of django-import-export 4.4 so that
projects (and their custom ``Format`` subclasses) keep working.  Each format also says whether
it can be written incrementally (``can_stream()``) and hands out the writer that does it
(``get_stream_writer()``); see :mod:`import_export.formats.streaming`.

Optional libraries (openpyxl, xlrd, PyYAML, odfpy) are imported inside the methods that need
them, so a project without one of them can still use the other formats.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Sequence
from typing import IO, Any

import tablib
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from tablib.formats import registry

from ..exceptions import ImportExportError
from ..utils import strip_byte_order_mark
from .streaming.base import (
    ESCAPE_FORMULAE_SETTING,
    ESCAPE_ILLEGAL_CHARS_SETTING,
    StreamWriter,
    escape_formulae_in_row,
    setting_is_on,
)
from .streaming.reading import StreamReader

logger = logging.getLogger(__name__)

#: Rows an XLS sheet can hold, header row included (the BIFF8 limit).
XLS_MAX_ROWS = 65536

_STREAMING = "import_export.formats.streaming."


def _read_errors() -> tuple[type[BaseException], ...]:
    """The exception types of :data:`IMPORT_READ_ERRORS`, the optional libraries' included."""
    import csv
    import zipfile
    import zlib

    errors: list[type[BaseException]] = [
        ValueError,  # decoding, JSON, tablib's InvalidDimensions, UnreadableFileError
        csv.Error,
        tablib.UnsupportedFormat,
        zipfile.BadZipFile,
        zlib.error,
    ]
    with contextlib.suppress(ImportError):
        import yaml

        errors.append(yaml.YAMLError)
    with contextlib.suppress(ImportError):
        from openpyxl.utils.exceptions import InvalidFileException

        errors.append(InvalidFileException)
    with contextlib.suppress(ImportError):
        import xlrd

        errors.append(xlrd.XLRDError)
    return tuple(errors)


class Format:
    """A file format: what it can do and how its files are opened.

    The base class can neither import nor export; subclasses say what they support.
    """

    def get_title(self):
        return type(self)

    def create_dataset(self, in_stream):
        """Read ``in_stream`` (str or bytes, see ``get_read_mode``) into a ``tablib.Dataset``."""
        raise NotImplementedError()

    def export_data(self, dataset, **kwargs):
        """The whole ``dataset`` rendered in this format (str for text formats, else bytes)."""
        raise NotImplementedError()

    def is_binary(self) -> bool:
        """Whether files of this format hold bytes rather than text."""
        return True

    def get_read_mode(self) -> str:
        """The ``open()`` mode for reading files of this format."""
        return "rb"

    def get_extension(self) -> str:
        """File name extension, without the dot."""
        return ""

    def get_content_type(self) -> str:
        """MIME type for HTTP responses (IANA media types)."""
        return "application/octet-stream"

    @classmethod
    def is_available(cls) -> bool:
        """Whether the libraries this format needs are installed."""
        return True

    def can_import(self) -> bool:
        return False

    def can_export(self) -> bool:
        return False

    def can_stream(self) -> bool:
        """Whether ``get_stream_writer`` writes rows as they come instead of buffering them."""
        return False

    def get_stream_writer(self, stream: IO, headers: Sequence[str], **options: Any) -> StreamWriter:
        """A writer for ``stream``; this default buffers rows and calls ``export_data`` at the end.

        It works for any format that implements ``export_data``, custom ones included.
        """
        from .streaming.buffered import BufferedStreamWriter

        return BufferedStreamWriter(stream, headers, file_format=self, **options)

    def can_stream_import(self) -> bool:
        """Whether ``get_stream_reader`` reads rows as it goes instead of loading the file."""
        return False

    def get_stream_reader(self, file: IO, **options: Any) -> StreamReader:
        """A reader of ``file``; this default loads it whole with ``create_dataset``.

        It works for any format that implements ``create_dataset``, custom ones included.
        """
        from .streaming.reading import BufferedStreamReader

        return BufferedStreamReader(file, file_format=self, **options)


class TablibFormat(Format):
    """A format implemented by one of tablib's format modules (``TABLIB_MODULE``)."""

    TABLIB_MODULE: str | None = None
    CONTENT_TYPE = "application/octet-stream"
    #: Dotted path of the incremental writer class; ``None`` means the buffered fallback.
    STREAM_WRITER: str | None = None
    #: Dotted path of the incremental reader class; ``None`` means the buffered fallback.
    STREAM_READER: str | None = None

    def __init__(self, encoding: str | None = None):
        self.encoding = encoding

    def get_format(self):
        """The tablib format class, looked up by the last part of ``TABLIB_MODULE``.

        ``tablib.formats._csv`` gives the registry key ``csv``.
        """
        if not self.TABLIB_MODULE:
            raise AttributeError("TABLIB_MODULE must be defined")
        key = self.TABLIB_MODULE.rsplit(".", 1)[-1].replace("_", "")
        return registry.get_format(key)

    def get_title(self):
        """tablib's name for the format (``"csv"``, ``"xlsx"``), as its import/export take it."""
        return self.get_format().title

    @classmethod
    def is_available(cls) -> bool:
        """Whether tablib can handle this format here (its optional library is installed).

        Asking tablib's registry for the format raises ``UnsupportedFormat`` for a key it does
        not know and ``ImportError`` when the backing library is absent.
        """
        with contextlib.suppress(tablib.core.UnsupportedFormat, ImportError):
            cls().get_format()
            return True
        return False

    def create_dataset(self, in_stream, **kwargs):
        """Parse ``in_stream`` with tablib; ``kwargs`` (e.g. ``headers``) go to its loader."""
        return tablib.import_set(in_stream, format=self.get_title(), **kwargs)

    def export_data(self, dataset, **kwargs):
        """Render ``dataset``; extra keyword arguments go to tablib's exporter.

        Formula escaping follows ``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` unless the
        ``escape_formulae`` keyword says otherwise.  Escaping rewrites ``dataset`` in place
        (every cell becomes a string), as upstream does.
        """
        if self._wants_formula_escaping(kwargs):
            self._escape_formulae(dataset)
        return self._export_dataset(dataset, **kwargs)

    def get_extension(self) -> str:
        return self.get_format().extensions[0]

    def get_content_type(self) -> str:
        return self.CONTENT_TYPE

    def can_import(self) -> bool:
        return hasattr(self.get_format(), "import_set")

    def can_export(self) -> bool:
        return hasattr(self.get_format(), "export_set")

    def can_stream(self) -> bool:
        return self.STREAM_WRITER is not None and self.is_available()

    def get_stream_writer(self, stream: IO, headers: Sequence[str], **options: Any) -> StreamWriter:
        """The incremental writer of this format, or the buffered fallback.

        ``encoding`` (for binary targets) defaults to the format's own encoding, else UTF-8.
        """
        options["encoding"] = options.get("encoding") or self.encoding or "utf-8"
        if self.STREAM_WRITER is None:
            return super().get_stream_writer(stream, headers, **options)
        writer_class = import_string(self.STREAM_WRITER)
        return writer_class(stream, headers, **options)

    def can_stream_import(self) -> bool:
        return self.STREAM_READER is not None and self.is_available()

    def get_stream_reader(self, file: IO, **options: Any) -> StreamReader:
        """The incremental reader of this format, or the buffered fallback.

        ``encoding`` (for binary files of text formats) defaults to the format's own.
        """
        if self.STREAM_READER is None:
            return super().get_stream_reader(file, **options)
        options.setdefault("encoding", self.encoding)
        reader_class = import_string(self.STREAM_READER)
        return reader_class(file, **options)

    def _export_dataset(self, dataset, **kwargs):
        """tablib's rendering of ``dataset``, with no escaping of our own."""
        return dataset.export(self.get_title(), **kwargs)

    @staticmethod
    def _wants_formula_escaping(kwargs: dict) -> bool:
        explicit = kwargs.pop("escape_formulae", None)
        return setting_is_on(ESCAPE_FORMULAE_SETTING) if explicit is None else explicit

    def _escape_formulae(self, dataset) -> None:
        """Turn every data cell into text that cannot start a formula (headers left alone)."""
        for index in range(len(dataset)):
            dataset[index] = escape_formulae_in_row(dataset[index])


class TextFormat(TablibFormat):
    """A format whose files are text; bytes given to ``create_dataset`` are decoded first."""

    def create_dataset(self, in_stream, **kwargs):
        """Decode bytes with ``encoding``, drop a leading byte-order mark, parse with tablib.

        The BOM goes whatever the encoding (``utf-8`` keeps it, only ``utf-8-sig`` drops it):
        it belongs to no header.
        """
        return super().create_dataset(self._text(in_stream), **kwargs)

    def _text(self, in_stream):
        needs_decoding = isinstance(in_stream, bytes) and bool(self.encoding)
        text = in_stream.decode(self.encoding) if needs_decoding else in_stream
        return strip_byte_order_mark(text)

    def get_read_mode(self) -> str:
        """Temporary storages open the stored upload as text for these formats."""
        return "r"

    def is_binary(self) -> bool:
        """Text: the admin sets ``encoding`` (``from_encoding``) on it before reading."""
        return False


class CSV(TextFormat):
    TABLIB_MODULE = "tablib.formats._csv"
    CONTENT_TYPE = "text/csv"
    STREAM_WRITER = _STREAMING + "csv.CSVStreamWriter"
    STREAM_READER = _STREAMING + "csv_reader.CSVStreamReader"


class JSON(TextFormat):
    TABLIB_MODULE = "tablib.formats._json"
    CONTENT_TYPE = "application/json"
    STREAM_WRITER = _STREAMING + "json.JSONStreamWriter"
    STREAM_READER = _STREAMING + "json_reader.JSONStreamReader"

    def create_dataset(self, in_stream, **kwargs):
        """Parse with :mod:`json`, then check the shape before tablib fills the Dataset.

        tablib takes the first element's shape on trust, so ``[{}, []]`` raised an
        ``AttributeError``; :func:`dataset_from_records` names the row that differs.
        """
        import json

        return dataset_from_records(json.loads(self._text(in_stream)), **kwargs)


class YAML(TextFormat):
    TABLIB_MODULE = "tablib.formats._yaml"
    # No IANA registration existed for years; text/yaml is what browsers and servers use.
    CONTENT_TYPE = "text/yaml"
    STREAM_WRITER = _STREAMING + "yaml.YAMLStreamWriter"

    def create_dataset(self, in_stream, **kwargs):
        """Load with :mod:`~import_export.formats.safe_yaml`: safe types, bounded aliases.

        tablib's own loader expands aliases without limit, so a tiny file can take minutes and
        gigabytes (see :doc:`security`); the parsed rows then go to tablib as before.
        """
        from .safe_yaml import safe_load

        return dataset_from_records(safe_load(self._text(in_stream)), **kwargs)


class TSV(TextFormat):
    TABLIB_MODULE = "tablib.formats._tsv"
    CONTENT_TYPE = "text/tab-separated-values"
    STREAM_WRITER = _STREAMING + "csv.TSVStreamWriter"
    STREAM_READER = _STREAMING + "csv_reader.TSVStreamReader"


class ODS(TextFormat):
    """OpenDocument spreadsheet.

    Upstream declares it a text format (``is_binary()`` is False, read mode ``"r"``) although
    tablib returns bytes for it; that is kept for compatibility.  Streaming is buffered.
    """

    TABLIB_MODULE = "tablib.formats._ods"
    CONTENT_TYPE = "application/vnd.oasis.opendocument.spreadsheet"


class HTML(TextFormat):
    TABLIB_MODULE = "tablib.formats._html"
    CONTENT_TYPE = "text/html"
    STREAM_WRITER = _STREAMING + "html.HTMLStreamWriter"


class XLS(TablibFormat):
    """Excel 97-2003 workbooks (xlwt to write, xlrd to read)."""

    TABLIB_MODULE = "tablib.formats._xls"
    CONTENT_TYPE = "application/vnd.ms-excel"

    def create_dataset(self, in_stream):
        """The first sheet of the workbook; its first row gives the headers."""
        import xlrd

        sheet = xlrd.open_workbook(file_contents=in_stream).sheet_by_index(0)
        dataset = tablib.Dataset()
        if sheet.nrows == 0:
            return dataset
        dataset.headers = sheet.row_values(0)
        for row_index in range(1, sheet.nrows):
            dataset.append(sheet.row_values(row_index))
        return dataset

    def get_stream_writer(self, stream: IO, headers: Sequence[str], **options: Any) -> StreamWriter:
        """The buffered writer, refusing the first row beyond what one XLS sheet can hold."""
        header_rows = 1 if headers else 0
        options.setdefault("max_rows", XLS_MAX_ROWS - header_rows)
        return super().get_stream_writer(stream, headers, **options)


class XLSX(TablibFormat):
    """Excel 2007+ workbooks, read and written with openpyxl."""

    TABLIB_MODULE = "tablib.formats._xlsx"
    CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    STREAM_WRITER = _STREAMING + "xlsx.XLSXStreamWriter"
    STREAM_READER = _STREAMING + "xlsx_reader.XLSXStreamReader"

    def create_dataset(self, in_stream):
        """The active sheet's values (cached results, not formulae); first row = headers.

        With ``IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES`` rows whose cells are all empty are
        skipped.
        """
        from io import BytesIO

        import openpyxl

        try:
            workbook = openpyxl.load_workbook(BytesIO(in_stream), read_only=True, data_only=True)
            try:
                return self._sheet_to_dataset(workbook.active)
            finally:
                workbook.close()
        except IMPORT_READ_ERRORS:
            raise
        except Exception as error:
            # A damaged archive makes openpyxl fail in many ways (KeyError for a missing
            # part, TypeError, XML errors); to the user they all mean "not a valid workbook".
            raise UnreadableFileError(
                f"The file is not a valid XLSX workbook ({type(error).__name__})."
            ) from error

    @staticmethod
    def _sheet_to_dataset(sheet) -> tablib.Dataset:
        dataset = tablib.Dataset()
        rows = sheet.rows
        header_row = next(rows, None)
        if header_row is None:
            return dataset
        dataset.headers = [cell.value for cell in header_row]
        skip_blank = getattr(settings, "IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES", False)
        for row in rows:
            values = [cell.value for cell in row]
            if skip_blank and all(value is None for value in values):
                continue
            dataset.append(values)
        return dataset

    def export_data(self, dataset, **kwargs):
        """Render ``dataset``; control characters Excel rejects are handled per setting.

        With ``IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT`` (or ``escape_illegal_chars=True``)
        they are replaced by U+FFFD in text cells; otherwise a ``ValueError`` is raised whose
        message leaves the offending value out, since it may be reflected into a page.
        """
        escape_illegal = kwargs.pop("escape_illegal_chars", None)
        if escape_illegal is None:
            escape_illegal = setting_is_on(ESCAPE_ILLEGAL_CHARS_SETTING)
        return super().export_data(dataset, _escape_illegal=escape_illegal, **kwargs)

    def _export_dataset(self, dataset, _escape_illegal: bool = False, **kwargs):
        from openpyxl.utils.exceptions import IllegalCharacterError

        try:
            return self._write_workbook(dataset, **kwargs)
        except IllegalCharacterError as exc:
            if not _escape_illegal:
                logger.exception(exc)
                raise ValueError(_("export failed due to IllegalCharacterError"))
        # Second attempt, with the characters openpyxl refused replaced.
        self._escape_illegal_chars(dataset)
        return self._write_workbook(dataset, **kwargs)

    def _write_workbook(self, dataset, **kwargs):
        # openpyxl calls datetime.utcnow() for the workbook's timestamps; recent Pythons
        # deprecate it, and that warning is noise for whoever exports.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return super()._export_dataset(dataset, **kwargs)

    def _escape_illegal_chars(self, dataset) -> None:
        """Replace control characters in text cells with U+FFFD, in place."""
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        def clean(cell):
            if type(cell) is str:
                return ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", cell)
            return cell

        for index in range(len(dataset)):
            dataset[index] = [clean(cell) for cell in dataset[index]]


class UnreadableFileError(ImportExportError, ValueError):
    """A file cannot be read in the format chosen for it; the message says why.

    Messages never quote the file's content, so they can be shown to whoever uploaded it.
    """


def dataset_from_records(records: Any, **kwargs: Any) -> tablib.Dataset:
    """A Dataset from parsed JSON or YAML: a list of objects (keys = headers) or of lists.

    What tablib accepts is accepted, and a top-level value that is not a list still raises
    tablib's ``UnsupportedFormat``, as upstream did; a row whose shape differs from the first
    raises :class:`UnreadableFileError` naming it (tablib raised ``AttributeError`` or
    ``TypeError``).
    """
    dataset = tablib.Dataset(**kwargs)
    if isinstance(records, list) and records:
        kind = dict if isinstance(records[0], dict) else list
        for number, record in enumerate(records, 1):
            if not isinstance(record, kind):
                expected = "an object" if kind is dict else "a list"
                raise UnreadableFileError(
                    f"Row {number} is not {expected} like the first row; every row of the "
                    "file must have the same shape."
                )
    dataset.dict = records
    return dataset


#: Formats offered for import and export, those whose tablib support is installed.
DEFAULT_FORMATS = [
    fmt for fmt in (CSV, XLS, XLSX, TSV, ODS, JSON, YAML, HTML) if fmt.is_available()
]

#: Formats that keep native cell types (numbers, dates), so values are not rendered as text.
BINARY_FORMATS = [fmt for fmt in (XLS, XLSX, ODS) if fmt.is_available()]

#: What ``create_dataset`` may raise for a file that is not valid in its format (beyond these,
#: an exception is a bug). Unicode and JSON errors are ``ValueError``\ s.
IMPORT_READ_ERRORS: tuple[type[BaseException], ...] = _read_errors()
