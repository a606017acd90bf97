"""Streaming export: ``export_iter`` and ``export_to_stream`` against the classic path.

The contract under test: for the text formats, ``export_to_stream`` writes exactly the bytes of
``Format().export_data(resource.export(queryset))``; XLSX holds the same cells; rows are read in
chunks with a constant number of queries; the resource's hooks see one export.
"""

import datetime
import decimal
import io
import json
import uuid

import openpyxl
import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import AllTypes, Author, Book, Category, Package, Publisher, Repository
from core.resources import PackageResource
from import_export import fields, resources, widgets
from import_export.formats import base_formats

TEXT_FORMATS = [
    base_formats.CSV,
    base_formats.TSV,
    base_formats.JSON,
    base_formats.YAML,
    base_formats.HTML,
]


def classic_bytes(file_format, resource, queryset=None, **kwargs) -> bytes:
    data = file_format.export_data(resource.export(queryset, **kwargs))
    return data.encode("utf-8") if isinstance(data, str) else data


def streamed_bytes(file_format, resource, queryset=None, **kwargs) -> bytes:
    sink = io.BytesIO()
    resource.export_to_stream(file_format, sink, queryset, **kwargs)
    return sink.getvalue()


class BookResource(resources.ModelResource):
    author_name = fields.Field(attribute="author__name", column_name="author_name")
    publisher_free = fields.Field(column_name="computed")

    class Meta:
        model = Book

    def dehydrate_publisher_free(self, book):
        return f"{book.name}!"


class AllTypesResource(resources.ModelResource):
    class Meta:
        model = AllTypes


@pytest.fixture
def library(db):
    ann = Author.objects.create(
        name='Ann "the pen" Ö', birthday=datetime.datetime(1980, 2, 3, 4, 5, tzinfo=datetime.UTC)
    )
    bob = Author.objects.create(name="Bob, Jr.\nSecond line")
    fiction, poetry = (
        Category.objects.create(name="fiction"),
        Category.objects.create(name="poetry"),
    )
    books = []
    for index in range(7):
        book = Book.objects.create(
            name=f"=SUM(A{index}) book ✓" if index % 3 == 0 else f'Book {index}, vol. "{index}"',
            author=(ann, bob, None)[index % 3],
            author_email="a@example.com" if index % 2 else "",
            imported=bool(index % 2),
            published=datetime.date(2020, 1, index + 1) if index % 4 else None,
            published_time=datetime.time(10, index),
            price=decimal.Decimal(f"{index}.5{index}") if index % 5 else None,
            added=datetime.datetime(2021, 5, 6, 7, index, tzinfo=datetime.UTC),
        )
        book.categories.set([fiction, poetry][: index % 3])
        books.append(book)
    AllTypes.objects.create(
        char="tab\there",
        text='multi\nline, "quoted"',
        small_int=-3,
        integer=12,
        big_int=2**40,
        positive_int=7,
        decimal=decimal.Decimal("3.1415"),
        floating=0.1,
        boolean=True,
        nullable_boolean=None,
        date=datetime.date(1999, 12, 31),
        datetime=datetime.datetime(2000, 1, 1, 12, tzinfo=datetime.UTC),
        time=datetime.time(23, 59, 1),
        duration=datetime.timedelta(days=1, seconds=5),
        json={"a": [1, 2, {"b": None}], "é": "x"},
        email="x@example.com",
        slug="a-slug",
        url="https://example.com/?a=1&b=2",
    )
    AllTypes.objects.create()
    return books


