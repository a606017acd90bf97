"""``manage.py import RESOURCE FILE``: import a file through a resource, reporting bad rows.

Arguments and exit behaviour follow django-import-export 4.4.  The file is read as it is
imported (``Resource.import_from_stream``), with a progress bar when stderr is a terminal,
unless the resource overrides ``import_data``, ``before_import`` or ``after_import`` without
``Meta.stream_import_hooks`` (those may expect a whole ``tablib.Dataset``).  Every problem is
listed with the row it came from (and the column and value, when the error can be pinned to
one cell), and the command then fails, so a script or CI job notices.  Rows that fail
validation count as failures too, and the import is rolled back when they occur (with
transactions, the default on databases that support them), so a file is imported whole or not
at all.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from import_export.command_utils import (
    CommandFailed,
    get_default_format_names,
    get_format_class,
    get_resource_class,
)
from import_export.formats.streaming.reading import StreamReadError
from import_export.management.commands.export import ProgressBar
from import_export.results import RowResult, located_message
from import_export.stream_import import needs_classic_import

#: Used to decode text files when neither --encoding nor the format names one; also strips the
#: byte order mark that spreadsheet programs put at the start of a CSV file.
DEFAULT_TEXT_ENCODING = "utf-8-sig"


#: On/off options: (flags, destination in ``options``, help). Names and destinations are the
#: ones django-import-export 4.4 scripts already pass.
_SWITCHES = (
    (("--noinput", "--no-input"), "interactive", "Do not ask for confirmation before importing."),
    (
        ("--raise-errors",),
        "raise_errors",
        "Stop at the first error and show its traceback instead of listing all errors.",
    ),
    (
        ("-n", "--dry-run"),
        "dry_run",
        "Go through the whole import, report what happened, then roll everything back.",
    ),
)


class Command(BaseCommand):
    help = (
        "Import a file (or standard input) through a resource, or a model's default resource. "
        "Exits with an error, listing the rows concerned, if any row fails."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "resource",
            help=(
                "Where to import: the dotted path of a Resource class "
                "('myapp.resources.BookResource') or a model as 'app_label.ModelName'."
            ),
        )
        parser.add_argument(
            "import_file_name",
            metavar="FILE",
            help="The file to import; '-' reads standard input (then --format is required).",
        )
        for flags, destination, help_text in _SWITCHES:
            # --noinput turns the confirmation *off*: its destination starts out True.
            action = "store_false" if destination == "interactive" else "store_true"
            parser.add_argument(*flags, dest=destination, action=action, help=help_text)
        parser.add_argument(
            "--format",
            help=(
                f"Input format: one of {get_default_format_names()} (any letter case) or the "
                "dotted path of a format class.  Default: guessed from the file's name."
            ),
        )
        parser.add_argument(
            "--encoding",
            help=f"Character encoding of a text file (default: {DEFAULT_TEXT_ENCODING}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        file_name = options["import_file_name"]
        dry_run = bool(options.get("dry_run"))
        encoding = options.get("encoding")

        resource = get_resource_class(options["resource"])()
        file_format = get_format_class(options.get("format"), file_name, encoding)
        if options.get("interactive", True) and not dry_run:
            self._confirm(file_name)

        import_options = {
            "dry_run": dry_run,
            "raise_errors": bool(options.get("raise_errors")),
            "rollback_on_validation_errors": True,
        }
        if needs_classic_import(type(resource)):
            data = self._read(file_name, file_format, encoding)
            dataset = self._parse(data, file_format, file_name)
            result = resource.import_data(dataset, **import_options)
        else:
            result = self._stream(resource, file_format, file_name, import_options)

        if dry_run:
            self.stderr.write(
                _("You have activated the --dry-run option so no data will be modified."),
                style_func=self.style.NOTICE,
            )
        problems = self._report_problems(result)
        if problems:
            raise CommandFailed(
                _("Import of '%(file)s' failed: %(count)s problem(s), listed above.")
                % {"file": file_name, "count": problems}
            )
        self.stderr.write(_summary(result, resource), style_func=self.style.NOTICE)

    # --- steps ---------------------------------------------------------------------------------

    def _stream(self, resource, file_format, file_name: str, import_options: dict):
        """Import the file as it is read (``import_from_stream``), with a progress bar."""
        progress = ImportProgressBar(self.stderr) if self.stderr.isatty() else None
        try:
            with _open_input(file_name) as source:
                return resource.import_from_stream(
                    file_format, source, progress=progress, **import_options
                )
        except StreamReadError as error:
            raise CommandError(_stream_error_message(error, file_name, file_format)) from error
        finally:
            if progress is not None:
                progress.end_line()  # an error message must not start mid-bar

    def _confirm(self, file_name: str) -> None:
        answer = input(
            _("Import '%(file)s' into the database? This saves changes. Type 'yes' to go on: ")
            % {"file": file_name}
        )
        if answer.strip().lower() != "yes":
            raise CommandError(_("Import cancelled."))

    def _read(self, file_name: str, file_format, encoding: str | None) -> str | bytes:
        """The file's content: bytes for a binary format, text (decoded here) otherwise."""
        raw = _read_stdin() if file_name == "-" else _read_file(file_name)
        if file_format.is_binary():
            if isinstance(raw, str):
                raise CommandError(
                    _(
                        "%(format)s is a binary format, but standard input only gives text "
                        "here; pass a file name instead of '-'."
                    )
                    % {"format": type(file_format).__name__}
                )
            return raw
        if isinstance(raw, str):
            return raw
        return _decode(raw, encoding or _format_encoding(file_format), file_name)

    def _parse(self, data: str | bytes, file_format, file_name: str):
        try:
            return file_format.create_dataset(data)
        except Exception as error:  # tablib and its back-ends raise many unrelated types
            raise CommandError(
                _("Cannot read '%(file)s' as %(format)s: %(error)s")
                % {"file": file_name, "format": type(file_format).__name__, "error": error}
            ) from error

    def _report_problems(self, result) -> int:
        """Write one line per problem to stderr; return how many there were."""
        lines = [*_base_error_lines(result), *_row_problem_lines(result)]
        not_listed = getattr(result, "errors_not_kept", 0)
        if not_listed:
            lines.append(
                _("... and %(count)s more failed row(s), not listed.") % {"count": not_listed}
            )
        if lines:
            self.stderr.write(_("Import errors!"), style_func=self.style.ERROR)
            for line in lines:
                self.stderr.write(line, style_func=self.style.ERROR)
        return len(lines) - (1 if not_listed else 0) + not_listed


