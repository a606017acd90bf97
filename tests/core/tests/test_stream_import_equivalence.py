"""``import_from_stream`` and ``import_data(format.create_dataset(...))`` give the same database,
the same totals and the same errors, over generated files of every streamed format.

Each example runs both imports on the same starting data, each inside a savepoint that is rolled
back afterwards, and compares what the database held after each.  Generated files have quoted
separators, line breaks, non-ASCII text, byte-order marks, empty cells, blank lines, bad values
(invalid rows), unknown foreign keys (error rows) and rows with too many cells (refused by both).
"""

import csv
import datetime
import io
import json

import openpyxl
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tablib import InvalidDimensions

from core.models import Author, Book
from import_export import resources
from import_export.formats import base_formats
from import_export.formats.streaming.reading import StreamReadError

pytestmark = pytest.mark.django_db

HEADERS = ["id", "name", "author", "price", "published"]
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class BookResource(resources.ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name", "author", "price", "published")


class BulkBookResource(BookResource):
    class Meta(BookResource.Meta):
        use_bulk = True
        batch_size = 3


RESOURCES = st.sampled_from([BookResource, BulkBookResource])

#: Text with what breaks naive readers: separators, quotes, line breaks, non-ASCII, a BOM char.
TEXT = st.text(
    alphabet=st.sampled_from(list("ab ,;\"'\t\n\r\\é✓中\u00a0x=")),
    min_size=1,
    max_size=12,
).filter(lambda text: text.strip() != "")


def price():
    return st.one_of(
        st.just(""),
        st.decimals(min_value=0, max_value=9999, places=2).map(str),
        st.just("not a number"),
    )


def published():
    return st.one_of(
        st.just(""),
        st.dates(min_value=datetime.date(1900, 1, 1)).map(lambda day: day.isoformat()),
        st.just("31/02/2020"),
    )


def author_id():
    # 1 and 2 exist (see existing_rows); 999 does not: a row error.
    return st.sampled_from(["", "1", "2", "999"])


def book_id():
    # 10 and 11 exist, so those rows update; empty ones are new.
    return st.sampled_from(["", "", "10", "11"])


ROW = st.tuples(book_id(), TEXT, author_id(), price(), published())
IMPORT_OPTIONS = st.fixed_dictionaries(
    {
        "dry_run": st.booleans(),
        "rollback_on_validation_errors": st.booleans(),
        "collect_failed_rows": st.booleans(),
    }
)


@pytest.fixture
def existing_rows():
    one = Author.objects.create(id=1, name="One")
    Author.objects.create(id=2, name="Two")
    Book.objects.create(id=10, name="Ten", author=one)
    Book.objects.create(id=11, name="Eleven")


def database_state():
    """Every book as a tuple; new books' ids are left out (sequences are not transactional)."""
    rows = Book.objects.values_list("id", "name", "author_id", "price", "published")
    books = [(row[0] if row[0] in (10, 11) else None, *row[1:]) for row in rows]
    return sorted(books, key=repr), sorted(Author.objects.values_list("id", "name"))


def summary(result):
    return {
        "totals": dict(result.totals),
        "total_rows": result.total_rows,
        "messages": result.error_messages(),
        "row_errors": [number for number, _ in result.row_errors()],
        "invalid": [row.number for row in result.invalid_rows],
        "has_errors": result.has_errors(),
        "failed": [list(row) for row in result.failed_dataset],
    }


def run_in_savepoint(import_call):
    """(summary or exception type, database state) of ``import_call``, then roll it back."""
    with transaction.atomic():
        try:
            outcome = summary(import_call())
        except (InvalidDimensions, StreamReadError) as error:
            outcome = ("refused", _refusal(error))
        state = database_state()
        transaction.set_rollback(True)
    return outcome, state


def _refusal(error):
    """What a refused file was refused for, alike for both paths.

    tablib refuses a row with too many cells with ``InvalidDimensions`` (no message), the
    stream with a ``StreamReadError`` naming the row; anything else is a real difference.
    """
    if isinstance(error, InvalidDimensions) or "cells but the file has" in str(error):
        return "a row has too many cells"
    raise error


def assert_same_import(resource_class, file_format, make_file, options):
    classic = run_in_savepoint(
        lambda: resource_class().import_data(
            file_format.create_dataset(make_file().read()), **options
        )
    )
    streamed = run_in_savepoint(
        lambda: resource_class().import_from_stream(file_format, make_file(), **options)
    )
    assert streamed == classic


def csv_text(rows, delimiter, blank_lines, short_rows, too_long):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(HEADERS)
    for position, row in enumerate(rows):
        writer.writerow(row[:3] if position in short_rows else row)
        if position in blank_lines:
            buffer.write("\r\n")
    if too_long:
        writer.writerow([*rows[0], "extra"])
    return buffer.getvalue()


@pytest.mark.parametrize("format_class", [base_formats.CSV, base_formats.TSV])
@EXAMPLES
@given(
    resource_class=RESOURCES,
    rows=st.lists(ROW, min_size=1, max_size=8),
    blank_lines=st.sets(st.integers(0, 7), max_size=2),
    short_rows=st.sets(st.integers(0, 7), max_size=2),
    too_long=st.booleans(),
    bom=st.booleans(),
    binary=st.booleans(),
    options=IMPORT_OPTIONS,
)
def test_csv_and_tsv_import_like_the_classic_path(
    existing_rows,
    format_class,
    resource_class,
    rows,
    blank_lines,
    short_rows,
    too_long,
    bom,
    binary,
    options,
):
    delimiter = "\t" if format_class is base_formats.TSV else ","
    text = csv_text(rows, delimiter, blank_lines, short_rows, too_long and len(rows) > 1)
    if binary:
        data = (("\ufeff" if bom else "") + text).encode("utf-8")
        file_format = format_class(encoding="utf-8-sig")
        assert_same_import(resource_class, file_format, lambda: io.BytesIO(data), options)
    else:
        file_format = format_class()
        assert_same_import(
            resource_class, file_format, lambda: io.StringIO(text, newline=""), options
        )


def json_value(cell):
    return None if cell == "" else cell


JSON_ROW = st.tuples(
    st.sampled_from([None, None, 10, 11]),
    TEXT,
    st.sampled_from([None, 1, 2, 999]),
    st.one_of(st.none(), st.floats(0, 9999, allow_nan=False).map(lambda x: round(x, 2)), price()),
    published().map(json_value),
)


@EXAMPLES
@given(
    resource_class=RESOURCES,
    rows=st.lists(JSON_ROW, min_size=0, max_size=8),
    ensure_ascii=st.booleans(),
    bom=st.booleans(),
    binary=st.booleans(),
    options=IMPORT_OPTIONS,
)
def test_json_imports_like_the_classic_path(
    existing_rows, resource_class, rows, ensure_ascii, bom, binary, options
):
    text = json.dumps([dict(zip(HEADERS, row)) for row in rows], ensure_ascii=ensure_ascii)
    if binary:
        data = (("\ufeff" if bom else "") + text).encode("utf-8")
        file_format = base_formats.JSON(encoding="utf-8-sig")
        assert_same_import(resource_class, file_format, lambda: io.BytesIO(data), options)
    else:
        assert_same_import(resource_class, base_formats.JSON(), lambda: io.StringIO(text), options)


XLSX_ROW = st.tuples(
    st.sampled_from([None, None, 10, 11]),
    TEXT.map(lambda text: text.replace("\r", "")),  # openpyxl stores \r as _x000D_
    st.sampled_from([None, 1, 2, 999]),
    st.one_of(st.none(), st.floats(0, 9999, allow_nan=False).map(lambda x: round(x, 2))),
    st.one_of(st.none(), st.dates(min_value=datetime.date(1900, 3, 1)), st.just("bad date")),
)


@EXAMPLES
@given(
    resource_class=RESOURCES,
    rows=st.lists(XLSX_ROW, min_size=0, max_size=8),
    blank_rows=st.sets(st.integers(0, 7), max_size=2),
    ignore_blank_lines=st.booleans(),
    options=IMPORT_OPTIONS,
)
def test_xlsx_imports_like_the_classic_path(
    existing_rows, resource_class, rows, blank_rows, ignore_blank_lines, options
):
    from django.test import override_settings

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for position, row in enumerate(rows):
        sheet.append(list(row))
        if position in blank_rows:
            sheet.append([None] * len(HEADERS))
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    with override_settings(IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES=ignore_blank_lines):
        assert_same_import(resource_class, base_formats.XLSX(), lambda: io.BytesIO(data), options)
