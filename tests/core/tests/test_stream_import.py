"""``Resource.import_from_stream``: hooks, transactions, ragged rows, the cached loader, the
bounded result and the limits for hostile files."""

import io
import time
import zipfile

import openpyxl
import pytest
import tablib
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core.models import Book, Category
from import_export import exceptions, resources
from import_export.formats import base_formats
from import_export.formats.streaming.reading import ImportLimitExceeded, StreamReadError
from import_export.importing import RowLengthError
from import_export.instance_loaders import CachedInstanceLoader
from import_export.results import BoundedResult
from import_export.stream_import import StreamedDataset

pytestmark = pytest.mark.django_db


class CategoryResource(resources.ModelResource):
    class Meta:
        model = Category
        fields = ("id", "name")


def csv_file(*rows, headers=("id", "name")):
    lines = [",".join(headers)] + [",".join(row) for row in rows]
    return io.BytesIO(("\r\n".join(lines) + "\r\n").encode())


class RecordingResource(CategoryResource):
    """Records every hook call, and what before_import/after_import were given."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def before_import(self, dataset, **kwargs):
        self.calls.append(("before_import", list(dataset.headers), len(dataset)))

    def before_import_row(self, row, **kwargs):
        self.calls.append(("before_import_row", kwargs["row_number"], dict(row)))

    def after_init_instance(self, instance, new, row, **kwargs):
        self.calls.append(("after_init_instance", new))

    def before_save_instance(self, instance, row, **kwargs):
        self.calls.append(("before_save_instance", instance.name))

    def after_save_instance(self, instance, row, **kwargs):
        self.calls.append(("after_save_instance", instance.name))

    def after_import_row(self, row, row_result, **kwargs):
        self.calls.append(("after_import_row", row_result.import_type))

    def after_import(self, dataset, result, **kwargs):
        self.calls.append(("after_import", len(dataset), result.total_rows))


def test_hooks_run_in_the_classic_order_with_the_same_arguments():
    data = csv_file(("", "a"), ("", "b"))
    classic = RecordingResource()
    classic.import_data(base_formats.CSV(encoding="utf-8").create_dataset(data.getvalue()))
    Category.objects.all().delete()
    streamed = RecordingResource()
    streamed.import_from_stream("csv", csv_file(("", "a"), ("", "b")))
    # before_import sees no rows yet (len 0 instead of 2); everything else is identical.
    assert classic.calls[0] == ("before_import", ["id", "name"], 2)
    assert streamed.calls[0] == ("before_import", ["id", "name"], 0)
    assert streamed.calls[1:] == classic.calls[1:]
    assert streamed.calls[-1] == ("after_import", 2, 2)


def test_a_hook_cannot_read_the_rows_of_a_streamed_import():
    class Peeking(CategoryResource):
        def before_import(self, dataset, **kwargs):
            list(dataset)

    with pytest.raises(exceptions.StreamingError, match="read once, by the import"):
        Peeking().import_from_stream("csv", csv_file(("", "a")))
    assert not Category.objects.exists()


def test_before_import_may_add_a_header():
    class AddsName(resources.ModelResource):
        class Meta:
            model = Category
            fields = ("name",)
            import_id_fields = ("name",)

        def before_import(self, dataset, **kwargs):
            dataset.headers.append("name")

    data = io.BytesIO(b"label\r\nx\r\n")
    result = AddsName().import_from_stream("csv", data)
    assert result.totals["new"] == 1, result.error_messages()


def test_a_failing_row_rolls_the_whole_file_back():
    Category.objects.create(id=1, name="taken")
    result = CategoryResource().import_from_stream("csv", csv_file(("", "fresh"), ("", "taken")))
    assert result.has_errors()
    assert result.row_errors()[0][0] == 2
    assert list(Category.objects.values_list("name", flat=True)) == ["taken"]


def test_dry_run_leaves_the_database_as_it_was():
    result = CategoryResource().import_from_stream("csv", csv_file(("", "a")), dry_run=True)
    assert result.totals["new"] == 1
    assert not Category.objects.exists()


def test_raise_errors_raises_with_the_row_number():
    Category.objects.create(id=1, name="taken")
    with pytest.raises(exceptions.ImportError) as raised:
        CategoryResource().import_from_stream(
            "csv", csv_file(("", "a"), ("", "taken")), raise_errors=True
        )
    assert raised.value.number == 2
    assert list(Category.objects.values_list("name", flat=True)) == ["taken"]


class StrictCategoryResource(CategoryResource):
    class Meta(CategoryResource.Meta):
        reject_ragged_rows = True


def test_ragged_rows_reach_the_opt_in_check_as_they_are():
    data = io.BytesIO(b"id,name\r\n,ok\r\n,\r\n,a,extra\r\nonly\r\n")
    result = StrictCategoryResource().import_from_stream("csv", data)
    numbers = [number for number, _ in result.row_errors()]
    assert numbers == [3, 4]
    for _, errors in result.row_errors():
        assert isinstance(errors[0].error, RowLengthError)
    assert "Row 4 has 1 cells but the file has 2 headers" in result.error_messages()[1]


def test_without_the_check_short_rows_are_padded_and_long_ones_refused():
    result = CategoryResource().import_from_stream("csv", io.BytesIO(b"name,id\r\nshort\r\n"))
    assert result.totals["new"] == 1
    Category.objects.all().delete()
    with pytest.raises(StreamReadError, match="Row 2 has 3 cells but the file has 2 columns"):
        CategoryResource().import_from_stream("csv", io.BytesIO(b"id,name\r\n,a\r\n,b,extra\r\n"))
    assert not Category.objects.exists()


class CachedCategoryResource(CategoryResource):
    class Meta(CategoryResource.Meta):
        instance_loader_class = CachedInstanceLoader
        batch_size = 3  # the engine's batches, which the loader's windows follow


def test_the_cached_loader_loads_each_window_with_one_query(monkeypatch):
    from import_export import stream_import

    monkeypatch.setattr(stream_import, "WINDOW_ROWS", 3)
    for number in range(1, 8):
        Category.objects.create(id=number, name=f"old {number}")
    data = csv_file(*[(str(number), f"new {number}") for number in range(1, 8)])
    resource = CachedCategoryResource()
    with CaptureQueriesContext(connection) as queries:
        result = resource.import_from_stream("csv", data)
    assert result.totals["update"] == 7, result.error_messages()
    lookups = [q["sql"] for q in queries if "IN" in q["sql"] and q["sql"].startswith("SELECT")]
    assert len(lookups) == 3  # windows of 3, 3 and 1 rows
    assert sorted(Category.objects.values_list("name", flat=True)) == [
        f"new {number}" for number in range(1, 8)
    ]
    # The resource is left as it was: the next import uses its own classes again.
    assert resource.get_result_class() is not BoundedResult
    assert "get_instance_loader_class" not in vars(resource)


class CleanCategoryResource(CategoryResource):
    class Meta(CategoryResource.Meta):
        clean_model_instances = True


def test_the_result_keeps_totals_and_the_first_errors_and_row_results():
    rows = [("", f"n{i}") for i in range(30)] + [("", "")] * 12  # empty names are invalid
    result = CleanCategoryResource().import_from_stream(
        "csv", csv_file(*rows), max_row_results=5, max_errors=10, collect_failed_rows=True
    )
    assert isinstance(result, BoundedResult)
    assert result.total_rows == 42
    assert result.totals["new"] == 30 and result.totals["invalid"] == 12
    assert len(result.rows) == 5 and result.row_results_not_kept == 37
    assert [row.number for row in result.invalid_rows] == list(range(31, 41))
    assert result.errors_not_kept == 2
    assert len(result.failed_dataset) == 10
    assert result.has_validation_errors()


@override_settings(IMPORT_EXPORT_IMPORT_MAX_ROW_RESULTS=2, IMPORT_EXPORT_IMPORT_MAX_ERRORS=0)
def test_the_bounds_come_from_the_settings():
    Category.objects.create(id=1, name="taken")
    result = CategoryResource().import_from_stream(
        "csv", csv_file(("", "a"), ("", "b"), ("", "c"), ("", "taken"))
    )
    assert len(result.rows) == 2
    assert result.error_rows == [] and result.errors_not_kept == 1
    assert result.has_errors()  # from the totals: the failed row was not kept
    assert list(Category.objects.values_list("name", flat=True)) == ["taken"]


def test_progress_reports_the_rows_read(monkeypatch):
    from import_export import stream_import

    monkeypatch.setattr(stream_import, "WINDOW_ROWS", 2)
    seen = []
    CategoryResource().import_from_stream(
        "csv", csv_file(*[("", f"n{i}") for i in range(5)]), progress=seen.append
    )
    assert seen == [2, 4, 5]


def test_text_files_and_format_classes_and_instances_are_accepted():
    text = io.StringIO("\ufeffid\tname\n\tfirst\n")
    result = CategoryResource().import_from_stream(base_formats.TSV, text)
    assert result.totals["new"] == 1, result.error_messages()
    result = CategoryResource().import_from_stream(
        base_formats.CSV(encoding="cp1252"), io.BytesIO("id,name\r\n,caf\xe9\r\n".encode("cp1252"))
    )
    assert sorted(Category.objects.values_list("name", flat=True)) == ["café", "first"]


def test_a_file_in_the_wrong_encoding_is_named_as_such():
    with pytest.raises(
        StreamReadError,
        match=r"Cannot decode the file as utf-8-sig: byte 0xe9 at offset 13 \(line 2\)",
    ):
        CategoryResource().import_from_stream("csv", io.BytesIO(b"id,name\r\n,caf\xe9\r\n"))


def test_json_that_is_not_an_array_of_rows_is_refused_clearly():
    with pytest.raises(StreamReadError, match="needs an array"):
        CategoryResource().import_from_stream("json", io.BytesIO(b'{"id": 1}'))
    with pytest.raises(StreamReadError, match="Row 2 of the JSON file has the keys"):
        CategoryResource().import_from_stream(
            "json", io.BytesIO(b'[{"id": null, "name": "a"}, {"name": "b"}]')
        )
    with pytest.raises(StreamReadError, match="Cannot read row 2 of the JSON file"):
        CategoryResource().import_from_stream(
            "json", io.BytesIO(b'[{"id": null, "name": "a"}, {"name": ')
        )
    assert not Category.objects.exists()


def test_json_objects_are_read_by_key():
    data = io.BytesIO(b'[{"id": null, "name": "a"}, {"name": "b", "id": null}]')
    result = CategoryResource().import_from_stream("json", data)
    assert result.totals["new"] == 2
    assert sorted(Category.objects.values_list("name", flat=True)) == ["a", "b"]


@pytest.mark.parametrize("format_class", [base_formats.YAML, base_formats.XLS, base_formats.ODS])
def test_formats_without_a_reader_fall_back_to_create_dataset(format_class):
    dataset = tablib.Dataset(["", "x"], headers=["id", "name"])
    data = format_class().export_data(dataset)
    data = data.encode() if isinstance(data, str) else data
    assert not format_class().can_stream_import()
    result = CategoryResource().import_from_stream(format_class, io.BytesIO(data))
    assert result.totals["new"] == 1, result.error_messages()


@override_settings(IMPORT_EXPORT_IMPORT_MAX_ROWS=3)
def test_a_file_with_too_many_rows_is_refused_and_rolled_back():
    data = csv_file(*[("", f"n{i}") for i in range(4)])
    with pytest.raises(ImportLimitExceeded, match="more than 3 data rows"):
        CategoryResource().import_from_stream("csv", data)
    assert not Category.objects.exists()


@override_settings(IMPORT_EXPORT_IMPORT_MAX_DECOMPRESSED_SIZE=20_000)
def test_a_file_larger_than_the_size_limit_is_refused():
    data = csv_file(*[("", f"name number {i}") for i in range(10_000)])
    with pytest.raises(ImportLimitExceeded, match="more than 20,000 bytes"):
        CategoryResource().import_from_stream("csv", data)
    assert not Category.objects.exists()


def xlsx_bomb(rows, declared_rows=None):
    """A small XLSX file whose sheet has ``rows`` rows of one cell (deflated a thousandfold).

    Rows and cells without ``r`` attributes are all alike, as a hostile file makes them.
    """
    workbook = openpyxl.Workbook()
    workbook.active.append(["id", "name"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    dimension = f'<dimension ref="A1:B{declared_rows}"/>' if declared_rows else ""
    body = '<row><c t="inlineStr"><is><t>x</t></is></c></row>' * rows
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet '
        'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dimension}<sheetData>"
        '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
        f"{body}</sheetData></worksheet>"
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            data = sheet.encode() if item.filename.endswith("sheet1.xml") else source.read(item)
            target.writestr(item.filename, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb():
    return xlsx_bomb(600_000)


@override_settings(IMPORT_EXPORT_IMPORT_MAX_ROWS=100_000)
def test_a_small_xlsx_expanding_to_many_rows_is_refused_at_once(bomb):
    assert len(bomb) < 200_000
    started = time.monotonic()
    with pytest.raises(ImportLimitExceeded, match="more than 100,000 data rows"):
        CategoryResource().import_from_stream("xlsx", io.BytesIO(bomb))
    assert time.monotonic() - started < 20  # the import of 100,000 rows would take minutes
    assert not Category.objects.exists()


@override_settings(IMPORT_EXPORT_IMPORT_MAX_DECOMPRESSED_SIZE=10_000_000)
def test_a_small_xlsx_expanding_past_the_size_limit_is_refused(bomb):
    with pytest.raises(ImportLimitExceeded, match="bytes of data once decompressed"):
        CategoryResource().import_from_stream("xlsx", io.BytesIO(bomb))


@override_settings(IMPORT_EXPORT_IMPORT_MAX_ROWS=10)
def test_an_xlsx_row_number_far_away_counts_as_the_rows_openpyxl_would_yield():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "name"])
    sheet.cell(row=5000, column=2, value="far")
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(ImportLimitExceeded):
        CategoryResource().import_from_stream("xlsx", io.BytesIO(buffer.getvalue()))


@override_settings(IMPORT_EXPORT_IMPORT_MAX_ROWS=10)
def test_an_xlsx_that_declares_more_rows_than_allowed_is_refused():
    with pytest.raises(ImportLimitExceeded):
        CategoryResource().import_from_stream("xlsx", io.BytesIO(xlsx_bomb(3, declared_rows=50)))


def test_an_xlsx_import_reads_a_non_seekable_upload():
    class Unseekable(io.RawIOBase):
        def __init__(self, data):
            self._source = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._source.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    dataset = tablib.Dataset(["", "x"], headers=["id", "name"])
    data = base_formats.XLSX().export_data(dataset)
    result = CategoryResource().import_from_stream("xlsx", Unseekable(data))
    assert result.totals["new"] == 1


def test_the_streamed_dataset_has_the_headers_and_counts_rows():
    reader = base_formats.CSV().get_stream_reader(csv_file(("", "a")))
    reader.open()
    dataset = StreamedDataset(reader)
    assert dataset.headers == ["id", "name"] and len(dataset) == 0 and dataset
    assert [list(row) for row in dataset] == [["", "a"]]
    assert len(dataset) == 1


def test_books_are_the_same_as_with_import_data():
    class BookResource(resources.ModelResource):
        class Meta:
            model = Book
            fields = ("id", "name", "price")

    data = b'id,name,price\r\n,"quoted, ""name""\nwith a line break",1.50\r\n'
    BookResource().import_from_stream("csv", io.BytesIO(data))
    assert list(Book.objects.values_list("name", "price")) == [
        ('quoted, "name"\nwith a line break', __import__("decimal").Decimal("1.50"))
    ]


def test_a_file_of_one_endless_line_is_refused_without_holding_it(monkeypatch):
    from import_export.formats.streaming import reading

    monkeypatch.setattr(reading, "MAX_LINE_LENGTH", 100_000)
    data = io.BytesIO(b"id,name\r\n" + b"x" * 300_000)
    with pytest.raises(StreamReadError, match="line longer than 100,000 characters"):
        CategoryResource().import_from_stream("csv", data)
    assert data.tell() < 250_000  # stopped reading soon after the limit
