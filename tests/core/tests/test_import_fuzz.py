"""Fuzzing the import paths with malformed CSV, JSON, XLSX and YAML files (issue 13).

Every generated file goes through a format's ``create_dataset`` and, when it parses, through
``import_data`` as a dry run and for real. The properties:

* reading raises nothing but :data:`import_export.formats.base_formats.IMPORT_READ_ERRORS`,
  with a message;
* ``import_data`` raises nothing (bad rows are reported in the result, each error with a short
  message naming its row);
* the database is unchanged after a dry run and after an import that reported errors.

CI runs a short campaign; a long one is run by hand::

    IMPORT_EXPORT_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest \\
        tests/core/tests/test_import_fuzz.py --hypothesis-show-statistics

The streamed import (``import_from_stream``) joins automatically once resources have it: see
:func:`import_paths`.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile

import pytest
import tablib
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import Author, Book
from import_export.formats import base_formats
from import_export.resources import ModelResource, modelresource_factory

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("IMPORT_EXPORT_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)

COLUMNS = ["id", "name", "author", "author_email", "imported", "published", "price", "added"]

# ---- what a hostile or broken file may hold ----------------------------------------------------

cell_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", "NaN", "inf", "-1", "9" * 30, "2021-02-30", "1.5e999", "=1+2", '"', "\x00", "\ufeff"]
    ),
    st.integers().map(str),
    st.decimals(allow_nan=True).map(str),
)
header = st.one_of(st.sampled_from(COLUMNS), st.text(max_size=10))
headers = st.lists(header, min_size=0, max_size=6)


@st.composite
def table(draw):
    names = draw(headers)
    width = len(names)
    rows = draw(
        st.lists(st.lists(cell_text, min_size=max(width - 1, 0), max_size=width + 1), max_size=6)
    )
    return names, rows


def mutate(data: bytes, draw) -> bytes:
    """Cut, flip or splice bytes of a well-formed file, or leave it whole."""
    how = draw(st.sampled_from(["whole", "cut", "flip", "splice"]))
    if not data or how == "whole":
        return data
    # A fraction of the length, not an index: the draw must not depend on the file's size.
    position = draw(st.integers(0, 10**6)) * (len(data) - 1) // 10**6
    if how == "cut":
        return data[:position]
    if how == "flip":
        return (
            data[:position]
            + bytes([data[position] ^ draw(st.integers(1, 255))])
            + data[position + 1 :]
        )
    return data[:position] + draw(st.binary(max_size=20)) + data[position:]


def csv_text(names, rows) -> bytes:
    return "\n".join(",".join(row) for row in [names, *rows]).encode("utf-8", "surrogatepass")


@st.composite
def csv_files(draw):
    if draw(st.booleans()):
        return draw(st.binary(max_size=200))
    names, rows = draw(table())
    return mutate(csv_text(names, rows), draw)


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(COLUMNS) | st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def json_files(draw):
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return draw(st.binary(max_size=200))
    if choice == 1:
        return json.dumps(draw(json_value)).encode()
    names, rows = draw(table())
    records = [dict(zip(names, row)) for row in rows]
    return mutate(json.dumps(records).encode(), draw)


def workbook_bytes(names, rows) -> bytes:
    dataset = tablib.Dataset(headers=names or None)
    for row in rows:
        dataset.append((row + [""] * len(names))[: len(names)] if names else row)
    return _without_timestamps(base_formats.XLSX().export_data(dataset, escape_illegal_chars=True))


def _without_timestamps(workbook: bytes) -> bytes:
    """The workbook re-zipped with fixed dates, so the same table always gives the same bytes.

    openpyxl stamps the creation time into ``docProps/core.xml`` and the zip entries; a failing
    example must replay byte for byte.
    """
    source = zipfile.ZipFile(io.BytesIO(workbook))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as rezipped:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2000-01-01T00:00:00Z", content
                )
            fixed = zipfile.ZipInfo(info.filename, (2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            rezipped.writestr(fixed, content)
    return target.getvalue()


@st.composite
def xlsx_files(draw):
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=200))
    names, rows = draw(table())
    names = list(dict.fromkeys(names))  # distinct headers, as a sheet written by tablib has
    try:
        data = workbook_bytes(names, rows)
    except Exception:
        data = workbook_bytes(["id", "name"], [["1", "x"]])
    return mutate(data, draw)


yaml_alphabet = st.sampled_from(list("-:[]{}&*!|>'\"#,?% \n\tab1") + ["&a ", "*a", "!!", "- "])


@st.composite
def yaml_files(draw):
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return "".join(draw(st.lists(yaml_alphabet, max_size=80))).encode()
    if choice == 1:
        return draw(st.binary(max_size=200))
    names, rows = draw(table())
    dataset = tablib.Dataset(headers=list(dict.fromkeys(names)) or None)
    width = len(dataset.headers or []) or 1
    for row in rows:
        dataset.append((row + [""] * width)[:width])
    try:
        text = base_formats.YAML().export_data(dataset)
    except Exception:
        text = "- {id: 1}\n"
    return mutate(text.encode("utf-8", "surrogatepass"), draw)


# ---- the import paths --------------------------------------------------------------------------


def via_import_data(resource, file_format, data: bytes, dry_run: bool):
    """Read the file into a Dataset, then import it: what the admin and the command do."""
    dataset = file_format.create_dataset(data)
    return resource.import_data(dataset, dry_run=dry_run)


def via_import_from_stream(resource, file_format, data: bytes, dry_run: bool):
    """The streamed import (another branch builds it): the file is read as it is imported."""
    return resource.import_from_stream(file_format, io.BytesIO(data), dry_run=dry_run)


def import_paths():
    """Every import path to fuzz; the streamed one once ``import_from_stream`` exists."""
    paths = [via_import_data]
    if hasattr(ModelResource, "import_from_stream"):
        paths.append(via_import_from_stream)
    return paths


# ---- the properties ----------------------------------------------------------------------------


def database_state():
    """Every stored value of the tables an import may touch, read raw.

    Raw SQL, not the ORM: a value an earlier example stored (a decimal of 1000 digits) may be
    one the ORM's converters refuse to read back, which is not what this test looks at.
    """
    tables = [model._meta.db_table for model in (Book, Author, Book.categories.through)]
    with connection.cursor() as cursor:
        state = []
        for table_name in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table_name)} ORDER BY 1")
            state.append(cursor.fetchall())
    return state


def assert_clear_errors(result) -> None:
    for number, errors in result.row_errors():
        for error in errors:
            described = error.describe()
            assert described.startswith(f"Row {number}")
            assert len(described) < 2000
    for base_error in result.base_errors:
        assert str(base_error.error) or type(base_error.error).__name__
    for invalid in result.invalid_rows:
        for messages in invalid.error_dict.values():
            assert all(0 < len(message) <= 600 for message in messages)


def check_file(file_format, data: bytes) -> None:
    resource_class = modelresource_factory(Book)
    for path in import_paths():
        before = database_state()
        try:
            result = path(resource_class(), file_format, data, dry_run=True)
        except base_formats.IMPORT_READ_ERRORS as error:
            assert str(error) or type(error).__name__
            assert database_state() == before
            continue
        assert_clear_errors(result)
        assert database_state() == before, "a dry run changed the database"
        result = path(resource_class(), file_format, data, dry_run=False)
        assert_clear_errors(result)
        if result.has_errors():
            assert database_state() == before, "a failed import was not rolled back"


@pytest.fixture
def author():
    return Author.objects.create(name="Existing")


@FUZZ
@given(data=csv_files())
def test_malformed_csv(author, data):
    check_file(base_formats.CSV(encoding="utf-8"), data)


@FUZZ
@given(data=json_files())
def test_malformed_json(author, data):
    check_file(base_formats.JSON(encoding="utf-8"), data)


@FUZZ
@given(data=xlsx_files())
def test_malformed_xlsx(author, data):
    check_file(base_formats.XLSX(), data)


@FUZZ
@given(data=yaml_files())
def test_malformed_yaml(author, data):
    check_file(base_formats.YAML(encoding="utf-8"), data)