# --- reading ---------------------------------------------------------------------------------


class ImportProgressBar(ProgressBar):
    """``12,000 rows read, 8,100 rows/s`` redrawn on the terminal while the file is read.

    The number of rows is not known before the end of the file, so there is no bar to fill.
    """

    def __init__(self, stream, interval: float = 0.2) -> None:
        super().__init__(stream, total=None, interval=interval)
        self._started = time.monotonic()

    def render(self, rows: int) -> str:
        elapsed = time.monotonic() - self._started
        rate = rows / elapsed if elapsed > 0 else 0.0
        return f"{rows:,} rows read, {rate:,.0f} rows/s"


@contextlib.contextmanager
def _open_input(file_name: str):
    """The file opened for binary reading (standard input's byte layer for '-')."""
    if file_name == "-":
        yield getattr(sys.stdin, "buffer", None) or sys.stdin
        return
    try:
        handle = open(file_name, "rb")
    except OSError as error:
        raise CommandError(f"Cannot read '{file_name}': {error.strerror or error}") from error
    with handle:
        yield handle


def _stream_error_message(error: StreamReadError, file_name: str, file_format) -> str:
    message = f"Cannot read '{file_name}' as {type(file_format).__name__}: {error}"
    if isinstance(error.__cause__, UnicodeDecodeError):
        message += " Give the right --encoding (e.g. --encoding cp1252)."
    return message


