"""The writer protocol shared by every streamed format: ``start()``, ``write_row()``, ``end()``.

Like Django's serializers, a writer produces the opening of a document, then one row at a time,
then the closing, writing each piece to the target stream at once and keeping nothing about
the rows already written.  The resource layer drives writers only through ``start``,
``write_row``, ``end`` and ``rows_written``.

Text or binary target
    The target is whatever file-like object the caller has.  :func:`is_text_stream` decides how
    to talk to it: instances of :class:`io.TextIOBase` are text; otherwise an object whose
    ``mode`` attribute is a string is text unless that mode contains ``"b"``; anything else
    (``io.BytesIO``, a file opened ``"wb"``, an ``HttpResponse``, a socket wrapper) is binary.
    Text targets receive ``str``; binary ones receive bytes produced by an *incremental*
    encoder, so encodings with a byte-order mark (``utf-8-sig``, ``utf-16``) emit it once, as
    ``str.encode`` on the whole classic export would.  A caller whose stream defeats this
    guess (a ``codecs`` stream writer, say) passes ``text_stream=True`` or ``False``.
"""

from __future__ import annotations

import codecs
import io
import reprlib
from collections.abc import Callable, Sequence
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext

from ...exceptions import StreamingError

ESCAPE_FORMULAE_SETTING = "IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT"
ESCAPE_ILLEGAL_CHARS_SETTING = "IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT"

_short_repr = reprlib.Repr()
_short_repr.maxstring = 80
_short_repr.maxother = 80
_short_repr.maxlist = 10
_short_repr.maxtuple = 10


class StreamWriteError(StreamingError, ValueError):
    """A row could not be written; the message names the row (1-based, as a person counts).

    It is also a ``ValueError`` so code that guarded the classic ``export_data`` with
    ``except ValueError`` keeps working.
    """


class RowLimitExceeded(StreamingError, ValueError):
    """The format cannot hold another row (XLS sheets stop at 65,536 rows, header included)."""


def setting_is_on(name: str) -> bool:
    """Whether a boolean project setting is enabled.

    Only the value ``True`` counts, as in the classic export: a truthy string such as
    ``"False"`` in a settings file must not switch escaping on.
    """
    return getattr(settings, name, False) is True


#: Characters that make a spreadsheet read a cell as a formula when they come first (OWASP's
#: CSV injection list): ``=``, ``+``, ``-`` and ``@`` start one, and a tab or a carriage return
#: may be skipped before one.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: What an escaped cell starts with: the apostrophe spreadsheets take as "this is text".
FORMULA_ESCAPE_PREFIX = "'"


def escape_formula(text: str) -> str:
    """``text`` made unable to start a formula; text that could not is returned unchanged.

    Two steps: every leading ``=`` is removed (upstream removes one, so ``=SUM(A1)`` becomes
    ``SUM(A1)`` as it always did, but ``==SUM(A1)`` no longer keeps a live ``=``); then text
    that still starts with one of :data:`FORMULA_TRIGGERS` gets an apostrophe in front
    (``'-5``, ``'@SUM(A1)``, ``'\t=1``).  Those characters are prefixed rather than removed so
    that no value changes its meaning: stripping would turn ``-5`` into ``5``.
    """
    if not text.startswith(FORMULA_TRIGGERS):
        return text
    text = text.lstrip("=")
    return FORMULA_ESCAPE_PREFIX + text if text.startswith(FORMULA_TRIGGERS) else text


def escape_formulae_in_row(row: Sequence[Any]) -> list[str]:
    """A row as the classic escaping leaves it: every cell a string, formulae defused.

    The classic path stringifies every cell (``None`` becomes ``"None"``), so the streamed one
    must too to produce identical bytes.
    """
    return [escape_formula(str(cell)) for cell in row]


def is_text_stream(stream: Any) -> bool:
    """Whether ``stream`` expects ``str`` (True) or bytes (False); see the module docstring."""
    if isinstance(stream, io.TextIOBase):
        return True
    if isinstance(stream, (io.RawIOBase, io.BufferedIOBase)):
        return False
    mode = getattr(stream, "mode", None)
    if isinstance(mode, str):
        return "b" not in mode
    return False


class _Sink:
    """A minimal file-like object whose ``write`` forwards text to a writer's output."""

    __slots__ = ("write",)

    def __init__(self, write: Callable[[str], Any]):
        self.write = write


