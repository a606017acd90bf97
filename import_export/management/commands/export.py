"""``manage.py export FORMAT RESOURCE``: write a resource's export to stdout or to a file.

Same arguments as django-import-export 4.4, plus ``--output``.  Unlike 4.4, which built the
whole export in memory before writing a byte, the rows are streamed with
``Resource.export_to_stream`` as they are read, so a table of any size exports in bounded
memory.  ``--output`` writes into a temporary file beside the target and renames it into place
at the end: a file at the target path is always a complete export.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.utils.translation import gettext as _

from import_export.command_utils import (
    CommandFailed,
    get_default_format_names,
    get_format_class,
    get_resource_class,
)
from import_export.formats.streaming.base import is_text_stream
from import_export.streaming import needs_classic_export


class Command(BaseCommand):
    help = (
        "Export a resource (or a model's default resource) in the given format, streaming the "
        "rows to standard output or, with --output, atomically to a file."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "format",
            help=(
                f"Output format: one of {get_default_format_names()} (any letter case), or the "
                "dotted path of a format class such as 'myapp.formats.SemicolonCSV'."
            ),
        )
        parser.add_argument(
            "resource",
            help=(
                "What to export: the dotted path of a Resource class "
                "('myapp.resources.BookResource') or a model as 'app_label.ModelName'."
            ),
        )
        parser.add_argument(
            "--encoding",
            help="Character encoding of text formats (default: the format's, usually UTF-8).",
        )
        parser.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            help=(
                "Write to FILE instead of standard output.  The data goes to a temporary file in "
                "the same directory first, which replaces FILE only once the export is complete."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        resource = get_resource_class(options["resource"])()
        file_format = get_format_class(options["format"], None, options.get("encoding"))
        output = options.get("output")
        progress = self._progress_reporter(resource)

        try:
            with _sigterm_raises_system_exit():
                if output:
                    rows = self._export_to_file(resource, file_format, output, progress)
                else:
                    rows = self._export_to_stdout(resource, file_format, progress)
        finally:
            if progress is not None:
                progress.end_line()  # an error message must not start mid-bar

        if options.get("verbosity", 1) >= 1 and (output or progress is not None):
            if output:
                done = _("Exported %(rows)s row(s) to '%(path)s'.") % {"rows": rows, "path": output}
            else:
                done = _("Exported %(rows)s row(s) to standard output.") % {"rows": rows}
            self.stderr.write(done, style_func=self.style.SUCCESS)

    # --- destinations ----------------------------------------------------------------------

    def _export_to_file(self, resource, file_format, path: str, progress) -> int:
        """Stream into a temporary sibling of ``path``, then rename it over ``path``.

        The temporary file is in the same directory so that the rename is atomic (same file
        system).  On any failure, including Ctrl-C and SIGTERM, it is removed and ``path`` is
        untouched.
        """
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise CommandError(
                _("Cannot write '%(path)s': directory '%(directory)s' does not exist.")
                % {"path": path, "directory": directory}
            )
        descriptor, temporary_path = tempfile.mkstemp(
            dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".partial"
        )
        try:
            with os.fdopen(descriptor, "wb") as handle:
                rows = _export(resource, file_format, handle, progress)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary_path, _permissions_for_new_file(path))
            os.replace(temporary_path, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary_path)
            raise
        return rows

    def _export_to_stdout(self, resource, file_format, progress) -> int:
        if file_format.is_binary() and self.stdout.isatty():
            self.stderr.write(
                _(
                    "This is a binary format and your terminal does not support binary data. "
                    "Redirect the output to a file."
                ),
                style_func=self.style.ERROR,
            )
            raise CommandFailed(_("Nothing was exported."))
        target = _byte_stream_of(self.stdout)
        if target is None:
            if file_format.is_binary():
                raise CommandError(
                    _(
                        "Standard output does not accept bytes; use --output FILE for a "
                        "binary format."
                    )
                )
            target = self.stdout._out  # a text-only stream (e.g. io.StringIO): write str to it
        else:
            self.stdout.flush()  # whatever went through the text layer must come first
        try:
            rows = _export(resource, file_format, target, progress)
            target.flush()
        except BrokenPipeError:
            # The reader went away (``manage.py export csv app.Model | head``).  Point the
            # descriptor at /dev/null so that flushing at interpreter exit does not fail again.
            _discard_further_output(target)
            rows = None
        if rows is None:
            # Raised outside the ``except`` block so that the pipe error, and with it the
            # half-consumed queryset iterator in its traceback, is released now, while the
            # database connection is still open to close its cursor.
            raise CommandFailed(_("Standard output was closed; the export is incomplete."))
        return rows

    # --- progress ----------------------------------------------------------------------------

    def _progress_reporter(self, resource) -> ProgressBar | None:
        """A progress bar on stderr, but only for a person watching a terminal."""
        if not self.stderr.isatty():
            return None
        return ProgressBar(self.stderr, total=_count_or_none(resource))


class ProgressBar:
    """Redraws one line on a terminal: ``[#####.....]  50%  500/1000 rows``.

    ``export_to_stream`` calls it with the running row count every chunk; redrawing is limited
    to a few times a second so that a fast export is not slowed down by terminal output.

    Only a terminal gets the redrawn line (carriage returns).  On any other stream (a log
    file, a pipe) nothing is written while the work runs and :meth:`end_line` writes the final
    count as one plain line, so a log holds one short line per stage instead of thousands of
    redraws joined into one.  The commands only create a bar when stderr is a terminal; the
    demo writes its stages through a bar wherever its stderr goes.
    """

    WIDTH = 30

    def __init__(self, stream: OutputWrapper, total: int | None, interval: float = 0.2) -> None:
        self.stream = stream
        self.total = total
        self.interval = interval
        self.redraws = _is_terminal(stream)
        self._last_draw = 0.0
        self._latest: int | None = None  # the last count reported; None before the first

    def __call__(self, rows: int) -> None:
        self._latest = rows
        if not self.redraws:
            return
        now = time.monotonic()
        if now - self._last_draw >= self.interval:
            self._last_draw = now
            self._draw(rows)

    def end_line(self) -> None:
        """Finish the bar's line with the final count (the only line off a terminal)."""
        if self._latest is None:
            return
        if self.redraws:
            self._draw(self._latest)
            self.stream.write("", style_func=str)
        else:
            self.stream.write(self.render(self._latest), style_func=str)
            self.stream.flush()

    def _draw(self, rows: int) -> None:
        self.stream.write(f"\r{self.render(rows)}", style_func=str, ending="")
        self.stream.flush()

    def render(self, rows: int) -> str:
        if not self.total:
            return f"{rows} rows"
        share = min(rows / self.total, 1.0)
        filled = round(share * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        return f"[{bar}] {share:4.0%}  {rows}/{self.total} rows"


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _export(resource, file_format, target, progress) -> int:
    """Stream the export into ``target``, or, for a resource whose hooks expect the Dataset
    (see :func:`import_export.streaming.needs_classic_export`), write the classic export."""
    if not needs_classic_export(type(resource)):
        return resource.export_to_stream(file_format, target, progress=progress)
    dataset = resource.export()
    data = file_format.export_data(dataset)
    encoding = getattr(file_format, "encoding", None) or "utf-8"
    if is_text_stream(target) and isinstance(data, bytes):
        data = data.decode(encoding)
    elif not is_text_stream(target) and isinstance(data, str):
        data = data.encode(encoding)
    target.write(data)
    if progress is not None:
        progress(len(dataset))
    return len(dataset)


#: Exit status of an export stopped by SIGTERM: 128 + the signal number, as a shell reports it.
SIGTERM_EXIT_STATUS = 128 + signal.SIGTERM


@contextlib.contextmanager
def _sigterm_raises_system_exit() -> Iterator[None]:
    """Let SIGTERM unwind the export like Ctrl-C does, so the clean-up code runs.

    Python's default SIGTERM kills the process on the spot: no ``except``/``finally`` runs and
    the hidden ``.partial`` file stays behind.  While the export runs, SIGTERM instead raises
    ``SystemExit(143)`` (the status a shell shows for a process killed by SIGTERM).  A handler
    someone else installed, or an ignored SIGTERM, is left alone, and so is a command called
    from a thread other than the main one (only the main thread may set signal handlers).
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not in_main_thread or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def stop(signum, frame):
        raise SystemExit(SIGTERM_EXIT_STATUS)

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _count_or_none(resource) -> int | None:
    """How many rows the export will have, if the resource can say cheaply (one COUNT query)."""
    get_queryset = getattr(resource, "get_queryset", None)
    if get_queryset is None:
        return None
    try:
        return get_queryset().count()
    except Exception:  # the bar is a nicety: an unusual queryset must not stop the export
        return None


def _byte_stream_of(wrapper: OutputWrapper) -> IO[bytes] | None:
    """The binary layer under a text stream (``sys.stdout.buffer``), if it has one."""
    return getattr(wrapper._out, "buffer", None)


def _discard_further_output(stream: IO) -> None:
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not backed by a file descriptor: nothing will be flushed to a closed pipe
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)


def _permissions_for_new_file(path: str) -> int:
    """Keep the mode of the file being replaced; a new file gets the usual 0o666 minus umask.

    ``mkstemp`` creates its file readable by the owner only, which would be a surprise for an
    export meant to be shared.
    """
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