def _read_file(file_name: str) -> bytes:
    try:
        with open(file_name, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise CommandError(
            _("Cannot read '%(file)s': %(reason)s")
            % {"file": file_name, "reason": error.strerror or error}
        ) from error


def _read_stdin() -> str | bytes:
    """Bytes when standard input has a byte layer (a real stdin does), otherwise its text."""
    # Looked up at call time, not import time, so that a replaced sys.stdin is honoured.
    byte_layer = getattr(sys.stdin, "buffer", None)
    return byte_layer.read() if byte_layer is not None else sys.stdin.read()


def _format_encoding(file_format) -> str:
    return getattr(file_format, "encoding", None) or DEFAULT_TEXT_ENCODING


def _decode(raw: bytes, encoding: str, file_name: str) -> str:
    try:
        return raw.decode(encoding)
    except LookupError as error:
        raise CommandError(
            _("Unknown encoding '%(encoding)s'.") % {"encoding": encoding}
        ) from error
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise CommandError(
            _(
                "Cannot decode '%(file)s' as %(encoding)s: byte %(byte)s at offset %(offset)s "
                "(line %(line)s) is not valid there. Give the right --encoding "
                "(e.g. --encoding cp1252)."
            )
            % {
                "file": file_name,
                "encoding": encoding,
                "byte": f"{raw[error.start]:#04x}",
                "offset": error.start,
                "line": line,
            }
        ) from error


# --- reporting -------------------------------------------------------------------------------


def _base_error_lines(result) -> list[str]:
    """Errors not tied to a row, e.g. raised by a ``before_import`` hook."""
    return [f"{_describe_exception(error.error)}" for error in result.base_errors]


def _row_problem_lines(result) -> list[str]:
    """Row errors and validation failures together, in the file's row order.

    The result keeps the two kinds apart (``row_errors()`` and ``invalid_rows``); listing one
    kind after the other would print row 5, then row 3.  The sort is stable, so the messages
    of one row keep their order (errors before validation messages).
    """
    numbered = [*_row_error_lines(result), *_invalid_row_lines(result)]
    numbered.sort(key=lambda item: (item[0] is None, item[0] or 0))
    return [line for _number, line in numbered]


def _row_error_lines(result) -> list[tuple[int | None, str]]:
    """Exceptions raised while importing a row: (row number, line)."""
    lines = []
    for number, errors in result.row_errors():
        for error in errors:
            column = getattr(error, "column", None)
            value = getattr(error, "value", None)
            message = located_message(number, column, value, _describe_exception(error.error))
            lines.append((number, message))
    return lines


def _invalid_row_lines(result) -> list[tuple[int | None, str]]:
    """Validation failures, one line per message, naming the file's column where known."""
    lines = []
    for invalid_row in getattr(result, "invalid_rows", []):
        row = getattr(invalid_row, "row", None) or {}
        column_for = getattr(invalid_row, "column_for", lambda key: key)
        for key, messages in invalid_row.error_dict.items():
            column = None if key == NON_FIELD_ERRORS else column_for(key)
            for message in messages:
                line = located_message(
                    invalid_row.number, column, row.get(column), message, column in row
                )
                lines.append((invalid_row.number, line))
    return lines


def _describe_exception(error: BaseException) -> str:
    """The exception's class and its ``detail`` (this package's fuller text) or message."""
    return f"{type(error).__name__}: {getattr(error, 'detail', None) or error}"


def _summary(result, resource) -> str:
    totals = result.totals
    model = getattr(getattr(resource, "_meta", None), "model", None)
    what = model._meta.verbose_name_plural if model is not None else _("rows")
    # The admin's message, word for word (same msgid).
    return _("Import finished: {} new, {} updated, {} deleted and {} skipped {}.").format(
        totals[RowResult.IMPORT_TYPE_NEW],
        totals[RowResult.IMPORT_TYPE_UPDATE],
        totals[RowResult.IMPORT_TYPE_DELETE],
        totals[RowResult.IMPORT_TYPE_SKIP],
        what,
    )