@pytest.mark.parametrize("format_class", TEXT_FORMATS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("escape", [False, True], ids=["plain", "escaped"])
@pytest.mark.parametrize(
    "resource_class", [BookResource, AllTypesResource], ids=["book", "alltypes"]
)
def test_stream_is_byte_identical_to_classic_export(library, format_class, escape, resource_class):
    with override_settings(IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT=escape):
        expected = classic_bytes(format_class(), resource_class())
        assert streamed_bytes(format_class(), resource_class()) == expected
    assert expected  # the comparison is not between two empty outputs


@pytest.mark.parametrize("format_class", TEXT_FORMATS, ids=lambda c: c.__name__)
def test_stream_to_text_file_writes_the_same_text(library, format_class):
    sink = io.StringIO()
    BookResource().export_to_stream(format_class(), sink)
    assert sink.getvalue() == format_class().export_data(BookResource().export())


@pytest.mark.parametrize("format_class", TEXT_FORMATS, ids=lambda c: c.__name__)
def test_empty_queryset_gives_the_formats_empty_document(db, format_class):
    expected = classic_bytes(format_class(), BookResource(), Book.objects.none())
    assert streamed_bytes(format_class(), BookResource(), Book.objects.none()) == expected
    assert streamed_bytes(format_class(), BookResource(), []) == expected


def test_empty_json_export_is_an_empty_list(db):
    assert json.loads(streamed_bytes("json", BookResource(), Book.objects.none())) == []


@pytest.mark.parametrize("name", ["csv", "CSV", "json", "yaml", "tsv", "html", "xlsx"])
def test_format_may_be_given_by_name_class_or_instance(library, name):
    by_name = streamed_bytes(name, BookResource())
    if name.lower() == "xlsx":
        assert by_name.startswith(b"PK")
        return
    format_class = type(__import__("import_export.streaming", fromlist=["x"]).resolve_format(name))
    assert by_name == streamed_bytes(format_class, BookResource())
    assert by_name == streamed_bytes(format_class(), BookResource())


def test_unknown_format_name_is_a_clear_error(db):
    with pytest.raises(ValueError, match="Unknown export format 'docx'"):
        BookResource().export_to_stream("docx", io.BytesIO())


def test_returns_the_number_of_rows_written(library):
    assert BookResource().export_to_stream("csv", io.BytesIO()) == len(library)
    assert (
        BookResource().export_to_stream("csv", io.BytesIO(), Book.objects.filter(imported=True))
        == 3
    )


def test_export_fields_selection_applies_to_the_stream(library):
    selection = {"export_fields": ["name", "author_name"]}
    streamed = streamed_bytes(base_formats.CSV(), BookResource(), **selection)
    assert streamed.splitlines()[0] == b"name,author_name"
    assert streamed == classic_bytes(base_formats.CSV(), BookResource(), **selection)


def _sheet_rows(data: bytes) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


@pytest.mark.parametrize("native", [False, True], ids=["strings", "native"])
def test_xlsx_stream_holds_the_same_cells_as_classic(library, native):
    kwargs = {"force_native_type": True} if native else {}
    expected = _sheet_rows(classic_bytes(base_formats.XLSX(), BookResource(), **kwargs))
    assert _sheet_rows(streamed_bytes(base_formats.XLSX(), BookResource(), **kwargs)) == expected
    assert len(expected) == len(library) + 1


@pytest.mark.parametrize(
    "format_class", [base_formats.XLS, base_formats.ODS], ids=lambda c: c.__name__
)
def test_buffered_formats_hold_the_same_data_as_classic(library, format_class):
    file_format = format_class()
    streamed = file_format.create_dataset(streamed_bytes(file_format, BookResource()))
    classic = file_format.create_dataset(classic_bytes(file_format, BookResource()))
    assert streamed.headers == classic.headers
    assert list(streamed) == list(classic)


def test_export_iter_yields_the_rows_export_appends(library):
    for resource_class in (BookResource, AllTypesResource):
        dataset_rows = [list(row) for row in resource_class().export()]
        assert list(resource_class().export_iter()) == dataset_rows


def test_export_iter_runs_nothing_before_iteration(library):
    calls = []

    class Recording(BookResource):
        def before_export(self, queryset, **kwargs):
            calls.append("before")

        def after_export(self, queryset, dataset, **kwargs):
            calls.append(("after", dataset))

    with CaptureQueriesContext(connection) as queries:
        rows = Recording().export_iter()
    assert calls == [] and len(queries) == 0
    first = next(rows)
    assert calls == ["before"] and first[1] == library[0].name
    rest = list(rows)
    assert len(rest) == len(library) - 1
    assert calls == ["before", ("after", None)]


def test_export_iter_accepts_plain_iterables(library):
    resource = BookResource()
    assert list(resource.export_iter([])) == []
    assert [row[0] for row in resource.export_iter(list(Book.objects.order_by("-pk")))] == [
        str(book.pk) for book in reversed(library)
    ]


def test_stream_hooks_see_one_export_and_no_dataset(library):
    seen = []

    class Recording(BookResource):
        def before_export(self, queryset, **kwargs):
            seen.append(("before", kwargs.get("tag")))

        def filter_export(self, queryset, **kwargs):
            seen.append("filter")
            return queryset.filter(imported=True)

        def after_export(self, queryset, dataset, **kwargs):
            seen.append(("after", dataset, queryset.count()))

    assert Recording().export_to_stream("csv", io.BytesIO(), tag="x") == 3
    assert seen == [("before", "x"), "filter", ("after", None, 3)]


def test_progress_callback_reports_the_running_count(db):
    Author.objects.bulk_create(Author(name=f"a{i}") for i in range(25))

    class AuthorResource(resources.ModelResource):
        class Meta:
            model = Author
            chunk_size = 10

    seen = []
    AuthorResource().export_to_stream("csv", io.BytesIO(), progress=seen.append)
    assert seen == [10, 20, 25]


def test_error_mid_export_leaves_an_unterminated_document(library):
    class Failing(BookResource):
        def dehydrate_publisher_free(self, book):
            if book.pk == library[3].pk:
                raise RuntimeError("boom")
            return "ok"

    sink = io.BytesIO()
    with pytest.raises(RuntimeError, match="boom"):
        Failing().export_to_stream("json", sink, Book.objects.order_by("pk"))
    written = sink.getvalue()
    assert written.startswith(b"[")
    with pytest.raises(ValueError):
        json.loads(written)


def _make_packages(count: int) -> None:
    Repository.objects.all().delete()
    repositories = [Repository.objects.create(name=f"repo-{i}") for i in range(3)]
    Package.objects.bulk_create(
        Package(
            repository=repositories[i % 3],
            name=f"pkg-{i}",
            version="1.0",
            release="1",
            arch="noarch",
            pkg_id=f"{i:064x}",
        )
        for i in range(count)
    )


def _queries_for_stream(resource, queryset) -> int:
    with CaptureQueriesContext(connection) as queries:
        resource.export_to_stream("csv", io.BytesIO(), queryset)
    return len(queries)


def test_foreign_key_rendered_by_name_runs_no_query_per_row(db):
    _make_packages(5)
    few = _queries_for_stream(PackageResource(), Package.objects.all())
    Package.objects.all().delete()
    _make_packages(60)
    assert _queries_for_stream(PackageResource(), Package.objects.all()) == few


def test_many_to_many_is_prefetched_per_chunk(library):
    class Chunked(BookResource):
        class Meta:
            model = Book
            chunk_size = 3

    queries = _queries_for_stream(Chunked(), Book.objects.all())
    # one query per chunk of books plus one prefetch per chunk: 7 books in chunks of 3
    assert queries <= 2 * 3 + 1


def test_optimisation_keeps_the_callers_ordering_and_filters(library):
    queryset = Book.objects.filter(imported=False).order_by("-name")
    rows = list(BookResource().export_iter(queryset))
    assert [row[1] for row in rows] == list(queryset.values_list("name", flat=True))


def test_optimisation_can_be_switched_off(db):
    class Unoptimised(PackageResource):
        class Meta(PackageResource.Meta):
            optimize_export_queries = False

    _make_packages(5)
    few = _queries_for_stream(Unoptimised(), Package.objects.all())
    Package.objects.all().delete()
    _make_packages(20)
    assert _queries_for_stream(Unoptimised(), Package.objects.all()) > few


def test_natural_keys_stream_like_classic(db):
    from core.models import Magazine

    penguin = Publisher.objects.create(name="Penguin")
    Magazine.objects.create(title="Monthly", publisher=penguin)
    Magazine.objects.create(title="Orphan")

    class MagazineResource(resources.ModelResource):
        class Meta:
            model = Magazine
            use_natural_foreign_keys = True

    assert streamed_bytes("json", MagazineResource()) == classic_bytes(
        base_formats.JSON(), MagazineResource()
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the 70,000-key filter is a PostgreSQL case"
)
def test_pk_in_with_70000_keys_streams_on_postgresql(db):
    _make_packages(70_000)
    keys = list(Package.objects.values_list("pk", flat=True))
    queryset = Package.objects.filter(pk__in=keys).order_by("pk")
    assert PackageResource().export_to_stream("json", io.BytesIO(), queryset) == 70_000


# -- property-based: any cell data, streamed == classic ---------------------------------------


class RawWidget(widgets.Widget):
    """Hands values to the format as they are, so the formats see every Python type."""

    def render(self, value, obj=None, **kwargs):
        return value


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
cells = st.one_of(
    st.none(),
    text,
    st.sampled_from(
        ["=1+2", "==1+2", "-3", "+x", "@a", "\t=1", "\r=1", '"', "\r\n", ",", "\t", "é", "", "  "]
    ),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.uuids(),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.lists(st.integers(), max_size=3),
)
headers = st.lists(
    st.text(min_size=1, max_size=6).filter(lambda h: "__" not in h),
    min_size=1,
    max_size=4,
    unique=True,
)


def _resource_for(columns):
    attrs = {
        f"c{i}": fields.Field(attribute=f"c{i}", column_name=name, widget=RawWidget())
        for i, name in enumerate(columns)
    }
    return type("GeneratedResource", (resources.Resource,), attrs)()


def _json_safe(cell):
    if isinstance(cell, (decimal.Decimal, uuid.UUID)):
        return str(cell)
    return cell


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("format_class", TEXT_FORMATS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("escape", [False, True], ids=["plain", "escaped"])
def test_any_data_streams_byte_identically(format_class, escape, data):
    columns = data.draw(headers)
    rows = data.draw(
        st.lists(st.lists(cells, min_size=len(columns), max_size=len(columns)), max_size=5)
    )
    objects = [{f"c{i}": cell for i, cell in enumerate(row)} for row in rows]
    if format_class is base_formats.YAML:
        objects = [{k: _json_safe(v) for k, v in obj.items()} for obj in objects]
    resource = _resource_for(columns)
    with override_settings(IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT=escape):
        try:
            expected = classic_bytes(format_class(), resource, objects)
        except Exception as error:  # the classic path cannot render this data either
            with pytest.raises(type(error)):
                streamed_bytes(format_class(), resource, objects)
            return
        assert streamed_bytes(format_class(), resource, objects) == expected