class StreamWriter:
    """Base of the format writers.

    Subclasses implement ``_open`` (document opening and header row), ``_write_row`` (one row,
    already validated and escaped) and ``_close`` (document closing), and send text out with
    ``self._emit``.  Per-export decisions are made once in ``start`` so that ``write_row``,
    called once per row of possibly millions, does the least work it can.
    """

    #: False for writers that hold every row until ``end()`` (the buffered fallback).
    incremental = True
    #: Whether the target must be a binary stream (XLSX is a zip archive).
    binary_only = False
    #: Whether options the writer does not know are passed on (to ``csv.writer`` for CSV)
    #: instead of being rejected.
    accepts_extra_options = False

    def __init__(
        self,
        stream: IO,
        headers: Sequence[str],
        *,
        encoding: str = "utf-8",
        escape_formulae: bool | None = None,
        text_stream: bool | None = None,
        **options: Any,
    ):
        if options and not self.accepts_extra_options:
            unknown = ", ".join(sorted(options))
            raise TypeError(f"{type(self).__name__} got unexpected option(s): {unknown}")
        self.stream = stream
        self.headers = list(headers) if headers else []
        self.encoding = encoding
        codecs.lookup(encoding)  # fail now, not after the first row, on a misspelt encoding
        self.escape_formulae = (
            setting_is_on(ESCAPE_FORMULAE_SETTING) if escape_formulae is None else escape_formulae
        )
        self.options = options
        self.rows_written = 0
        self.text_stream = is_text_stream(stream) if text_stream is None else text_stream
        if self.binary_only and self.text_stream:
            raise StreamingError(
                f"{type(self).__name__} writes binary data; open the target in binary mode "
                f"('wb') or pass a bytes buffer instead of {type(stream).__name__}"
            )
        self._width: int | None = len(self.headers) if self.headers else None
        self._started = False
        self._open_for_rows = False
        self._encoder: codecs.IncrementalEncoder | None = None
        self._emit: Callable[[str], Any] = self._no_output

    # -- public protocol -------------------------------------------------------------------

    def start(self) -> None:
        """Write the opening of the document (and its header row)."""
        if self._started:
            raise StreamingError(f"{type(self).__name__}.start() was already called")
        self._started = True
        self._emit = self._make_emitter()
        self._open()
        self._open_for_rows = True

    def write_row(self, row: Sequence[Any]) -> None:
        """Write one data row now.

        A row whose length differs from the headers is rejected with its number; errors that a
        value causes in the format library are re-raised as :class:`StreamWriteError` naming
        the row.
        """
        if not self._open_for_rows:
            self._raise_not_open()
        if len(row) != self._width:
            self._check_width(row)
        if self.escape_formulae:
            row = escape_formulae_in_row(row)
        try:
            self._write_row(row)
        except StreamingError:
            raise
        except (TypeError, ValueError) as exc:
            raise StreamWriteError(
                gettext("Could not write row %(row)s %(values)s: %(error)s")
                % {
                    "row": self.rows_written + 1,
                    "values": _short_repr.repr(list(row)),
                    "error": exc,
                }
            ) from exc
        self.rows_written += 1

    def end(self) -> None:
        """Write the closing of the document and flush the target (which stays open)."""
        if not self._open_for_rows:
            self._raise_not_open()
        self._open_for_rows = False
        self._close()
        if self._encoder is not None:
            tail = self._encoder.encode("", True)
            if tail:
                self.stream.write(tail)
        flush = getattr(self.stream, "flush", None)
        if flush is not None:
            flush()

    def abort(self) -> None:
        """Release what the writer holds after a failure; the document stays unterminated.

        Callers that give up before :meth:`end` (an error in a row, a client that went away)
        call it so that nothing outlives the export, such as the temporary file openpyxl keeps
        for an XLSX sheet.  It never raises, may be called more than once, and does nothing
        once the document was ended.
        """
        if self._started and self._open_for_rows:
            self._open_for_rows = False
            self._abort()

    # -- hooks for subclasses --------------------------------------------------------------

    def _open(self) -> None:
        """Write the document opening; the default writes nothing."""

    def _write_row(self, row: Sequence[Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _write_row()")

    def _close(self) -> None:
        """Write the document closing; the default writes nothing."""

    def _abort(self) -> None:
        """Free resources after a failure (see :meth:`abort`); must not raise."""

    # -- helpers ---------------------------------------------------------------------------

    def _make_emitter(self) -> Callable[[str], Any]:
        """The function that sends text to the target, encoding it for binary targets."""
        if self.text_stream:
            return self.stream.write
        encoder = codecs.getincrementalencoder(self.encoding)()
        self._encoder = encoder
        encode = encoder.encode
        write = self.stream.write

        def emit_encoded(text: str) -> None:
            write(encode(text))

        return emit_encoded

    def _text_sink(self) -> _Sink:
        """A file-like object for libraries (csv, yaml) that write to a stream themselves."""
        return _Sink(self._emit)

    def _check_width(self, row: Sequence[Any]) -> None:
        """Reject a row that does not fit the header; rows without headers must agree."""
        if self._width is None:
            self._width = len(row)
            return
        raise StreamWriteError(
            gettext(
                "Row %(row)s has %(count)s values but the export has %(width)s columns: %(values)s"
            )
            % {
                "row": self.rows_written + 1,
                "count": len(row),
                "width": self._width,
                "values": _short_repr.repr(list(row)),
            }
        )

    def _raise_not_open(self) -> None:
        if not self._started:
            raise StreamingError(f"{type(self).__name__}.start() must be called before writing")
        raise StreamingError(f"{type(self).__name__}.end() was already called")

    @staticmethod
    def _no_output(text: str) -> None:
        raise StreamingError("the writer has not been started")
