"""The ``export`` and ``import`` management commands and the name resolution behind them.

Expected export output is always produced by the classic in-memory path
(``format.export_data(resource.export())``), so these tests pin "the command streams the same
bytes the library would produce", not a copy of today's output.
"""

import importlib
import io
import itertools
import os
import re
import signal
import stat
import subprocess
import sys
import time
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

import pytest
import tablib
from django.core.management import call_command
from django.core.management.base import CommandError, OutputWrapper

from core.models import Author, Book, Category
from import_export import exceptions, resources
from import_export.command_utils import (
    CommandFailed,
    get_default_format_names,
    get_format_class,
    get_resource_class,
)
from import_export.fields import Field
from import_export.formats import base_formats

pytestmark = pytest.mark.django_db

MODULE = __name__
TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# --- resources addressed by dotted path from the tests -----------------------------------------


class BookNameResource(resources.ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name", "price")


class ExplodingBookResource(resources.ModelResource):
    """Fails while rendering the book called "boom", after earlier rows have been written."""

    name = Field(attribute="name", column_name="name")

    class Meta:
        model = Book
        fields = ("id", "name")

    def dehydrate_name(self, book):
        if book.name == "boom":
            raise RuntimeError("cannot render 'boom'")
        return book.name


class BeforeImportFails(resources.ModelResource):
    class Meta:
        model = Book

    def before_import(self, dataset, **kwargs):
        raise RuntimeError("the before_import hook refused the file")


# --- helpers --------------------------------------------------------------------------------


class TerminalStringIO(io.StringIO):
    """A text stream that claims to be a terminal."""

    def isatty(self):
        return True


def byte_stdout():
    """A stdout with a byte layer, like ``sys.stdout``; returns (text wrapper, bytes buffer)."""
    raw = io.BytesIO()
    return io.TextIOWrapper(raw, encoding="utf-8"), raw


def classic_export(resource_class, format_class, **format_kwargs):
    return format_class(**format_kwargs).export_data(resource_class().export())


def book_resource():
    return resources.modelresource_factory(Book)


@pytest.fixture
def books():
    author = Author.objects.create(name="Karel Čapek")
    first = Book.objects.create(name="R.U.R.", author=author, price=Decimal("12.50"))
    second = Book.objects.create(name="Válka s mloky", price=Decimal("9.90"))
    first.categories.add(Category.objects.create(name="Drama"))
    return [first, second]


def write_csv(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return str(path)


def run_import(*args, **options):
    options.setdefault("interactive", False)
    options.setdefault("stdout", io.StringIO())
    options.setdefault("stderr", io.StringIO())
    call_command("import", *args, **options)
    return options["stderr"].getvalue()


# --- command_utils: resources ------------------------------------------------------------------


def test_model_label_builds_a_model_resource():
    resource_class = get_resource_class("core.Book")
    assert issubclass(resource_class, resources.ModelResource)
    assert resource_class._meta.model is Book


def test_dotted_path_to_a_resource_returns_that_class():
    assert get_resource_class(f"{MODULE}.BookNameResource") is BookNameResource


def test_dotted_path_to_a_model_builds_a_model_resource():
    resource_class = get_resource_class("core.models.Author")
    assert resource_class._meta.model is Author


def test_unknown_resource_name_is_a_command_error_naming_it():
    with pytest.raises(CommandError) as caught:
        get_resource_class("invalid.model")
    assert str(caught.value) == "Cannot import 'invalid.model' as a resource class or model."


def test_dotted_path_to_something_else_says_what_it_is():
    with pytest.raises(CommandError, match="'os.path.join' is a function, not a Resource"):
        get_resource_class("os.path.join")


# --- command_utils: formats ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["CSV", "csv", "import_export.formats.base_formats.CSV"])
def test_format_by_name_in_any_case_or_by_path(name):
    assert isinstance(get_format_class(name, None), base_formats.CSV)


def test_format_carries_the_encoding():
    assert get_format_class("csv", None, "cp1250").encoding == "cp1250"


def test_unknown_format_name_gives_upstreams_message_naming_what_was_tried():
    with pytest.raises(CommandError) as caught:
        get_format_class("EXCEL", None)
    assert str(caught.value) == (
        "Cannot import 'EXCEL' or 'import_export.formats.base_formats.EXCEL' format class."
    )


@pytest.mark.parametrize(
    "file_name, expected",
    [
        ("books.csv", base_formats.CSV),
        ("BOOKS.XLSX", base_formats.XLSX),
        ("b.tsv", base_formats.TSV),
    ],
)
def test_format_guessed_from_the_file_name(file_name, expected):
    assert type(get_format_class(None, file_name)) is expected


def test_file_name_without_known_type_asks_for_format():
    with pytest.raises(CommandError, match="Cannot determine MIME type for 'data.unknown'"):
        get_format_class(None, "data.unknown")


def test_file_type_without_a_format_names_the_mime_type():
    with pytest.raises(CommandError, match="Cannot find format for MIME type 'application/pdf'"):
        get_format_class(None, "report.pdf")


def test_compressed_file_is_refused_rather_than_misread():
    with pytest.raises(CommandError, match="gzip-compressed"):
        get_format_class(None, "books.csv.gz")


def test_stdin_needs_an_explicit_format():
    with pytest.raises(CommandError, match="--format"):
        get_format_class(None, "-")


def test_default_format_names_are_the_default_format_classes():
    names = get_default_format_names().split(", ")
    assert names == [format_class.__name__ for format_class in base_formats.DEFAULT_FORMATS]


def test_command_failed_is_a_command_error_and_a_failing_system_exit():
    failure = CommandFailed("no")
    assert isinstance(failure, CommandError) and isinstance(failure, SystemExit)
    assert failure.code == 1 and failure.returncode == 1


# --- export: to standard output ------------------------------------------------------------------


def test_export_csv_to_stdout_matches_the_classic_export(books):
    stdout, raw = byte_stdout()
    call_command("export", "CSV", "core.Book", stdout=stdout)
    expected = classic_export(book_resource(), base_formats.CSV)
    assert raw.getvalue() == expected.encode("utf-8")
    assert "Válka s mloky" in raw.getvalue().decode("utf-8")


def test_export_encodes_text_with_the_given_encoding(books):
    stdout, raw = byte_stdout()
    call_command("export", "csv", "core.Book", stdout=stdout, encoding="cp1250")
    assert raw.getvalue().decode("cp1250") == classic_export(book_resource(), base_formats.CSV)
    assert "Válka".encode("cp1250") in raw.getvalue()
    assert "Válka".encode() not in raw.getvalue()


def test_export_of_a_resource_class_uses_its_fields(books):
    stdout, raw = byte_stdout()
    call_command("export", "CSV", f"{MODULE}.BookNameResource", stdout=stdout)
    header = raw.getvalue().decode().splitlines()[0]
    assert header == "id,name,price"


def test_export_streams_instead_of_building_a_dataset(books):
    stdout, raw = byte_stdout()
    with mock.patch.object(resources.Resource, "export", side_effect=AssertionError("built")):
        call_command("export", "json", "core.Book", stdout=stdout)
    assert [row["name"] for row in tablib.Dataset().load(raw.getvalue().decode(), "json").dict] == [
        "R.U.R.",
        "Válka s mloky",
    ]


def test_binary_export_to_stdout_is_a_loadable_workbook(books):
    stdout, raw = byte_stdout()
    call_command("export", "xlsx", "core.Book", stdout=stdout)
    dataset = tablib.Dataset().load(raw.getvalue(), "xlsx")
    assert [row["name"] for row in dataset.dict] == ["R.U.R.", "Válka s mloky"]


def test_binary_export_refuses_a_terminal(books):
    stdout, raw = byte_stdout()
    stdout.isatty = lambda: True
    stderr = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("export", "xlsx", "core.Book", stdout=stdout, stderr=stderr)
    assert "This is a binary format" in stderr.getvalue()
    assert raw.getvalue() == b""


class ClosedPipe(io.BytesIO):
    """A pipe whose reader has gone away after the first write."""

    def write(self, data):
        if self.tell():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(data)


def test_reader_going_away_is_a_clean_failure(books):
    raw = ClosedPipe()
    stdout = io.TextIOWrapper(raw)
    with pytest.raises(CommandFailed, match="Standard output was closed"):
        call_command("export", "CSV", "core.Book", stdout=stdout)
    assert raw.getvalue() != b""  # it did start writing before the pipe closed


def test_text_export_to_a_text_only_stdout(books):
    stdout = io.StringIO()
    call_command("export", "CSV", "core.Book", stdout=stdout)
    assert stdout.getvalue() == classic_export(book_resource(), base_formats.CSV)


def test_binary_export_to_a_text_only_stdout_points_to_output(books):
    with pytest.raises(CommandError, match="--output"):
        call_command("export", "XLSX", "core.Book", stdout=io.StringIO())


# --- export: to a file ---------------------------------------------------------------------------


def test_export_to_output_file(books, tmp_path):
    target = tmp_path / "books.csv"
    stderr = io.StringIO()
    call_command("export", "CSV", "core.Book", output=str(target), stderr=stderr)
    assert target.read_bytes() == classic_export(book_resource(), base_formats.CSV).encode()
    assert os.listdir(tmp_path) == ["books.csv"]
    assert f"Exported 2 row(s) to '{target}'" in stderr.getvalue()


def test_new_output_file_gets_the_usual_permissions(books, tmp_path):
    umask = os.umask(0o022)
    try:
        target = tmp_path / "books.json"
        call_command("export", "JSON", "core.Book", output=str(target), stderr=io.StringIO())
    finally:
        os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_replaced_output_file_keeps_its_permissions(books, tmp_path):
    target = tmp_path / "books.csv"
    target.write_text("old")
    target.chmod(0o640)
    call_command("export", "CSV", "core.Book", output=str(target), stderr=io.StringIO())
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text().startswith("id,name")


def test_failed_export_leaves_the_old_file_and_no_partial_file(tmp_path):
    for name in ["first", "second", "boom", "last"]:
        Book.objects.create(name=name)
    target = tmp_path / "books.csv"
    target.write_text("previous complete export\n")
    with pytest.raises(RuntimeError, match="cannot render 'boom'"):
        call_command(
            "export",
            "CSV",
            f"{MODULE}.ExplodingBookResource",
            output=str(target),
            stderr=io.StringIO(),
        )
    assert target.read_text() == "previous complete export\n"
    assert os.listdir(tmp_path) == ["books.csv"]


def test_failed_export_creates_no_file(tmp_path):
    Book.objects.create(name="boom")
    target = tmp_path / "books.xlsx"
    with pytest.raises(RuntimeError):
        call_command("export", "XLSX", f"{MODULE}.ExplodingBookResource", output=str(target))
    assert os.listdir(tmp_path) == []


def test_output_into_a_missing_directory_is_a_command_error(books, tmp_path):
    missing = tmp_path / "nope" / "books.csv"
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export", "CSV", "core.Book", output=str(missing))


def test_quiet_export_to_file_prints_nothing(books, tmp_path):
    stderr = io.StringIO()
    call_command(
        "export", "CSV", "core.Book", output=str(tmp_path / "b.csv"), stderr=stderr, verbosity=0
    )
    assert stderr.getvalue() == ""


# --- export: progress -----------------------------------------------------------------------


def test_progress_is_drawn_on_a_terminal(books, tmp_path):
    stderr = TerminalStringIO()
    call_command("export", "CSV", "core.Book", output=str(tmp_path / "b.csv"), stderr=stderr)
    drawn = stderr.getvalue()
    assert "\r[" in drawn
    assert "100%  2/2 rows" in drawn


@pytest.mark.parametrize("bar_class", ["export", "import"])
def test_progress_bar_off_a_terminal_writes_one_plain_line(bar_class):
    from import_export.management.commands.export import ProgressBar

    ImportProgressBar = importlib.import_module(
        "import_export.management.commands.import"
    ).ImportProgressBar

    log = io.StringIO()  # a log file: not a terminal
    stream = OutputWrapper(log)
    bar = ProgressBar(stream, total=50_000, interval=0) if bar_class == "export" else None
    bar = bar or ImportProgressBar(stream, interval=0)
    for rows in range(0, 50_001, 10):
        bar(rows)
    bar.end_line()
    assert "\r" not in log.getvalue()
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and len(lines[0]) < 100
    assert "50000" in lines[0].replace(",", "")


def test_progress_bar_on_a_terminal_redraws_one_line():
    from import_export.management.commands.export import ProgressBar

    terminal = TerminalStringIO()
    bar = ProgressBar(OutputWrapper(terminal), total=100, interval=0)
    for rows in (10, 50, 100):
        bar(rows)
    bar.end_line()
    assert terminal.getvalue().count("\r[") == 4  # three redraws and the final one
    assert terminal.getvalue().endswith("100/100 rows\n")


def test_no_progress_when_stderr_is_not_a_terminal(books):
    stdout, _ = byte_stdout()
    stderr = io.StringIO()
    call_command("export", "CSV", "core.Book", stdout=stdout, stderr=stderr)
    assert stderr.getvalue() == ""


def test_progress_without_a_total_counts_rows():
    from import_export.management.commands.export import ProgressBar

    assert ProgressBar(stream=None, total=None).render(1234) == "1234 rows"
    assert ProgressBar(stream=None, total=200).render(50).startswith("[" + "#" * 8 + "." * 22 + "]")


# --- import ---------------------------------------------------------------------------------


def test_import_csv_file_creates_books(tmp_path):
    path = write_csv(
        tmp_path / "in.csv", "id,name,price\n,Krakatit,7.25\n,Továrna na absolutno,8\n"
    )
    message = run_import("core.Book", path)
    assert sorted(Book.objects.values_list("name", "price")) == [
        ("Krakatit", Decimal("7.25")),
        ("Továrna na absolutno", Decimal("8.00")),
    ]
    assert "Import finished: 2 new, 0 updated, 0 deleted and 0 skipped books." in message


def test_import_updates_rows_by_id(books, tmp_path):
    path = write_csv(tmp_path / "in.csv", f"id,name\n{books[0].pk},R.U.R. (2nd edition)\n")
    run_import("core.Book", path)
    books[0].refresh_from_db()
    assert books[0].name == "R.U.R. (2nd edition)"
    assert Book.objects.count() == 2


def test_import_strips_a_byte_order_mark(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"\xef\xbb\xbfname\nBOM book\n")
    run_import("core.Book", str(path))
    assert list(Book.objects.values_list("name", flat=True)) == ["BOM book"]


def test_import_decodes_with_the_given_encoding(tmp_path):
    path = write_csv(tmp_path / "in.csv", "name\nBílá nemoc\n", encoding="cp1250")
    run_import("core.Book", path, encoding="cp1250")
    assert list(Book.objects.values_list("name", flat=True)) == ["Bílá nemoc"]


def test_undecodable_file_names_the_offset_and_suggests_encoding(tmp_path):
    path = write_csv(tmp_path / "in.csv", "name\nBílá nemoc\n", encoding="cp1250")
    with pytest.raises(CommandError) as caught:
        run_import("core.Book", path)
    message = str(caught.value)
    assert "offset 6 (line 2)" in message and "--encoding" in message
    assert Book.objects.count() == 0


def test_import_from_stdin_text(monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    stdin.write("name\nFrom stdin\n")
    stdin.seek(0)
    monkeypatch.setattr("sys.stdin", stdin)
    run_import("core.Book", "-", format="CSV")
    assert list(Book.objects.values_list("name", flat=True)) == ["From stdin"]


def test_import_from_stdin_binary_workbook(books, monkeypatch):
    workbook = classic_export(book_resource(), base_formats.XLSX)
    Book.objects.all().delete()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(workbook)))
    run_import("core.Book", "-", format="xlsx")
    assert sorted(Book.objects.values_list("name", flat=True)) == ["R.U.R.", "Válka s mloky"]


def test_export_then_import_round_trip(books, tmp_path):
    target = tmp_path / "books.csv"
    call_command("export", "CSV", "core.Book", output=str(target), stderr=io.StringIO())
    before = sorted(Book.objects.values_list("id", "name", "price", "author_id"))
    Book.objects.all().delete()
    run_import("core.Book", str(target))
    assert sorted(Book.objects.values_list("id", "name", "price", "author_id")) == before


def test_dry_run_saves_nothing_and_does_not_ask(tmp_path):
    path = write_csv(tmp_path / "in.csv", "name\nDry\n")
    with mock.patch("builtins.input", side_effect=AssertionError("asked")):
        message = run_import("core.Book", path, dry_run=True, interactive=True)
    assert Book.objects.count() == 0
    assert "You have activated the --dry-run option so no data will be modified." in message
    assert "1 new" in message


@pytest.mark.parametrize("answer, saved", [("no", 0), ("", 0), ("yes", 1)])
def test_interactive_import_needs_yes(tmp_path, answer, saved):
    path = write_csv(tmp_path / "in.csv", "name\nAsked\n")
    with mock.patch("builtins.input", return_value=answer) as asked:
        if saved:
            run_import("core.Book", path, interactive=True)
        else:
            with pytest.raises(CommandError, match="Import cancelled."):
                run_import("core.Book", path, interactive=True)
    assert asked.call_count == 1
    assert Book.objects.count() == saved


def test_bad_cell_is_reported_with_row_column_and_value_and_nothing_is_saved(tmp_path):
    path = write_csv(tmp_path / "in.csv", "name,price\nGood,1.00\nBad,abc\n")
    stderr = io.StringIO()
    with pytest.raises(CommandFailed) as caught:
        run_import("core.Book", path, stderr=stderr)
    report = stderr.getvalue()
    assert "Import errors!" in report
    assert "Row 2, column 'price' (value 'abc')" in report
    assert "Row 1" not in report
    assert caught.value.code == 1
    assert Book.objects.count() == 0


def test_validation_failure_fails_the_import_and_rolls_back_valid_rows(tmp_path):
    path = write_csv(tmp_path / "in.csv", "name,published\nGood,2020-01-31\nBad,31/31/2020\n")
    stderr = io.StringIO()
    with pytest.raises(CommandFailed, match="1 problem"):
        run_import("core.Book", path, stderr=stderr)
    assert "Row 2, column 'published' (value '31/31/2020')" in stderr.getvalue()
    assert Book.objects.count() == 0


def test_invalid_id_is_a_row_error(tmp_path):
    path = write_csv(tmp_path / "in.csv", "id,name\nnot-a-number,Book\n")
    stderr = io.StringIO()
    with pytest.raises(SystemExit):
        run_import("core.Book", path, stderr=stderr)
    assert "Row 1" in stderr.getvalue()
    assert Book.objects.count() == 0


def test_error_outside_rows_is_reported(tmp_path):
    path = write_csv(tmp_path / "in.csv", "name\nAnything\n")
    stderr = io.StringIO()
    with pytest.raises(CommandFailed):
        run_import(f"{MODULE}.BeforeImportFails", path, stderr=stderr)
    assert "RuntimeError: the before_import hook refused the file" in stderr.getvalue()
    assert Book.objects.count() == 0


def test_raise_errors_lets_the_exception_through(tmp_path):
    path = write_csv(tmp_path / "in.csv", "name\nAnything\n")
    with pytest.raises(exceptions.ImportError, match="refused the file"):
        run_import(f"{MODULE}.BeforeImportFails", path, raise_errors=True)


def test_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read '.*missing.csv'"):
        run_import("core.Book", str(tmp_path / "missing.csv"))


def test_unparseable_file_names_file_and_format(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a workbook")
    with pytest.raises(CommandError, match="Cannot read '.*broken.xlsx' as XLSX"):
        run_import("core.Book", str(path))


# --- SIGTERM -------------------------------------------------------------------------------------


class EndlessSlowResource(resources.Resource):
    """Rows without end and without a database: an export still running when it is signalled."""

    name = Field(attribute="name", column_name="name")

    def get_queryset(self):
        return (SimpleNamespace(name=f"row {number}") for number in itertools.count())

    def dehydrate_name(self, row):
        time.sleep(0.0005)
        return row.name


class FailsAtRow5000(EndlessSlowResource):
    """Fails on data row 5,000, long after rows have reached the output file."""

    def dehydrate_name(self, row):
        if row.name == "row 4999":
            raise ValueError("row 5000 cannot be rendered")
        return row.name


def _export_command(resource: str, target) -> list[str]:
    return [
        sys.executable,
        os.path.join(TESTS_DIR, "manage.py"),
        "export",
        "CSV",
        f"{MODULE}.{resource}",
        "--output",
        str(target),
    ]


def test_an_export_failing_mid_way_exits_non_zero_and_leaves_no_file(tmp_path):
    finished = subprocess.run(
        _export_command("FailsAtRow5000", tmp_path / "rows.csv"),
        capture_output=True,
        timeout=60,
    )
    assert finished.returncode != 0
    assert b"row 5000 cannot be rendered" in finished.stderr
    assert os.listdir(tmp_path) == []


def _wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the export to start writing")
        time.sleep(0.02)


def test_sigterm_removes_the_partial_file_and_exits_non_zero(tmp_path):
    command = _export_command("EndlessSlowResource", tmp_path / "rows.csv")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # The hidden .partial file exists and has received rows: the export is under way.
        _wait_for(lambda: any(path.stat().st_size for path in tmp_path.iterdir()))
        process.send_signal(signal.SIGTERM)
        stderr = process.communicate(timeout=30)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + signal.SIGTERM, stderr.decode()
    assert os.listdir(tmp_path) == []


class ClassicallyImportedBook(resources.ModelResource):
    """Overrides ``before_import``, so the command imports it the classic way (whole dataset)."""

    class Meta:
        model = Book
        fields = ("id", "name", "published")

    def before_import(self, dataset, **kwargs):
        return super().before_import(dataset, **kwargs)


@pytest.mark.parametrize(
    "resource, classic",
    [("core.Book", False), (f"{MODULE}.ClassicallyImportedBook", True)],
)
def test_row_errors_and_validation_failures_are_listed_in_row_order(tmp_path, resource, classic):
    from import_export.stream_import import needs_classic_import

    assert needs_classic_import(get_resource_class(resource)) is classic
    # Rows 2 and 4 raise (an id that is not a number), rows 3 and 5 fail validation.
    path = write_csv(
        tmp_path / "in.csv",
        "id,name,published\n,Good,2020-01-31\nabc,A,\n,B,31/31/2020\ndef,C,\n,D,32/01/2020\n",
    )
    stderr = io.StringIO()
    with pytest.raises(CommandFailed):
        run_import(resource, path, stderr=stderr)
    rows = [int(number) for number in re.findall(r"^Row (\d+)", stderr.getvalue(), re.M)]
    assert sorted(set(rows)) == [2, 3, 4, 5]
    assert rows == sorted(rows)
    assert Book.objects.count() == 0
